"""Tests for kelly_models.training.early_stopping."""

from __future__ import annotations

import math

import pytest

from kelly_models.training.config import TrainConfig
from kelly_models.training.early_stopping import EarlyStopping


class TestEarlyStopping:
    def test_stops_after_patience(self) -> None:
        """Two epochs without improvement stop a patience-2 run."""
        stopper = EarlyStopping(patience=2)
        assert stopper.update(1.0, 0)
        assert not stopper.update(1.5, 1)
        assert [stopper.should_stop] == [False]  # a list: mypy would narrow a bare property
        assert not stopper.update(1.2, 2)
        assert stopper.should_stop
        assert stopper.best_epoch == 0

    def test_min_delta(self) -> None:
        """An improvement smaller than min_delta does not count."""
        stopper = EarlyStopping(patience=1, min_delta=0.1)
        stopper.update(1.0, 0)
        assert not stopper.update(0.95, 1)
        assert stopper.should_stop
        assert stopper.best == 1.0

    def test_improvement_resets(self) -> None:
        """A new best resets the count."""
        stopper = EarlyStopping(patience=2)
        stopper.update(1.0, 0)
        stopper.update(2.0, 1)
        assert stopper.update(0.5, 2)
        assert stopper.bad_epochs == 0

    def test_zero_patience_never_stops(self) -> None:
        """Patience 0 disables stopping."""
        stopper = EarlyStopping(patience=0)
        for epoch in range(5):
            stopper.update(float(epoch), epoch)
        assert not stopper.should_stop

    def test_nan_never_improves(self) -> None:
        """A NaN loss is not an improvement."""
        stopper = EarlyStopping(patience=1)
        assert not stopper.update(math.nan, 0)

    def test_state_round_trip(self) -> None:
        """state_dict / load_state_dict restore the counters."""
        stopper = EarlyStopping(patience=3)
        stopper.update(1.0, 0)
        stopper.update(2.0, 1)
        other = EarlyStopping(patience=3)
        other.load_state_dict(stopper.state_dict())
        assert other.state_dict() == stopper.state_dict()

    def test_rejects_negative(self) -> None:
        """Negative settings are refused."""
        with pytest.raises(ValueError, match="patience"):
            EarlyStopping(patience=-1)


class TestGuards:
    def test_min_epochs_ignores_a_lucky_first_epoch(self) -> None:
        """A noisy low first loss is not kept when min_epochs is 3."""
        stopper = EarlyStopping(patience=2, min_epochs=3)
        for epoch, loss in enumerate([0.1, 0.9, 0.8, 0.7]):
            stopper.update(loss, epoch)
        assert stopper.best_epoch == 3
        assert stopper.best_raw == 0.7

    def test_smoothed_criterion(self) -> None:
        """One low epoch among high ones does not beat a steadily lower window."""
        stopper = EarlyStopping(patience=5, window=3)
        losses = [1.0, 0.2, 1.0, 0.5, 0.5, 0.5]
        best = [e for e, loss in enumerate(losses) if stopper.update(loss, e)]
        # windows: 1.0, 0.6, 0.733, 0.567, 0.667, 0.5 -> bests at epochs 0, 1, 3, 5
        assert best == [0, 1, 3, 5]
        assert stopper.best == pytest.approx(0.5)

    def test_state_round_trip_keeps_the_window(self) -> None:
        stopper = EarlyStopping(patience=3, window=2)
        stopper.update(0.5, 0)
        stopper.update(0.4, 1)
        other = EarlyStopping(patience=3, window=2)
        other.load_state_dict(stopper.state_dict())
        assert other.recent == [0.5, 0.4]
        assert other.update(0.3, 2) == stopper.update(0.3, 2)
        with pytest.raises(ValueError, match="min_epochs"):
            EarlyStopping(patience=1, min_epochs=0)


# Validation losses of `kelly train -m EmotionRecognizer --seed 3` with tension and
# articulation in the labels: flat near 0.165 for 15 epochs, then learning starts.
_FLAT_START = [
    0.16800, 0.17362, 0.16682, 0.16563, 0.17063, 0.16627, 0.16673, 0.16557,
    0.16268, 0.16449, 0.16530, 0.16676, 0.16709, 0.16174, 0.17495,
    0.14123, 0.14029, 0.13291, 0.13118, 0.13111,
]  # fmt: skip


class TestDefaultsOutlastAFlatStart:
    def _stopper(self) -> EarlyStopping:
        config = TrainConfig()
        return EarlyStopping(
            config.patience,
            config.min_delta,
            min_epochs=config.min_epochs,
            window=config.smooth_epochs,
        )

    def test_the_default_guards_keep_training_through_the_flat_start(self) -> None:
        """With the defaults the run reaches the drop and keeps an epoch after it.

        With the earlier ``min_epochs`` 5 this run stopped at epoch 15 and kept epoch 9.
        """
        stopper = self._stopper()
        for epoch, loss in enumerate(_FLAT_START):
            stopper.update(loss, epoch)
            assert not stopper.should_stop, epoch
        assert stopper.best_epoch == len(_FLAT_START) - 1
        assert stopper.best_raw == pytest.approx(0.13111)

    def test_the_earlier_minimum_stopped_on_it(self) -> None:
        """The failure the default guards against: min_epochs 5 stops inside the flat start."""
        config = TrainConfig()
        stopper = EarlyStopping(
            config.patience, config.min_delta, min_epochs=5, window=config.smooth_epochs
        )
        stopped = next(
            e
            for e, loss in enumerate(_FLAT_START)
            if (stopper.update(loss, e), stopper.should_stop)[1]
        )
        assert stopped < 15
        assert stopper.best_raw > 0.16
