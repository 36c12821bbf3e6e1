"""The five named models (docs/models.md): thin :class:`SpecNetwork` subclasses.

Each takes its architecture from :data:`kelly_core.catalog.MODEL_SPECS`, so every size
and count comes from the one spec.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import ClassVar, Final

from kelly_core.catalog import MODEL_SPECS
from kelly_core.specs import ModelSpec
from kelly_models.network import SpecNetwork

__all__ = [
    "MODEL_CLASSES",
    "DynamicsEngine",
    "EmotionRecognizer",
    "GroovePredictor",
    "HarmonyPredictor",
    "MelodyTransformer",
    "NamedModel",
]


class NamedModel(SpecNetwork):
    """A model whose spec is fixed by the class (``SPEC``)."""

    SPEC: ClassVar[ModelSpec]

    def __init__(self) -> None:
        super().__init__(self.SPEC)


class EmotionRecognizer(NamedModel):
    """Log-mel frame (128) -> emotion code (64).

    dense 512 tanh, dense 256 tanh, lstm 128, dense 64 tanh.
    """

    SPEC = MODEL_SPECS["EmotionRecognizer"]


class MelodyTransformer(NamedModel):
    """Emotion code (64) -> note probabilities (128).

    dense 256 relu, lstm 256, dense 256 relu, dense 128 sigmoid.
    """

    SPEC = MODEL_SPECS["MelodyTransformer"]


class HarmonyPredictor(NamedModel):
    """Context (128) -> chord distribution (64).

    dense 256 tanh, dense 128 tanh, dense 64 softmax.
    """

    SPEC = MODEL_SPECS["HarmonyPredictor"]


class DynamicsEngine(NamedModel):
    """Compact context (32) -> expression (16); dense 128 relu, dense 64 relu, dense 16 sigmoid."""

    SPEC = MODEL_SPECS["DynamicsEngine"]


class GroovePredictor(NamedModel):
    """Emotion code (64) -> groove bar (32); dense 128 tanh, dense 64 tanh, dense 32 tanh."""

    SPEC = MODEL_SPECS["GroovePredictor"]


MODEL_CLASSES: Final[Mapping[str, type[NamedModel]]] = MappingProxyType(
    {
        cls.SPEC.name: cls
        for cls in (
            EmotionRecognizer,
            MelodyTransformer,
            HarmonyPredictor,
            DynamicsEngine,
            GroovePredictor,
        )
    }
)
"""Model name -> its class, in pipeline order."""
