"""Groove: one 4/4 bar of drums on a sixteenth grid as 32 numbers (docs/encodings.md).

``vector[:16]`` are micro-timing offsets (GrooVAE convention: offset / step length in
[-0.5, 0.5], times 2, so in [-1, 1]; 0 where there is no hit) and ``vector[16:]`` are
velocities ``2 v / 127 - 1`` (so -1 = no hit). Per step, the loudest hit over the nine
drum classes wins (its offset too).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape

__all__ = [
    "DRUM_CLASSES",
    "NEUTRAL_GROOVE",
    "ROLAND_PITCH_CLASSES",
    "STEPS",
    "decode_groove",
    "drum_class",
    "encode_groove",
    "groove_from_hits",
]

STEPS: Final = 16
DRUM_CLASSES: Final = (
    "kick", "snare", "closed_hihat", "open_hihat", "low_tom", "mid_tom", "high_tom",
    "crash", "ride",
)  # fmt: skip
"""GrooVAE's nine drum classes."""
_ROLAND: Final = (
    (36,),
    (38, 37, 40),
    (42, 22, 44),
    (46, 26),
    (43, 58),
    (47, 45),
    (50, 48),
    (49, 52, 55, 57),
    (51, 53, 59),
)
ROLAND_PITCH_CLASSES: Final[Mapping[int, int]] = {
    pitch: cls for cls, pitches in enumerate(_ROLAND) for pitch in pitches
}
"""Roland TD-11 MIDI pitch -> drum class (magenta ``ROLAND_DRUM_PITCH_CLASSES``)."""


def drum_class(pitch: int) -> int | None:
    """Return the drum class (0..8) of a Roland drum pitch, or None if unmapped."""
    return ROLAND_PITCH_CLASSES.get(int(pitch))


def encode_groove(offsets: object, velocities: object) -> FloatArray:
    """Encode one bar to ``(32,)``.

    :param offsets: ``(16,)`` timing offsets in steps, in [-0.5, 0.5] (clipped).
    :param velocities: ``(16,)`` MIDI velocities 0..127 (0 = no hit; clipped).
    :returns: ``[2 * offsets | 2 v / 127 - 1]`` float32 in [-1, 1]; steps without a hit
        get offset 0.
    """
    off = np.asarray(offsets, dtype=np.float64)
    vel = np.asarray(velocities, dtype=np.float64)
    check_shape(off, (STEPS,), name="offsets")
    check_shape(vel, (STEPS,), name="velocities")
    vel = np.clip(vel, 0.0, 127.0)
    off = np.where(vel > 0, np.clip(off, -0.5, 0.5), 0.0)
    return as_float32(np.concatenate([2.0 * off, 2.0 * vel / 127.0 - 1.0]))


def decode_groove(vector: object) -> tuple[FloatArray, FloatArray]:
    """Decode ``(32,)`` to ``(offsets (16,) in [-0.5, 0.5], velocities (16,) in 0..127)``.

    Velocities are rounded to integers (stored as float32); offsets of silent steps are 0.
    """
    vec = np.asarray(vector, dtype=np.float64)
    check_shape(vec, (2 * STEPS,), name="groove")
    vel = np.clip(np.rint((vec[STEPS:] + 1.0) * 127.0 / 2.0), 0.0, 127.0)
    off = np.where(vel > 0, np.clip(vec[:STEPS] / 2.0, -0.5, 0.5), 0.0)
    return as_float32(off), as_float32(vel)


def groove_from_hits(
    hits: Sequence[tuple[float, int, int]], bar_start_s: float, bar_len_s: float
) -> FloatArray:
    """Quantize one bar of drum hits to a ``(32,)`` groove vector.

    :param hits: ``(time_s, Roland pitch, velocity 1..127)`` per hit; hits outside the
        bar (after rounding to the nearest step) and unmapped pitches are ignored.
    :param bar_start_s: Start of the bar in seconds.
    :param bar_len_s: Length of the bar in seconds (> 0).
    """
    if bar_len_s <= 0:
        raise ValueError(f"bar length must be positive, got {bar_len_s}")
    step_len = bar_len_s / STEPS
    best_vel = np.zeros(STEPS)
    best_off = np.zeros(STEPS)
    for time_s, pitch, velocity in hits:
        if drum_class(pitch) is None or velocity <= 0:
            continue
        position = (time_s - bar_start_s) / step_len
        step = int(np.floor(position + 0.5))
        if not 0 <= step < STEPS:
            continue
        if velocity > best_vel[step]:
            best_vel[step] = min(float(velocity), 127.0)
            best_off[step] = position - step
    return encode_groove(best_off, best_vel)


_NEUTRAL_VELOCITIES: Final = (100, 0, 70, 0, 110, 0, 70, 0, 100, 0, 70, 0, 110, 0, 70, 0)

NEUTRAL_GROOVE: Final[FloatArray] = encode_groove(np.zeros(STEPS), _NEUTRAL_VELOCITIES)
"""Straight rock backbeat, the GroovePredictor's fallback, shape ``(32,)``: kick (100) on
steps 0 and 8, snare (110) on 4 and 12, closed hi-hat (70) on the other eighths, all on
the grid (zero offsets)."""
NEUTRAL_GROOVE.setflags(write=False)
