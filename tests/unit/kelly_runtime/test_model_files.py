"""One model-file finder for every registered format: a plugin's files load everywhere."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

import kelly_export.plugin
import kelly_models.plugin
import kelly_runtime.plugin
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import KellyWarning, SpecError
from kelly_core.registry import Registry
from kelly_runtime.bench import models_from_directory
from kelly_runtime.generate.stages import load_pipeline
from kelly_runtime.model_files import find_model_file, model_file_candidates
from kelly_runtime.pipeline import STAGES, Pipeline
from tests.unit.kelly_runtime.helpers import random_arrays, write_models
from tests.unit.kelly_runtime.npz_format import PLUGIN, SUFFIX, NpzExporter

OWN = (kelly_models.plugin, kelly_export.plugin, kelly_runtime.plugin)


def _with_npz() -> Registry:
    return Registry(plugins=[*OWN, PLUGIN])


def _npz_folder(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for index, name in enumerate(STAGES):
        spec = MODEL_SPECS[name]
        NpzExporter().export(
            spec, random_arrays(spec, 40 + index), folder / f"{spec.file_stem}{SUFFIX}"
        )
    return folder


class TestSuffixes:
    def test_registered_formats_in_priority_order(self) -> None:
        """Kelly's .json (20) then .pt (10), then the plugin's format (default 0)."""
        assert _with_npz().model_suffixes() == (".json", ".pt", SUFFIX)
        assert Registry(plugins=[PLUGIN, *OWN]).model_suffixes() == (".json", ".pt", SUFFIX)

    def test_finder_takes_the_preferred_existing_file(self, tmp_path: Path) -> None:
        """With .npzmodel and .json both present the .json wins; alone, the .npzmodel."""
        registry = _with_npz()
        stem = MODEL_SPECS["GroovePredictor"].file_stem
        assert model_file_candidates(tmp_path, stem, registry) == tuple(
            tmp_path / f"{stem}{s}" for s in (".json", ".pt", SUFFIX)
        )
        assert find_model_file(tmp_path, stem, registry) is None
        (tmp_path / f"{stem}{SUFFIX}").write_bytes(b"x")
        assert find_model_file(tmp_path, stem, registry) == tmp_path / f"{stem}{SUFFIX}"
        (tmp_path / f"{stem}.json").write_text("{}")
        assert find_model_file(tmp_path, stem, registry) == tmp_path / f"{stem}.json"


class TestPluginFormatLoads:
    def test_from_directory_and_generate_load_every_stage(self, tmp_path: Path) -> None:
        """Five .npzmodel files: no stage on fallback in ``Pipeline.from_directory`` or in
        generate's ``load_pipeline``; the outputs are the numpy backend's on those arrays."""
        registry = _with_npz()
        folder = _npz_folder(tmp_path / "models")
        with warnings.catch_warnings():
            warnings.simplefilter("error", KellyWarning)
            pipeline = Pipeline.from_directory(folder, backend="numpy", registry=registry)
        assert pipeline.fallback_stages == ()
        generated = load_pipeline(folder, "numpy", registry=registry)
        assert generated.fallback_stages == ()
        reference_dir = write_models(tmp_path / "json", registry, seed=40, names=STAGES)
        reference = Pipeline.from_directory(reference_dir, backend="numpy", registry=registry)
        window = np.random.default_rng(0).uniform(-1, 1, 128).astype(np.float32)
        for p in (pipeline, reference):
            p.push_window(window)
        np.testing.assert_allclose(
            pipeline.step_beat().chords, reference.step_beat().chords, atol=1e-6
        )

    def test_bench_reads_them(self, tmp_path: Path) -> None:
        """``kelly bench --models`` reads the plugin format's files, no warning."""
        registry = _with_npz()
        folder = _npz_folder(tmp_path / "models")
        with warnings.catch_warnings():
            warnings.simplefilter("error", KellyWarning)
            models, note = models_from_directory(folder, registry)
        assert note == f"weights: {folder}"
        assert set(models) == set(STAGES)

    def test_missing_names_every_format(self, tmp_path: Path) -> None:
        """An empty folder: the message lists each registered suffix for the file."""
        with pytest.raises(SpecError) as info:
            models_from_directory(tmp_path, _with_npz())
        assert info.value.expected == (
            f"emotionrecognizer.json or emotionrecognizer.pt or emotionrecognizer{SUFFIX}"
        )
