"""Tests for the emotion population codes."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.encodings.emotion import (
    NEUTRAL_EMOTION,
    coarse_emotion,
    deam_static_to_unit,
    decode_emotion,
    decode_emotions,
    encode_emotion,
    encode_emotions,
)
from kelly_core.errors import BackendError

unit = st.floats(min_value=-1.0, max_value=1.0, allow_nan=False)


class TestEncode:
    def test_shape_and_range(self) -> None:
        """A code has 64 float32 values in [-1, 1] with its peak near the point."""
        code = encode_emotion(0.7, -0.3)
        assert code.shape == (64,)
        assert code.dtype == np.float32
        assert code.min() >= -1.0
        assert code.max() <= 1.0
        iv, ia = divmod(int(code.argmax()), 8)
        assert abs(np.linspace(-1, 1, 8)[iv] - 0.7) < 0.15
        assert abs(np.linspace(-1, 1, 8)[ia] + 0.3) < 0.15

    def test_known_values(self) -> None:
        """At a grid point its bump reads 1; its neighbour one spacing (2/7) away reads
        2 exp(-(2/7)² / (2 · 0.3²)) - 1 = 0.27078."""
        code = encode_emotion(-1.0, -1.0)
        assert code[0] == 1.0
        assert code[1] == pytest.approx(0.270782, abs=1e-5)  # arousal neighbour
        assert code[8] == pytest.approx(0.270782, abs=1e-5)  # valence neighbour
        assert code[63] == pytest.approx(-1.0, abs=1e-6)  # the far corner

    @given(unit, unit)
    def test_equals_the_documented_formula(self, valence: float, arousal: float) -> None:
        """Bump k = 8 i + j at (c_i, c_j), c = linspace(-1, 1, 8): 2 exp(-d² / 0.18) - 1,
        computed here bump by bump, for one point and inside a batch."""
        centres = [-1.0 + 2.0 * i / 7.0 for i in range(8)]
        expected = [
            2.0 * math.exp(-((valence - centres[k // 8]) ** 2 + (arousal - centres[k % 8]) ** 2)
            / (2 * 0.3**2)) - 1.0
            for k in range(64)
        ]  # fmt: skip
        np.testing.assert_allclose(encode_emotion(valence, arousal), expected, atol=1e-6)
        batch = encode_emotions([[0.0, 0.0], [valence, arousal]])
        np.testing.assert_allclose(batch[1], expected, atol=1e-6)

    def test_neutral(self) -> None:
        """NEUTRAL_EMOTION is the read-only code of (0, 0)."""
        np.testing.assert_array_equal(NEUTRAL_EMOTION, encode_emotion(0.0, 0.0))
        assert not NEUTRAL_EMOTION.flags.writeable

    def test_coarse(self) -> None:
        """The coarse code has 16 values in [-1, 1], peaking at the nearest 4×4 centre."""
        code = coarse_emotion(1.0, -1.0)
        assert code.shape == (16,)
        assert int(code.argmax()) == 4 * 3 + 0
        assert code.max() == pytest.approx(1.0)

    def test_bad_shape(self) -> None:
        """A wrong points shape raises BackendError."""
        with pytest.raises(BackendError):
            encode_emotions(np.zeros((3, 3)))


class TestDecode:
    @given(unit, unit)
    def test_round_trip(self, valence: float, arousal: float) -> None:
        """decode(encode(v, a)) is within 0.05 of (v, a) inside the square."""
        v, a = decode_emotion(encode_emotion(valence, arousal))
        assert abs(v - valence) < 0.05
        assert abs(a - arousal) < 0.05

    def test_noisy_codes(self) -> None:
        """Codes with noise, lower amplitude and an offset still decode near the point."""
        rng = np.random.default_rng(1)
        points = rng.uniform(-1, 1, size=(300, 2))
        codes = encode_emotions(points)
        noisy = np.clip(codes + rng.normal(0, 0.15, codes.shape), -1, 1)
        assert np.abs(decode_emotions(noisy) - points).mean() < 0.05
        squashed = 0.5 * codes - 0.2 + rng.normal(0, 0.05, codes.shape)
        assert np.abs(decode_emotions(squashed) - points).mean() < 0.05

    def test_flat_code_is_neutral(self) -> None:
        """A constant code (no bump) decodes to (0, 0)."""
        assert decode_emotion(np.full(64, -1.0)) == (0.0, 0.0)

    def test_random_codes_stay_in_square(self) -> None:
        """Arbitrary outputs decode to points inside [-1, 1]²."""
        rng = np.random.default_rng(2)
        points = decode_emotions(rng.uniform(-3, 3, size=(50, 64)))
        assert np.all(np.abs(points) <= 1.0)

    def test_bad_shape(self) -> None:
        """A code of the wrong length raises BackendError."""
        with pytest.raises(BackendError):
            decode_emotion(np.zeros(63))


class TestDeamStatic:
    def test_map(self) -> None:
        """(x - 5) / 4 maps 1, 5, 9 to -1, 0, 1."""
        assert [deam_static_to_unit(x) for x in (1, 5, 9)] == [-1.0, 0.0, 1.0]
