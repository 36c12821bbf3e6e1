"""``kelly train-reference``: the training run it asks for, the compact files, --install."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import ClassVar

import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.cli import main
from kelly_core.errors import ExportError
from kelly_export.rtneural import RTNeuralExporter
from kelly_export.validate import validate_file
from kelly_models.training import reference
from kelly_runtime import reference as shipped
from tests.unit.kelly_export.helpers import random_arrays

STEMS = sorted(spec.file_stem for spec in MODEL_SPECS.values())


def _export_five(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for seed, spec in enumerate(MODEL_SPECS.values()):
        RTNeuralExporter().export(spec, random_arrays(spec, seed, scale=0.1), folder)


class _FakeTrain:
    """Stands in for TrainCommand: records its arguments and exports five models."""

    seen: ClassVar[list[argparse.Namespace]] = []

    def __init__(self, registry: object = None) -> None:
        pass

    def configure(self, parser: argparse.ArgumentParser) -> None:
        from kelly_models.training.command import TrainCommand

        TrainCommand().configure(parser)

    def run(self, args: argparse.Namespace) -> int:
        self.seen.append(args)
        _export_five(args.output)
        return 0


@pytest.fixture(scope="module")
def run_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("run")
    _export_five(folder)
    return folder


def test_compact_run_writes_five_valid_smaller_files(run_folder: Path, tmp_path: Path) -> None:
    reports = reference.compact_run(run_folder, tmp_path / "ref", 3)
    assert sorted(r.path.name for r in reports) == [f"{s}.json" for s in STEMS]
    for r in reports:
        assert validate_file(r.path) == []
        assert r.bytes_after < 0.7 * r.bytes_before
        assert (tmp_path / "ref" / f"{r.path.stem}.parity.json").is_file()


def test_compact_run_names_a_missing_model_file(run_folder: Path, tmp_path: Path) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    (partial / "groovepredictor.json").write_bytes(
        (run_folder / "groovepredictor.json").read_bytes()
    )
    with pytest.raises(ExportError, match="exported no such model file") as caught:
        reference.compact_run(partial, tmp_path / "ref", 3)
    assert "emotionrecognizer.json" in str(caught.value)


def test_the_command_trains_with_its_settings_and_installs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = tmp_path / "data"
    (data / "rendered").mkdir(parents=True)
    (data / "rendered" / "piece.wav").write_bytes(b"")  # pieces present: nothing is built
    package = tmp_path / "package"
    monkeypatch.setattr(reference, "TrainCommand", _FakeTrain)
    monkeypatch.setattr(shipped, "REFERENCE_DIR", package)
    monkeypatch.setattr(
        reference, "build_pieces", lambda *a: pytest.fail("built pieces that exist")
    )
    _FakeTrain.seen.clear()
    out = tmp_path / "run"
    argv = ["train-reference", "-d", str(data), "-o", str(out), "--seed", "7", "--install"]
    assert main(argv) == 0
    (args,) = _FakeTrain.seen
    assert (args.datasets_dir, args.output, args.seed, args.threads) == (data, out, 7, 1)
    assert args.option == ["workers=2"]
    assert (args.no_progress, args.resume) == (True, False)
    assert sorted(p.name for p in package.iterdir()) == [f"{s}.json" for s in STEMS]
    for path in package.iterdir():
        doc = json.loads(path.read_text())
        assert doc["metadata"]["model_name"] in MODEL_SPECS
        assert path.read_bytes() == (out / "reference" / path.name).read_bytes()
    err = capsys.readouterr().err
    assert f"installed into {package}" in err
    assert "five compact files" in err


def test_missing_pieces_are_built_first(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[tuple[Path, int]] = []

    def build(folder: Path, seed: int) -> None:
        built.append((folder, seed))
        folder.mkdir(parents=True)
        (folder / "p.wav").write_bytes(b"")

    monkeypatch.setattr(reference, "TrainCommand", _FakeTrain)
    monkeypatch.setattr(reference, "build_pieces", build)
    argv = ["train-reference", "-d", str(tmp_path / "d"), "-o", str(tmp_path / "r")]
    assert main([*argv, "--build-seed", "3"]) == 0
    assert built == [(tmp_path / "d" / "rendered", 3)]
    names = sorted(p.name for p in (tmp_path / "r" / "reference").glob("*.json"))
    assert [n for n in names if "parity" not in n] == [f"{s}.json" for s in STEMS]
