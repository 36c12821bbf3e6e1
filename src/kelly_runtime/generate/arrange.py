"""Turning decoded per-beat values into a three-track :class:`Score` (no pretty_midi here).

- **Melody** (GM program 0, piano): per beat one or two notes (two when the expression's
  density asks for eighths), pitches from :mod:`.melody`, duration = inter-onset time ×
  articulation, onsets shifted by the expression's timing, velocity from the expression
  (level, spread, per-sixteenth accent).
- **Chords** (GM program 4, electric piano): each run of equal chords within a bar is one
  held voicing: the root in octave 2 (MIDI 36–47) and the chord's pitch classes in close
  position from G3 (MIDI 55) up; no chord is a rest.
- **Drums** (channel 10, ``is_drum``): per bar, each step of the predicted groove with a
  hit plays a closed hi-hat (GM 42); steps 0 and 8 also play the kick (GM 36), steps 4
  and 12 the snare (GM 38), with the groove's velocity and micro-timing.
- **Sustain pedal** (CC64) on the melody and chord tracks: down on beats whose expression
  says sustain, lifted and pressed again at each chord change, up at the end.

All times are in seconds at the session tempo in 4/4; the score ends at exactly
``beats × 60 / tempo``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray
from kelly_runtime.generate.keys import Key, PitchRange
from kelly_runtime.generate.melody import REST, allowed_pitches, choose_pitch
from kelly_runtime.generate.score import (
    SOFT_PEDAL,
    SUSTAIN_PEDAL,
    ControlEvent,
    NoteEvent,
    Score,
    Track,
)

__all__ = [
    "BASS_LOW",
    "BEATS_PER_BAR",
    "CHORD_PROGRAM",
    "DRUM_HIHAT",
    "DRUM_KICK",
    "DRUM_SNARE",
    "MELODY_PROGRAM",
    "VOICING_LOW",
    "BarGroove",
    "BeatStyle",
    "arrange",
    "chord_voicing",
]

BEATS_PER_BAR: Final = 4
STEPS_PER_BAR: Final = 16
MELODY_PROGRAM: Final = 0
CHORD_PROGRAM: Final = 4
BASS_LOW: Final = 36
"""Lowest pitch of the chord's bass note (C2)."""
VOICING_LOW: Final = 55
"""Lowest pitch of the close-position chord voicing (G3)."""
DRUM_KICK: Final = 36
DRUM_SNARE: Final = 38
DRUM_HIHAT: Final = 42
_KICK_STEPS: Final = frozenset({0, 8})
_SNARE_STEPS: Final = frozenset({4, 12})
_HIHAT_SCALE: Final = 0.75
_CHORD_SCALE: Final = 0.8
_REPEDAL_S: Final = 0.03
_MIN_NOTE_S: Final = 0.02


def _unit(instance: object, attribute: attrs.Attribute[float], value: float) -> None:
    if not 0.0 <= value <= 1.0:
        raise ValueError(f"{attribute.name} must be in [0, 1], got {value}")


@attrs.frozen(kw_only=True)
class BeatStyle:
    """How one beat is played, decoded from the DynamicsEngine's expression (:mod:`.style`)."""

    accents: tuple[float, float, float, float] = (90.0, 75.0, 82.0, 75.0)
    """MIDI velocity (1..127) of a note on each sixteenth of the beat."""
    spread: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    """Standard deviation of the velocity humanisation, in MIDI velocity units."""
    articulation: float = attrs.field(default=0.9, validator=_unit)
    """Sounding duration / inter-onset interval, in [0, 1]."""
    timing: float = 0.0
    """Onset shift in seconds (negative = early)."""
    sustain: bool = False
    """Whether the sustain pedal is down during the beat."""
    soft: bool = False
    """Whether the soft pedal (una corda) is down during the beat."""
    notes_per_beat: int = attrs.field(default=1, validator=attrs.validators.in_((1, 2)))
    """Melody notes in the beat: 1 (quarters) or 2 (eighths)."""
    register: float = attrs.field(
        default=64.0, validator=[attrs.validators.ge(0.0), attrs.validators.le(127.0)]
    )
    """MIDI pitch the melody centres on (clipped into the melody range)."""

    def note_velocity(self, sixteenth: int, *, scale: float = 1.0, jitter: float = 0.0) -> int:
        """Velocity of a note on ``sixteenth`` (0..3) of the beat, clipped to 1..127.

        :param scale: Factor applied to the accent (accompaniment plays softer).
        :param jitter: A standard-normal draw; adds ``jitter * spread``.
        """
        value = scale * self.accents[sixteenth % 4] + jitter * self.spread
        return int(np.clip(round(value), 1, 127))


@attrs.frozen(kw_only=True, eq=False)
class BarGroove:
    """One bar of the decoded groove: per-sixteenth offsets and velocities."""

    offsets: FloatArray
    """Shape ``(16,)``, micro-timing in sixteenth steps, in [-0.5, 0.5]."""
    velocities: FloatArray
    """Shape ``(16,)``, MIDI velocities 0..127 (0 = no hit)."""


def chord_voicing(pitch_classes: Sequence[int]) -> tuple[int, ...]:
    """Return the MIDI pitches voicing a chord given as pitch classes, root first.

    The root goes to the bass (``BASS_LOW`` .. ``BASS_LOW + 11``); every pitch class is
    placed at the lowest pitch >= ``VOICING_LOW``. An empty chord gives ``()``.
    """
    if not pitch_classes:
        return ()
    root = pitch_classes[0] % 12
    bass = BASS_LOW + (root - BASS_LOW) % 12
    upper = sorted(VOICING_LOW + (pc - VOICING_LOW) % 12 for pc in pitch_classes)
    return (bass, *upper)


def _melody_notes(
    notes: FloatArray,
    styles: Sequence[BeatStyle],
    *,
    beat_s: float,
    duration: float,
    key: Key | None,
    pitch_range: PitchRange,
    temperature: float,
    rng: np.random.Generator,
) -> tuple[NoteEvent, ...]:
    allowed = allowed_pitches(key, pitch_range)
    humanize = np.random.default_rng(int(rng.integers(2**63)))
    events: list[NoteEvent] = []
    previous: int | None = None
    for beat, style in enumerate(styles):
        count = style.notes_per_beat
        step = beat_s / count
        for sub in range(count):
            pitch = choose_pitch(
                notes[beat],
                allowed=allowed,
                previous=previous,
                centre=style.register,
                temperature=temperature,
                rng=rng,
            )
            if pitch == REST:
                previous = None
                continue
            nominal = beat * beat_s + sub * step
            start = min(max(nominal + style.timing, 0.0), duration - _MIN_NOTE_S)
            end = min(nominal + step * max(style.articulation, 0.1), duration)
            end = max(end, start + _MIN_NOTE_S)
            velocity = style.note_velocity(sub * (4 // count), jitter=humanize.standard_normal())
            events.append(NoteEvent(pitch=pitch, start=start, end=end, velocity=velocity))
            previous = pitch
    return tuple(events)


def _chord_runs(chords: Sequence[Sequence[int]]) -> list[tuple[int, int]]:
    """Return (first beat, beats) runs of equal chords, split at bar lines."""
    runs: list[tuple[int, int]] = []
    for beat, chord in enumerate(chords):
        if runs and beat % BEATS_PER_BAR != 0 and tuple(chords[runs[-1][0]]) == tuple(chord):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((beat, 1))
    return runs


def _chord_notes(
    chords: Sequence[Sequence[int]], styles: Sequence[BeatStyle], *, beat_s: float, duration: float
) -> tuple[tuple[NoteEvent, ...], list[float]]:
    events: list[NoteEvent] = []
    changes: list[float] = []
    for first, length in _chord_runs(chords):
        start = first * beat_s
        end = min((first + length) * beat_s, duration)
        changes.append(start)
        velocity = styles[first].note_velocity(0, scale=_CHORD_SCALE)
        for pitch in chord_voicing(chords[first]):
            events.append(NoteEvent(pitch=pitch, start=start, end=end, velocity=velocity))
    return tuple(events), changes


def _pedal(
    pressed: Sequence[bool],
    changes: Sequence[float],
    *,
    number: int,
    beat_s: float,
    duration: float,
) -> tuple[ControlEvent, ...]:
    """Controller ``number`` down over the beats where ``pressed``, up elsewhere and at the
    end; lifted and pressed again at each time in ``changes`` while held."""
    events: list[ControlEvent] = []
    down = False
    change_set = {round(t, 9) for t in changes}
    for beat, press in enumerate(pressed):
        t = beat * beat_s
        if press and not down:
            events.append(ControlEvent(number=number, value=127, time=t))
            down = True
        elif press and round(t, 9) in change_set:  # re-pedal at a chord change
            events.append(ControlEvent(number=number, value=0, time=t))
            events.append(ControlEvent(number=number, value=127, time=t + _REPEDAL_S))
        elif not press and down:
            events.append(ControlEvent(number=number, value=0, time=t))
            down = False
    if down:
        events.append(ControlEvent(number=number, value=0, time=duration))
    return tuple(events)


def _drum_notes(
    grooves: Sequence[BarGroove], *, beats: int, beat_s: float, duration: float
) -> tuple[NoteEvent, ...]:
    step_s = beat_s * BEATS_PER_BAR / STEPS_PER_BAR
    length = step_s / 2.0
    events: list[NoteEvent] = []
    total_steps = beats * (STEPS_PER_BAR // BEATS_PER_BAR)
    for bar, groove in enumerate(grooves):
        for step in range(STEPS_PER_BAR):
            index = bar * STEPS_PER_BAR + step
            velocity = int(np.clip(round(float(groove.velocities[step])), 0, 127))
            if index >= total_steps or velocity == 0:
                continue
            offset = float(np.clip(groove.offsets[step], -0.5, 0.5))
            start = max((index + offset) * step_s, 0.0)
            start = min(start, duration - _MIN_NOTE_S)
            end = min(start + length, duration)
            hat = max(1, round(velocity * _HIHAT_SCALE))
            events.append(NoteEvent(pitch=DRUM_HIHAT, start=start, end=end, velocity=hat))
            if step in _KICK_STEPS:
                events.append(NoteEvent(pitch=DRUM_KICK, start=start, end=end, velocity=velocity))
            if step in _SNARE_STEPS:
                events.append(NoteEvent(pitch=DRUM_SNARE, start=start, end=end, velocity=velocity))
    return tuple(events)


def arrange(
    *,
    tempo: float,
    notes: FloatArray,
    chords: Sequence[Sequence[int]],
    styles: Sequence[BeatStyle],
    grooves: Sequence[BarGroove],
    key: Key | None,
    pitch_range: PitchRange,
    temperature: float,
    rng: np.random.Generator,
) -> Score:
    """Build the melody, chord and drum tracks of ``len(styles)`` beats.

    :param tempo: Beats per minute (> 0).
    :param notes: Note probabilities per beat, shape ``(beats, 128)``.
    :param chords: Pitch classes of each beat's chord, root first (``()`` = no chord).
    :param styles: Expression of each beat.
    :param grooves: One groove per bar (``ceil(beats / 4)`` of them).
    :param key: Key the melody keeps to (None = all twelve pitch classes).
    :param pitch_range: Range the melody keeps to.
    :param temperature: Sampling temperature of the melody (> 0).
    :param rng: Seeded generator; the only source of randomness.
    """
    beats = len(styles)
    if beats == 0 or notes.shape != (beats, 128) or len(chords) != beats:
        raise ValueError(
            f"expected {beats} beats of notes (beats, 128) and chords, "
            f"got notes {notes.shape} and {len(chords)} chords"
        )
    beat_s = 60.0 / tempo
    duration = beats * beat_s
    melody = _melody_notes(
        notes,
        styles,
        beat_s=beat_s,
        duration=duration,
        key=key,
        pitch_range=pitch_range,
        temperature=temperature,
        rng=rng,
    )
    chord_notes, changes = _chord_notes(chords, styles, beat_s=beat_s, duration=duration)
    sustain = _pedal(
        [s.sustain for s in styles], changes, number=SUSTAIN_PEDAL, beat_s=beat_s, duration=duration
    )
    soft = _pedal(
        [s.soft for s in styles], (), number=SOFT_PEDAL, beat_s=beat_s, duration=duration
    )
    pedal = tuple(sorted(sustain + soft, key=lambda c: (c.time, c.number)))
    drums = _drum_notes(grooves, beats=beats, beat_s=beat_s, duration=duration)
    return Score(
        tempo=tempo,
        duration=duration,
        key_tonic=None if key is None else key.tonic,
        key_minor=key is not None and key.mode == "minor",
        tracks=(
            Track(name="melody", program=MELODY_PROGRAM, notes=melody, controls=pedal),
            Track(name="chords", program=CHORD_PROGRAM, notes=chord_notes, controls=pedal),
            Track(name="drums", program=0, is_drum=True, notes=drums),
        ),
    )
