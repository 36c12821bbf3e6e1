"""``kelly evaluate`` on a trained run folder and on a bare model file, on another collection."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pytest

from kelly_core.errors import KellyError
from kelly_core.registry import Registry
from kelly_export import plugin as export_plugin
from kelly_models import plugin as models_plugin
from kelly_models.datasets import plugin as datasets_plugin
from kelly_models.training import plugin as training_plugin
from kelly_models.training.command import TrainCommand
from kelly_models.training.evaluate_command import EvaluateCommand
from tests.integration.test_training_command import REGISTRY

READERS = Registry(plugins=[models_plugin, export_plugin, datasets_plugin, training_plugin])

PROGRESSIONS = [
    {"numerals": ["I", "IV", "V7", "I", "vi", "ii", "V7", "I"], "key": k, "valence": 0.6,
     "arousal": 0.0}
    for k in ("C", "G", "D", "F", "Bb", "A")
] + [
    {"numerals": ["i", "iv", "V7", "i", "VI", "iio", "V7", "i"], "key": k, "valence": -0.6,
     "arousal": 0.0}
    for k in ("a", "e", "d", "g", "c", "b")
]  # fmt: skip


def _parse(command: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.configure(parser)  # type: ignore[attr-defined]
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A short synthetic training run of the HarmonyPredictor."""
    out = tmp_path_factory.mktemp("run")
    command = TrainCommand(REGISTRY)
    argv = ["--synthetic", "-o", str(out), "-e", "3", "--model", "HarmonyPredictor"]
    assert command.run(_parse(command, [*argv, "--no-progress", "--lr", "0.01"])) == 0
    return out


@pytest.fixture
def chords_root(tmp_path: Path) -> Path:
    root = tmp_path / "chords"
    root.mkdir()
    for i in range(4):
        part = PROGRESSIONS[i * 3 : i * 3 + 3]
        (root / f"p{i}.json").write_text(json.dumps(part), encoding="utf-8")
    return root


class TestEvaluate:
    def test_run_folder_json(
        self, run_dir: Path, chords_root: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Scores on another collection, baselines from the run, the emotion ablation."""
        command = EvaluateCommand(READERS)
        args = _parse(command, [str(run_dir), "--dataset", "chords", "--root", str(chords_root)])
        args.json = True
        command.run(args)
        (result,) = json.loads(capsys.readouterr().out)
        assert result["model"] == "HarmonyPredictor"
        assert result["baseline_source"] == "training run"
        assert result["tonal_reference"] == "tonic"
        scores = result["scores"]
        assert scores["sequences"] == 12
        assert scores["frames"] == 96
        assert 0.0 <= scores["top1"] <= 1.0
        for key in ("unigram_top1", "bigram_top1", "bigram_nll", "shuffled_top1"):
            assert key in scores
        saved = json.loads((run_dir / "metrics" / "harmonypredictor_baseline.json").read_text())
        assert len(saved["bigram"]) == 64

    def test_model_file_alone_fits_baselines_on_the_data(
        self, run_dir: Path, chords_root: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        alone = tmp_path / "alone" / "harmonypredictor.json"
        alone.parent.mkdir()
        shutil.copyfile(run_dir / "harmonypredictor.json", alone)
        command = EvaluateCommand(READERS)
        args = _parse(command, [str(alone), "--dataset", "chords", "--root", str(chords_root)])
        command.run(args)
        table = capsys.readouterr().out
        assert "baselines from the evaluated data (training split)" in table
        assert "bigram" in table
        assert "emotion shuffled" in table

    def test_reader_options(
        self, run_dir: Path, chords_root: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``-O`` reaches the reader as for ``kelly data inspect``: ``limit=2`` reads two of
        the four files (6 of 12 progressions); an undeclared key is refused by name."""
        command = EvaluateCommand(READERS)
        argv = [str(run_dir), "--dataset", "chords", "--root", str(chords_root), "--json"]
        command.run(_parse(command, [*argv, "-O", "limit=2", "-O", "workers=1"]))
        (result,) = json.loads(capsys.readouterr().out)
        assert result["scores"]["sequences"] == 6
        with pytest.raises(KellyError, match="dataset 'chords' has no option 'colour'") as info:
            command.run(_parse(command, [*argv, "-O", "colour=red"]))
        assert info.value.field == "--option colour"

    def test_wrong_model_for_the_dataset(self, run_dir: Path, chords_root: Path) -> None:
        command = EvaluateCommand(READERS)
        args = _parse(command, [str(run_dir), "--dataset", "lakh", "--root", str(chords_root)])
        with pytest.raises(KellyError, match="MelodyTransformer"):
            command.run(args)

    def test_missing_path(self, chords_root: Path, tmp_path: Path) -> None:
        command = EvaluateCommand(READERS)
        args = _parse(
            command, [str(tmp_path / "nope"), "--dataset", "chords", "--root", str(chords_root)]
        )
        with pytest.raises(KellyError, match="no such model file"):
            command.run(args)
