"""Progress display: a tqdm bar on a terminal, a few log lines otherwise.

Logs and CI captures get one line per tenth of the work instead of a wall of carriage
returns; a terminal gets tqdm's live bar (on stderr, like the logs).
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from types import TracebackType
from typing import TextIO

__all__ = ["Progress"]

logger = logging.getLogger(__name__)


class Progress:
    """Counts work done out of ``total`` and shows it.

    :param total: Units of work (batches).
    :param description: Shown before the count (``"MelodyTransformer epoch 3/10"``).
    :param stream: Where the bar goes; a bar is drawn only if it is a terminal.
    :param enabled: False shows nothing at all.
    :param min_interval: Without a terminal, seconds between two log lines at least, so
        that short epochs log only their summary line (the loop's), long ones a line per
        tenth of the work.
    :param clock: Monotonic clock in seconds (for tests).
    """

    def __init__(
        self,
        total: int,
        description: str,
        *,
        stream: TextIO | None = None,
        enabled: bool = True,
        min_interval: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.total = max(total, 0)
        self._clock = clock
        self._min_interval = min_interval
        self._last_log = clock()
        self.description = description
        self.done = 0
        self._next_log = 0.1
        self._postfix = ""
        out = sys.stderr if stream is None else stream
        self._bar = None
        self._enabled = enabled
        if enabled and out.isatty():
            from tqdm import tqdm

            self._bar = tqdm(total=self.total, desc=description, file=out, leave=False)

    def update(self, count: int = 1, **postfix: float) -> None:
        """Record ``count`` more units; ``postfix`` values (``loss=0.3``) are shown too."""
        self.done += count
        self._postfix = ", ".join(f"{k}={v:.4g}" for k, v in postfix.items())
        if self._bar is not None:
            self._bar.update(count)
            if postfix:
                self._bar.set_postfix_str(self._postfix, refresh=False)
            return
        if not self._enabled or self.total == 0:
            return
        share = self.done / self.total
        if share >= self._next_log and self.done < self.total:
            now = self._clock()
            if now - self._last_log >= self._min_interval:
                self._last_log = now
                logger.info("%s: %d/%d %s", self.description, self.done, self.total, self._postfix)
            while self._next_log <= share:
                self._next_log += 0.1

    def close(self) -> None:
        """Remove the bar."""
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()
