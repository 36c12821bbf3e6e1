"""``kelly train`` end to end on small generated data, through an explicit registry.

Uses the real models and the ``rtneural`` exporter, plus a test plugin
with small datasets for two models, so it checks the whole orchestration (discovery,
training, test metrics, export + check, metrics files, plots, summary, resume) quickly.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from kelly_core.errors import ExportError
from kelly_core.registry import Registry
from kelly_export import plugin as export_plugin
from kelly_models import plugin as models_plugin
from kelly_models.training import plugin as training_plugin
from kelly_models.training.command import TrainCommand
from tests.unit.kelly_models.training import fake_plugin

REGISTRY = Registry(plugins=[models_plugin, export_plugin, fake_plugin, training_plugin])
MODELS = ("DynamicsEngine", "HarmonyPredictor")
DATASETS = {"DynamicsEngine": "synthetic-dynamics", "HarmonyPredictor": "synthetic-harmony"}


def _train(output: Path, *extra: str) -> int:
    command = TrainCommand(REGISTRY)
    parser = argparse.ArgumentParser()
    command.configure(parser)
    argv = ["--synthetic", "-o", str(output), "-e", "3", "-b", "8"]
    argv += ["--model", *MODELS, "--no-progress", "--lr", "0.01", *extra]
    return command.run(parser.parse_args(argv))


class TestTrainCommand:
    def test_outputs(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """Models, metrics JSON + PNG, checkpoints and the summary are written and sane."""
        assert _train(tmp_path) == 0
        table = capsys.readouterr().out
        for name in MODELS:
            stem = name.lower()
            exported = tmp_path / f"{stem}.json"
            assert REGISTRY.exporter("rtneural").check(exported) == []
            loaded = REGISTRY.exporter("rtneural").read(exported)
            assert loaded.spec == REGISTRY.spec(name)
            assert loaded.metadata["tonal_reference"] == "tonic"  # both are key-relative models
            training = loaded.metadata["training"]
            assert isinstance(training, dict)
            assert training["dataset"] == DATASETS[name]
            metrics = json.loads((tmp_path / "metrics" / f"{stem}_metrics.json").read_text())
            assert len(metrics["train_loss"]) == len(metrics["val_loss"]) == 3
            # three epochs beat the input-free baseline; the bigram is the main job's bar
            plain = "unigram" if name == "HarmonyPredictor" else "mean"
            assert metrics["test"]["loss"] < metrics["test"][f"{plain}_loss"]
            assert metrics["test"]["baseline_loss"] <= metrics["test"][f"{plain}_loss"]
            baseline = json.loads((tmp_path / "metrics" / f"{stem}_baseline.json").read_text())
            assert len(baseline["mean"]) == REGISTRY.spec(name).output_size
            png = (tmp_path / "metrics" / f"{stem}_metrics.png").read_bytes()
            assert png.startswith(b"\x89PNG")
            assert (tmp_path / "checkpoints" / stem / "best.pt").is_file()
            assert name in table
        summary = json.loads((tmp_path / "summary.json").read_text())
        assert [row["model"] for row in summary["models"]] == list(MODELS)
        harmony = summary["models"][1]
        assert harmony["metric"] == "top1"
        assert harmony["metric_value"] > harmony["baselines"]["unigram"]["top1"]
        assert set(harmony["baselines"]) == {"unigram", "bigram"}
        assert harmony["baseline_metric_value"] == max(
            b["top1"] for b in harmony["baselines"].values()
        )
        assert harmony["emotion_shuffled_metric_value"] is not None
        assert harmony["parameters"] == REGISTRY.spec("HarmonyPredictor").parameter_count
        markdown = (tmp_path / "summary.md").read_text()
        assert "| HarmonyPredictor |" in markdown
        assert "| HarmonyPredictor | bigram" in markdown
        assert "strongest baseline" in markdown

    def test_folds_and_key_augmentation(self, tmp_path: Path) -> None:
        """--folds 2 reports the mean and spread of two folds; --augment-keys exports absolute."""
        assert _train(tmp_path, "--folds", "2", "--augment-keys") == 0
        metrics = json.loads((tmp_path / "metrics" / "harmonypredictor_metrics.json").read_text())
        assert [f["fold"] for f in metrics["folds"]] == [1, 2]
        tops = [f["test"]["top1"] for f in metrics["folds"]]
        assert metrics["test"]["top1"] == pytest.approx(sum(tops) / 2)
        assert metrics["test_std"]["top1"] == pytest.approx(abs(tops[0] - tops[1]) / 2)
        assert (tmp_path / "checkpoints" / "harmonypredictor" / "fold-2" / "best.pt").is_file()
        loaded = REGISTRY.exporter("rtneural").read(tmp_path / "harmonypredictor.json")
        assert loaded.metadata["tonal_reference"] == "absolute"
        assert "2 folds" in (tmp_path / "summary.md").read_text()

    def test_resume_finished_run_reproduces(self, tmp_path: Path) -> None:
        """--resume on a finished run re-exports the same best weights."""
        _train(tmp_path)
        first = (tmp_path / "metrics" / "harmonypredictor_metrics.json").read_text()
        first_test = json.loads(first)["test"]
        _train(tmp_path, "--resume")
        again = json.loads((tmp_path / "metrics" / "harmonypredictor_metrics.json").read_text())
        assert again["test"] == first_test
        assert again["val_loss"] == json.loads(first)["val_loss"]

    def test_failed_check_is_loud(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        """A problem reported by the exporter's check stops the run with ExportError."""
        exporter_type = type(REGISTRY.exporter("rtneural"))
        monkeypatch.setattr(exporter_type, "check", lambda self, path: ["weights are wrong"])
        with pytest.raises(ExportError, match="weights are wrong"):
            _train(tmp_path, "-e", "1")
