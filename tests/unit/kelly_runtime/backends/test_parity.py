"""Every registered weight-running backend agrees with every other on random models."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_core.specs import ModelSpec
from tests.strategies import model_specs
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames, runtime_registry

REGISTRY = runtime_registry()
WEIGHT_BACKENDS = tuple(
    sorted({r.entry.name for r in REGISTRY.entries("backend") if r.usable} - {"fallback"})
)
"""Usable backends that run weights (the fallback ignores them by design; numba is an
optional dependency and drops out where it is missing)."""
PAIRS = list(itertools.combinations(WEIGHT_BACKENDS, 2))


def _options(name: str) -> dict[str, object]:
    return {"device": "cpu", "registry": REGISTRY} if name == "torch" else {}


def test_numpy_and_torch_are_registered() -> None:
    """The parity pairs include numpy against torch."""
    assert ("numpy", "torch") in PAIRS


@pytest.mark.parametrize(("first", "second"), PAIRS)
@settings(max_examples=20)
@given(spec=model_specs(), seed=st.integers(0, 2**16), steps=st.integers(1, 6))
def test_random_models_agree(
    first: str, second: str, spec: ModelSpec, seed: int, steps: int
) -> None:
    """Two backends loaded with the same random weights give outputs within 1e-5."""
    arrays = random_arrays(spec, seed)
    frames = random_frames(spec.input_size, steps, seed + 1)
    outputs = []
    for name in (first, second):
        backend = REGISTRY.backend(name, **_options(name))
        backend.load(spec, arrays)
        outputs.append(np.stack([backend.step(f) for f in frames]))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5, rtol=0)


@pytest.mark.parametrize(("first", "second"), PAIRS)
@pytest.mark.parametrize("name", list(MODEL_SPECS))
def test_five_models_agree(first: str, second: str, name: str) -> None:
    """The five catalog models agree between backends over a stream."""
    spec = MODEL_SPECS[name]
    arrays = random_arrays(spec, 11, scale=0.1)
    frames = random_frames(spec.input_size, 8, 12)
    outputs = []
    for backend_name in (first, second):
        backend = REGISTRY.backend(backend_name, **_options(backend_name))
        backend.load(spec, arrays)
        outputs.append(backend.run(frames))
    np.testing.assert_allclose(outputs[0], outputs[1], atol=1e-5, rtol=0)
