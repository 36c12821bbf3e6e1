"""Learning-rate schedules, stepped once per epoch: constant, step, cosine and plateau.

Thin wrappers over ``torch.optim.lr_scheduler`` behind one interface, so the loop calls
``schedule.step(val_loss)`` whatever the kind, and checkpoints save ``state_dict()``.
"""

from __future__ import annotations

from collections.abc import Mapping

import torch

from kelly_models.training.config import TrainConfig

__all__ = ["Schedule", "build_schedule"]


class Schedule:
    """One learning-rate schedule over an optimizer (see :func:`build_schedule`)."""

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        scheduler: torch.optim.lr_scheduler.LRScheduler
        | torch.optim.lr_scheduler.ReduceLROnPlateau
        | None,
    ) -> None:
        self._optimizer = optimizer
        self._scheduler = scheduler

    def step(self, val_loss: float) -> None:
        """Advance one epoch; ``val_loss`` is used by the plateau schedule only."""
        if isinstance(self._scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
            self._scheduler.step(val_loss)
        elif self._scheduler is not None:
            self._scheduler.step()

    @property
    def learning_rate(self) -> float:
        """The learning rate of the first parameter group now."""
        return float(self._optimizer.param_groups[0]["lr"])

    def state_dict(self) -> dict[str, object]:
        """Return the scheduler's state (empty for the constant schedule)."""
        return {} if self._scheduler is None else dict(self._scheduler.state_dict())

    def load_state_dict(self, state: Mapping[str, object]) -> None:
        """Restore the state from :meth:`state_dict`."""
        if self._scheduler is not None:
            self._scheduler.load_state_dict(dict(state))


def build_schedule(optimizer: torch.optim.Optimizer, config: TrainConfig) -> Schedule:
    """Return the schedule ``config.schedule`` names.

    - ``constant``: the learning rate never changes.
    - ``step``: multiplied by ``gamma`` every ``step_size`` epochs.
    - ``cosine``: cosine annealing from the initial rate to 1 % of it over ``epochs``.
    - ``plateau``: multiplied by ``gamma`` after ``max(1, patience // 2)`` epochs without
      validation improvement (so it acts before early stopping does).
    """
    lr_sched = torch.optim.lr_scheduler
    if config.schedule == "constant":
        return Schedule(optimizer, None)
    if config.schedule == "step":
        return Schedule(optimizer, lr_sched.StepLR(optimizer, config.step_size, config.gamma))
    if config.schedule == "cosine":
        floor = config.learning_rate * 0.01
        return Schedule(
            optimizer, lr_sched.CosineAnnealingLR(optimizer, config.epochs, eta_min=floor)
        )
    return Schedule(
        optimizer,
        lr_sched.ReduceLROnPlateau(
            optimizer, factor=config.gamma, patience=max(1, config.patience // 2)
        ),
    )
