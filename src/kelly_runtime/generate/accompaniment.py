"""The accompaniment of an arranged score: chord voicings, sustain and soft pedals, drums.

Helpers of :func:`kelly_runtime.generate.arrange.arrange`, which documents the tracks.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Final

import numpy as np
import numpy.typing as npt

from kelly_core.constants import BEATS_PER_BAR
from kelly_runtime.generate.score import ControlEvent, NoteEvent

if TYPE_CHECKING:
    from kelly_runtime.generate.arrange import BarGroove, BeatStyle

__all__ = [
    "BASS_LOW",
    "DRUM_HIHAT",
    "DRUM_KICK",
    "DRUM_SNARE",
    "DRUM_THRESHOLD",
    "MIN_NOTE_S",
    "STEPS_PER_BAR",
    "VOICING_LOW",
    "Seconds",
    "chord_notes",
    "chord_voicing",
    "drum_notes",
    "pedal",
]

STEPS_PER_BAR: Final = 16
Seconds = npt.NDArray[np.float64]
"""Times in seconds (float64: an hour of audio at sample precision)."""
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
MIN_NOTE_S: Final = 0.05
"""Shortest note written, in seconds (a 32nd note at 150 BPM)."""
DRUM_THRESHOLD: Final = 20
"""Lowest groove velocity (1..127) that plays a drum hit; softer steps are "no hit"."""
_MIN_NOTE_S: Final = MIN_NOTE_S


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


def _chord_runs(
    chords: Sequence[Sequence[int]], pickup: int = 0, per_bar: int = BEATS_PER_BAR
) -> list[tuple[int, int]]:
    """Return (first beat, beats) runs of equal chords, split at bar lines."""
    runs: list[tuple[int, int]] = []
    for beat, chord in enumerate(chords):
        bar_line = (beat + pickup) % per_bar == 0
        if runs and not bar_line and tuple(chords[runs[-1][0]]) == tuple(chord):
            runs[-1] = (runs[-1][0], runs[-1][1] + 1)
        else:
            runs.append((beat, 1))
    return runs


def chord_notes(
    chords: Sequence[Sequence[int]],
    styles: Sequence[BeatStyle],
    *,
    starts: Seconds,
    duration: float,
    pickup: int,
    per_bar: int,
) -> tuple[tuple[NoteEvent, ...], list[float]]:
    """Held voicings of each run of equal chords, and the times the chord changes."""
    events: list[NoteEvent] = []
    changes: list[float] = []
    bounds = np.append(starts, duration)
    for first, length in _chord_runs(chords, pickup, per_bar):
        start = float(bounds[first])
        end = min(float(bounds[first + length]), duration)
        changes.append(start)
        if end - start < _MIN_NOTE_S:
            continue
        velocity = styles[first].note_velocity(0, scale=_CHORD_SCALE)
        for pitch in chord_voicing(chords[first]):
            events.append(NoteEvent(pitch=pitch, start=start, end=end, velocity=velocity))
    return tuple(events), changes


def pedal(
    pressed: Sequence[bool],
    changes: Sequence[float],
    *,
    number: int,
    starts: Seconds,
    duration: float,
) -> tuple[ControlEvent, ...]:
    """Controller ``number`` down over the beats where ``pressed``, up elsewhere and at the
    end; lifted and pressed again at each time in ``changes`` while held."""
    events: list[ControlEvent] = []
    down = False
    change_set = {round(t, 9) for t in changes}
    for beat, press in enumerate(pressed):
        t = float(starts[beat])
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


def drum_notes(
    grooves: Sequence[BarGroove],
    *,
    starts: Seconds,
    lengths: Seconds,
    duration: float,
    pickup: int,
    per_bar: int,
) -> tuple[NoteEvent, ...]:
    """Drum hits of each bar's groove; a bar of ``per_bar`` beats plays the groove's steps
    ``0 .. 4·per_bar - 1``, wrapping after its 16 (a 3/4 bar plays the first 12)."""
    beats = starts.shape[0]
    per_beat = STEPS_PER_BAR // BEATS_PER_BAR
    events: list[NoteEvent] = []
    for bar, groove in enumerate(grooves):
        for position in range(per_beat * per_bar):
            step = position % STEPS_PER_BAR
            beat = bar * per_bar + position // per_beat - pickup
            velocity = int(np.clip(round(float(groove.velocities[step])), 0, 127))
            if not 0 <= beat < beats or velocity < DRUM_THRESHOLD:
                continue
            step_s = float(lengths[beat]) / per_beat
            offset = float(np.clip(groove.offsets[step], -0.5, 0.5))
            start = float(starts[beat]) + (step % per_beat + offset) * step_s
            start = min(max(start, 0.0), duration - _MIN_NOTE_S)
            end = min(start + max(step_s / 2.0, _MIN_NOTE_S), duration)
            if end - start < _MIN_NOTE_S - 1e-9:
                continue
            hat = max(DRUM_THRESHOLD, round(velocity * _HIHAT_SCALE))
            events.append(NoteEvent(pitch=DRUM_HIHAT, start=start, end=end, velocity=hat))
            if step in _KICK_STEPS:
                events.append(NoteEvent(pitch=DRUM_KICK, start=start, end=end, velocity=velocity))
            if step in _SNARE_STEPS:
                events.append(NoteEvent(pitch=DRUM_SNARE, start=start, end=end, velocity=velocity))
    return tuple(events)
