"""Model inputs assembled from other encodings (docs/encodings.md).

Each input's columns are computed from the widths of its parts (the emotion codes'
grids, :data:`~kelly_core.constants.BEATS_PER_BAR`, the chord vocabulary, 12 pitch
classes), so no offset is written out twice; the totals are the models' input sizes in
:data:`kelly_core.catalog.MODEL_SPECS` (tested).
"""

from __future__ import annotations

import itertools
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape
from kelly_core.constants import BEATS_PER_BAR
from kelly_core.encodings.chords import NUM_CHORDS
from kelly_core.encodings.chroma import PITCH_CLASSES
from kelly_core.encodings.emotion import (
    COARSE_SIZE,
    EMOTION_SIZE,
    coarse_emotion,
    coarse_emotions,
    decode_emotion,
    decode_emotions,
)
from kelly_core.encodings.melody import NUM_PITCHES

__all__ = [
    "BEATS_PER_BAR",
    "COMPACT_BEAT",
    "COMPACT_EMOTION",
    "COMPACT_PITCH_CLASSES",
    "COMPACT_SIZE",
    "HARMONY_EMOTION",
    "HARMONY_PREVIOUS",
    "HARMONY_SIZE",
    "MELODY_BEAT",
    "MELODY_EARLIER",
    "MELODY_EMOTION",
    "MELODY_HISTORY",
    "MELODY_LAST",
    "MELODY_OCTAVES",
    "MELODY_SIZE",
    "MELODY_TOP_CLASS",
    "MELODY_TOP_OCTAVE",
    "NO_PREVIOUS_PITCH",
    "coarse_compact_context",
    "compact_context",
    "compact_contexts",
    "harmony_context",
    "melody_context",
    "melody_contexts",
    "previous_top_pitches",
]


def _columns(*widths: int) -> tuple[slice, ...]:
    """Consecutive column slices of the given widths, from column 0."""
    stops = itertools.accumulate(widths, initial=0)
    return tuple(slice(a, b) for a, b in itertools.pairwise(stops))


_HARMONY: Final = _columns(EMOTION_SIZE, NUM_CHORDS)
HARMONY_EMOTION: Final = _HARMONY[0]
"""HarmonyPredictor input columns of the emotion code."""
HARMONY_PREVIOUS: Final = _HARMONY[1]
"""HarmonyPredictor input columns of the previous chord distribution."""
HARMONY_SIZE: Final = HARMONY_PREVIOUS.stop
"""Width of the HarmonyPredictor input (128)."""

_COMPACT: Final = _columns(COARSE_SIZE, BEATS_PER_BAR, PITCH_CLASSES)
COMPACT_EMOTION: Final = _COMPACT[0]
"""DynamicsEngine input columns of the coarse emotion code."""
COMPACT_BEAT: Final = _COMPACT[1]
"""DynamicsEngine input columns of the beat-in-bar one-hot."""
COMPACT_PITCH_CLASSES: Final = _COMPACT[2]
"""DynamicsEngine input columns of the pitch-class profile."""
COMPACT_SIZE: Final = COMPACT_PITCH_CLASSES.stop
"""Width of the DynamicsEngine input (32)."""


def _beat_one_hot(beat_in_bar: int) -> FloatArray:
    """One-hot ``(4,)`` of the beat's position in its bar, taken modulo 4."""
    beat = np.zeros(BEATS_PER_BAR, dtype=np.float32)
    beat[int(beat_in_bar) % BEATS_PER_BAR] = 1.0
    return beat


def _beat_one_hots(beats_in_bar: object, count: int) -> FloatArray:
    """One-hots ``(count, 4)`` of ``count`` beat positions (ints, taken modulo 4).

    :raises BackendError: If ``beats_in_bar`` is not ``(count,)``.
    """
    beats = np.asarray(beats_in_bar, dtype=np.int64) % BEATS_PER_BAR
    check_shape(beats, (count,), name="beats_in_bar")
    one_hots: FloatArray = np.eye(BEATS_PER_BAR, dtype=np.float32)[beats]
    return one_hots


def harmony_context(emotion_code: object, previous_chords: object) -> FloatArray:
    """Return the HarmonyPredictor input ``(128,)``: ``[emotion (64) | previous chords (64)]``.

    :param emotion_code: ``(64,)`` emotion code.
    :param previous_chords: ``(64,)`` previous chord distribution (one-hot in training,
        the model's own previous output in the pipeline).
    """
    emo = np.asarray(emotion_code, dtype=np.float32)
    prev = np.asarray(previous_chords, dtype=np.float32)
    check_shape(emo, (EMOTION_SIZE,), name="emotion_code")
    check_shape(prev, (NUM_CHORDS,), name="previous_chords")
    return as_float32(np.concatenate([emo, prev]))


def compact_context(emotion_code: object, beat_in_bar: int, pitch_classes: object) -> FloatArray:
    """Return the DynamicsEngine input ``(32,)``.

    ``[coarse 4×4 emotion code (16) | beat-in-bar one-hot (4) | pitch-class profile (12)]``;
    the coarse code is re-encoded from the decoded (valence, arousal) of ``emotion_code``.

    :param emotion_code: ``(64,)`` emotion code.
    :param beat_in_bar: 0..3 (taken modulo 4).
    :param pitch_classes: ``(12,)`` profile of the sounding notes, values in [0, 1].
    """
    emo = np.asarray(emotion_code, dtype=np.float32)
    check_shape(emo, (EMOTION_SIZE,), name="emotion_code")
    return coarse_compact_context(coarse_emotion(*decode_emotion(emo)), beat_in_bar, pitch_classes)


def coarse_compact_context(
    coarse_code: object, beat_in_bar: int, pitch_classes: object
) -> FloatArray:
    """:func:`compact_context` from the coarse code ``(16,)`` already decoded and
    re-encoded (the pipeline decodes once per window, not per beat)."""
    coarse = np.asarray(coarse_code, dtype=np.float32)
    pcs = np.asarray(pitch_classes, dtype=np.float32)
    check_shape(coarse, (COARSE_SIZE,), name="coarse_code")
    check_shape(pcs, (PITCH_CLASSES,), name="pitch_classes")
    out = np.zeros(COMPACT_SIZE, dtype=np.float32)
    out[COMPACT_EMOTION] = coarse
    out[COMPACT_BEAT] = _beat_one_hot(beat_in_bar)
    out[COMPACT_PITCH_CLASSES] = pcs
    return out


def compact_contexts(
    emotion_codes: object, beats_in_bar: object, pitch_classes: object
) -> FloatArray:
    """Batch :func:`compact_context`: ``(N, 64)``, ``(N,)`` ints, ``(N, 12)`` -> ``(N, 32)``."""
    emo = np.asarray(emotion_codes, dtype=np.float32)
    check_shape(emo, (None, EMOTION_SIZE), name="emotion_codes")
    one_hot = _beat_one_hots(beats_in_bar, len(emo))
    pcs = np.asarray(pitch_classes, dtype=np.float32)
    check_shape(pcs, (len(emo), PITCH_CLASSES), name="pitch_classes")
    return as_float32(np.concatenate([coarse_emotions(decode_emotions(emo)), one_hot, pcs], axis=1))


MELODY_HISTORY: Final = 4
"""Beats of melody the MelodyTransformer context reads: the previous four (t-1 .. t-4)."""
MELODY_OCTAVES: Final = 8
"""Octave slots of the previous beat's top pitch (slot = clip(pitch // 12 - 1, 0, 7))."""
_MELODY: Final = _columns(
    COARSE_SIZE, BEATS_PER_BAR, PITCH_CLASSES, MELODY_OCTAVES, PITCH_CLASSES, PITCH_CLASSES
)
MELODY_EMOTION: Final = _MELODY[0]
"""Columns of the melody context that carry the (coarse) emotion code."""
MELODY_BEAT: Final = _MELODY[1]
"""Columns of the melody context that carry the beat-in-bar one-hot."""
MELODY_TOP_CLASS: Final = _MELODY[2]
"""Columns: pitch class one-hot of the previous beat's highest sounding pitch."""
MELODY_TOP_OCTAVE: Final = _MELODY[3]
"""Columns: octave one-hot of the previous beat's highest sounding pitch."""
MELODY_LAST: Final = _MELODY[4]
"""Columns: pitch classes sounding in the previous beat."""
MELODY_EARLIER: Final = _MELODY[5]
"""Columns: pitch classes sounding in any of the three beats before it."""
MELODY_SIZE: Final = MELODY_EARLIER.stop
"""Width of the MelodyTransformer input (64)."""
NO_PREVIOUS_PITCH: Final = 128
"""The previous-pitch state :func:`previous_top_pitches` gives when the previous beat rests."""


def _pitch_classes_of(notes: np.ndarray) -> np.ndarray:
    """Binary ``(..., 12)`` pitch-class profile of binary ``(..., 128)`` note rows."""
    padded = np.zeros((*notes.shape[:-1], 132), dtype=np.float32)
    padded[..., :128] = notes
    folded: np.ndarray = padded.reshape(*notes.shape[:-1], 11, 12).max(axis=-2)
    return folded


def _top_pitch_codes(notes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pitch-class and octave one-hots ``(..., 12)``, ``(..., 8)`` of each row's top pitch."""
    flat = notes.reshape(-1, 128)
    sounding = flat.any(axis=1)
    top = 127 - np.argmax(flat[:, ::-1], axis=1)
    rows = np.nonzero(sounding)[0]
    classes = np.zeros((len(flat), 12), dtype=np.float32)
    octaves = np.zeros((len(flat), MELODY_OCTAVES), dtype=np.float32)
    classes[rows, top[rows] % 12] = 1.0
    octaves[rows, np.clip(top[rows] // 12 - 1, 0, MELODY_OCTAVES - 1)] = 1.0
    shape = notes.shape[:-1]
    return classes.reshape(*shape, 12), octaves.reshape(*shape, MELODY_OCTAVES)


def melody_context(coarse_code: object, beat_in_bar: int, history: object) -> FloatArray:
    """Return the MelodyTransformer input ``(64,)`` for one beat.

    ``[coarse 4×4 emotion code (16) | beat-in-bar one-hot (4) | previous beat's top pitch:
    pitch class one-hot (12) and octave one-hot (8) | pitch classes sounding in the previous
    beat (12) | pitch classes sounding in any of the three beats before it (12)]``. A beat
    that rests contributes zeros.

    :param coarse_code: ``(16,)`` coarse emotion code (:func:`coarse_emotion`).
    :param beat_in_bar: 0..3 (taken modulo 4).
    :param history: ``(4, 128)`` melody of the previous beats, most recent first; a value
        of at least 0.5 is a sounding pitch (training: the true notes; the pipeline: the
        notes it fed back).
    """
    coarse = np.asarray(coarse_code, dtype=np.float32)
    past = np.asarray(history)
    check_shape(coarse, (COARSE_SIZE,), name="coarse_code")
    check_shape(past, (MELODY_HISTORY, NUM_PITCHES), name="history")
    on = (past >= 0.5).astype(np.float32)
    folded = _pitch_classes_of(on)
    out = np.zeros(MELODY_SIZE, dtype=np.float32)
    out[MELODY_EMOTION] = coarse
    out[MELODY_BEAT] = _beat_one_hot(beat_in_bar)
    sounding = np.flatnonzero(on[0])
    if sounding.size:
        top = int(sounding[-1])
        out[MELODY_TOP_CLASS.start + top % 12] = 1.0
        out[MELODY_TOP_OCTAVE.start + min(max(top // 12 - 1, 0), MELODY_OCTAVES - 1)] = 1.0
    out[MELODY_LAST] = folded[0]
    out[MELODY_EARLIER] = folded[1:].max(axis=0)
    return out


def melody_contexts(coarse_codes: object, beats_in_bar: object, notes: object) -> FloatArray:
    """Teacher-forced :func:`melody_context` of a whole sequence: ``(N, 64)``.

    Row ``t`` reads the coarse code and beat of row ``t`` and, as history, the notes of rows
    ``t-1 .. t-4`` (zeros before the start), exactly what :func:`melody_context` gives when
    stepped beat by beat with the true notes fed back.

    :param coarse_codes: ``(N, 16)`` coarse emotion codes.
    :param beats_in_bar: ``(N,)`` ints (taken modulo 4).
    :param notes: ``(N, 128)`` melody per beat (multi-hot; >= 0.5 sounds).
    """
    coarse = np.asarray(coarse_codes, dtype=np.float32)
    check_shape(coarse, (None, COARSE_SIZE), name="coarse_codes")
    one_hot = _beat_one_hots(beats_in_bar, len(coarse))
    melody = np.asarray(notes, dtype=np.float32)
    check_shape(melody, (len(coarse), NUM_PITCHES), name="notes")
    n = len(coarse)
    on = (melody >= 0.5).astype(np.float32)
    previous = np.zeros_like(on)
    previous[1:] = on[:-1]
    classes, octaves = _top_pitch_codes(previous)
    profiles = _pitch_classes_of(on)
    last = np.zeros((n, 12), dtype=np.float32)
    last[1:] = profiles[:-1]
    earlier = np.zeros((n, 12), dtype=np.float32)
    for lag in range(2, MELODY_HISTORY + 1):
        if lag < n:
            earlier[lag:] = np.maximum(earlier[lag:], profiles[:-lag])
    return as_float32(np.concatenate([coarse, one_hot, classes, octaves, last, earlier], axis=1))


def previous_top_pitches(contexts: object) -> np.ndarray:
    """Read the previous beat's top pitch back from melody contexts ``(N, 64)``.

    :returns: ``(N,)`` ints: the MIDI pitch ``12 * (octave slot + 1) + pitch class`` (exact
        for pitches 24..107; lower and higher pitches fold into the end slots), or
        :data:`NO_PREVIOUS_PITCH` where the previous beat rests.
    """
    x = np.asarray(contexts, dtype=np.float32)
    check_shape(x, (None, MELODY_SIZE), name="contexts")
    classes = x[:, MELODY_TOP_CLASS]
    octaves = x[:, MELODY_TOP_OCTAVE]
    sounding = (classes.max(axis=1) >= 0.5) & (octaves.max(axis=1) >= 0.5)
    pitch = 12 * (np.argmax(octaves, axis=1) + 1) + np.argmax(classes, axis=1)
    result: np.ndarray = np.where(sounding, np.minimum(pitch, 127), NO_PREVIOUS_PITCH)
    return result
