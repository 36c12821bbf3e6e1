"""The fallback backend: DESIGN.md §5 heuristics, no weights, frame checks."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.encodings import (
    C_MAJOR,
    DEFAULT_EXPRESSION,
    NEUTRAL_EMOTION,
    NEUTRAL_GROOVE,
    decode_emotion,
)
from kelly_core.errors import BackendError
from kelly_core.specs import LayerSpec, ModelSpec
from kelly_runtime.backends.fallback import FallbackBackend


def _backend(name: str) -> FallbackBackend:
    backend = FallbackBackend()
    backend.load(MODEL_SPECS[name], {})
    return backend


class TestOutputs:
    def test_emotion_is_neutral(self) -> None:
        """EmotionRecognizer answers the code of (0, 0)."""
        out = _backend("EmotionRecognizer").step(np.zeros(128, dtype=np.float32))
        np.testing.assert_array_equal(out, NEUTRAL_EMOTION)
        valence, arousal = decode_emotion(out)
        assert abs(valence) < 0.05
        assert abs(arousal) < 0.05

    def test_melody_is_uniform(self) -> None:
        """MelodyTransformer answers 1/128 for every pitch."""
        out = _backend("MelodyTransformer").step(np.zeros(64, dtype=np.float32))
        np.testing.assert_allclose(out, np.full(128, 1 / 128))

    def test_harmony_is_c_major(self) -> None:
        """HarmonyPredictor answers one-hot C major."""
        out = _backend("HarmonyPredictor").step(np.zeros(128, dtype=np.float32))
        assert out.sum() == 1.0
        assert int(np.argmax(out)) == C_MAJOR

    def test_dynamics_and_groove(self) -> None:
        """DynamicsEngine answers DEFAULT_EXPRESSION, GroovePredictor NEUTRAL_GROOVE."""
        dyn = _backend("DynamicsEngine").step(np.zeros(32, dtype=np.float32))
        np.testing.assert_array_equal(dyn, DEFAULT_EXPRESSION.to_vector())
        groove = _backend("GroovePredictor").step(np.zeros(64, dtype=np.float32))
        np.testing.assert_array_equal(groove, NEUTRAL_GROOVE)

    def test_run_repeats(self) -> None:
        """run() repeats the output for each frame."""
        out = _backend("GroovePredictor").run(np.zeros((3, 64), dtype=np.float32))
        assert out.shape == (3, 32)
        np.testing.assert_array_equal(out[2], NEUTRAL_GROOVE)

    def test_outputs_are_copies(self) -> None:
        """Changing a returned array does not change the next answer."""
        backend = _backend("MelodyTransformer")
        first = backend.step(np.zeros(64, dtype=np.float32))
        first[:] = 5.0
        assert backend.step(np.zeros(64, dtype=np.float32))[0] == pytest.approx(1 / 128)


class TestErrors:
    def test_unknown_model(self) -> None:
        """A model without heuristic is a BackendError listing the known ones."""
        spec = ModelSpec(name="Other", input_size=2, layers=(LayerSpec(kind="dense", size=2),))
        with pytest.raises(BackendError, match="no fallback heuristic") as info:
            FallbackBackend().load(spec, {})
        assert "EmotionRecognizer" in info.value.expected  # type: ignore[operator]  # a tuple

    def test_bad_frame(self) -> None:
        """Frames are checked like any backend's."""
        with pytest.raises(BackendError, match="shape"):
            _backend("DynamicsEngine").step(np.zeros(5, dtype=np.float32))
