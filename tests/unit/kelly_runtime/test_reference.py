"""The straightforward NumPy reference step: same numbers as the numpy backend."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_core.specs import LayerSpec, ModelSpec
from kelly_runtime._reference import ReferenceNet
from kelly_runtime.backends.numpy_backend import NumpyBackend
from tests.strategies import model_specs
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames


def _both(spec: ModelSpec, seed: int, scale: float = 0.3) -> tuple[ReferenceNet, NumpyBackend]:
    arrays = random_arrays(spec, seed, scale=scale)
    backend = NumpyBackend()
    backend.load(spec, arrays)
    return ReferenceNet(spec, arrays), backend


@settings(max_examples=40)
@given(spec=model_specs(), seed=st.integers(0, 2**16), steps=st.integers(1, 6))
def test_random_models_match_numpy_backend(spec: ModelSpec, seed: int, steps: int) -> None:
    """Any layer table: every step within 1e-5 of the numpy backend, state carried."""
    reference, backend = _both(spec, seed)
    for frame in random_frames(spec.input_size, steps, seed + 1):
        got = reference.step(frame)
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, backend.step(frame), atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_catalog_models_match_numpy_backend(name: str) -> None:
    """The five models over a stream of eight frames agree within 1e-5."""
    spec = MODEL_SPECS[name]
    reference, backend = _both(spec, 21, scale=0.1)
    frames = random_frames(spec.input_size, 8, 22)
    np.testing.assert_allclose(
        np.stack([reference.step(f) for f in frames]), backend.run(frames), atol=1e-5, rtol=0
    )


def test_state_is_carried_and_reset() -> None:
    """The same frame twice differs (LSTM state); reset restores the first output."""
    spec = ModelSpec(name="Tiny", input_size=3, layers=(LayerSpec(kind="lstm", size=4),))
    reference, _ = _both(spec, 5)
    frame = random_frames(3, 1, 6)[0]
    first = reference.step(frame)
    assert not np.array_equal(reference.step(frame), first)
    reference.reset()
    np.testing.assert_array_equal(reference.step(frame), first)


def test_saturated_sigmoid_is_exact_under_errstate() -> None:
    """A pre-activation below -88 overflows exp(-x) to inf; the sigmoid is then 0."""
    spec = ModelSpec(
        name="Sat", input_size=1, layers=(LayerSpec(kind="dense", size=1, activation="sigmoid"),)
    )
    arrays = {
        "layers.0.weight": np.array([[1.0]], np.float32),
        "layers.0.bias": np.array([-200.0], np.float32),
    }
    with np.errstate(over="ignore"):
        out = ReferenceNet(spec, arrays).step(np.zeros(1, np.float32))
    np.testing.assert_array_equal(out, np.zeros(1, np.float32))
