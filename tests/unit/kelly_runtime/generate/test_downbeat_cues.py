"""The bar cues of kelly_runtime.generate.activations: chroma change from beat to beat."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.barpointer import choose_meter
from kelly_core.encodings.chroma import DEFAULT_CHROMA, FRAME_WIDTH
from kelly_core.encodings.chroma import frame_times as chroma_frame_times
from kelly_core.encodings.onsets import DEFAULT_ONSETS, frame_seconds
from kelly_runtime.generate.activations import CUE_WEIGHTS, downbeat_strength

BEAT_FRAMES = 43  # onset frames per beat: 120 BPM


def _chroma_changing_every(per_bar: int, phase: int, beats: int) -> tuple[np.ndarray, np.ndarray]:
    """Beat frames, and chroma frames whose pitch class changes at beats ``phase``,
    ``phase + per_bar``, ... (one pitch class per bar, cycling through four)."""
    beat_frames = 20 + BEAT_FRAMES * np.arange(beats)
    times = frame_seconds(beat_frames, DEFAULT_ONSETS)
    end = float(times[-1]) + 0.5
    count = int(end * DEFAULT_CHROMA.sr / DEFAULT_CHROMA.hop) + 1
    centres = chroma_frame_times(count)
    bar = np.searchsorted(times, centres, side="right") - 1 - phase
    chroma = np.zeros((count, FRAME_WIDTH), dtype=np.float32)
    pitch = (np.floor_divide(bar, per_bar) % 4) * 5 % 12  # C, F, Bb, Eb, ...
    chroma[np.arange(count), pitch] = 1.0
    return beat_frames.astype(np.int64), chroma


def _flat_inputs(beat_frames: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Onset curves with the same low-band onset at every beat, and a constant spectrum."""
    frames = int(beat_frames[-1]) + 50
    curves = np.zeros((frames, 3), dtype=np.float32)
    curves[beat_frames, :] = 1.0
    spectrum = np.full((frames // 2 + 1, 128), -0.5, dtype=np.float32)
    return curves, spectrum


@settings(max_examples=20, deadline=None)
@given(per_bar=st.sampled_from([2, 3, 4]), data=st.data())
def test_chroma_change_alone_finds_meter_and_bar_phase(per_bar: int, data: st.DataObject) -> None:
    """With nothing else to go on, beats where the harmony changes are the downbeats."""
    phase = data.draw(st.integers(0, per_bar - 1))
    beat_frames, chroma = _chroma_changing_every(per_bar, phase, 36)
    curves, spectrum = _flat_inputs(beat_frames)
    strength = downbeat_strength(
        curves, beat_frames, spectrum, spectrum_per_frame=0.5, chroma=chroma
    )
    meter = choose_meter(strength, (per_bar,))
    assert meter.phase == phase
    assert meter.contrast > 1.0
    without = downbeat_strength(curves, beat_frames, spectrum, spectrum_per_frame=0.5)
    np.testing.assert_allclose(without, 0.0, atol=1e-9)


def test_chroma_cue_carries_its_weight() -> None:
    """The chroma cue's spread in the sum is its documented weight (z-scored cue)."""
    beat_frames, chroma = _chroma_changing_every(3, 1, 30)
    curves, spectrum = _flat_inputs(beat_frames)
    strength = downbeat_strength(
        curves, beat_frames, spectrum, spectrum_per_frame=0.5, chroma=chroma
    )
    assert float(strength.std()) == pytest.approx(CUE_WEIGHTS["chroma"], rel=1e-6)
