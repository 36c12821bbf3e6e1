"""Melody per beat: a 128-pitch multi-hot target and a 12-value pitch-class profile."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, check_shape

__all__ = [
    "NUM_PITCHES",
    "SOUNDS_AT",
    "melody_feedback",
    "melody_pitch_classes",
    "notes_to_multihot",
    "pitch_class_profile",
    "sound_probability",
]

NUM_PITCHES: Final = 128
SOUNDS_AT: Final = 0.5
"""A beat sounds when the probability that any pitch sounds, ``1 - prod(1 - p)``, is at
least this (the rule ``kelly generate`` rests by, too)."""


def notes_to_multihot(
    notes: Sequence[tuple[int, float, float]],
    beat_times: object,
    *,
    min_overlap_s: float = 1e-3,
) -> FloatArray:
    """Mark, for each beat, the MIDI pitches that sound during it.

    :param notes: ``(pitch 0..127, start_s, end_s)`` per note.
    :param beat_times: Beat boundaries in seconds, shape ``(B + 1,)``, increasing; beat
        ``b`` is ``[beat_times[b], beat_times[b + 1])``.
    :param min_overlap_s: A note counts in a beat when it overlaps it by more than this
        (so a note ending exactly on a beat does not leak into the next one).
    :returns: ``(B, 128)`` float32 in {0, 1}.
    """
    bounds = np.asarray(beat_times, dtype=np.float64)
    check_shape(bounds, (None,), name="beat_times")
    beats = max(len(bounds) - 1, 0)
    out = np.zeros((beats, NUM_PITCHES), dtype=np.float32)
    if beats == 0 or not notes:
        return out
    starts_b, ends_b = bounds[:-1], bounds[1:]
    for pitch, start, end in notes:
        if not 0 <= int(pitch) < NUM_PITCHES or end <= start:
            continue
        first = max(int(np.searchsorted(ends_b, start, side="right")), 0)
        last = min(int(np.searchsorted(starts_b, end, side="left")), beats)
        for b in range(first, last):
            overlap = min(end, ends_b[b]) - max(start, starts_b[b])
            if overlap > min_overlap_s:
                out[b, int(pitch)] = 1.0
    return out


def melody_pitch_classes(probs: object, threshold: float = 0.5) -> FloatArray:
    """Fold a ``(128,)`` melody output into a binary ``(12,)`` pitch-class profile.

    ``profile[pc] = 1`` when any pitch of class ``pc`` has probability at least
    ``threshold``; the same binary profile :func:`pitch_class_profile` gives for true
    notes in training, so train and run time agree.
    """
    array = np.asarray(probs, dtype=np.float64)
    check_shape(array, (NUM_PITCHES,), name="probs")
    return pitch_class_profile(np.nonzero(array >= threshold)[0].tolist())


def pitch_class_profile(pitches: Iterable[int]) -> FloatArray:
    """Return the binary ``(12,)`` profile of the pitch classes of ``pitches`` (MIDI)."""
    out = np.zeros(12, dtype=np.float32)
    for pitch in pitches:
        out[int(pitch) % 12] = 1.0
    return out


def melody_feedback(probs: object, threshold: float = 0.5) -> FloatArray:
    """The notes a streamed MelodyTransformer feeds back as its next context's history.

    Binary ``(128,)``: the pitches whose probability is at least ``threshold``; if there
    are none but the beat sounds (``1 - prod(1 - p) >= SOUNDS_AT``, treating the pitches as
    independent), the single most probable pitch; otherwise a rest (all zeros).
    """
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    check_shape(p, (NUM_PITCHES,), name="probs")
    out = (p >= threshold).astype(np.float32)
    if not out.any() and sound_probability(p) >= SOUNDS_AT:
        out[int(np.argmax(p))] = 1.0
    return out


def sound_probability(probs: object) -> float:
    """Probability that at least one pitch sounds, ``1 - prod(1 - p)``, the pitches of a
    ``(128,)`` melody output taken as independent (each clipped to [0, 1])."""
    p = np.clip(np.asarray(probs, dtype=np.float64), 0.0, 1.0)
    return float(1.0 - np.exp(np.sum(np.log1p(-np.minimum(p, 1.0 - 1e-12)))))
