"""Tests for kelly_models.training.metrics: hand-worked examples and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kelly_core.errors import SpecError
from kelly_models.training import metrics as m

_labels = hnp.arrays(np.bool_, hnp.array_shapes(min_dims=2, max_dims=2, max_side=16))
_series = hnp.arrays(
    np.float64,
    st.integers(1, 32),
    elements=st.floats(-10, 10, allow_nan=False, allow_infinity=False),
)


class TestF1:
    def test_hand_worked(self) -> None:
        """tp=2, fp=1, fn=1 gives F1 = 4 / 6."""
        predicted = np.array([[0.9, 0.8, 0.1], [0.7, 0.2, 0.0]])
        actual = np.array([[1.0, 1.0, 1.0], [0.0, 0.0, 0.0]])
        # on: (0,0) (0,1) (1,0); true: (0,0) (0,1) (0,2) -> tp 2, fp 1, fn 1
        assert m.f1_score(predicted, actual) == pytest.approx(4 / 6)

    def test_threshold(self) -> None:
        """Values below the threshold count as off."""
        assert m.f1_score(np.array([[0.4]]), np.array([[1.0]])) == 0.0
        assert m.f1_score(np.array([[0.4]]), np.array([[1.0]]), threshold=0.3) == 1.0

    def test_all_off_is_perfect(self) -> None:
        """Nothing on in either array is a perfect prediction."""
        assert m.f1_score(np.zeros((3, 4)), np.zeros((3, 4))) == 1.0

    def test_shape_mismatch(self) -> None:
        """Different shapes raise SpecError."""
        with pytest.raises(SpecError, match="differ in shape"):
            m.f1_score(np.zeros((2, 3)), np.zeros((3, 2)))

    @given(_labels, st.data())
    def test_in_unit_interval(self, actual: np.ndarray, data: st.DataObject) -> None:
        """F1 is always within [0, 1]."""
        predicted = data.draw(hnp.arrays(np.bool_, actual.shape))
        assert 0.0 <= m.f1_score(predicted, actual) <= 1.0

    @given(_labels)
    def test_perfect_prediction(self, actual: np.ndarray) -> None:
        """Predicting the targets exactly scores 1."""
        assert m.f1_score(actual.copy(), actual) == 1.0


class TestTopK:
    def test_hand_worked(self) -> None:
        """Row 0 hits at top-1, row 1 only at top-2."""
        scores = np.array([[0.7, 0.2, 0.1], [0.5, 0.3, 0.2]])
        labels = np.array([0, 1])
        assert m.top_k_accuracy(scores, labels, 1) == 0.5
        assert m.top_k_accuracy(scores, labels, 2) == 1.0

    def test_ties_go_to_lower_index(self) -> None:
        """Equal scores rank the lower class first (so a constant guess is deterministic)."""
        scores = np.full((2, 4), 0.25)
        assert m.top_k_accuracy(scores, np.array([0, 3]), 1) == 0.5

    def test_bad_labels(self) -> None:
        """Labels of the wrong length raise SpecError."""
        with pytest.raises(SpecError):
            m.top_k_accuracy(np.zeros((2, 3)), np.array([0]), 1)


class TestCCC:
    def test_hand_worked(self) -> None:
        """p=[1,2,3], a=[2,3,4]: cov 2/3, vars 2/3 each, mean gap 1 -> 4/3 / 7/3 = 4/7."""
        assert m.ccc(np.array([1.0, 2, 3]), np.array([2.0, 3, 4])) == pytest.approx(4 / 7)

    def test_constant_prediction(self) -> None:
        """A constant prediction of a varying series scores 0."""
        assert m.ccc(np.zeros(4), np.array([1.0, -1, 1, -1])) == 0.0

    @given(_series)
    def test_identical_is_one(self, series: np.ndarray) -> None:
        """A series agrees perfectly with itself."""
        assert m.ccc(series, series.copy()) == pytest.approx(1.0)

    @given(_series, st.data())
    def test_bounded(self, series: np.ndarray, data: st.DataObject) -> None:
        """CCC lies in [-1, 1]."""
        other = data.draw(
            hnp.arrays(np.float64, series.shape, elements=st.floats(-10, 10, allow_nan=False))
        )
        assert -1.0 - 1e-9 <= m.ccc(series, other) <= 1.0 + 1e-9


class TestR2:
    def test_mean_scores_zero(self) -> None:
        """Predicting each column's mean scores 0, the exact values 1."""
        actual = np.array([[1.0, 0.0], [3.0, 2.0]])
        assert m.r2_score(np.array([[2.0, 1.0], [2.0, 1.0]]), actual) == pytest.approx(0.0)
        assert m.r2_score(actual.copy(), actual) == 1.0

    def test_hand_worked(self) -> None:
        """SSE 1 over SST 2 gives 0.5."""
        assert m.r2_score(np.array([1.0, 2.0]), np.array([0.0, 2.0])) == pytest.approx(0.5)

    def test_constant_target(self) -> None:
        """A constant target scores 1 when hit exactly, 0 otherwise."""
        assert m.r2_score(np.ones(3), np.ones(3)) == 1.0
        assert m.r2_score(np.zeros(3), np.ones(3)) == 0.0


class TestErrors:
    def test_mse_mae(self) -> None:
        """Mean squared and absolute errors over every value."""
        assert m.mean_squared_error(np.array([1.0, 3.0]), np.array([0.0, 0.0])) == 5.0
        assert m.mean_absolute_error(np.array([1.0, -3.0]), np.array([0.0, 0.0])) == 2.0


class TestBaselines:
    def test_frequency_prior(self) -> None:
        """The prior is the share of frames each label is on."""
        targets = np.array([[1.0, 0.0, 1.0], [1.0, 0.0, 0.0]])
        np.testing.assert_allclose(m.frequency_prior(targets), [1.0, 0.0, 0.5])

    def test_prior_top_k(self) -> None:
        """The k most frequent labels are on in every row."""
        guess = m.prior_top_k_notes(np.array([0.1, 0.5, 0.3]), 2, 2)
        assert guess.tolist() == [[False, True, True], [False, True, True]]

    def test_most_frequent_classes(self) -> None:
        """Class frequencies rank the most frequent class first."""
        freq = m.most_frequent_classes(np.array([2, 2, 1]), 4)
        np.testing.assert_allclose(freq, [0, 1 / 3, 2 / 3, 0])
        assert m.top_k_accuracy(np.tile(freq, (3, 1)), np.array([2, 2, 1]), 1) == pytest.approx(
            2 / 3
        )

    def test_empty_series(self) -> None:
        """Empty inputs give NaN rather than a misleading number."""
        assert math.isnan(m.ccc(np.zeros(0), np.zeros(0)))


class TestTopKLabels:
    def test_hand_worked(self) -> None:
        """The k highest scores of each row are on, ties to the lower index."""
        scores = np.array([[0.1, 0.9, 0.5], [0.2, 0.2, 0.2]])
        assert m.top_k_labels(scores, 2).tolist() == [[False, True, True], [True, True, False]]
        assert not m.top_k_labels(scores, 0).any()

    @given(hnp.arrays(np.float64, (4, 6), elements=st.floats(0, 1)), st.integers(0, 6))
    def test_exactly_k(self, scores: np.ndarray, k: int) -> None:
        """Every row has exactly k labels on."""
        assert (m.top_k_labels(scores, k).sum(axis=1) == k).all()
