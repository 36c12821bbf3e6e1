"""Model inputs assembled from other encodings (docs/encodings.md)."""

from __future__ import annotations

from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape
from kelly_core.encodings.emotion import (
    coarse_emotion,
    coarse_emotions,
    decode_emotion,
    decode_emotions,
)

__all__ = ["BEATS_PER_BAR", "compact_context", "compact_contexts", "harmony_context"]

BEATS_PER_BAR: Final = 4


def harmony_context(emotion_code: object, previous_chords: object) -> FloatArray:
    """Return the HarmonyPredictor input ``(128,)``: ``[emotion (64) | previous chords (64)]``.

    :param emotion_code: ``(64,)`` emotion code.
    :param previous_chords: ``(64,)`` previous chord distribution (one-hot in training,
        the model's own previous output in the pipeline).
    """
    emo = np.asarray(emotion_code, dtype=np.float32)
    prev = np.asarray(previous_chords, dtype=np.float32)
    check_shape(emo, (64,), name="emotion_code")
    check_shape(prev, (64,), name="previous_chords")
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
    pcs = np.asarray(pitch_classes, dtype=np.float32)
    check_shape(emo, (64,), name="emotion_code")
    check_shape(pcs, (12,), name="pitch_classes")
    beat = np.zeros(BEATS_PER_BAR, dtype=np.float32)
    beat[int(beat_in_bar) % BEATS_PER_BAR] = 1.0
    return as_float32(np.concatenate([coarse_emotion(*decode_emotion(emo)), beat, pcs]))


def compact_contexts(
    emotion_codes: object, beats_in_bar: object, pitch_classes: object
) -> FloatArray:
    """Batch :func:`compact_context`: ``(N, 64)``, ``(N,)`` ints, ``(N, 12)`` -> ``(N, 32)``."""
    emo = np.asarray(emotion_codes, dtype=np.float32)
    beats = np.asarray(beats_in_bar, dtype=np.int64) % BEATS_PER_BAR
    pcs = np.asarray(pitch_classes, dtype=np.float32)
    check_shape(emo, (None, 64), name="emotion_codes")
    check_shape(beats, (len(emo),), name="beats_in_bar")
    check_shape(pcs, (len(emo), 12), name="pitch_classes")
    one_hot = np.eye(BEATS_PER_BAR, dtype=np.float32)[beats]
    return as_float32(np.concatenate([coarse_emotions(decode_emotions(emo)), one_hot, pcs], axis=1))
