"""What the synthetic generators share: the scales, the sample rate, emotion segments,
the mode draw, and notes to per-beat multi-hot vectors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

import numpy as np

from kelly_core.encodings.logmel import DEFAULT_LOG_MEL

__all__ = [
    "MAJOR",
    "MINOR",
    "PITCH_CLASS_FOLD",
    "SR",
    "Generator",
    "is_major",
    "segments",
    "sounding_multihot",
]

MAJOR: Final = (0, 2, 4, 5, 7, 9, 11)
MINOR: Final = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: the raised 7th marks the mode
SR: Final = DEFAULT_LOG_MEL.sr

Generator = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]
"""An item generator: ``(rng, steps) -> (inputs, targets)``."""


def segments(rng: np.random.Generator, steps: int, length: int) -> np.ndarray:
    """Per-step (valence, arousal): piecewise constant over segments of ``length`` steps."""
    count = -(-steps // length)
    points = rng.uniform(-1, 1, size=(count, 2))
    return np.repeat(points, length, axis=0)[:steps]


def is_major(rng: np.random.Generator, valence: float) -> bool:
    """Major with probability ``sigmoid(6 valence)``."""
    return bool(rng.random() < 1.0 / (1.0 + np.exp(-6.0 * valence)))


def sounding_multihot(
    pitch: np.ndarray, start: np.ndarray, end: np.ndarray, bounds: np.ndarray
) -> np.ndarray:
    """Vectorised :func:`~kelly_core.encodings.melody.notes_to_multihot` (same result).

    A note marks its pitch in every beat it overlaps by more than 1 ms.
    """
    beats = len(bounds) - 1
    out = np.zeros((beats, 128), dtype=np.float32)
    pitch = np.asarray(pitch, dtype=np.intp)
    ok = (pitch >= 0) & (pitch < 128) & (end > start)
    pitch, start, end = pitch[ok], start[ok], end[ok]
    first = np.searchsorted(bounds[1:], start, side="right")
    last = np.minimum(np.searchsorted(bounds[:-1], end, side="left"), beats)
    spans = np.maximum(last - first, 0)
    row = np.repeat(np.arange(len(pitch)), spans)
    beat = first[row] + np.arange(len(row)) - np.repeat(np.cumsum(spans) - spans, spans)
    overlap = np.minimum(end[row], bounds[beat + 1]) - np.maximum(start[row], bounds[beat])
    keep = overlap > 1e-3
    out[beat[keep], pitch[row][keep]] = 1.0
    return out


PITCH_CLASS_FOLD: Final = (np.arange(128)[:, None] % 12 == np.arange(12)[None, :]).astype(
    np.float32
)
"""``(128, 12)``: MIDI pitch -> its pitch class."""
