"""Typed wrapper around pretty_midi (untyped): load a file, get notes, beats, controls."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np

from kelly_core._optional import require

__all__ = ["MidiTrack", "Score", "load_score"]


@attrs.frozen(kw_only=True)
class MidiTrack:
    """One instrument's notes as ``(pitch, start_s, end_s, velocity)`` tuples."""

    name: str
    program: int
    is_drum: bool
    notes: tuple[tuple[int, float, float, int], ...]
    controls: tuple[tuple[float, int, int], ...] = ()
    """``(time_s, controller number, value)`` control changes."""


@attrs.frozen(kw_only=True)
class Score:
    """What Kelly's readers need from a MIDI file."""

    tracks: tuple[MidiTrack, ...]
    beats: np.ndarray = attrs.field(eq=False)
    """Beat times in seconds (pretty_midi ``get_beats``, tempo changes honoured)."""
    downbeats: np.ndarray = attrs.field(eq=False)
    end_s: float

    def pitched_notes(self) -> list[tuple[int, float, float, int]]:
        """All non-drum notes, sorted by onset."""
        return sorted(n for t in self.tracks if not t.is_drum for n in t.notes)

    def drum_notes(self) -> list[tuple[int, float, float, int]]:
        """All drum notes, sorted by onset."""
        return sorted(n for t in self.tracks if t.is_drum for n in t.notes)

    def controls(self, number: int) -> list[tuple[float, int]]:
        """``(time_s, value)`` of controller ``number`` over all tracks, time-ordered."""
        return sorted((t, v) for tr in self.tracks for t, n, v in tr.controls if n == number)

    def beat_bounds(self) -> np.ndarray:
        """Beat boundaries ``(B + 1,)``: the beats plus one more at the last interval."""
        return _with_end(self.beats, self.end_s)


def _with_end(beats: np.ndarray, end_s: float) -> np.ndarray:
    if len(beats) == 0:
        return beats
    step = float(beats[-1] - beats[-2]) if len(beats) > 1 else 0.5
    bounds: np.ndarray = np.append(beats, beats[-1] + step)
    return bounds


def load_score(path: Path) -> Score:
    """Parse a MIDI file with pretty_midi; pretty_midi's parser warnings are silenced.

    :raises Exception: Whatever pretty_midi/mido raise on a corrupt file (callers record
        it as a skipped file).
    """
    pretty_midi = require("pretty_midi", extra="data", purpose="reading MIDI files")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        pm = pretty_midi.PrettyMIDI(str(path))
        beats = np.asarray(pm.get_beats(), dtype=np.float64)
        downbeats = np.asarray(pm.get_downbeats(), dtype=np.float64)
        end_s = float(pm.get_end_time())
    tracks = tuple(
        MidiTrack(
            name=str(inst.name),
            program=int(inst.program),
            is_drum=bool(inst.is_drum),
            notes=tuple(
                (int(n.pitch), float(n.start), float(n.end), int(n.velocity)) for n in inst.notes
            ),
            controls=tuple(
                (float(c.time), int(c.number), int(c.value)) for c in inst.control_changes
            ),
        )
        for inst in pm.instruments
    )
    return Score(tracks=tracks, beats=beats, downbeats=downbeats, end_s=end_s)


def notes_in(
    notes: Sequence[tuple[int, float, float, int]],
) -> list[tuple[int, float, float]]:
    """Drop velocities: ``(pitch, start, end)`` for :func:`notes_to_multihot`."""
    return [(p, s, e) for p, s, e, _ in notes]
