"""Rule-based stand-ins for the five models (docs/runtime.md): no weights, always available.

Each model name maps to one constant answer, so a stage whose model file is missing or
invalid still produces musically neutral output:

===================  ============================================================
model                fallback output
===================  ============================================================
EmotionRecognizer    ``NEUTRAL_EMOTION``: the emotion code of (valence 0, arousal 0)
MelodyTransformer    uniform note probabilities, 1/128 for every pitch
HarmonyPredictor     one-hot C major (``C_MAJOR``)
DynamicsEngine       ``DEFAULT_EXPRESSION.to_vector()``: velocity 80, on the grid
GroovePredictor      ``NEUTRAL_GROOVE``: a straight bar, no micro-timing
===================  ============================================================

The weights given to :meth:`FallbackBackend.load` are ignored (they may be empty).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, final

import numpy as np

from kelly_core.arrays import FloatArray, check_frame
from kelly_core.encodings import (
    C_MAJOR,
    DEFAULT_EXPRESSION,
    NEUTRAL_EMOTION,
    NEUTRAL_GROOVE,
    chord_one_hot,
)
from kelly_core.errors import BackendError
from kelly_core.specs import ModelSpec
from kelly_runtime.backends._checks import check_frames

__all__ = ["FALLBACK_OUTPUTS", "FallbackBackend", "fallback_output"]


def _uniform_notes() -> FloatArray:
    return np.full(128, 1.0 / 128.0, dtype=np.float32)


FALLBACK_OUTPUTS: Final[Mapping[str, Callable[[], FloatArray]]] = {
    "EmotionRecognizer": lambda: np.array(NEUTRAL_EMOTION, dtype=np.float32),
    "MelodyTransformer": _uniform_notes,
    "HarmonyPredictor": lambda: chord_one_hot(C_MAJOR).astype(np.float32),
    "DynamicsEngine": DEFAULT_EXPRESSION.to_vector,
    "GroovePredictor": lambda: np.array(NEUTRAL_GROOVE, dtype=np.float32),
}
"""Model name -> a function returning its fallback output frame (a new array)."""


def fallback_output(spec: ModelSpec) -> FloatArray:
    """Return the fallback output frame ``(spec.output_size,)`` for ``spec``'s model.

    :raises BackendError: If the model has no heuristic, or its output size differs.
    """
    make = FALLBACK_OUTPUTS.get(spec.name)
    if make is None:
        known = ", ".join(FALLBACK_OUTPUTS)
        raise BackendError(
            f"no fallback heuristic for model {spec.name!r}; known: {known}",
            field="model",
            expected=tuple(FALLBACK_OUTPUTS),
            got=spec.name,
        )
    output = make()
    if output.shape != (spec.output_size,):
        raise BackendError(
            f"fallback for {spec.name!r} gives {output.shape[0]} values, "
            f"expected {spec.output_size}",
            field="output_size",
            expected=spec.output_size,
            got=output.shape[0],
        )
    return output


@final
class FallbackBackend:
    """Answers every frame with the model's fixed neutral output; needs no weights."""

    def __init__(self) -> None:
        self._spec: ModelSpec | None = None
        self._output: FloatArray = np.zeros(0, dtype=np.float32)

    @property
    def spec(self) -> ModelSpec:
        """The loaded model's spec; raises ``BackendError`` if nothing is loaded."""
        if self._spec is None:
            raise BackendError("no model loaded; call load(spec, arrays) first")
        return self._spec

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        """Pick the heuristic for ``spec.name``; ``arrays`` are ignored (may be empty).

        :raises BackendError: If the model has no heuristic.
        """
        self._output = fallback_output(spec)
        self._spec = spec

    def step(self, frame: FloatArray) -> FloatArray:
        """Check ``frame`` ``(in_size,)`` like any backend and return the fallback output."""
        check_frame(frame, self.spec.input_size)
        return self._output.copy()

    def run(self, frames: FloatArray) -> FloatArray:
        """Return the fallback output repeated for each of ``frames`` ``(T, in_size)``."""
        checked = check_frames(frames, self.spec.input_size)
        return np.tile(self._output, (checked.shape[0], 1))

    def reset(self) -> None:
        """Nothing to reset: the fallback carries no state."""
