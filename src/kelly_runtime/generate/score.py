"""A score as plain frozen data: tracks of notes and controller events, times in seconds.

The generation code builds a :class:`Score`; only :mod:`.midi` turns it into a
pretty_midi object, so everything before that is testable without pretty_midi.
"""

from __future__ import annotations

from typing import Final

import attrs

from kelly_core.constants import BEATS_PER_BAR

__all__ = [
    "SOFT_PEDAL",
    "SUSTAIN_PEDAL",
    "ControlEvent",
    "KeyChange",
    "NoteEvent",
    "Score",
    "Track",
]

SUSTAIN_PEDAL: Final = 64
"""MIDI controller number of the sustain (damper) pedal; values >= 64 mean down."""

SOFT_PEDAL: Final = 67
"""MIDI controller number of the soft pedal (una corda); values >= 64 mean down."""


def _midi_byte(instance: object, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= value <= 127:
        raise ValueError(f"{attribute.name} must be in 0..127, got {value}")


@attrs.frozen(kw_only=True)
class NoteEvent:
    """One note: MIDI pitch, start and end in seconds, velocity 1..127."""

    pitch: int = attrs.field(validator=_midi_byte)
    start: float = attrs.field(validator=attrs.validators.ge(0.0))
    end: float = attrs.field()
    velocity: int = attrs.field(validator=[_midi_byte, attrs.validators.ge(1)])

    @end.validator
    def _after_start(self, attribute: attrs.Attribute[float], value: float) -> None:
        if not value > self.start:
            raise ValueError(f"note end {value} must be after its start {self.start}")


@attrs.frozen(kw_only=True)
class ControlEvent:
    """One control change: controller number, value 0..127, time in seconds."""

    number: int = attrs.field(validator=_midi_byte)
    value: int = attrs.field(validator=_midi_byte)
    time: float = attrs.field(validator=attrs.validators.ge(0.0))


@attrs.frozen(kw_only=True)
class Track:
    """One instrument: GM program (0..127), drum flag, notes and controller events."""

    name: str
    program: int = attrs.field(default=0, validator=_midi_byte)
    is_drum: bool = False
    notes: tuple[NoteEvent, ...] = ()
    controls: tuple[ControlEvent, ...] = ()


@attrs.frozen(kw_only=True)
class KeyChange:
    """A key signature from ``time`` seconds on: tonic pitch class (0 = C) and mode."""

    time: float = attrs.field(validator=attrs.validators.ge(0.0))
    tonic: int = attrs.field(validator=[attrs.validators.ge(0), attrs.validators.le(11)])
    minor: bool = False


@attrs.frozen(kw_only=True)
class Score:
    """Tracks with a tempo map and a meter; ``duration`` is where the music ends, in seconds."""

    tempo: float = attrs.field(validator=attrs.validators.gt(0.0))
    """Beats per minute."""
    duration: float = attrs.field(validator=attrs.validators.gt(0.0))
    tracks: tuple[Track, ...] = ()
    key_tonic: int | None = None
    """Key signature tonic (0 = C), written to the file if given."""
    key_minor: bool = False
    key_changes: tuple[KeyChange, ...] = ()
    """Key signatures in time order (a song that modulates); when given, they are written
    instead of ``key_tonic``."""
    beat_times: tuple[float, ...] = ()
    """Start of every MIDI beat in seconds (from 0, increasing), for a tempo map that puts
    MIDI beat ``i`` at ``beat_times[i]``; empty = steady ``tempo``."""
    lead: float = attrs.field(
        default=0.0, validator=[attrs.validators.ge(0.0), attrs.validators.le(1.0)]
    )
    """Length in quarter notes of the first of ``beat_times``' beats when it is a lead-in
    shorter than a beat (whole sixteenths); 0 = the first beat is a whole one."""
    beats_per_bar: int = attrs.field(default=BEATS_PER_BAR, validator=attrs.validators.ge(1))
    """Beats (quarter notes) in a bar."""
    first_bar: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    """Quarter notes from the start to the first downbeat (a pickup bar); 0 = none."""

    def track(self, name: str) -> Track:
        """Return the track called ``name``.

        :raises KeyError: If there is none.
        """
        for track in self.tracks:
            if track.name == name:
                return track
        raise KeyError(name)
