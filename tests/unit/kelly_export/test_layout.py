"""Tests for kelly_export.layout: hand-worked conversions and round-trip properties."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kelly_export.layout import (
    FROM_RTNEURAL,
    TO_RTNEURAL,
    dense_from_rtneural,
    dense_to_rtneural,
    lstm_from_rtneural,
    lstm_to_rtneural,
)


def _f(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float32)


class TestDense:
    def test_hand_worked(self) -> None:
        """A 2-out, 3-in torch weight becomes a 3×2 kernel; the bias is unchanged."""
        weight = _f([[1, 2, 3], [4, 5, 6]])
        kernel, bias = dense_to_rtneural(weight, _f([7, 8]))
        np.testing.assert_array_equal(kernel, _f([[1, 4], [2, 5], [3, 6]]))
        np.testing.assert_array_equal(bias, _f([7, 8]))
        back, _ = dense_from_rtneural(kernel, bias)
        np.testing.assert_array_equal(back, weight)


class TestLSTM:
    def test_hand_worked(self) -> None:
        """H=1, IN=2: torch rows i, f, g, o become kernel columns; biases are summed."""
        weight_ih = _f([[1, 2], [3, 4], [5, 6], [7, 8]])  # rows: i, f, g, o
        weight_hh = _f([[9], [10], [11], [12]])
        kernel, recurrent, bias = lstm_to_rtneural(
            weight_ih, weight_hh, _f([1, 1, 1, 1]), _f([0.5, 0, -1, 2])
        )
        np.testing.assert_array_equal(kernel, _f([[1, 3, 5, 7], [2, 4, 6, 8]]))
        np.testing.assert_array_equal(recurrent, _f([[9, 10, 11, 12]]))
        np.testing.assert_array_equal(bias, _f([1.5, 1, 0, 3]))
        w_ih, w_hh, b_ih, b_hh = lstm_from_rtneural(kernel, recurrent, bias)
        np.testing.assert_array_equal(w_ih, weight_ih)
        np.testing.assert_array_equal(w_hh, weight_hh)
        np.testing.assert_array_equal(b_ih, _f([1.5, 1, 0, 3]))
        np.testing.assert_array_equal(b_hh, np.zeros(4, np.float32))

    @given(st.integers(1, 32), st.integers(1, 32), st.integers(0, 2**16))
    def test_shapes_and_round_trip(self, in_size: int, hidden: int, seed: int) -> None:
        """Any sizes: RTNeural shapes are IN×4H, H×4H, 4H, and the table round-trips."""
        rng = np.random.default_rng(seed)
        arrays = [
            rng.standard_normal(s).astype(np.float32)
            for s in ((4 * hidden, in_size), (4 * hidden, hidden), (4 * hidden,), (4 * hidden,))
        ]
        out = TO_RTNEURAL["lstm"](arrays)
        expected = [(in_size, 4 * hidden), (hidden, 4 * hidden), (4 * hidden,)]
        assert [a.shape for a in out] == expected
        back = FROM_RTNEURAL["lstm"](out)
        np.testing.assert_array_equal(back[0], arrays[0])
        np.testing.assert_array_equal(back[1], arrays[1])
        np.testing.assert_allclose(back[2], arrays[2] + arrays[3], rtol=1e-6, atol=1e-6)

    @given(st.integers(1, 32), st.integers(1, 32))
    def test_dense_table_round_trip(self, in_size: int, out_size: int) -> None:
        """Any sizes: the dense kernel is IN×OUT and converts back exactly."""
        rng = np.random.default_rng(in_size * 100 + out_size)
        arrays = [rng.standard_normal((out_size, in_size)).astype(np.float32),
                  rng.standard_normal(out_size).astype(np.float32)]  # fmt: skip
        out = TO_RTNEURAL["dense"](arrays)
        assert out[0].shape == (in_size, out_size)
        for a, b in zip(FROM_RTNEURAL["dense"](out), arrays, strict=True):
            np.testing.assert_array_equal(a, b)
