"""Shared helpers for export tests: random state arrays and RTNeural documents (no torch)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.specs import ModelSpec
from kelly_export.rtneural import to_document

__all__ = ["random_arrays", "small_document", "write_json"]


def random_arrays(spec: ModelSpec, seed: int = 0, scale: float = 0.3) -> dict[str, FloatArray]:
    """Return random float32 state arrays fitting ``spec`` (normal, std ``scale``)."""
    rng = np.random.default_rng(seed)
    return {
        name: (rng.standard_normal(shape) * scale).astype(np.float32)
        for name, shape in spec.array_shapes().items()
    }


def small_document(name: str = "EmotionRecognizer", seed: int = 0) -> dict[str, object]:
    """Return a valid RTNeural document of a catalog model with random weights (a deep copy)."""
    spec = MODEL_SPECS[name]
    return copy.deepcopy(to_document(spec, random_arrays(spec, seed)))


def write_json(path: Path, document: object, *, allow_nan: bool = True) -> Path:
    """Write ``document`` with Python's json (by default NaN writes as the ``NaN`` token)."""
    path.write_text(json.dumps(document, allow_nan=allow_nan), encoding="utf-8")
    return path
