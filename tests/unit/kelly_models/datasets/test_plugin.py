"""Tests for the dataset plugin: entries, layout guessing, registry use."""

from __future__ import annotations

import inspect
from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_NAMES
from kelly_core.errors import DatasetError
from kelly_core.registry import PluginSource, Registry
from kelly_models.datasets import plugin
from kelly_models.training.config import TrainConfig
from kelly_models.training.discovery import DatasetChoice
from kelly_models.training.run import _seed_option


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


class TestOptions:
    def test_declared_options_are_the_factories_keywords(self) -> None:
        """Each built-in reader declares exactly its factory's keyword options, each with
        the type of its default (or of the annotation where the default is None)."""
        registry = Registry(plugins=[plugin])
        for entry in plugin.kelly_datasets():
            factory = registry.factory("dataset", entry.name)
            parameters = inspect.signature(factory).parameters
            keywords = {n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
            assert set(entry.options) == keywords, entry.name
            for name, kind in entry.options.items():
                default = parameters[name].default
                if default is not None:
                    assert isinstance(default, kind), (entry.name, name)

    def test_seed_reaches_a_synthetic_dataset_that_declares_it(self) -> None:
        """Training passes ``--seed`` by the declared contract: different seeds, other data."""
        registry = Registry(plugins=[plugin])
        choice = DatasetChoice(name="synthetic-groove", root=None, reason="test")
        assert _seed_option(registry, choice, TrainConfig(seed=7)) == {"seed": 7}
        real = DatasetChoice(name="groove", root=Path("x"), reason="test")
        assert _seed_option(registry, real, TrainConfig(seed=7)) == {}

    def test_undeclared_option_is_refused_naming_the_plugin(self) -> None:
        """``registry.dataset`` passes no option the entry does not declare."""
        registry = Registry(plugins=[PluginSource(plugin=plugin, name="kd", distribution="d 1")])
        with pytest.raises(DatasetError, match=r"has no option 'colour'.*plugin 'kd', d 1\)"):
            registry.dataset("synthetic-groove", None, colour="red")


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
