"""Early stopping on a validation loss (lower is better), with savable state.

Two guards keep a small, noisy validation split from locking in an early epoch:

- **minimum epochs**: an epoch before ``min_epochs`` is never the best and never counts
  towards ``patience``, so training always runs at least that long;
- **smoothed criterion**: improvement is judged on the mean of the last ``window``
  validation losses, not on one epoch's value; the weights kept are those of the epoch that
  closes the best window.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

__all__ = ["EarlyStopping"]


class EarlyStopping:
    """Stop when the smoothed loss has not improved by ``min_delta`` for ``patience`` epochs.

    :param patience: Eligible epochs without improvement tolerated; 0 never stops.
    :param min_delta: Smallest decrease that counts as an improvement.
    :param min_epochs: Epochs (from 1) before any can be the best or count towards patience.
    :param window: Validation losses averaged into the criterion (1: the raw loss).
    """

    def __init__(
        self, patience: int, min_delta: float = 0.0, *, min_epochs: int = 1, window: int = 1
    ) -> None:
        if patience < 0 or min_delta < 0 or min_epochs < 1 or window < 1:
            raise ValueError(
                "expected patience >= 0, min_delta >= 0, min_epochs >= 1 and window >= 1, "
                f"got {patience}, {min_delta}, {min_epochs}, {window}"
            )
        self.patience = patience
        self.min_delta = min_delta
        self.min_epochs = min_epochs
        self.window = window
        self.best = math.inf
        """Best smoothed criterion so far."""
        self.best_raw = math.inf
        """The raw validation loss of the best epoch."""
        self.best_epoch = -1
        self.bad_epochs = 0
        self.recent: list[float] = []

    def criterion(self) -> float:
        """The mean of the last ``window`` losses (NaN before any)."""
        return sum(self.recent) / len(self.recent) if self.recent else math.nan

    def update(self, loss: float, epoch: int) -> bool:
        """Record the loss of ``epoch`` (0-based); return whether it is a new best.

        A NaN loss never improves.
        """
        self.recent = [*self.recent, float(loss)][-self.window :]
        if epoch + 1 < self.min_epochs:
            return False
        smoothed = self.criterion()
        if smoothed < self.best - self.min_delta:
            self.best = smoothed
            self.best_raw = float(loss)
            self.best_epoch = epoch
            self.bad_epochs = 0
            return True
        self.bad_epochs += 1
        return False

    @property
    def should_stop(self) -> bool:
        """Whether ``patience`` eligible epochs in a row have passed without improvement."""
        return self.patience > 0 and self.bad_epochs >= self.patience

    def state_dict(self) -> dict[str, float | int | list[float]]:
        """Return the state to checkpoint."""
        return {
            "best": self.best,
            "best_raw": self.best_raw,
            "best_epoch": self.best_epoch,
            "bad_epochs": self.bad_epochs,
            "recent": list(self.recent),
        }

    def load_state_dict(self, state: Mapping[str, float | int | Sequence[float]]) -> None:
        """Restore the state from :meth:`state_dict`."""
        self.best = float(state["best"])  # type: ignore[arg-type]  # a number in the dict
        self.best_raw = float(state.get("best_raw", self.best))  # type: ignore[arg-type]
        self.best_epoch = int(state["best_epoch"])  # type: ignore[arg-type]
        self.bad_epochs = int(state["bad_epochs"])  # type: ignore[arg-type]
        self.recent = [float(v) for v in state.get("recent", ())]  # type: ignore[union-attr]
