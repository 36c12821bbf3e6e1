"""Tests for the dataset plugin: entries, layout guessing, registry use."""

from __future__ import annotations

from pathlib import Path

from kelly_core.catalog import MODEL_NAMES
from kelly_core.registry import Registry
from kelly_models.datasets import plugin


class TestEntries:
    def test_every_model_has_synthetic_data(self) -> None:
        """Each of the five models has a synthetic dataset and at least one real reader."""
        entries = plugin.kelly_datasets()
        names = {e.name for e in entries}
        for model in MODEL_NAMES:
            assert any(e.model == model and e.name.startswith("synthetic-") for e in entries)
            assert any(e.model == model and not e.name.startswith("synthetic-") for e in entries)
        assert {"deam", "lakh", "maestro", "groove", "chords", "music21-chords"} <= names

    def test_registry_opens_synthetic(self) -> None:
        """The registry builds a synthetic dataset from the entry's factory string."""
        registry = Registry(plugins=[plugin])
        dataset = registry.dataset("synthetic-harmony", None, items=3)
        assert len(dataset) == 3
        assert dataset.model_name == "HarmonyPredictor"
        assert registry.hook.kelly_guess_dataset(root=Path("/nonexistent")) is None


class TestGuess:
    def test_markers(self, tmp_path: Path) -> None:
        """Marker files name the layout."""
        cases = {
            "maestro-v3.0.0.csv": "maestro",
            "info.csv": "groove",
            "a.rntxt": "music21-chords",
            "p.json": "chords",
        }
        for marker, name in cases.items():
            folder = tmp_path / name
            folder.mkdir()
            (folder / marker).write_text("x", encoding="utf-8")
            assert plugin.guess_layout(folder) == name
        (tmp_path / "lmd" / "lmd_full").mkdir(parents=True)
        assert plugin.guess_layout(tmp_path / "lmd") == "lakh"
        (tmp_path / "deam" / "DEAM_audio" / "MEMD_audio").mkdir(parents=True)
        assert plugin.guess_layout(tmp_path / "deam" / "DEAM_audio") == "deam"
        (tmp_path / "empty").mkdir()
        assert plugin.guess_layout(tmp_path / "empty") is None
