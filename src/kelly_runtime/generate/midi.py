"""The one typed wrapper around pretty_midi (which ships no type hints).

pretty_midi is imported only inside these functions (it is optional: ``kelly[data]``).
The objects it returns are described by small Protocols (:class:`MidiFile`,
:class:`MidiInstrument`, :class:`MidiNote`, :class:`MidiControl`) holding exactly the
attributes Kelly reads, so callers get checked types without ``Any``.
"""

from __future__ import annotations

import io
from pathlib import Path
from types import ModuleType
from typing import Protocol

from kelly_core._optional import require
from kelly_core.fileio import atomic_path
from kelly_runtime.generate.score import Score

__all__ = [
    "MIDI_RESOLUTION",
    "MidiControl",
    "MidiFile",
    "MidiInstrument",
    "MidiNote",
    "midi_bytes",
    "read_midi",
    "score_to_midi",
    "write_midi",
]

MIDI_RESOLUTION = 480
"""Ticks per quarter note of the files Kelly writes."""


class MidiNote(Protocol):
    """A ``pretty_midi.Note``: pitch, start and end in seconds, velocity."""

    pitch: int
    start: float
    end: float
    velocity: int


class MidiControl(Protocol):
    """A ``pretty_midi.ControlChange``: controller number, value, time in seconds."""

    number: int
    value: int
    time: float


class MidiInstrument(Protocol):
    """A ``pretty_midi.Instrument``."""

    name: str
    program: int
    is_drum: bool
    notes: list[MidiNote]
    control_changes: list[MidiControl]


class MidiFile(Protocol):
    """A ``pretty_midi.PrettyMIDI`` object, as far as Kelly uses it."""

    instruments: list[MidiInstrument]
    resolution: int

    def tick_to_time(self, tick: int) -> float:
        """Seconds at MIDI ``tick`` under the file's tempo map."""
        ...

    def get_end_time(self) -> float:
        """Time of the last event, in seconds."""
        ...

    def write(self, filename: object) -> None:
        """Write a Standard MIDI File to a path or a binary file object."""
        ...


def _pretty_midi() -> ModuleType:
    return require("pretty_midi", extra="data", purpose="writing MIDI files")


def score_to_midi(score: Score) -> MidiFile:
    """Build a ``pretty_midi.PrettyMIDI`` from ``score`` (one instrument per track).

    Time signatures put bar lines on the score's downbeats (:func:`_time_signatures`).

    Notes and controller events are sorted by time (then pitch), so the same score always
    gives the same bytes.
    """
    pm = _pretty_midi()
    midi = pm.PrettyMIDI(resolution=MIDI_RESOLUTION, initial_tempo=float(score.tempo))
    if len(score.beat_times) > 1:
        _tempo_map(midi, score.beat_times, score.duration, score.lead)
    midi.time_signature_changes.extend(_time_signatures(pm, midi, score))
    for change in score.key_changes:
        number = change.tonic + (12 if change.minor else 0)
        midi.key_signature_changes.append(pm.KeySignature(number, change.time))
    if score.key_tonic is not None and not score.key_changes:
        number = score.key_tonic + (12 if score.key_minor else 0)
        midi.key_signature_changes.append(pm.KeySignature(number, 0.0))
    for track in score.tracks:
        instrument = pm.Instrument(program=track.program, is_drum=track.is_drum, name=track.name)
        for note in sorted(track.notes, key=lambda n: (n.start, n.pitch, n.end)):
            instrument.notes.append(
                pm.Note(velocity=note.velocity, pitch=note.pitch, start=note.start, end=note.end)
            )
        for control in sorted(track.controls, key=lambda c: (c.time, c.number)):
            instrument.control_changes.append(
                pm.ControlChange(number=control.number, value=control.value, time=control.time)
            )
        midi.instruments.append(instrument)
    result: MidiFile = midi
    return result


def _beat_ticks(count: int, lead: float) -> list[int]:
    """Tick of each MIDI beat boundary: the first beat lasts ``lead`` beats when ``lead``."""
    if lead <= 0.0:
        return [i * MIDI_RESOLUTION for i in range(count)]
    first = max(1, round(lead * MIDI_RESOLUTION))
    return [0, *(first + i * MIDI_RESOLUTION for i in range(count - 1))]


def _tempo_map(midi: object, beat_times: tuple[float, ...], end: float, lead: float) -> list[int]:
    """Give ``midi`` one tempo per beat so that MIDI beat ``i`` starts at ``beat_times[i]``.

    pretty_midi keeps its tempo map in ``_tick_scales`` (seconds per tick from a tick on)
    and writes one ``set_tempo`` event per entry; each beat's length is rounded to whole
    microseconds per quarter note, as a MIDI tempo stores it, so the file read back has
    the same beats. With ``lead`` the first beat is a lead-in of ``lead`` quarter notes.

    :returns: The tick of every beat boundary.
    """
    ticks = _beat_ticks(len(beat_times), lead)
    bounds = [*beat_times, max(end, beat_times[-1] + 1e-3)]
    scales: list[tuple[int, float]] = []
    for i in range(len(beat_times)):
        quarters = (ticks[i + 1] - ticks[i]) / MIDI_RESOLUTION if i + 1 < len(ticks) else 1.0
        micros = max(1, round((bounds[i + 1] - bounds[i]) / quarters * 1e6))
        scale = micros / 1e6 / MIDI_RESOLUTION
        if not scales or abs(scales[-1][1] - scale) > 1e-12:
            scales.append((ticks[i], scale))
    midi._tick_scales = scales  # type: ignore[attr-defined]  # pretty_midi's tempo map
    midi._update_tick_to_time(ticks[-1] + 2 * MIDI_RESOLUTION)  # type: ignore[attr-defined]
    return ticks


def _time_signatures(pm: ModuleType, midi: MidiFile, score: Score) -> list[object]:
    """Bar lines on the downbeats: ``beats_per_bar``/4, after a pickup bar if any.

    A pickup of ``n`` sixteenths is written as ``n/16`` reduced (``2/4``, ``3/8``, ``5/16``).
    """
    per_bar = score.beats_per_bar
    sixteenths = round(score.first_bar * 4)
    if sixteenths <= 0:
        return [pm.TimeSignature(per_bar, 4, 0.0)]
    numerator, denominator = sixteenths, 16
    while numerator % 2 == 0 and denominator > 4:
        numerator, denominator = numerator // 2, denominator // 2
    downbeat = float(midi.tick_to_time(round(score.first_bar * MIDI_RESOLUTION)))
    return [pm.TimeSignature(numerator, denominator, 0.0), pm.TimeSignature(per_bar, 4, downbeat)]


def midi_bytes(midi: MidiFile) -> bytes:
    """Return the Standard MIDI File bytes of ``midi``."""
    buffer = io.BytesIO()
    midi.write(buffer)
    return buffer.getvalue()


def write_midi(midi: MidiFile, path: str | Path) -> Path:
    """Write ``midi`` to ``path`` atomically (a temp file beside it, then a rename)."""
    with atomic_path(path) as tmp:
        midi.write(str(tmp))
    return Path(path)


def read_midi(path: str | Path) -> MidiFile:
    """Read a Standard MIDI File with pretty_midi.

    :raises MissingDependencyError: If pretty_midi is not installed.
    """
    pm = _pretty_midi()
    midi: MidiFile = pm.PrettyMIDI(str(path))
    return midi
