"""Timing facts every layer shares, each defined once (docs/encodings.md).

Base values are written here once; what follows from them is computed where it is
needed (the log-mel frames of one window in :mod:`kelly_core.encodings.logmel`, the
context columns in :mod:`kelly_core.encodings.context`), never written out again. The
C++ companion's copies (``kWindowSeconds``, ``kBeatsPerBar`` in ``kelly_companion.h``) are
tested against these.
"""

from __future__ import annotations

from typing import Final

__all__ = ["BEATS_PER_BAR", "WINDOW_S"]

WINDOW_S: Final = 0.5
"""Length of one emotion analysis window in seconds: the EmotionRecognizer steps once
per window on the mean of the log-mel frames that start in it (DEAM's dynamic
annotations are at 2 Hz, one per window)."""

BEATS_PER_BAR: Final = 4
"""Beats in a bar as the models know it: the width of the beat-in-bar one-hot of the
melody and compact contexts (a beat of a longer bar counts as the last place), and the
meter assumed where none is given or detected."""
