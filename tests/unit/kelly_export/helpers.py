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

__all__ = ["legacy_document", "random_arrays", "small_document", "write_json"]


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
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document, allow_nan=allow_nan), encoding="utf-8")
    return path


def legacy_document(
    spec: ModelSpec, arrays: dict[str, FloatArray], *, model_name: bool = True
) -> dict[str, object]:
    """Return ``arrays`` in the legacy layout of the original design text."""
    layers: list[dict[str, object]] = []
    for index, (layer, in_size) in enumerate(zip(spec.layers, spec.layer_input_sizes, strict=True)):
        prefix = f"layers.{index}"
        if layer.kind == "dense":
            layers.append(
                {
                    "type": "dense",
                    "activation": layer.activation,
                    "in_size": in_size,
                    "out_size": layer.size,
                    "weights": arrays[f"{prefix}.weight"].tolist(),
                    "bias": arrays[f"{prefix}.bias"].tolist(),
                }
            )
        else:
            gates = {
                key: [block.tolist() for block in np.split(arrays[f"{prefix}.{key}"], 4)]
                for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
            layers.append(
                {
                    "type": "lstm",
                    "in_size": in_size,
                    "hidden_size": layer.size,
                    "weights_ih": gates["weight_ih"],
                    "weights_hh": gates["weight_hh"],
                    "bias_ih": gates["bias_ih"],
                    "bias_hh": gates["bias_hh"],
                }
            )
    document: dict[str, object] = {
        "in_size": spec.input_size,
        "out_size": spec.output_size,
        "layers": layers,
    }
    if model_name:
        document["model_name"] = spec.name
    return document
