"""``kelly train --datasets-dir``: a real reader's folder is used, the rest fall back."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from kelly_core.cli import main


def test_datasets_dir_with_fallback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """HarmonyPredictor reads datasets/chords/; DynamicsEngine falls back with a notice."""
    monkeypatch.setenv("KELLY_CACHE_DIR", str(tmp_path / "cache"))
    chords = tmp_path / "datasets" / "chords"
    chords.mkdir(parents=True)
    progressions = [
        {"chords": ["C", "Am", "F", "G7", "C", "F", "G", "C"], "valence": 0.6, "arousal": 0.2},
        {"key": "a", "numerals": ["i", "iv", "V7", "i", "VI", "iv", "V", "i"], "mood": "sad"},
        {"chords": ["D", "G", "A7", "D", "Bm", "G", "A", "D"], "valence": 0.5, "arousal": 0.6},
    ]
    (chords / "progressions.json").write_text(json.dumps({"progressions": progressions}))
    output = tmp_path / "run"
    argv = ["train", "-d", str(tmp_path / "datasets"), "-o", str(output), "-e", "1"]
    argv += ["-m", "harmonypredictor", "dynamicsengine", "--max-items", "12", "--no-progress"]
    with caplog.at_level(logging.WARNING):
        assert main(argv) == 0
    rows = {r["model"]: r for r in json.loads((output / "summary.json").read_text())["models"]}
    assert (rows["HarmonyPredictor"]["dataset"], rows["HarmonyPredictor"]["synthetic"]) == (
        "chords",
        False,
    )
    assert rows["DynamicsEngine"]["dataset"] == "synthetic-dynamics"
    assert "DynamicsEngine: no dataset found" in caplog.text
    metrics = json.loads((output / "metrics" / "harmonypredictor_metrics.json").read_text())
    assert metrics["dataset"]["root"] == str(chords)
