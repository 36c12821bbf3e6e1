"""Beat frames carry the song's chroma to ``Pipeline.step_beat``, synchronously and on the
async pipeline's worker."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.errors import BackendError
from kelly_runtime.async_pipeline import (
    BEAT_CHROMA,
    BEAT_INPUT_SIZE,
    beat_frame,
    beat_processor,
)
from kelly_runtime.beat import BEAT_VECTOR_SIZE
from kelly_runtime.loading import load_backend
from kelly_runtime.pipeline import STAGES, Pipeline
from tests.unit.kelly_runtime.helpers import (
    async_beats,
    random_frames,
    runtime_registry,
    write_models,
)

REGISTRY = runtime_registry()
BEATS = 12


@pytest.fixture(scope="module")
def models(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The five models with seeded random weights (their contexts read the chroma)."""
    return write_models(tmp_path_factory.mktemp("frames"), REGISTRY, seed=5, names=MODEL_NAMES)


def _pipeline(models: Path) -> Pipeline:
    backends = {
        name: load_backend(
            models / f"{MODEL_SPECS[name].file_stem}.json", "numpy", registry=REGISTRY
        )
        for name in STAGES
    }
    return Pipeline(backends, key_tonic=2)


def _song() -> tuple[FloatArray, FloatArray]:
    """Emotion frames and beat chroma ``(BEATS, 24)``, the first beat silent."""
    chroma = np.random.default_rng(3).random((BEATS, 24)).astype(np.float32)
    chroma[0] = 0.0
    return random_frames(128, BEATS, 8), chroma


def test_beat_frame_holds_the_chroma_and_refuses_bad_values() -> None:
    chroma = np.linspace(0.0, 1.0, 24, dtype=np.float32)
    frame = beat_frame(beat_in_bar=3, chroma=chroma)
    assert frame.shape == (BEAT_INPUT_SIZE,) == (154,)
    np.testing.assert_array_equal(frame[BEAT_CHROMA], chroma)
    assert frame[129] == 3.0
    assert not beat_frame().any(where=np.arange(BEAT_INPUT_SIZE) != 129)  # silence: zeros
    for bad in (np.zeros(12, dtype=np.float32), np.full(24, np.inf, dtype=np.float32)):
        with pytest.raises(BackendError, match="chroma"):
            beat_frame(chroma=bad)


def test_processor_steps_each_beat_with_its_chroma(models: Path) -> None:
    """Beat frames through beat_processor give exactly the beats of step_beat(chroma=),
    and the chroma changes them (it is not dropped on the way)."""
    windows, chroma = _song()
    direct = _pipeline(models)
    expected = []
    for k in range(BEATS):
        direct.push_window(windows[k])
        expected.append(direct.step_beat(k % 4, chroma=chroma[k]).to_vector())
    process = beat_processor(_pipeline(models))
    deaf = beat_processor(_pipeline(models))
    out = np.zeros(BEAT_VECTOR_SIZE, dtype=np.float32)
    silent = np.zeros(BEAT_VECTOR_SIZE, dtype=np.float32)
    changed = 0
    for k in range(BEATS):
        assert process(beat_frame(windows[k], beat_in_bar=k % 4, chroma=chroma[k]), out)
        np.testing.assert_array_equal(out, expected[k])
        assert deaf(beat_frame(windows[k], beat_in_bar=k % 4), silent)
        changed += not np.allclose(out[192:256], silent[192:256], atol=1e-5)  # the chords
    assert changed >= BEATS - 2  # every beat after the first silent one hears the song


def test_async_pipeline_passes_the_chroma(models: Path) -> None:
    """On the worker thread the beats equal the synchronous ones, chroma included; a
    window-only frame steps nothing."""
    windows, chroma = _song()
    frames = []
    for k in range(BEATS):
        frames.append(beat_frame(windows[k], beat=False))
        frames.append(beat_frame(beat_in_bar=k % 4, chroma=chroma[k]))
    process = beat_processor(_pipeline(models))
    out = np.zeros(BEAT_VECTOR_SIZE, dtype=np.float32)
    expected = [out.copy() for frame in frames if process(frame, out) is not False]
    assert len(expected) == BEATS
    assert frames[0].shape == (BEAT_INPUT_SIZE,)
    got = async_beats(_pipeline(models), frames, capacity=4)
    assert len(got) == BEATS
    for x, y in zip(got, expected, strict=True):
        np.testing.assert_array_equal(x, y)
