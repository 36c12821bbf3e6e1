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
from kelly_core.encodings.chords import NO_CHORD, NUM_CHORDS
from kelly_core.encodings.chroma import PITCH_CLASSES, relative_to_tonic
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
    "HARMONY_BASS",
    "HARMONY_BEAT",
    "HARMONY_CHROMA",
    "HARMONY_EARLIER",
    "HARMONY_EMOTION",
    "HARMONY_HELD",
    "HARMONY_HELD_SLOTS",
    "HARMONY_PREVIOUS",
    "HARMONY_SIZE",
    "MELODY_BASS",
    "MELODY_BEAT",
    "MELODY_CHROMA",
    "MELODY_EMOTION",
    "MELODY_HISTORY",
    "MELODY_OCTAVES",
    "MELODY_SIZE",
    "MELODY_TOP_CLASS",
    "MELODY_TOP_OCTAVE",
    "NO_PREVIOUS_PITCH",
    "SONG_BASS_FLOOR",
    "SONG_WIDTH",
    "coarse_compact_context",
    "compact_context",
    "compact_contexts",
    "harmony_context",
    "harmony_contexts",
    "held_beats",
    "melody_context",
    "melody_contexts",
    "previous_top_pitches",
    "song_harmony",
]


def _columns(*widths: int) -> tuple[slice, ...]:
    """Consecutive column slices of the given widths, from column 0."""
    stops = itertools.accumulate(widths, initial=0)
    return tuple(slice(a, b) for a, b in itertools.pairwise(stops))


SONG_WIDTH: Final = 2 * PITCH_CLASSES
"""Values per beat of the song's harmony: chroma (12), then bass (12), key-relative."""
SONG_BASS_FLOOR: Final = 0.05
"""Bass level under which a beat's bass chroma is scaled as if its largest value were this."""
HARMONY_HELD_SLOTS: Final = 8
"""Slots of the one-hot of how many beats the previous chord has lasted (1 .. 8 or more)."""
_HARMONY: Final = _columns(
    COARSE_SIZE,
    BEATS_PER_BAR,
    PITCH_CLASSES,
    PITCH_CLASSES,
    PITCH_CLASSES,
    HARMONY_HELD_SLOTS,
    NUM_CHORDS,
)
HARMONY_EMOTION: Final = _HARMONY[0]
"""HarmonyPredictor input columns of the coarse emotion code."""
HARMONY_BEAT: Final = _HARMONY[1]
"""HarmonyPredictor input columns of the beat-in-bar one-hot."""
HARMONY_CHROMA: Final = _HARMONY[2]
"""HarmonyPredictor input columns of the song's chroma in the beat heard (key-relative)."""
HARMONY_BASS: Final = _HARMONY[3]
"""HarmonyPredictor input columns of the song's bass chroma in the beat heard."""
HARMONY_EARLIER: Final = _HARMONY[4]
"""HarmonyPredictor input columns of the song's chroma in the beat before the one heard."""
HARMONY_HELD: Final = _HARMONY[5]
"""HarmonyPredictor input columns: beats the previous chord has lasted, one-hot (all zero
before the first chord)."""
HARMONY_PREVIOUS: Final = _HARMONY[6]
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


def song_harmony(beat_chroma: object, tonic: int = 0) -> FloatArray:
    """The song's harmony as the contexts read it: ``(..., 24)`` from beat chroma ``(..., 24)``.

    Both halves are rotated so index 0 is ``tonic``
    (:func:`~kelly_core.encodings.chroma.relative_to_tonic`); the chroma (already at most
    about 1) is clipped to [0, 1]; the bass is divided by ``max(its largest value,
    SONG_BASS_FLOOR)``, so the loudest bass pitch class is 1 and near-silence stays small.
    All zeros (nothing heard) stays all zeros.

    :param beat_chroma: Beat-synchronous chroma and bass in absolute pitch classes
        (:func:`~kelly_core.encodings.chroma.beat_chroma`, or a stream's beats).
    :param tonic: The key's tonic pitch class (0 = C; 0 keeps absolute pitch classes).
    """
    array = np.clip(np.asarray(beat_chroma, dtype=np.float32), 0.0, None)
    check_shape(array, (*array.shape[:-1], SONG_WIDTH), name="beat_chroma")
    rotated = np.array(relative_to_tonic(array, tonic), dtype=np.float32)
    rotated[..., :PITCH_CLASSES] = np.minimum(rotated[..., :PITCH_CLASSES], 1.0)
    bass = rotated[..., PITCH_CLASSES:]
    top = np.maximum(bass.max(axis=-1, keepdims=True), SONG_BASS_FLOOR)
    rotated[..., PITCH_CLASSES:] = bass / top
    return as_float32(rotated)


def _song_rows(song: object, count: int, name: str) -> np.ndarray:
    """``(count, 24)`` song harmony rows (zeros when ``song`` is None)."""
    if song is None:
        return np.zeros((count, SONG_WIDTH), dtype=np.float32)
    rows = np.asarray(song, dtype=np.float32)
    check_shape(rows, (count, SONG_WIDTH), name=name)
    return rows


def held_beats(chords: object) -> np.ndarray:
    """How many beats each chord of ``chords`` ``(N,)`` has lasted up to and including it:
    ``(N,)`` ints >= 1 (a chord that changes starts at 1)."""
    labels = np.asarray(chords, dtype=np.int64)
    out = np.ones(len(labels), dtype=np.int64)
    for t in range(1, len(labels)):
        if labels[t] == labels[t - 1]:
            out[t] = out[t - 1] + 1
    return out


def harmony_context(
    coarse_code: object,
    beat_in_bar: int,
    heard: object,
    earlier: object,
    held: int,
    previous_chords: object,
) -> FloatArray:
    """Return the HarmonyPredictor input ``(128,)`` for one beat.

    ``[coarse emotion (16) | beat in bar (4) | song chroma (12) | song bass (12) | song
    chroma of the beat before (12) | beats the previous chord has lasted (8) | previous
    chord distribution (64)]``.

    :param coarse_code: ``(16,)`` coarse emotion code (:func:`coarse_emotion`).
    :param beat_in_bar: 0..3 (taken modulo 4).
    :param heard: ``(24,)`` :func:`song_harmony` of the beat heard (the beat played,
        offline; the one before it, zero latency); zeros when nothing is heard.
    :param earlier: ``(24,)`` :func:`song_harmony` of the beat before ``heard`` (its
        chroma half is used).
    :param held: Beats the previous chord has lasted (0: no previous chord; 8 or more
        fill the last slot).
    :param previous_chords: ``(64,)`` previous chord distribution (one-hot in training,
        the model's own previous output in the pipeline).
    """
    coarse = np.asarray(coarse_code, dtype=np.float32)
    song = np.asarray(heard, dtype=np.float32)
    before = np.asarray(earlier, dtype=np.float32)
    prev = np.asarray(previous_chords, dtype=np.float32)
    check_shape(coarse, (COARSE_SIZE,), name="coarse_code")
    check_shape(song, (SONG_WIDTH,), name="heard")
    check_shape(before, (SONG_WIDTH,), name="earlier")
    check_shape(prev, (NUM_CHORDS,), name="previous_chords")
    out = np.zeros(HARMONY_SIZE, dtype=np.float32)
    out[HARMONY_EMOTION] = coarse
    out[HARMONY_BEAT] = _beat_one_hot(beat_in_bar)
    out[HARMONY_CHROMA] = song[:PITCH_CLASSES]
    out[HARMONY_BASS] = song[PITCH_CLASSES:]
    out[HARMONY_EARLIER] = before[:PITCH_CLASSES]
    if held > 0:
        out[HARMONY_HELD.start + min(int(held), HARMONY_HELD_SLOTS) - 1] = 1.0
    out[HARMONY_PREVIOUS] = prev
    return out


def harmony_contexts(
    coarse_codes: object, beats_in_bar: object, heard: object, chords: object
) -> FloatArray:
    """Teacher-forced :func:`harmony_context` of a whole sequence: ``(N, 128)``.

    Row ``t`` reads the coarse code, beat and heard song harmony of row ``t``, the heard
    chroma of row ``t - 1`` (zeros at 0) and, as its previous chord, the one-hot of
    ``chords[t - 1]`` and how long it had lasted (``NO_CHORD`` and no duration at 0),
    exactly what stepping :func:`harmony_context` with the true chords fed back gives.

    :param coarse_codes: ``(N, 16)``.
    :param beats_in_bar: ``(N,)`` ints (taken modulo 4).
    :param heard: ``(N, 24)`` :func:`song_harmony` heard at each beat.
    :param chords: ``(N,)`` chord classes (0..63).
    """
    coarse = np.asarray(coarse_codes, dtype=np.float32)
    check_shape(coarse, (None, COARSE_SIZE), name="coarse_codes")
    n = len(coarse)
    one_hot = _beat_one_hots(beats_in_bar, n)
    song = _song_rows(heard, n, "heard")
    labels = np.asarray(chords, dtype=np.int64)
    check_shape(labels, (n,), name="chords")
    earlier = np.zeros((n, PITCH_CLASSES), dtype=np.float32)
    earlier[1:] = song[:-1, :PITCH_CLASSES]
    held = np.zeros((n, HARMONY_HELD_SLOTS), dtype=np.float32)
    previous = np.zeros((n, NUM_CHORDS), dtype=np.float32)
    previous[0, NO_CHORD] = 1.0
    if n > 1:
        runs = np.minimum(held_beats(labels), HARMONY_HELD_SLOTS)[:-1]
        held[np.arange(1, n), runs - 1] = 1.0
        previous[np.arange(1, n), labels[:-1]] = 1.0
    parts = [coarse, one_hot, song[:, :PITCH_CLASSES], song[:, PITCH_CLASSES:], earlier]
    return as_float32(np.concatenate([*parts, held, previous], axis=1))


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


MELODY_HISTORY: Final = 1
"""Beats of its own melody the MelodyTransformer context reads: the previous one."""
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
MELODY_CHROMA: Final = _MELODY[4]
"""Columns: the song's chroma in the beat heard (key-relative, :func:`song_harmony`)."""
MELODY_BASS: Final = _MELODY[5]
"""Columns: the song's bass chroma in the beat heard."""
MELODY_SIZE: Final = MELODY_BASS.stop
"""Width of the MelodyTransformer input (64)."""
NO_PREVIOUS_PITCH: Final = 128
"""The previous-pitch state :func:`previous_top_pitches` gives when the previous beat rests."""


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


def melody_context(
    coarse_code: object, beat_in_bar: int, history: object, heard: object = None
) -> FloatArray:
    """Return the MelodyTransformer input ``(64,)`` for one beat.

    ``[coarse 4×4 emotion code (16) | beat-in-bar one-hot (4) | previous beat's top pitch:
    pitch class one-hot (12) and octave one-hot (8) | song chroma (12) | song bass (12)]``.
    A previous beat that rests gives zeros for its top pitch.

    :param coarse_code: ``(16,)`` coarse emotion code (:func:`coarse_emotion`).
    :param beat_in_bar: 0..3 (taken modulo 4).
    :param history: ``(1, 128)`` melody of the previous beat; a value of at least 0.5 is a
        sounding pitch (training: the true notes; the pipeline: the notes it fed back).
    :param heard: ``(24,)`` :func:`song_harmony` of the beat heard; None: nothing heard.
    """
    coarse = np.asarray(coarse_code, dtype=np.float32)
    past = np.asarray(history)
    check_shape(coarse, (COARSE_SIZE,), name="coarse_code")
    check_shape(past, (MELODY_HISTORY, NUM_PITCHES), name="history")
    song = _song_rows(None if heard is None else [np.asarray(heard)], 1, "heard")[0]
    out = np.zeros(MELODY_SIZE, dtype=np.float32)
    out[MELODY_EMOTION] = coarse
    out[MELODY_BEAT] = _beat_one_hot(beat_in_bar)
    sounding = np.flatnonzero(past[0] >= 0.5)
    if sounding.size:
        top = int(sounding[-1])
        out[MELODY_TOP_CLASS.start + top % 12] = 1.0
        out[MELODY_TOP_OCTAVE.start + min(max(top // 12 - 1, 0), MELODY_OCTAVES - 1)] = 1.0
    out[MELODY_CHROMA] = song[:PITCH_CLASSES]
    out[MELODY_BASS] = song[PITCH_CLASSES:]
    return out


def melody_contexts(
    coarse_codes: object, beats_in_bar: object, notes: object, heard: object = None
) -> FloatArray:
    """Teacher-forced :func:`melody_context` of a whole sequence: ``(N, 64)``.

    Row ``t`` reads the coarse code, beat and heard song harmony of row ``t`` and, as
    history, the notes of row ``t-1`` (a rest before the start), exactly what
    :func:`melody_context` gives when stepped beat by beat with the true notes fed back.

    :param coarse_codes: ``(N, 16)`` coarse emotion codes.
    :param beats_in_bar: ``(N,)`` ints (taken modulo 4).
    :param notes: ``(N, 128)`` melody per beat (multi-hot; >= 0.5 sounds).
    :param heard: ``(N, 24)`` :func:`song_harmony` per beat; None: nothing heard.
    """
    coarse = np.asarray(coarse_codes, dtype=np.float32)
    check_shape(coarse, (None, COARSE_SIZE), name="coarse_codes")
    one_hot = _beat_one_hots(beats_in_bar, len(coarse))
    melody = np.asarray(notes, dtype=np.float32)
    check_shape(melody, (len(coarse), NUM_PITCHES), name="notes")
    song = _song_rows(heard, len(coarse), "heard")
    on = (melody >= 0.5).astype(np.float32)
    previous = np.zeros_like(on)
    previous[1:] = on[:-1]
    classes, octaves = _top_pitch_codes(previous)
    return as_float32(np.concatenate([coarse, one_hot, classes, octaves, song], axis=1))


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
