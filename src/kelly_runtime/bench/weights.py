"""The weights ``kelly bench`` times: the five model files of a folder, or freshly
initialised ones."""

from __future__ import annotations

import math
import warnings
from pathlib import Path

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import KellyError, KellyWarning, MissingDependencyError, SpecError
from kelly_core.fileio import input_problem
from kelly_core.records import LoadedModel
from kelly_core.registry import Registry
from kelly_runtime.model_files import find_model_file, model_file_candidates
from kelly_runtime.pipeline import STAGES

__all__ = ["fresh_models", "models_from_directory"]


def fresh_models(registry: Registry, *, seed: int = 0) -> tuple[dict[str, LoadedModel], str]:
    """Freshly initialised weights for the five models, and a note saying where from.

    Uses ``registry.model(name, seed=seed)`` (needs torch); without torch, seeded uniform
    random arrays in ±1/sqrt(fan-in) (torch's default range) built from the specs.
    """
    models: dict[str, LoadedModel] = {}
    try:
        for name in STAGES:
            arrays = registry.model(name, seed=seed).state_arrays()
            models[name] = LoadedModel(spec=MODEL_SPECS[name], arrays=arrays)
        return models, f"weights: freshly initialised models (seed {seed})"
    except MissingDependencyError:
        rng = np.random.default_rng(seed)
        for name in STAGES:
            spec = MODEL_SPECS[name]
            random_arrays: dict[str, FloatArray] = {}
            for key, shape in spec.array_shapes().items():
                fan = shape[-1] if len(shape) == 2 else shape[0]
                bound = 1.0 / math.sqrt(fan)
                random_arrays[key] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
            models[name] = LoadedModel(spec=spec, arrays=random_arrays)
        return models, f"weights: seeded random arrays from the specs (seed {seed}; no torch)"


def models_from_directory(folder: Path, registry: Registry) -> tuple[dict[str, LoadedModel], str]:
    """Read the five model files (``<stem><suffix>``, :mod:`.model_files`) from ``folder``.

    A file that cannot be read (malformed, too deep, wrong sizes) gives a ``KellyWarning``
    naming it, and that stage is timed with freshly initialised weights of the same spec
    (the same cost per step; the note says which stages), as a pipeline would run that
    stage on its fallback instead of stopping.

    :raises SpecError: If the folder or a model file is missing.
    """
    problem = input_problem(folder, kind="folder", what="folder of model files")
    if problem is not None:
        raise SpecError(problem, path=folder, field="--models", expected="a folder of model files")
    models: dict[str, LoadedModel] = {}
    replaced: list[str] = []
    for name in STAGES:
        stem = MODEL_SPECS[name].file_stem
        path = find_model_file(folder, stem, registry)
        if path is None:
            names = " or ".join(p.name for p in model_file_candidates(folder, stem, registry))
            raise SpecError(f"no model file for {name!r}", path=folder, expected=names)
        try:
            models[name] = registry.exporter_for(path).read(path)
        except KellyError as exc:
            warnings.warn(
                f"{name}: {exc}; timing this stage with freshly initialised weights",
                KellyWarning,
                stacklevel=2,
            )
            replaced.append(name)
    if replaced:
        fresh, _ = fresh_models(registry)
        models.update({name: fresh[name] for name in replaced})
        return models, f"weights: {folder} (freshly initialised for {', '.join(replaced)})"
    return models, f"weights: {folder}"
