"""Transposition augmentation: every training sequence again in the other 11 keys.

For data in absolute pitch (a reader's ``key_relative=False``) a model sees each piece in
every key, so what it learns does not depend on the key a piece was written in. What
moves, per model:

- HarmonyPredictor: the previous chord of the input and the target chord
  (:func:`kelly_core.encodings.tonal.transpose_chords`), the song's chroma and bass columns;
- MelodyTransformer: the 128 note targets (:func:`~kelly_core.encodings.tonal.transpose_pitches`,
  by -5..+6 semitones so the register stays close), and the note history of the input
  rebuilt from them (:func:`kelly_core.encodings.context.melody_contexts`: a melody
  context's history is the sequence's own previous notes), with the song's chroma and bass
  moved alike;
- DynamicsEngine: the 12 pitch classes of the input (the last 12 columns).

Other models are returned unchanged. A model trained this way is ``"absolute"``: it
answers in the key of its input, with no rotation by the consumer.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.encodings.context import (
    HARMONY_BASS,
    HARMONY_CHROMA,
    HARMONY_EARLIER,
    HARMONY_PREVIOUS,
    MELODY_BASS,
    MELODY_BEAT,
    MELODY_CHROMA,
    MELODY_EMOTION,
    melody_contexts,
)
from kelly_core.encodings.tonal import (
    transpose_chords,
    transpose_pitch_classes,
    transpose_pitches,
)
from kelly_models.training.sequences import SequenceSet

__all__ = ["AUGMENTABLE", "augment_keys", "transpose_sequence"]

AUGMENTABLE: Final = frozenset({"HarmonyPredictor", "MelodyTransformer", "DynamicsEngine"})
_SHIFTS: Final = tuple(s for s in range(-5, 7) if s != 0)


def transpose_sequence(
    model: str, inputs: FloatArray, targets: FloatArray, semitones: int
) -> tuple[FloatArray, FloatArray]:
    """Return one sequence of ``model``'s data moved up by ``semitones``."""
    x = np.array(inputs, dtype=np.float32, copy=True)
    y = np.array(targets, dtype=np.float32, copy=True)
    if model == "HarmonyPredictor":
        x[:, HARMONY_PREVIOUS] = transpose_chords(x[:, HARMONY_PREVIOUS], semitones)
        for part in (HARMONY_CHROMA, HARMONY_BASS, HARMONY_EARLIER):
            x[:, part] = transpose_pitch_classes(x[:, part], semitones)
        y = transpose_chords(y, semitones)
    elif model == "MelodyTransformer":
        y = transpose_pitches(y, semitones)
        # the context's note history is the sequence's own melody (teacher forcing): rebuild
        # it from the moved notes, keeping the emotion and beat columns, the song moved too
        song = np.concatenate([x[:, MELODY_CHROMA], x[:, MELODY_BASS]], axis=1)
        moved = transpose_pitch_classes(song.reshape(-1, 2, 12), semitones).reshape(-1, 24)
        beats = np.argmax(x[:, MELODY_BEAT], axis=1)
        x = melody_contexts(x[:, MELODY_EMOTION], beats, y, moved)
    elif model == "DynamicsEngine":
        x[:, -12:] = transpose_pitch_classes(x[:, -12:], semitones)
    return x, y


def augment_keys(model: str, data: SequenceSet) -> SequenceSet:
    """Return ``data`` followed by each sequence in the 11 other keys (unchanged for others)."""
    if model not in AUGMENTABLE:
        return data
    inputs, targets, sources = list(data.inputs), list(data.targets), list(data.sources)
    for shift in _SHIFTS:
        for index, (x, y) in enumerate(zip(data.inputs, data.targets, strict=True)):
            moved_x, moved_y = transpose_sequence(model, x, y, shift)
            inputs.append(moved_x)
            targets.append(moved_y)
            source = data.sources[index] if index < len(data.sources) else ""
            sources.append(f"{source}@{shift:+d}")
    return SequenceSet(inputs=tuple(inputs), targets=tuple(targets), sources=tuple(sources))
