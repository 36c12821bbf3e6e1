"""Tests for the expression values and their extraction."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.expression import (
    DEFAULT_EXPRESSION,
    EXPRESSION_FIELDS,
    Expression,
    expression_for_beat,
    expressions_for_beats,
    pedal_intervals,
)


class TestExpression:
    def test_fields(self) -> None:
        """Sixteen fields, vector round trip, values clipped to [0, 1]."""
        assert len(EXPRESSION_FIELDS) == 16
        vec = DEFAULT_EXPRESSION.to_vector()
        assert vec.shape == (16,)
        np.testing.assert_array_equal(Expression.from_vector(vec).to_vector(), vec)
        assert Expression(velocity_mean=3.0).velocity_mean == 1.0

    def test_documented_order(self) -> None:
        """The vector order is the documented table's, index by index."""
        assert EXPRESSION_FIELDS == (
            "velocity_mean", "velocity_spread", "accent_1", "accent_2", "accent_3",
            "accent_4", "articulation", "timing_offset", "timing_spread", "sustain_pedal",
            "soft_pedal", "density", "register", "register_span", "polyphony",
            "velocity_trend",
        )  # fmt: skip
        vec = Expression(accent_3=0.25, soft_pedal=0.75).to_vector()
        assert vec[4] == 0.25
        assert vec[10] == 0.75
        assert np.count_nonzero(vec) == 2

    @given(st.lists(st.floats(-2.0, 3.0, allow_nan=False), min_size=16, max_size=16))
    def test_round_trip(self, values: list[float]) -> None:
        """Property: from_vector then to_vector gives the values back, clipped to [0, 1],
        each under its own field's name."""
        expression = Expression.from_vector(values)
        clipped = np.clip(np.asarray(values), 0.0, 1.0)
        np.testing.assert_array_equal(expression.to_vector(), clipped.astype(np.float32))
        for name, value in zip(EXPRESSION_FIELDS, clipped, strict=True):
            assert getattr(expression, name) == value
        again = Expression.from_vector(expression.to_vector())
        np.testing.assert_array_equal(again.to_vector(), expression.to_vector())


class TestExtract:
    def test_beat(self) -> None:
        """Velocities, accents, timing, density and pedal of one beat."""
        notes = [(60, 0.0, 0.25, 100), (64, 0.25, 0.5, 60), (67, 0.5 + 0.0625, 0.75, 80)]
        sustain = pedal_intervals([(0.0, 127), (0.5, 0)])
        e = expression_for_beat(notes, 0.0, 1.0, sustain=sustain)
        assert e.velocity_mean == pytest.approx(80 / 127)
        assert e.accent_1 == pytest.approx(100 / 127)
        assert e.accent_2 == pytest.approx(60 / 127)
        assert e.accent_4 == pytest.approx(80 / 127)  # empty slot: the mean
        assert e.density == pytest.approx(3 / 16)
        assert e.sustain_pedal == pytest.approx(0.5)
        assert e.soft_pedal == 0.0
        assert e.timing_offset == pytest.approx(0.5 + 0.25 / 3)
        assert e.articulation == pytest.approx((1.0 + 0.8) / 2 / 2)

    def test_empty_beat(self) -> None:
        """A beat without onsets keeps the default velocities and has density 0."""
        e = expression_for_beat([(60, 0.0, 3.0, 90)], 1.0, 2.0)
        assert e.density == 0.0
        assert e.velocity_mean == DEFAULT_EXPRESSION.velocity_mean
        assert e.polyphony == pytest.approx(0.1)

    def test_batch_matches_single(self) -> None:
        """expressions_for_beats equals expression_for_beat beat by beat."""
        rng = np.random.default_rng(0)
        starts = np.sort(rng.uniform(0, 8, 60))
        notes = [
            (
                int(rng.integers(40, 90)),
                float(s),
                float(s + rng.uniform(0.05, 1.5)),
                int(rng.integers(20, 120)),
            )
            for s in starts
        ]
        sustain = pedal_intervals([(0.5, 100), (2.0, 0), (3.0, 90), (7.5, 10)])
        beats = np.arange(0, 8.5, 0.5)
        batch = expressions_for_beats(notes, beats, sustain=sustain)
        assert batch.shape == (16, 16)
        onsets = sorted(n[1] for n in notes)
        for b in range(16):
            single = expression_for_beat(
                notes, beats[b], beats[b + 1], sustain=sustain, next_onsets=onsets
            ).to_vector()
            np.testing.assert_allclose(batch[b], single, atol=1e-6)
        assert np.all((batch >= 0) & (batch <= 1))


_notes = st.lists(
    st.tuples(
        st.integers(21, 108),
        st.one_of(
            st.integers(-4096, 36864).map(lambda q: q / 4096),  # any 1/4096 s
            st.integers(0, 36).map(lambda q: q * 0.25),  # on the sixteenth grid
        ),
        st.one_of(st.just(0.0), st.floats(0.0, 3.0)),
        st.integers(1, 127),
    ).map(lambda n: (n[0], n[1], n[1] + n[2], n[3])),
    max_size=40,
)


class TestVectorised:
    @settings(max_examples=150, deadline=None)
    @given(
        notes=_notes,
        lengths=st.lists(st.floats(0.1, 1.0), max_size=20),
        offset=st.floats(0.0, 1.0),
        events=st.lists(st.tuples(st.floats(0.0, 10.0), st.sampled_from((0, 100))), max_size=6),
    )
    def test_equals_beat_by_beat(
        self,
        notes: list[tuple[int, float, float, int]],
        lengths: list[float],
        offset: float,
        events: list[tuple[float, int]],
    ) -> None:
        """The vectorised batch equals expression_for_beat exactly, beat by beat.

        Notes start anywhere (also on the sixteenth grid and before the first beat), may
        have zero length, beats have uneven lengths, pedals may stay down to the end.
        """
        bounds = offset + np.concatenate([[0.0], np.cumsum(lengths)])
        sustain = pedal_intervals(events)
        soft = pedal_intervals(events[::-1][:2])
        batch = expressions_for_beats(notes, bounds, sustain=sustain, soft=soft)
        ordered = sorted(notes, key=lambda n: n[1])
        onsets = [n[1] for n in ordered]
        expected = [
            expression_for_beat(
                ordered, bounds[b], bounds[b + 1], sustain=sustain, soft=soft, next_onsets=onsets
            ).to_vector()
            for b in range(len(lengths))
        ]
        assert batch.shape == (len(lengths), 16)
        if expected:
            np.testing.assert_allclose(batch, np.stack(expected), rtol=0, atol=1e-6)

    def test_bad_beat(self) -> None:
        """A beat of zero length is refused with the beat named."""
        with pytest.raises(ValueError, match=r"1\.0\.\.1\.0"):
            expressions_for_beats([(60, 0.0, 1.0, 80)], [0.0, 1.0, 1.0])
