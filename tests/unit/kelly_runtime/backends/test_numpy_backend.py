"""The numpy backend: parity with torch, step equals run, reset, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import BackendError, SpecError
from kelly_core.specs import LayerSpec, ModelSpec
from kelly_runtime.backends.numpy_backend import NumpyBackend
from tests.strategies import model_specs
from tests.unit.kelly_runtime.backends.torch_reference import torch_sequence_reference
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames


def _loaded(spec: ModelSpec, seed: int) -> tuple[NumpyBackend, dict[str, np.ndarray]]:
    arrays = random_arrays(spec, seed)
    backend = NumpyBackend()
    backend.load(spec, arrays)
    return backend, arrays


class TestStep:
    @settings(max_examples=25)
    @given(spec=model_specs(), seed=st.integers(0, 2**16), steps=st.integers(1, 8))
    def test_matches_torch(self, spec: ModelSpec, seed: int, steps: int) -> None:
        """Stepping frame by frame equals a torch sequence forward within 1e-5."""
        backend, arrays = _loaded(spec, seed)
        frames = random_frames(spec.input_size, steps, seed)
        stepped = np.stack([backend.step(f) for f in frames])
        with torch.no_grad():
            expected = torch_sequence_reference(spec, arrays, frames)
        np.testing.assert_allclose(stepped, expected, atol=1e-5, rtol=0)

    @pytest.mark.parametrize("name", list(MODEL_SPECS))
    def test_five_models_match_torch(self, name: str) -> None:
        """Each of the five catalog models agrees with torch over a short stream."""
        spec = MODEL_SPECS[name]
        backend, arrays = _loaded(spec, 7)
        frames = random_frames(spec.input_size, 6, 3)
        with torch.no_grad():
            expected = torch_sequence_reference(spec, arrays, frames)
        np.testing.assert_allclose(backend.run(frames), expected, atol=1e-5, rtol=0)

    def test_returns_a_new_array(self) -> None:
        """The result is not an internal buffer overwritten by the next step."""
        spec = MODEL_SPECS["GroovePredictor"]
        backend, _ = _loaded(spec, 1)
        frames = random_frames(spec.input_size, 2, 1)
        first = backend.step(frames[0])
        kept = first.copy()
        backend.step(frames[1])
        np.testing.assert_array_equal(first, kept)

    def test_softmax_sums_to_one_for_large_logits(self) -> None:
        """A softmax layer fed huge logits stays finite and sums to 1 (max subtracted)."""
        spec = ModelSpec(
            name="Big",
            input_size=3,
            layers=(LayerSpec(kind="dense", size=5, activation="softmax"),),
        )
        backend = NumpyBackend()
        arrays = random_arrays(spec, 0, scale=100.0)
        backend.load(spec, arrays)
        out = backend.step(np.array([50.0, -50.0, 30.0], dtype=np.float32))
        assert np.isfinite(out).all()
        assert out.sum() == pytest.approx(1.0, abs=1e-6)

    def test_float64_frames_are_accepted(self) -> None:
        """A float64 frame gives the same output as its float32 copy."""
        spec = MODEL_SPECS["DynamicsEngine"]
        backend, _ = _loaded(spec, 2)
        frame = random_frames(spec.input_size, 1, 2)[0]
        a = backend.step(frame.astype(np.float64))
        backend.reset()
        np.testing.assert_array_equal(a, backend.step(frame))


class TestRun:
    @settings(max_examples=25)
    @given(spec=model_specs(), seed=st.integers(0, 2**16), steps=st.integers(1, 10))
    def test_run_equals_steps(self, spec: ModelSpec, seed: int, steps: int) -> None:
        """The batched run equals stepping, and leaves the same state behind."""
        stepper, _ = _loaded(spec, seed)
        batcher, _ = _loaded(spec, seed)
        frames = random_frames(spec.input_size, steps + 1, seed)
        stepped = np.stack([stepper.step(f) for f in frames[:-1]])
        np.testing.assert_allclose(batcher.run(frames[:-1]), stepped, atol=1e-5, rtol=0)
        np.testing.assert_allclose(
            batcher.step(frames[-1]), stepper.step(frames[-1]), atol=1e-5, rtol=0
        )

    def test_empty_sequence(self) -> None:
        """Zero frames give a float32 (0, out) result and leave the state where it was."""
        spec = ModelSpec(
            name="Stateful",
            input_size=5,
            layers=(LayerSpec(kind="lstm", size=4), LayerSpec(kind="dense", size=3)),
        )
        backend, _ = _loaded(spec, 0)
        twin, _ = _loaded(spec, 0)
        frames = random_frames(spec.input_size, 2, 0)
        backend.step(frames[0])
        twin.step(frames[0])
        empty = backend.run(np.zeros((0, spec.input_size), dtype=np.float32))
        assert empty.shape == (0, spec.output_size)
        assert empty.dtype == np.float32
        np.testing.assert_array_equal(backend.step(frames[1]), twin.step(frames[1]))


class TestReset:
    @settings(max_examples=20)
    @given(spec=model_specs(), seed=st.integers(0, 2**16))
    def test_reset_restores_first_output(self, spec: ModelSpec, seed: int) -> None:
        """After reset() the first frame gives exactly the first output again."""
        backend, _ = _loaded(spec, seed)
        frames = random_frames(spec.input_size, 4, seed)
        first = backend.step(frames[0])
        for frame in frames[1:]:
            backend.step(frame)
        backend.reset()
        np.testing.assert_array_equal(backend.step(frames[0]), first)


class TestBadInput:
    @pytest.mark.parametrize(
        ("frame", "field"),
        [
            (np.zeros(31, dtype=np.float32), "frame"),
            (np.zeros((1, 32), dtype=np.float32), "frame"),
            (np.zeros(32, dtype=np.int64), "frame"),
            (np.full(32, np.nan, dtype=np.float32), "frame"),
            (np.full(32, np.inf, dtype=np.float32), "frame"),
            (np.array([0.5] * 31 + [-np.inf], dtype=np.float32), "frame"),
            (np.array([np.nan] + [0.5] * 31, dtype=np.float64), "frame"),
            ([0.0] * 32, "frame"),
        ],
    )
    def test_bad_frame_raises_and_keeps_state(self, frame: object, field: str) -> None:
        """A bad frame raises BackendError and the state is unchanged."""
        spec = ModelSpec(
            name="Stateful",
            input_size=32,
            layers=(LayerSpec(kind="lstm", size=8), LayerSpec(kind="dense", size=4)),
        )
        backend, _ = _loaded(spec, 5)
        twin, _ = _loaded(spec, 5)
        good = random_frames(32, 2, 5)
        backend.step(good[0])
        twin.step(good[0])
        with pytest.raises(BackendError) as info:
            backend.step(frame)  # type: ignore[arg-type]  # deliberately wrong input
        assert info.value.field == field
        np.testing.assert_array_equal(backend.step(good[1]), twin.step(good[1]))

    def test_huge_finite_frame_is_accepted(self) -> None:
        """A finite frame whose squared norm overflows float32 is still valid input."""
        spec = ModelSpec(
            name="Wide", input_size=4, layers=(LayerSpec(kind="dense", size=2, activation="tanh"),)
        )
        backend, arrays = _loaded(spec, 0)
        out = backend.step(np.full(4, 1e30, dtype=np.float32))
        # W x + b = 1e30 · (row sums of W): tanh saturates at the sign of each row sum
        row_sums = arrays["layers.0.weight"].astype(np.float64).sum(axis=1)
        assert np.all(np.abs(row_sums) > 1e-6)
        np.testing.assert_array_equal(out, np.sign(row_sums).astype(np.float32))

    def test_run_rejects_nan(self) -> None:
        """run() rejects a batch holding NaN."""
        spec = MODEL_SPECS["GroovePredictor"]
        backend, _ = _loaded(spec, 0)
        frames = random_frames(spec.input_size, 3, 0)
        frames[1, 2] = np.nan
        with pytest.raises(BackendError, match="finite"):
            backend.run(frames)


class TestLoad:
    def test_missing_array(self) -> None:
        """A missing state array is a SpecError naming it."""
        spec = MODEL_SPECS["GroovePredictor"]
        arrays = random_arrays(spec, 0)
        del arrays["layers.1.bias"]
        with pytest.raises(SpecError, match=r"layers\.1\.bias"):
            NumpyBackend().load(spec, arrays)

    def test_wrong_shape(self) -> None:
        """A wrongly shaped array is a SpecError with expected and got."""
        spec = MODEL_SPECS["GroovePredictor"]
        arrays = random_arrays(spec, 0)
        arrays["layers.0.weight"] = arrays["layers.0.weight"].T.copy()
        with pytest.raises(SpecError) as info:
            NumpyBackend().load(spec, arrays)
        assert info.value.field == "layers.0.weight"
        assert info.value.expected == (128, 64)

    def test_step_before_load(self) -> None:
        """Stepping an unloaded backend is a BackendError."""
        with pytest.raises(BackendError, match="no model loaded"):
            NumpyBackend().step(np.zeros(4, dtype=np.float32))
