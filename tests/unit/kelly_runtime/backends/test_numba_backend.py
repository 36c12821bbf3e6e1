"""The compiled backend: parity with numpy within 1e-6, state, checks, selection."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import BackendError
from kelly_core.specs import ModelSpec
from kelly_runtime.backends import step_unchecked
from kelly_runtime.backends.numpy_backend import NumpyBackend
from kelly_runtime.select import select_backend_name
from tests.strategies import model_specs
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames, runtime_registry

pytest.importorskip("numba")

from kelly_runtime.backends._numba_kernels import step_frame
from kelly_runtime.backends.numba_backend import NumbaBackend


def _pair(spec: ModelSpec, arrays: dict[str, np.ndarray]) -> tuple[NumbaBackend, NumpyBackend]:
    compiled, reference = NumbaBackend(), NumpyBackend()
    compiled.load(spec, arrays)
    reference.load(spec, arrays)
    return compiled, reference


@settings(max_examples=40, deadline=None)
@given(spec=model_specs(max_size=40), seed=st.integers(0, 2**16), steps=st.integers(1, 8))
def test_random_models_match_numpy(spec: ModelSpec, seed: int, steps: int) -> None:
    """Any layer table, any activation: every step within 1e-6 of numpy, state carried."""
    compiled, reference = _pair(spec, random_arrays(spec, seed, scale=0.2))
    for frame in random_frames(spec.input_size, steps, seed + 1):
        np.testing.assert_allclose(compiled.step(frame), reference.step(frame), atol=1e-6, rtol=0)


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_five_models_match_numpy(name: str) -> None:
    """The five models with torch-initialised weights over 40 steps, then run(): 1e-6."""
    registry = runtime_registry()
    spec = MODEL_SPECS[name]
    compiled, reference = _pair(spec, registry.model(name, seed=5).state_arrays())
    frames = random_frames(spec.input_size, 40, 6)
    got = np.stack([compiled.step(f) for f in frames[:20]])
    want = np.stack([reference.step(f) for f in frames[:20]])
    np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
    np.testing.assert_allclose(compiled.run(frames[20:]), reference.run(frames[20:]), atol=1e-6)
    assert not np.array_equal(got[0], got[-1])  # the state moved (not a constant answer)


@settings(max_examples=40, deadline=None)
@given(
    spec=model_specs(max_size=40),
    seed=st.integers(0, 2**16),
    plan=st.lists(st.integers(0, 5), min_size=1, max_size=5),
)
def test_run_equals_steps(spec: ModelSpec, seed: int, plan: list[int]) -> None:
    """Any layer table: run() over chunks of frames (empty ones too), with single steps
    between them, gives the steps' outputs within 1e-6 and carries the same state."""
    arrays = random_arrays(spec, seed, scale=0.3)
    batched, stepped = NumbaBackend(), NumbaBackend()
    batched.load(spec, arrays)
    stepped.load(spec, arrays)
    frames = random_frames(spec.input_size, sum(plan) + len(plan), seed + 1)
    at = 0
    for count in plan:
        chunk = frames[at : at + count]
        got = batched.run(chunk)
        assert got.shape == (count, spec.output_size)
        assert got.dtype == np.float32
        if count:
            want = np.stack([stepped.step(f) for f in chunk])
            np.testing.assert_allclose(got, want, atol=1e-6, rtol=0)
        np.testing.assert_allclose(
            batched.step(frames[at + count]), stepped.step(frames[at + count]), atol=1e-6, rtol=0
        )
        at += count + 1


def test_run_carries_the_state_and_reset_clears_it() -> None:
    """On a real LSTM model: a run's last output depends on the frames before it (state),
    and after reset() run() starts from zero again."""
    spec = MODEL_SPECS["EmotionRecognizer"]
    arrays = random_arrays(spec, 2, scale=0.1)
    a, b, fresh = NumbaBackend(), NumbaBackend(), NumbaBackend()
    for backend in (a, b, fresh):
        backend.load(spec, arrays)
    frames = random_frames(spec.input_size, 6, 2)
    whole = a.run(frames)
    np.testing.assert_allclose(whole, np.stack([b.step(f) for f in frames]), atol=1e-6, rtol=0)
    alone = fresh.run(frames[-1:])[0]  # the last frame from the zero state
    assert np.abs(whole[-1] - alone).max() > 1e-3
    a.reset()
    np.testing.assert_allclose(a.run(frames[-1:])[0], alone, atol=1e-6, rtol=0)


def test_bad_frames_leave_state_unchanged() -> None:
    """NaN, wrong shape or dtype: a BackendError and the next step is as if none came."""
    spec = MODEL_SPECS["MelodyTransformer"]
    backend, reference = _pair(spec, random_arrays(spec, 3, scale=0.1))
    frames = random_frames(spec.input_size, 2, 3)
    backend.step(frames[0])
    reference.step(frames[0])
    bad = frames[1].copy()
    bad[7] = np.inf
    for frame, match in (
        (bad, "finite"),
        (np.zeros(spec.input_size + 1, np.float32), "shape"),
        (np.zeros(spec.input_size, np.int32), "dtype"),
        ([0.0] * spec.input_size, "numpy array"),
    ):
        with pytest.raises(BackendError, match=match):
            backend.step(frame)  # type: ignore[arg-type]
    with pytest.raises(BackendError, match="finite"):
        backend.step_unchecked(bad)
    np.testing.assert_allclose(backend.step(frames[1]), reference.step(frames[1]), atol=1e-6)


def test_float64_and_strided_frames_are_converted() -> None:
    """A float64 frame and a non-contiguous float32 view give the float32 answer."""
    spec = MODEL_SPECS["GroovePredictor"]
    arrays = random_arrays(spec, 4, scale=0.2)
    a, b, c = NumbaBackend(), NumbaBackend(), NumbaBackend()
    for backend in (a, b, c):
        backend.load(spec, arrays)
    frame = random_frames(spec.input_size, 1, 4)[0]
    strided = np.repeat(frame, 2)[::2]
    assert not strided.flags.c_contiguous
    want = a.step(frame)
    np.testing.assert_array_equal(b.step(frame.astype(np.float64)), want)
    np.testing.assert_array_equal(c.step(strided), want)


def test_step_is_one_native_call() -> None:
    """step() returns exactly what one call of the compiled kernel returns."""
    spec = MODEL_SPECS["HarmonyPredictor"]
    arrays = random_arrays(spec, 5, scale=0.2)
    a, b = NumbaBackend(), NumbaBackend()
    a.load(spec, arrays)
    b.load(spec, arrays)
    frame = random_frames(spec.input_size, 1, 5)[0]
    direct = np.full(spec.output_size, np.nan, dtype=np.float32)
    assert step_frame(b._weights, b._table, b._buffer, frame, direct)
    np.testing.assert_array_equal(a.step(frame), direct)
    assert direct.sum() == pytest.approx(1.0, abs=1e-5)  # softmax output
    bad = frame.copy()
    bad[3] = np.inf
    kept = direct.copy()
    assert not step_frame(b._weights, b._table, b._buffer, bad, direct)
    np.testing.assert_array_equal(direct, kept)  # out untouched


def test_step_unchecked_helper_uses_the_method() -> None:
    """The pipeline's helper takes step_unchecked when a backend has it, else step."""
    spec = MODEL_SPECS["DynamicsEngine"]
    backend, reference = _pair(spec, random_arrays(spec, 6, scale=0.2))
    frame = random_frames(spec.input_size, 1, 6)[0]
    np.testing.assert_allclose(
        step_unchecked(backend, frame), step_unchecked(reference, frame), atol=1e-6
    )


def test_numba_is_the_default_when_installed() -> None:
    """With numba importable the default backend is the compiled one."""
    assert select_backend_name(registry=runtime_registry()) == "numba"
