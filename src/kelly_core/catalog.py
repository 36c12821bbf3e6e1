"""The five models of the Kelly plugin as plain data (docs/models.md)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from kelly_core.specs import LayerSpec, ModelSpec

__all__ = ["MODEL_NAMES", "MODEL_SPECS", "TOTAL_PARAMETERS"]


def _dense(size: int, activation: str) -> LayerSpec:
    return LayerSpec(kind="dense", size=size, activation=activation)  # type: ignore[arg-type]  # literal checked by the validator


def _lstm(size: int) -> LayerSpec:
    return LayerSpec(kind="lstm", size=size)


_SPECS: Final = (
    ModelSpec(
        name="EmotionRecognizer",
        input_size=128,
        input_name="emotion_frame",
        output_name="emotion",
        layers=(_dense(512, "tanh"), _dense(256, "tanh"), _lstm(128), _dense(64, "tanh")),
    ),
    ModelSpec(
        name="MelodyTransformer",
        input_size=64,
        input_name="melody_context_v2",
        output_name="notes",
        layers=(_dense(256, "relu"), _lstm(256), _dense(256, "relu"), _dense(128, "sigmoid")),
    ),
    ModelSpec(
        name="HarmonyPredictor",
        input_size=128,
        input_name="harmony_context_v2",
        output_name="chords",
        layers=(_dense(256, "tanh"), _dense(128, "tanh"), _dense(64, "softmax")),
    ),
    ModelSpec(
        name="DynamicsEngine",
        input_size=32,
        input_name="compact_context",
        output_name="expression",
        layers=(_dense(128, "relu"), _dense(64, "relu"), _dense(16, "sigmoid")),
    ),
    ModelSpec(
        name="GroovePredictor",
        input_size=64,
        input_name="emotion",
        output_name="groove",
        layers=(_dense(128, "tanh"), _dense(64, "tanh"), _dense(32, "tanh")),
    ),
)

MODEL_SPECS: Final[Mapping[str, ModelSpec]] = MappingProxyType({s.name: s for s in _SPECS})
"""Read-only mapping from model name to its :class:`ModelSpec`, in pipeline order."""

MODEL_NAMES: Final[tuple[str, ...]] = tuple(MODEL_SPECS)
"""The five model names in pipeline order."""

TOTAL_PARAMETERS: Final[int] = sum(spec.parameter_count for spec in _SPECS)
"""PyTorch parameter count of all five models (1,151,280)."""
