"""Tests for the groove encoding."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.encodings.groove import (
    NEUTRAL_GROOVE,
    ROLAND_PITCH_CLASSES,
    STEPS,
    decode_groove,
    drum_class,
    encode_groove,
    groove_from_hits,
)

steps = st.lists(
    st.tuples(st.floats(-0.5, 0.5, allow_nan=False), st.integers(0, 127)), min_size=16, max_size=16
)


class TestEncode:
    def test_layout(self) -> None:
        """Offsets are doubled, velocities map by 2v/127 - 1, silent steps read -1 and 0."""
        vel = np.zeros(16)
        vel[0] = 127
        off = np.full(16, 0.25)
        vec = encode_groove(off, vel)
        assert vec.shape == (32,)
        assert vec[0] == pytest.approx(0.5)
        assert vec[1] == 0.0
        assert vec[16] == 1.0
        assert vec[17] == -1.0

    @given(steps)
    def test_round_trip(self, grid: list[tuple[float, int]]) -> None:
        """decode(encode(offsets, velocities)) gives them back for hit steps."""
        off = np.array([o for o, _ in grid])
        vel = np.array([v for _, v in grid], dtype=float)
        got_off, got_vel = decode_groove(encode_groove(off, vel))
        np.testing.assert_array_equal(got_vel, vel)
        np.testing.assert_allclose(got_off, np.where(vel > 0, off, 0.0), atol=1e-6)

    def test_neutral(self) -> None:
        """The neutral groove is a straight backbeat: kick, snare, hats on eighths."""
        off, vel = decode_groove(NEUTRAL_GROOVE)
        assert np.all(off == 0)
        assert vel[[0, 4, 8, 12]].tolist() == [100, 110, 100, 110]
        assert np.all(vel[1::2] == 0)


hit_steps = st.dictionaries(
    st.integers(0, STEPS - 1),
    st.tuples(
        st.floats(-0.45, 0.45, allow_nan=False),
        st.sampled_from(sorted(ROLAND_PITCH_CLASSES)),
        st.integers(1, 127),
    ),
    max_size=STEPS,
)


class TestAbsoluteTimes:
    @given(hit_steps, st.floats(0.0, 600.0), st.floats(0.5, 4.0))
    def test_hits_map_to_steps_and_back(
        self, hits: dict[int, tuple[float, int, int]], bar_start: float, bar_len: float
    ) -> None:
        """Property: hits at absolute times (at most one per step) quantize to their
        step, velocity and offset, and decoding gives back each hit's absolute time
        bar_start + (step + offset) · bar_len / 16."""
        step_len = bar_len / STEPS
        timed = [
            (bar_start + (step + offset) * step_len, pitch, velocity)
            for step, (offset, pitch, velocity) in hits.items()
        ]
        off, vel = decode_groove(groove_from_hits(timed, bar_start, bar_len))
        for step in range(STEPS):
            if step in hits:
                offset, _, velocity = hits[step]
                assert vel[step] == velocity
                decoded = bar_start + (step + float(off[step])) * step_len
                assert decoded == pytest.approx(bar_start + (step + offset) * step_len, abs=1e-4)
            else:
                assert vel[step] == 0
                assert off[step] == 0


class TestFromHits:
    def test_loudest_wins(self) -> None:
        """Per step the loudest mapped hit wins, with its micro-timing."""
        bar = 2.0  # 120 bpm, step = 0.125 s
        hits = [
            (0.01, 36, 90),
            (0.0, 42, 60),
            (0.5 - 0.03, 38, 100),
            (1.0, 99, 127),
            (1.99, 36, 80),
        ]
        off, vel = decode_groove(groove_from_hits(hits, 0.0, bar))
        assert vel[0] == 90
        assert off[0] == pytest.approx(0.08, abs=1e-4)
        assert vel[4] == 100
        assert off[4] == pytest.approx(-0.24, abs=1e-4)
        assert vel[8] == 0  # pitch 99 is not a Roland drum
        assert vel.sum() == 190  # the hit at 1.99 s rounds into the next bar

    def test_classes(self) -> None:
        """Roland pitches map to GrooVAE's nine classes."""
        assert drum_class(36) == 0
        assert drum_class(40) == 1
        assert drum_class(59) == 8
        assert drum_class(35) is None
