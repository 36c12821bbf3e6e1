"""The pieces train_model is made of: the folds' mean and spread, JSON-safe metrics."""

from __future__ import annotations

import math

import pytest

from kelly_models.training.folds import fold_mean
from kelly_models.training.outcome import json_clean


class TestFoldMean:
    def test_mean_and_population_spread_of_shared_keys(self) -> None:
        """Keys every fold has: mean and population std; a key one fold lacks is left out."""
        mean, spread = fold_mean([{"loss": 1.0, "f1": 0.5}, {"loss": 3.0}])
        assert mean == {"loss": 2.0}
        assert spread == {"loss": 1.0}

    def test_one_fold_has_no_spread(self) -> None:
        mean, spread = fold_mean([{"loss": 0.25, "f1": 0.75}])
        assert mean == {"loss": 0.25, "f1": 0.75}
        assert spread == {"loss": 0.0, "f1": 0.0}


class TestJsonClean:
    def test_non_finite_floats_become_null_inside_any_nesting(self) -> None:
        """NaN and inf anywhere (dicts, lists, tuples) are written as null; keys as str."""
        value = {"a": [1.0, math.nan, (math.inf, 2)], 3: {"b": -math.inf}, "c": "x"}
        assert json_clean(value) == {"a": [1.0, None, [None, 2]], "3": {"b": None}, "c": "x"}

    @pytest.mark.parametrize("number", [0.0, -1.5, 1e300])
    def test_finite_floats_unchanged(self, number: float) -> None:
        assert json_clean(number) == number
