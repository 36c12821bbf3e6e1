"""Tests of kelly_runtime.generate.style: expression fields to BeatStyle."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kelly_core.encodings.expression import DEFAULT_EXPRESSION, Expression
from kelly_runtime.generate.style import beat_style


class TestBeatStyle:
    def test_default_expression(self) -> None:
        """The DynamicsEngine fallback plays velocity 90/75/82/75, on the grid, quarters."""
        style = beat_style(DEFAULT_EXPRESSION, beat_s=0.5)
        assert [round(a) for a in style.accents] == [90, 75, 82, 75]
        assert style.timing == 0.0
        assert style.notes_per_beat == 1
        assert not style.sustain
        assert not style.soft
        assert style.articulation == pytest.approx(0.9)
        assert style.register == pytest.approx(64.0)

    def test_fields(self) -> None:
        """Pedal, density, timing, articulation and trend map through their units."""
        expression = attrs.evolve(
            DEFAULT_EXPRESSION,
            sustain_pedal=0.8,
            soft_pedal=0.6,
            density=4 / 16,
            timing_offset=0.25,
            articulation=0.2,
            velocity_trend=0.5 + 40 / 128,
        )
        style = beat_style(expression, beat_s=0.5)
        assert style.sustain
        assert style.soft
        assert style.notes_per_beat == 2
        assert style.timing == pytest.approx(-0.25 * 0.125)
        assert style.articulation == pytest.approx(0.4)
        assert style.accents[2] == pytest.approx(82 + 20, abs=0.01)

    @given(arrays(np.float32, 16, elements=st.floats(0, 1, width=32)))
    def test_any_vector_gives_a_valid_style(self, vector: np.ndarray) -> None:
        """Every expression vector in [0, 1] gives a style with valid velocities."""
        style = beat_style(Expression.from_vector(vector), beat_s=0.4)
        for k in range(4):
            assert 1 <= style.note_velocity(k, jitter=3.0) <= 127
        assert abs(style.timing) <= 0.4 / 8 + 1e-9


class TestAccents:
    def test_full_accents_play_127(self) -> None:
        """All four accents at 1.0 (no trend) give velocity 127 on every sixteenth."""
        full = attrs.evolve(
            DEFAULT_EXPRESSION,
            accent_1=1.0,
            accent_2=1.0,
            accent_3=1.0,
            accent_4=1.0,
            velocity_trend=0.5,
        )
        style = beat_style(full, beat_s=0.5)
        assert [style.note_velocity(k) for k in range(4)] == [127, 127, 127, 127]

    def test_each_accent_sets_its_sixteenth(self) -> None:
        """accent_k = k/8 plays round(127 k / 8) on sixteenth k - 1."""
        expression = attrs.evolve(
            DEFAULT_EXPRESSION,
            accent_1=0.125,
            accent_2=0.25,
            accent_3=0.375,
            accent_4=0.5,
            velocity_trend=0.5,
        )
        style = beat_style(expression, beat_s=0.5)
        assert [style.note_velocity(k) for k in range(4)] == [16, 32, 48, 64]
