"""Tests for kelly_models.training.schedules."""

from __future__ import annotations

import pytest
import torch

from kelly_models.training.config import ScheduleName, TrainConfig
from kelly_models.training.schedules import build_schedule


def _optimizer(lr: float = 1.0) -> torch.optim.Optimizer:
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=lr)


def _rates(config: TrainConfig, losses: list[float]) -> list[float]:
    optimizer = _optimizer(config.learning_rate)
    schedule = build_schedule(optimizer, config)
    rates = []
    for loss in losses:
        rates.append(schedule.learning_rate)
        optimizer.step()
        schedule.step(loss)
    return rates


class TestSchedules:
    def test_constant(self) -> None:
        """The constant schedule never changes the rate."""
        assert _rates(TrainConfig(learning_rate=0.1, schedule="constant"), [1, 1, 1]) == [0.1] * 3

    def test_step(self) -> None:
        """The step schedule halves the rate every step_size epochs."""
        config = TrainConfig(learning_rate=1.0, schedule="step", step_size=2, gamma=0.5)
        assert _rates(config, [1.0] * 5) == pytest.approx([1.0, 1.0, 0.5, 0.5, 0.25])

    def test_cosine(self) -> None:
        """Cosine annealing falls monotonically to 1 % of the rate over the epochs."""
        config = TrainConfig(learning_rate=1.0, schedule="cosine", epochs=4)
        rates = _rates(config, [1.0] * 5)
        assert rates[0] == 1.0
        assert rates == sorted(rates, reverse=True)
        assert rates[-1] == pytest.approx(0.01)
        assert rates[2] == pytest.approx(0.01 + 0.99 * 0.5)

    def test_plateau(self) -> None:
        """The plateau schedule decays only after the loss stalls."""
        config = TrainConfig(learning_rate=1.0, schedule="plateau", patience=2, gamma=0.1)
        rates = _rates(config, [1.0, 0.5, 0.5, 0.5, 0.5])
        assert rates[:3] == [1.0, 1.0, 1.0]
        assert rates[4] == pytest.approx(0.1)

    @pytest.mark.parametrize("kind", ["constant", "step", "cosine", "plateau"])
    def test_state_round_trip(self, kind: ScheduleName) -> None:
        """A schedule restored from state_dict continues identically."""
        config = TrainConfig(learning_rate=1.0, schedule=kind, step_size=1, epochs=6, patience=2)
        first_optimizer = _optimizer()
        first = build_schedule(first_optimizer, config)
        for loss in (1.0, 1.0, 1.0):
            first_optimizer.step()
            first.step(loss)
        optimizer = _optimizer()
        optimizer.param_groups[0]["lr"] = first.learning_rate
        second = build_schedule(optimizer, config)
        second.load_state_dict(first.state_dict())
        for loss in (1.0, 1.0):
            first_optimizer.step()
            optimizer.step()
            first.step(loss)
            second.step(loss)
            assert second.learning_rate == first.learning_rate
