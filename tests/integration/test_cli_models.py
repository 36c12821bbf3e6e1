"""The model commands end to end, in process: init -> export -> validate, and convert."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.cli import main
from tests.unit.kelly_export.helpers import legacy_document, random_arrays, write_json


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
    assert main(["init", "--output", str(tmp_path), "--models", "GroovePredictor"]) == 0
    assert [p.name for p in tmp_path.iterdir()] == ["groovepredictor.pt"]


def test_validate_reports_and_fails(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """An invalid file makes validate exit 1 and print file, JSON path and reason."""
    assert main(["init", "--output", str(tmp_path / "c"), "--models", "DynamicsEngine"]) == 0
    assert main(["export", str(tmp_path / "c"), "--output", str(tmp_path / "e")]) == 0
    path = tmp_path / "e" / "dynamicsengine.json"
    document = json.loads(path.read_text())
    document["layers"][0]["activation"] = "linear"
    path.write_text(json.dumps(document))
    capsys.readouterr()
    assert main(["validate", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"FAIL  {path}" in out
    assert f"{path}: layers[0].activation: 'linear' is not one of" in out


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
