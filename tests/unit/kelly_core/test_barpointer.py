"""kelly_core.barpointer.near_tempo: a tempo hint picks the metrical level of the beats."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.barpointer import (
    DEFAULT_BEAT_HMM,
    TEMPO_HINT_SPAN,
    decode_beats,
    near_tempo,
    state_space,
)

FPS = 86.1328125  # the onset front end's frames per second (22050 / 256)


def _pulses(period: int, frames: int, *, strong_every: int = 2, start: int = 7) -> np.ndarray:
    """An activation with a peak every ``period`` frames, every ``strong_every``-th peak
    at 0.9 and the others at 0.7 (eighths that a tracker hears almost as well as the
    beats), 0.02 elsewhere."""
    act = np.full(frames, 0.02)
    for k, frame in enumerate(range(start, frames, period)):
        act[frame] = 0.9 if k % strong_every == 0 else 0.7
    return act


def _median_period(beats: np.ndarray) -> float:
    return float(np.median(np.diff(beats)))


class TestNearTempo:
    def test_range_is_the_span_around_the_hint(self) -> None:
        """90 BPM: 69.2..117 BPM, the other settings kept."""
        config = near_tempo(90.0)
        assert config.min_bpm == pytest.approx(90.0 / TEMPO_HINT_SPAN)
        assert config.max_bpm == pytest.approx(90.0 * TEMPO_HINT_SPAN)
        assert config.transition_lambda == DEFAULT_BEAT_HMM.transition_lambda
        assert config.observation_lambda == DEFAULT_BEAT_HMM.observation_lambda

    @pytest.mark.parametrize("bad", [0.0, -80.0, float("nan"), float("inf")])
    def test_refuses_a_tempo_that_is_not_positive(self, bad: float) -> None:
        with pytest.raises(ValueError, match="tempo hint"):
            near_tempo(bad)

    @settings(deadline=None)
    @given(bpm=st.floats(min_value=20.0, max_value=400.0))
    def test_periods_hold_the_hint_and_exclude_its_neighbour_levels(self, bpm: float) -> None:
        """The state space has the hinted beat period and none at ×2, ×½, ×3/2 or ×2/3
        of it (a frame of rounding apart)."""
        periods = state_space(FPS, near_tempo(bpm)).periods
        hinted = 60.0 * FPS / bpm
        assert periods.min() <= round(hinted) <= periods.max()
        for ratio in (2.0, 0.5, 1.5, 2 / 3):
            other = hinted * ratio
            assert not (periods.min() + 1 <= other <= periods.max() - 1), ratio


class TestHintedDecoding:
    def test_without_a_hint_the_eighths_win_and_a_hint_takes_the_beat(self) -> None:
        """Peaks every 18 frames (287 BPM, beyond the default range) strong on every
        other one: undirected, the decoder counts 36-frame beats at 144 BPM; hinted at
        72 BPM it counts 72-frame beats on the strong peaks."""
        act = _pulses(18, 3000, strong_every=4)
        plain = decode_beats(act, FPS)
        assert _median_period(plain) == pytest.approx(36, abs=1)
        hinted = decode_beats(act, FPS, near_tempo(72.0))
        assert _median_period(hinted) == pytest.approx(72, abs=1)
        assert np.all((hinted[2:-2] - 7) % 72 <= 1)  # on the 0.9 peaks

    @settings(deadline=None, max_examples=12)
    @given(
        period=st.integers(min_value=16, max_value=30),
        off=st.floats(min_value=0.85, max_value=1.15),
        level=st.sampled_from([1, 2]),
    )
    def test_the_hinted_level_is_decoded(self, period: int, off: float, level: int) -> None:
        """Peaks every ``period`` frames, strong on every other: a hint within 15 % of
        the tempo of ``level`` peaks per beat gives beats ``level × period`` apart."""
        act = _pulses(period, 1800)
        hint = 60.0 * FPS / (level * period) * off
        beats = decode_beats(act, FPS, near_tempo(hint))
        assert _median_period(beats) == pytest.approx(level * period, abs=1)
