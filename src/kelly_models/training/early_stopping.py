"""Early stopping on a validation loss (lower is better), with savable state."""

from __future__ import annotations

import math
from collections.abc import Mapping

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Stop when the loss has not improved by ``min_delta`` for ``patience`` epochs.

    :param patience: Epochs without improvement tolerated; 0 never stops.
    :param min_delta: Smallest decrease that counts as an improvement.
    """

    def __init__(self, patience: int, min_delta: float = 0.0) -> None:
        if patience < 0 or min_delta < 0:
            raise ValueError(
                f"expected patience >= 0 and min_delta >= 0, got {patience}, {min_delta}"
            )
        self.patience = patience
        self.min_delta = min_delta
        self.best = math.inf
        self.best_epoch = -1
        self.bad_epochs = 0

    def update(self, loss: float, epoch: int) -> bool:
        """Record the loss of ``epoch``; return whether it is a new best.

        A NaN loss never improves.
        """
        if loss < self.best - self.min_delta:
            self.best = loss
            self.best_epoch = epoch
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` epochs in a row have passed without improvement."""
        return self.patience > 0 and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, float | int]:
        """Return the state to checkpoint."""
        return {"best": self.best, "best_epoch": self.best_epoch, "bad_epochs": self.bad_epochs}

    def load_state_dict(self, state: Mapping[str, float | int]) -> None:
        """Restore the state from :meth:`state_dict`."""
        self.best = float(state["best"])
        self.best_epoch = int(state["best_epoch"])
        self.bad_epochs = int(state["bad_epochs"])
