"""Measures of how well an accompaniment fits a song, from the song's own MIDI notes.

Shared by ``tests/benchmarks/bench_play_along.py``. Every measure is taken on Kelly's own
beats (the detected beat grid; a beat ends where the next starts, the last one a median
beat later, clipped to the audio). The song's pitched notes (drum tracks left out) are laid
on a grid of :data:`GRID_S`; a pitch class **sounds** at a grid point when a song note of
that class is on there.

- **Clash**: a played note (an accompaniment's melody, bass or voicing note) clashes when,
  for at least :data:`CLASH_SHARE` of its length, the song sounds a pitch class a
  semitone above or below it and does not sound the note's own pitch class. The song's own
  dissonances (the note's class sounding beside its neighbour) never count; passing notes
  of the song shorter than a quarter of the played note do not either.
- **Sounding in a beat**: a pitch class sounds in a beat when the song sounds it for at
  least :data:`MIN_SOUND_S` of the beat (or the whole beat, if shorter).
- **Chord tones heard**: the share of an accompaniment's chord tones (per beat, the
  chord's pitch classes) that sound in the song in that beat; beats where the song sounds
  nothing, and beats without a chord, are left out.
- **The song's chord** of a beat (:func:`reduce_to_triad`): the pitch classes sounding in
  the beat weighted by how long they sound; of the 36 major, minor and diminished triad
  templates, the one of highest cosine with those weights; ties (within 1e-9) go to the
  triad whose root is the beat's bass (the pitch class of the lowest note sounding in the
  beat), then to major, minor, diminished, then to the lowest root. A beat needs at least
  two sounding pitch classes to have a chord (one note is not a chord).
- **Root agreement**: beats where both the song and the accompaniment have a chord, and
  the roots are the same pitch class (a seventh chord's root is its named root).
- **Chord changes**: beats whose chord differs from the previous beat's (for the song,
  from the previous beat that has a chord).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import numpy as np
import numpy.typing as npt

__all__ = [
    "CLASH_SHARE",
    "GRID_S",
    "MIN_SOUND_S",
    "Chord",
    "Played",
    "Song",
    "Tally",
    "reduce_to_triad",
    "song_chords",
    "tally",
]

GRID_S: Final = 0.01
"""Time step of the grid the song's sounding pitch classes are laid on, in seconds."""
CLASH_SHARE: Final = 0.25
"""Share of a played note's length over which a semitone clash must last to count."""
MIN_SOUND_S: Final = 0.05
"""How long a pitch class must sound in a beat to count as sounding in it, in seconds."""
_TRIADS: Final = ((0, 4, 7), (0, 3, 7), (0, 3, 6))
"""Major, minor, diminished: the templates of :func:`reduce_to_triad`."""

Chord = tuple[int, tuple[int, ...]] | None
"""A chord: its root pitch class and its pitch classes; None: no chord."""


def _columns(start: float, end: float) -> tuple[int, int]:
    """Grid columns ``[a, b)`` of the span ``[start, end)`` (at least one column)."""
    a = round(start / GRID_S)
    return a, max(round(end / GRID_S), a + 1)


@dataclass(frozen=True)
class Song:
    """The song's pitched notes on a time grid."""

    active: npt.NDArray[np.bool_]
    """``(12, frames)``: whether each pitch class sounds at each grid point."""
    notes: npt.NDArray[np.float64]
    """``(N, 3)``: start, end, MIDI pitch of every pitched note."""

    @classmethod
    def from_midi(cls, path: Path) -> Song:
        """Read ``path``'s pitched notes (drum tracks left out)."""
        import pretty_midi

        pm = pretty_midi.PrettyMIDI(str(path))
        rows = [(n.start, n.end, n.pitch) for i in pm.instruments if not i.is_drum for n in i.notes]
        notes = np.asarray(rows, dtype=np.float64).reshape(-1, 3)
        frames = int(np.ceil((notes[:, 1].max() if len(notes) else 0.0) / GRID_S)) + 1
        active = np.zeros((12, frames), dtype=bool)
        for start, end, pitch in notes:
            a, b = _columns(start, end)
            active[int(pitch) % 12, a:b] = True
        return cls(active=active, notes=notes)

    def span(self, start: float, end: float) -> npt.NDArray[np.bool_]:
        """The grid columns of ``[start, end)``, ``(12, k)`` (zero-padded past the song)."""
        a, b = _columns(start, end)
        out = np.zeros((12, b - a), dtype=bool)
        part = self.active[:, a:b]
        out[:, : part.shape[1]] = part
        return out

    def weights(self, start: float, end: float) -> npt.NDArray[np.float64]:
        """Seconds each pitch class sounds in ``[start, end)``, ``(12,)``."""
        return np.asarray(self.span(start, end).sum(axis=1) * GRID_S, dtype=np.float64)

    def sounding(self, start: float, end: float) -> frozenset[int]:
        """Pitch classes sounding in ``[start, end)`` (module docstring)."""
        need = min(MIN_SOUND_S, end - start)
        return frozenset(int(pc) for pc in np.flatnonzero(self.weights(start, end) >= need - 1e-9))

    def bass(self, start: float, end: float) -> int | None:
        """Pitch class of the lowest note sounding at least :data:`MIN_SOUND_S` in the span."""
        n = self.notes
        overlap = np.minimum(n[:, 1], end) - np.maximum(n[:, 0], start)
        on = overlap >= min(MIN_SOUND_S, end - start) - 1e-9
        return int(n[on, 2].min()) % 12 if on.any() else None

    def clashes(self, start: float, end: float, pitch_class: int) -> bool:
        """Whether a note of ``pitch_class`` over ``[start, end)`` clashes (module docstring)."""
        grid = self.span(start, end)
        pc = pitch_class % 12
        near = grid[(pc + 1) % 12] | grid[(pc - 1) % 12]
        bad = int(np.count_nonzero(near & ~grid[pc]))
        return bad > 0 and bad >= CLASH_SHARE * grid.shape[1]


def reduce_to_triad(weights: npt.NDArray[np.float64], bass: int | None) -> Chord:
    """The triad that best matches ``weights`` ``(12,)`` (module docstring), or None."""
    if np.count_nonzero(weights > 0) < 2:
        return None
    norm = float(np.linalg.norm(weights))
    best: tuple[float, int, int, int] | None = None
    for quality, intervals in enumerate(_TRIADS):
        for root in range(12):
            score = sum(float(weights[(root + i) % 12]) for i in intervals) / (norm * np.sqrt(3))
            rank = (round(score, 9), int(root == bass), -quality, -root)
            if best is None or rank > best:
                best = rank
    assert best is not None
    root, quality = -best[3], -best[2]
    return root, tuple(sorted((root + i) % 12 for i in _TRIADS[quality]))


@dataclass(frozen=True)
class Played:
    """What an accompaniment played: notes, and a chord per beat."""

    notes: Sequence[tuple[float, float, int]]
    """Start, end and MIDI pitch (or pitch class) of every pitched note."""
    chords: Sequence[Chord]
    """One chord per beat (None: no chord)."""


@dataclass
class Tally:
    """Counts of one accompaniment over one or more pieces."""

    notes: int = 0
    clashes: int = 0
    tones: int = 0
    tones_heard: int = 0
    beats: int = 0
    roots_agree: int = 0
    changes: int = 0
    song_changes: int = 0

    def add(self, other: Tally) -> None:
        """Add ``other``'s counts to these."""
        for name in ("notes", "clashes", "tones", "tones_heard", "beats", "roots_agree"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.changes += other.changes
        self.song_changes += other.song_changes

    @property
    def clash_pct(self) -> float:
        """Clashing notes, % of the notes played."""
        return 100.0 * self.clashes / max(self.notes, 1)

    @property
    def heard_pct(self) -> float:
        """Chord tones that sound in the song in their beat, %."""
        return 100.0 * self.tones_heard / max(self.tones, 1)

    @property
    def root_pct(self) -> float:
        """Beats whose chord root is the song chord's root, % of beats where both have one."""
        return 100.0 * self.roots_agree / max(self.beats, 1)

    @property
    def change_ratio(self) -> float:
        """Chord changes played / the song's chord changes."""
        return self.changes / max(self.song_changes, 1)


def song_chords(song: Song, bounds: npt.NDArray[np.float64]) -> list[Chord]:
    """The song's chord in each beat ``[bounds[i], bounds[i + 1])``."""
    return [
        reduce_to_triad(song.weights(a, b), song.bass(a, b)) for a, b in itertools.pairwise(bounds)
    ]


def _changes(chords: Sequence[Chord], *, skip_none: bool) -> int:
    count, last = 0, None
    for chord in chords:
        if chord is None and skip_none:
            continue
        if last is not None and chord != last:
            count += 1
        last = chord
    return count


def tally(song: Song, bounds: npt.NDArray[np.float64], played: Played, truth: list[Chord]) -> Tally:
    """Measure ``played`` against ``song`` on the beats ``bounds`` (``truth``: song_chords)."""
    out = Tally(
        changes=_changes(played.chords, skip_none=False),
        song_changes=_changes(truth, skip_none=True),
    )
    for start, end, pitch in played.notes:
        if end - start <= 0:
            continue
        out.notes += 1
        out.clashes += song.clashes(start, end, int(pitch))
    for beat, chord in enumerate(played.chords):
        a, b = float(bounds[beat]), float(bounds[beat + 1])
        heard = song.sounding(a, b)
        if chord is not None and heard:
            out.tones += len(chord[1])
            out.tones_heard += len(set(chord[1]) & heard)
        if chord is not None and truth[beat] is not None:
            out.beats += 1
            out.roots_agree += chord[0] == truth[beat][0]  # type: ignore[index]
    return out
