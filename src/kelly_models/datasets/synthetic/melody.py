"""Synthetic melodies for the MelodyTransformer: phrases of stock one-bar motifs over
I-IV-V-I in C, their notes per beat predictable from emotion and beat position; the song
heard is the melody's own notes through the note-to-chroma model."""

from __future__ import annotations

from typing import Final

import numpy as np

from kelly_core.encodings.context import melody_contexts, song_harmony
from kelly_core.encodings.emotion import coarse_emotions
from kelly_models.datasets.song_harmony import note_chroma
from kelly_models.datasets.synthetic.common import (
    MAJOR,
    MINOR,
    is_major,
    segments,
    sounding_multihot,
)

__all__ = ["PHRASE_BEATS", "REFERENCE_TONIC", "melody_item"]

REFERENCE_TONIC: Final = 60
"""MIDI pitch of the synthetic melodies' tonic (C4)."""
PHRASE_BEATS: Final = 16
"""Beats per phrase (four 4/4 bars); one (valence, arousal) segment per phrase."""
_PHRASE_CHORDS: Final = (0, 3, 4, 0)  # bar roots as scale degrees: I-IV-V-I / i-iv-V-i
# One bar per motif: scale-degree offsets from the bar chord's root, one per slot
# (4 x notes-per-beat slots), None ties the previous note over. Two motifs per density.
_MOTIFS: Final[dict[int, tuple[tuple[int | None, ...], tuple[int | None, ...]]]] = {
    1: ((0, 2, 4, 2), (4, 3, 2, None)),  # arpeggio; stepwise descent
    2: ((0, 2, 4, 2, 7, 4, 2, 4), (2, 1, 0, 1, 2, 3, 4, None)),  # arpeggio; neighbour + run
    4: (
        (0, 2, 4, 7, 4, 2, 0, 2, 4, 7, 9, 7, 4, 2, 0, 2),  # broken chord
        (0, 1, 2, 3, 4, 5, 6, 7, 7, 6, 5, 4, 3, 2, 1, 0),  # scale run up and down
    ),
}
_VARIATION: Final = 0.15  # chance a bar uses the other motif of its density
_ORNAMENT: Final = 0.08  # chance a (non-first) note becomes its upper or lower neighbour


def _melody_style(arousal: float) -> tuple[int, int]:
    """Return (notes per beat, motif index) for one phrase's arousal."""
    level = min(int((arousal + 1.0) * 3.0), 5)  # six arousal bands of width 1/3
    return (1, 1, 2, 2, 4, 4)[level], level % 2


def _melody_notes(
    rng: np.random.Generator, labels: np.ndarray, beat: float = 0.5
) -> list[tuple[int, float, float, int]]:
    """Phrases of per-bar motifs over I-IV-V-I in C, as ``(pitch, start, end, velocity)``."""
    notes: list[tuple[int, float, float, int]] = []
    for first in range(0, len(labels), PHRASE_BEATS):
        valence, arousal = (float(x) for x in labels[first])
        scale = MAJOR if is_major(rng, valence) else MINOR
        tonic = REFERENCE_TONIC
        sub, choice = _melody_style(arousal)
        degrees: list[int | None] = []
        for root in _PHRASE_CHORDS:
            motif = _MOTIFS[sub][choice if rng.random() >= _VARIATION else 1 - choice]
            for slot, offset in enumerate(motif):
                if offset is not None and slot and rng.random() < _ORNAMENT:
                    offset += int(rng.choice((-1, 1)))
                degrees.append(None if offset is None else root + offset)
        degrees[-sub:] = [0] + [None] * (sub - 1)  # the phrase ends on the tonic, held
        velocity = int(60 + 50 * (arousal + 1) / 2)
        slots = min(PHRASE_BEATS, len(labels) - first) * sub
        for slot, degree in enumerate(degrees[:slots]):
            start = (first + slot / sub) * beat
            end = start + beat / sub * 0.9
            if degree is None:  # tie: lengthen the previous note
                pitch, start, _, _ = notes.pop()
            else:
                pitch = tonic + 12 * (degree // 7) + scale[degree % 7]
            notes.append((pitch, start, end, velocity))
    return notes


def melody_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    labels = segments(rng, steps, PHRASE_BEATS)
    notes = _melody_notes(rng, labels)
    bounds = np.arange(steps + 1) * 0.5
    table = np.array([n[:3] for n in notes], dtype=np.float64).reshape(len(notes), 3)
    sounding = sounding_multihot(table[:, 0].astype(np.intp), table[:, 1], table[:, 2], bounds)
    # the song heard: the melody's own notes through the note-to-chroma model
    heard = song_harmony(note_chroma([(s, e, p, v) for p, s, e, v in notes], bounds))
    beats = np.arange(steps) % 4
    return melody_contexts(coarse_emotions(labels), beats, sounding, heard), sounding
