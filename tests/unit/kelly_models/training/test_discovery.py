"""Tests for kelly_models.training.discovery."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kelly_core.errors import DatasetError
from kelly_core.registry import Registry
from kelly_models import plugin as models_plugin
from kelly_models.training.discovery import find_dataset, synthetic_dataset
from tests.unit.kelly_models.training import fake_plugin

REGISTRY = Registry(plugins=[models_plugin, fake_plugin])


class TestFindDataset:
    def test_synthetic_flag(self, tmp_path: Path) -> None:
        """--synthetic picks the synthetic dataset even when data exists."""
        (tmp_path / "chords").mkdir()
        choice = find_dataset(REGISTRY, "HarmonyPredictor", tmp_path, synthetic=True)
        assert (choice.name, choice.synthetic) == ("synthetic-harmony", True)

    def test_no_datasets_dir(self) -> None:
        """Without --datasets-dir every model is synthetic."""
        assert find_dataset(REGISTRY, "DynamicsEngine", None).name == "synthetic-dynamics"

    def test_folder_name(self, tmp_path: Path) -> None:
        """A reader's conventional folder is found, case-insensitively."""
        (tmp_path / "Chords").mkdir()
        choice = find_dataset(REGISTRY, "HarmonyPredictor", tmp_path)
        assert choice.name == "chords-folder"
        assert choice.root == tmp_path / "Chords"

    def test_guess_hook(self, tmp_path: Path) -> None:
        """A folder recognised by kelly_guess_dataset is used for that reader's model."""
        folder = tmp_path / "my-dynamics"
        folder.mkdir()
        (folder / "dynamics.marker").touch()
        choice = find_dataset(REGISTRY, "DynamicsEngine", tmp_path)
        assert (choice.name, choice.root) == ("guessed-dynamics", folder)

    def test_fallback_with_notice(self, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
        """Nothing found: synthetic data, with a warning naming what was looked for."""
        with caplog.at_level(logging.WARNING):
            choice = find_dataset(REGISTRY, "HarmonyPredictor", tmp_path)
        assert choice.synthetic
        assert "chords" in caplog.text
        assert "synthetic-harmony" in caplog.text

    def test_missing_folder(self, tmp_path: Path) -> None:
        """A --datasets-dir that does not exist is an error, not a silent fallback."""
        with pytest.raises(DatasetError, match="no such datasets folder"):
            find_dataset(REGISTRY, "HarmonyPredictor", tmp_path / "nope")
        (tmp_path / "file").write_text("x")
        with pytest.raises(DatasetError, match="is a file; expected a datasets folder"):
            find_dataset(REGISTRY, "HarmonyPredictor", tmp_path / "file")

    def test_no_synthetic(self) -> None:
        """A model without any synthetic dataset raises DatasetError."""
        with pytest.raises(DatasetError, match="no synthetic dataset"):
            synthetic_dataset(REGISTRY, "MelodyTransformer")
