"""The song's harmony per beat from its notes: a chord rule and a note-to-chroma model.

Training data for the contexts that hear the song (docs/encodings.md, "The song's
harmony") needs, per beat, the chord the song plays and the chroma the runtime would
hear. Rendered pieces get their chroma from the audio front end
(:mod:`kelly_models.datasets.rendered`); this module holds what works from notes:

- **The chord rule** (:func:`reduce_chord`): a beat's pitch classes weighted by how long
  they sound in it (seconds); fewer than two sounding pitch classes: ``NO_CHORD``. Of
  the 36 major, minor and diminished triads, the one whose template (1 on its three
  tones) has the highest cosine with the weights; ties (within 1e-9) go to the triad
  whose root is the beat's bass (the lowest pitch sounding in it), then to major, minor,
  diminished, then to the lowest root (the rule of the play-along benchmark's song
  chord). A major triad whose minor seventh sounds at least :data:`SEVENTH_SHARE` as
  long as its root becomes the dominant seventh.
- **Chart chords** (:func:`chart_chords`): an mma chart's chord per counted beat.
- **The note-to-chroma model** (:func:`note_chroma`): per beat, each pitch class's
  seconds of sounding times the note's velocity / 127, plus :data:`FIFTH_LEAK` of it on
  the pitch class a fifth above (a tone's third harmonic), divided by the beat's largest
  value (maximum 1, as the audio chroma); the bass half is the same sum over the notes
  of C2–B3 (MIDI 36–59) without the leak. :func:`chord_chroma` is the model of a chord
  held through a beat (its tones, the root also in the bass), for data that has chords
  but no notes. The gap to the audio chroma is measured in docs/training.md ("Song
  harmony").
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final

import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray, as_float32
from kelly_core.encodings.chords import (
    NO_CHORD,
    chord_index,
    chord_pitch_classes,
    parse_pitch_class,
)

__all__ = [
    "BASS_PITCHES",
    "FIFTH_LEAK",
    "SEVENTH_SHARE",
    "Note",
    "chart_chords",
    "chord_chroma",
    "note_chroma",
    "pitch_weights",
    "reduce_chord",
]

Note = tuple[float, float, int, int]
"""A sounding note: start and end in seconds, MIDI pitch, velocity."""
SEVENTH_SHARE: Final = 0.5
"""A major triad is a dominant seventh when its minor seventh sounds this share of its root."""
FIFTH_LEAK: Final = 0.2
"""Share of a pitch class's weight the note-to-chroma model adds a fifth above."""
BASS_PITCHES: Final = range(36, 60)
"""MIDI pitches of the bass chroma (C2–B3, as the audio front end's bass bands)."""
_TRIADS: Final = (("maj", (0, 4, 7)), ("min", (0, 3, 7)), ("dim", (0, 3, 6)))


def _overlaps(notes: Sequence[Note], bounds: npt.NDArray[np.float64]) -> np.ndarray:
    """``(B, N)`` seconds each note sounds in each beat ``[bounds[b], bounds[b + 1])``."""
    if not notes:
        return np.zeros((len(bounds) - 1, 0))
    array = np.asarray([(s, e) for s, e, _, _ in notes], dtype=np.float64)
    lo = np.maximum(array[None, :, 0], bounds[:-1, None])
    hi = np.minimum(array[None, :, 1], bounds[1:, None])
    return np.asarray(np.clip(hi - lo, 0.0, None))


def pitch_weights(
    notes: Sequence[Note], bounds: object
) -> tuple[npt.NDArray[np.float64], list[int | None]]:
    """Seconds each pitch class sounds per beat ``(B, 12)`` and each beat's bass (the
    pitch class of its lowest note sounding at least 10 ms; None where nothing sounds)."""
    edges = np.asarray(bounds, dtype=np.float64)
    overlap = _overlaps(notes, edges)
    weights = np.zeros((len(edges) - 1, 12))
    pitches = np.asarray([p for _, _, p, _ in notes], dtype=np.int64)
    for pc in range(12):
        weights[:, pc] = overlap[:, pitches % 12 == pc].sum(axis=1) if len(pitches) else 0.0
    basses: list[int | None] = []
    for row in overlap:
        on = np.flatnonzero(row >= 0.01)
        basses.append(int(pitches[on].min()) % 12 if on.size else None)
    return weights, basses


def reduce_chord(weights: npt.NDArray[np.float64], bass: int | None) -> int:
    """The chord class of one beat's pitch-class weights ``(12,)`` (module docstring)."""
    values = np.asarray(weights, dtype=np.float64)
    if np.count_nonzero(values > 0) < 2:
        return NO_CHORD
    norm = float(np.linalg.norm(values)) * np.sqrt(3.0)
    best: tuple[float, int, int, int] | None = None
    for quality, (_, intervals) in enumerate(_TRIADS):
        for root in range(12):
            score = sum(float(values[(root + i) % 12]) for i in intervals) / norm
            rank = (round(score, 9), int(root == bass), -quality, -root)
            if best is None or rank > best:
                best = rank
    assert best is not None
    root, quality = -best[3], -best[2]
    name = _TRIADS[quality][0]
    if name == "maj" and values[(root + 10) % 12] >= SEVENTH_SHARE * values[root] > 0:
        name = "7"
    return chord_index(root, name)


_CHART_CHORD: Final = re.compile(r"^([A-G][#b]?)(m|7|m7|dim|aug|\+)?$")
_QUALITY: Final = {None: "maj", "m": "min", "7": "7", "m7": "min", "dim": "dim", "aug": "aug"}


def _chart_chord(token: str) -> int:
    match = _CHART_CHORD.match(token)
    if match is None:
        raise ValueError(f"unknown chart chord {token!r}")
    root, _ = parse_pitch_class(match.group(1))
    quality = "aug" if match.group(2) == "+" else _QUALITY[match.group(2)]
    return chord_index(root, quality)


def chart_chords(chart: str, beats_per_bar: int) -> list[int]:
    """The chord class of each counted beat of an mma chart (absolute roots).

    Bar lines are ``<number> <tokens>``; a bar's tokens share it equally (``/`` repeats
    the chord before), so a counted beat takes the last chord whose place in the bar is
    at or before its own.

    :raises ValueError: On a chord symbol outside the charts' vocabulary.
    """
    out: list[int] = []
    current = NO_CHORD
    for line in chart.splitlines():
        fields = line.split()
        if len(fields) < 2 or not fields[0].isdigit():
            continue
        tokens = fields[1:]
        for beat in range(beats_per_bar):
            place = beat / beats_per_bar
            for index, token in enumerate(tokens):
                if index / len(tokens) <= place + 1e-9 and token != "/":
                    current = _chart_chord(token)
            out.append(current)
    return out


def note_chroma(notes: Sequence[Note], bounds: object) -> FloatArray:
    """The note-to-chroma model (module docstring): ``(B, 24)`` chroma and bass per beat."""
    edges = np.asarray(bounds, dtype=np.float64)
    overlap = _overlaps(notes, edges)
    out = np.zeros((len(edges) - 1, 24))
    for column, (_, _, pitch, velocity) in enumerate(notes):
        weight = overlap[:, column] * (velocity / 127.0)
        out[:, pitch % 12] += weight
        out[:, (pitch + 7) % 12] += FIFTH_LEAK * weight
        if pitch in BASS_PITCHES:
            out[:, 12 + pitch % 12] += weight
    top = out[:, :12].max(axis=1, keepdims=True)
    out[:, :12] /= np.maximum(top, 1e-9)
    return as_float32(out)


def chord_chroma(chords: Sequence[int]) -> FloatArray:
    """The note-to-chroma model of each chord held through one beat: ``(B, 24)``; the
    root also sounds in the bass; ``NO_CHORD`` is silence."""
    notes: list[Note] = []
    for beat, chord in enumerate(chords):
        if chord == NO_CHORD:
            continue
        tones = chord_pitch_classes(chord)
        root = chord // 5 if chord < NO_CHORD else chord - NO_CHORD - 1
        notes += [(float(beat), beat + 1.0, 60 + pc, 90) for pc in tones]
        notes.append((float(beat), beat + 1.0, 48 + root, 90))
    return note_chroma(notes, np.arange(len(chords) + 1, dtype=np.float64))
