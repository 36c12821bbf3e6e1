"""The model commands end to end, in process: init -> export -> validate, and convert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.cli import main
from tests.unit.kelly_export.helpers import (
    legacy_document,
    random_arrays,
    small_document,
    write_json,
)


def test_init_export_validate_all_five(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Seeded checkpoints of all five export to RTNeural files that validate."""
    checkpoints, exported = tmp_path / "ckpt", tmp_path / "rtneural"
    assert main(["init", "--seed", "3", "--output", str(checkpoints)]) == 0
    assert sorted(p.name for p in checkpoints.iterdir()) == sorted(
        f"{n.lower()}.pt" for n in MODEL_NAMES
    )
    assert main(["export", str(checkpoints), "--output", str(exported)]) == 0
    assert main(["validate", str(exported), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert len(report["files"]) == 5
    meta = json.loads((exported / "dynamicsengine.json").read_text())["metadata"]
    assert meta["seed"] == 6  # seed + position of DynamicsEngine in pipeline order
    assert meta["trained"] is False


def test_init_selected_models(tmp_path: Path) -> None:
    """--models writes only the named checkpoints."""
    assert main(["init", "--output", str(tmp_path), "--model", "GroovePredictor"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["groovepredictor.pt"]


def test_validate_reports_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid file makes validate exit 1 and print file, JSON path and reason."""
    assert main(["init", "--output", str(tmp_path / "c"), "--model", "DynamicsEngine"]) == 0
    assert main(["export", str(tmp_path / "c"), "--output", str(tmp_path / "e")]) == 0
    path = tmp_path / "e" / "dynamicsengine.json"
    document = json.loads(path.read_text())
    document["layers"][0]["activation"] = "linear"
    path.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {path}" in out
    assert f"{path}: layers[0].activation: expected one of '', 'tanh'" in out


def test_convert_legacy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """convert writes a valid RTNeural file; a square dense layer needs --weights-layout."""
    spec = MODEL_SPECS["MelodyTransformer"]
    legacy = write_json(tmp_path / "legacy.json", legacy_document(spec, random_arrays(spec)))
    target = tmp_path / "melody.json"
    assert main(["convert", str(legacy), "--output", str(target)]) == 2
    assert "square 256×256 weight" in capsys.readouterr().err
    assert not target.exists()
    args = ["convert", str(legacy), "--output", str(target), "--weights-layout", "out_in"]
    assert main(args) == 0
    assert main(["validate", str(target)]) == 0


def test_validate_folder_passes_over_other_json(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """In a folder (e.g. a training output) non-model JSON is counted as skipped in one line,
    not failed; ``-v`` lists each."""
    write_json(tmp_path / "dynamicsengine.json", small_document("DynamicsEngine"))
    write_json(tmp_path / "summary.json", {"models": []})
    write_json(tmp_path / "metrics" / "dynamicsengine_metrics.json", {"train_loss": [1.0]})
    assert main(["validate", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.splitlines() == [
        f"ok  {tmp_path / 'dynamicsengine.json'}",
        "skipped 2 files that are not model files (no 'layers' or 'in_shape': metrics, "
        "parity vectors, summaries); -v lists them",
        "1 of 1 model files valid",
    ]
    assert main(["validate", "-v", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"skip  {tmp_path / 'summary.json'} (not a model file" in out
    assert f"skip  {tmp_path / 'metrics' / 'dynamicsengine_metrics.json'}" in out
    assert "skipped 2 files" not in out
    assert "1 of 1 model files valid" in out
    assert main(["validate", str(tmp_path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert len(report["files"]) == 1
    assert len(report["skipped"]) == 2


def test_validate_named_non_model_file_fails(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A file named on the command line is validated even if it is not model-like."""
    path = write_json(tmp_path / "summary.json", {"models": []})
    assert main(["validate", str(path)]) == 1
    assert f"FAIL  {path}" in capsys.readouterr().out


def test_validate_folder_without_models_is_an_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A folder holding no model file is an error (exit 2), not a pass."""
    write_json(tmp_path / "summary.json", {"models": []})
    assert main(["validate", str(tmp_path)]) == 2
    assert "no model files" in capsys.readouterr().err
