"""The pipeline checks each frame once: its own frames go through ``step_unchecked``."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import BackendError
from kelly_core.interfaces import Backend
from kelly_runtime.backends.numpy_backend import NumpyBackend
from kelly_runtime.pipeline import STAGES, Pipeline
from tests.unit.kelly_runtime.helpers import random_arrays, runtime_registry


class _Counting:
    """A numpy backend counting checked and unchecked steps."""

    def __init__(self, name: str) -> None:
        self.inner = NumpyBackend()
        self.inner.load(MODEL_SPECS[name], random_arrays(MODEL_SPECS[name], 7, scale=0.1))
        self.spec = MODEL_SPECS[name]
        self.checked = 0
        self.unchecked = 0

    def load(self, spec: object, arrays: object) -> None:  # pragma: no cover - unused
        raise AssertionError

    def step(self, frame: FloatArray) -> FloatArray:
        self.checked += 1
        return self.inner.step(frame)

    def step_unchecked(self, frame: FloatArray) -> FloatArray:
        assert frame.dtype == np.float32
        assert frame.flags.c_contiguous
        assert frame.shape == (self.spec.input_size,)
        self.unchecked += 1
        return self.inner.step_unchecked(frame)

    def run(self, frames: FloatArray) -> FloatArray:  # pragma: no cover - unused
        return self.inner.run(frames)

    def reset(self) -> None:
        self.inner.reset()


def _window(seed: int) -> FloatArray:
    return np.random.default_rng(seed).uniform(-1, 1, 128).astype(np.float32)


def test_no_stage_checks_a_frame_the_pipeline_made() -> None:
    """Over a bar, every stage step is unchecked; a bad window is still rejected."""
    counting = {name: _Counting(name) for name in STAGES}
    pipeline = Pipeline(dict[str, Backend](counting))
    pipeline.push_window(_window(1))
    for _ in range(4):
        pipeline.step_beat()
    assert {n: (c.checked, c.unchecked) for n, c in counting.items()} == {
        "EmotionRecognizer": (0, 1),
        "MelodyTransformer": (0, 4),
        "HarmonyPredictor": (0, 4),
        "DynamicsEngine": (0, 4),
        "GroovePredictor": (0, 1),
    }
    with pytest.raises(BackendError, match="finite"):
        pipeline.push_window(np.full(128, np.nan, dtype=np.float32))
    assert counting["EmotionRecognizer"].unchecked == 1


@pytest.mark.parametrize("backend", ["numba", "torch"])
def test_pipelines_agree_with_numpy(backend: str) -> None:
    """The same weights on numba or torch give the numpy pipeline's beats (1e-5)."""
    registry = runtime_registry()
    if not registry.resolve("backend", backend).usable:
        pytest.skip(f"{backend} is not installed")
    beats = []
    for name in ("numpy", backend):
        loaded: dict[str, Backend] = {}
        for stage in STAGES:
            options: dict[str, object] = {"device": "cpu"} if name == "torch" else {}
            instance = registry.backend(name, **options)
            instance.load(MODEL_SPECS[stage], random_arrays(MODEL_SPECS[stage], 9, scale=0.1))
            loaded[stage] = instance
        pipeline = Pipeline(loaded)
        outputs = []
        for seed in range(3):
            pipeline.push_window(_window(seed))
            for _ in range(2):
                beat = pipeline.step_beat()
                outputs.append(np.concatenate([beat.notes, beat.chords, beat.expression]))
        beats.append(np.stack(outputs))
    np.testing.assert_allclose(beats[0], beats[1], atol=1e-5, rtol=0)
    assert not np.allclose(beats[0][0], beats[0][-1])  # the stream moved
