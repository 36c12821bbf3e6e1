"""Turning decoded per-beat values into a three-track :class:`Score` (no pretty_midi here).

- **Melody** (GM program 0, piano): per beat one or two notes (two when the expression's
  density asks for eighths), pitches from :mod:`.melody` among the key's pitches that are
  not a semitone from a tone of the beat's chord (so melody and chords never clash) nor,
  given the song's strongly sounding pitch classes, from one of those (:mod:`.playalong`),
  duration = inter-onset time × articulation, onsets shifted by the expression's timing,
  velocity from the expression (level, spread, per-sixteenth accent). The melody does not
  rest before its first note: it starts on the first beat of the music.
- **Chords** (GM program 4, electric piano): each run of equal chords within a bar is one
  held voicing: the root in octave 2 (MIDI 36–47) and the chord's pitch classes in close
  position from G3 (MIDI 55) up; no chord is a rest.
- **Drums** (channel 10, ``is_drum``): per bar, each step of the predicted groove whose
  velocity is at least :data:`DRUM_THRESHOLD` plays a closed hi-hat (GM 42); steps 0 and
  8 also play the kick (GM 36), steps 4 and 12 the snare (GM 38), with the groove's
  velocity and micro-timing. A step below the threshold is "no hit": no note at all.
- **Sustain pedal** (CC64) on the melody and chord tracks: down on beats whose expression
  says sustain, lifted and pressed again at each chord change, up at the end.

- **Notes**: every note lasts at least :data:`MIN_NOTE_S`; two notes of one pitch in a
  track never overlap (the earlier one is cut at the later one's start, or merged into it
  when the cut would leave it shorter than the minimum).

Times are in seconds. Beats fall on ``beat_times`` (the song's detected beats) when given,
else on a steady grid at ``tempo``; bars are 4/4, with ``pickup`` beats of the first bar
before the first beat.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.constants import BEATS_PER_BAR
from kelly_runtime.generate.accompaniment import (
    BASS_LOW,
    DRUM_HIHAT,
    DRUM_KICK,
    DRUM_SNARE,
    DRUM_THRESHOLD,
    MIN_NOTE_S,
    VOICING_LOW,
    Seconds,
    chord_notes,
    chord_voicing,
    drum_notes,
    pedal,
)
from kelly_runtime.generate.keys import Key, PitchRange
from kelly_runtime.generate.melody import REST, allowed_pitches, choose_pitch
from kelly_runtime.generate.playalong import BeatHearing, song_prior, song_safe
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
    "DRUM_THRESHOLD",
    "MELODY_PROGRAM",
    "MIN_NOTE_S",
    "VOICING_LOW",
    "BarGroove",
    "BeatStyle",
    "arrange",
    "chord_voicing",
]
MELODY_PROGRAM: Final = 0
CHORD_PROGRAM: Final = 4
_MIN_NOTE_S: Final = MIN_NOTE_S


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


def _clash_free(allowed: npt.NDArray[np.int64], chord: Sequence[int]) -> npt.NDArray[np.int64]:
    """Pitches of ``allowed`` not a semitone from a tone of ``chord`` (all if none is left)."""
    if not chord:
        return allowed
    near = {(pc + d) % 12 for pc in chord for d in (1, 11)} - {pc % 12 for pc in chord}
    keep = allowed[[int(p) % 12 not in near for p in allowed]]
    return keep if keep.size else allowed


@attrs.frozen
class _Grid:
    """Where the beats fall: each beat's start and length, and the end of the music."""

    starts: Seconds
    lengths: Seconds
    duration: float


def _beat_grid(
    tempo: float,
    notes: FloatArray,
    chords: Sequence[Sequence[int]],
    beats: int,
    beat_times: Seconds | FloatArray | None,
    end: float | None,
) -> _Grid:
    """Check the per-beat inputs agree, and place the beats (see :func:`arrange`)."""
    if beats == 0 or notes.shape != (beats, 128) or len(chords) != beats:
        raise ValueError(
            f"expected {beats} beats of notes (beats, 128) and chords, "
            f"got notes {notes.shape} and {len(chords)} chords"
        )
    if beat_times is None:
        starts = np.arange(beats, dtype=np.float64) * (60.0 / tempo)
        duration = beats * 60.0 / tempo
    else:
        starts = np.asarray(beat_times, dtype=np.float64)
        if starts.shape != (beats,) or np.any(np.diff(starts) <= 0):
            raise ValueError(f"expected {beats} increasing beat times, got {starts.shape}")
        step = float(np.median(np.diff(starts))) if beats > 1 else 60.0 / tempo
        duration = float(end) if end is not None else float(starts[-1] + step)
    return _Grid(starts, np.diff(np.append(starts, duration)), duration)


def _melody_notes(
    notes: FloatArray,
    styles: Sequence[BeatStyle],
    chords: Sequence[Sequence[int]],
    grid: _Grid,
    key: Key | Sequence[Key] | None,
    pitch_range: PitchRange,
    temperature: float,
    rng: np.random.Generator,
    song: Sequence[BeatHearing] | None,
) -> tuple[NoteEvent, ...]:
    """The melody's notes: per beat one or two pitches, timed and voiced by its style."""
    starts, lengths, duration = grid.starts, grid.lengths, grid.duration
    keys = _beat_keys(key, len(styles))
    allowed = {k: allowed_pitches(k, pitch_range) for k in set(keys)}
    humanize = np.random.default_rng(int(rng.integers(2**63)))
    events: list[NoteEvent] = []
    previous: int | None = None
    for beat, style in enumerate(styles):
        count = style.notes_per_beat
        beat_s = float(lengths[beat])
        step = beat_s / count
        candidates = _clash_free(allowed[keys[beat]], chords[beat])
        prior = None
        if song is not None:
            candidates = song_safe(candidates, song[beat])
            prior = song_prior(candidates, chords[beat], song[beat])
        for sub in range(count):
            pitch = choose_pitch(
                notes[beat],
                allowed=candidates,
                previous=previous,
                centre=style.register,
                temperature=temperature,
                rng=rng,
                force=not events,
                prior=prior,
            )
            if pitch == REST:
                previous = None
                continue
            nominal = float(starts[beat]) + sub * step
            start = min(max(nominal + style.timing, 0.0), duration - _MIN_NOTE_S)
            end = min(nominal + step * max(style.articulation, 0.1), duration)
            end = max(end, start + _MIN_NOTE_S)
            velocity = style.note_velocity(sub * (4 // count), jitter=humanize.standard_normal())
            events.append(NoteEvent(pitch=pitch, start=start, end=end, velocity=velocity))
            previous = pitch
    return tuple(events)


def _beat_keys(key: Key | Sequence[Key] | None, beats: int) -> list[Key | None]:
    """One key per beat: ``key`` repeated, or the sequence given (a modulating song)."""
    if key is None or isinstance(key, Key):
        return [key] * beats
    if len(key) != beats:
        raise ValueError(f"expected one key per beat ({beats}), got {len(key)}")
    return list(key)


def _no_overlaps(events: Sequence[NoteEvent]) -> tuple[NoteEvent, ...]:
    """Cut (or merge) notes of one pitch that overlap; drop any under the minimum length."""
    by_pitch: dict[int, list[NoteEvent]] = {}
    for event in sorted(events, key=lambda n: (n.pitch, n.start, n.end)):
        run = by_pitch.setdefault(event.pitch, [])
        if run and event.start < run[-1].end:
            last = run[-1]
            if event.start - last.start >= _MIN_NOTE_S:
                run[-1] = attrs.evolve(last, end=event.start)
                run.append(event)
            else:  # too short to cut: one longer note
                run[-1] = attrs.evolve(last, end=max(last.end, event.end))
            continue
        run.append(event)
    kept = [n for run in by_pitch.values() for n in run if n.end - n.start >= _MIN_NOTE_S - 1e-9]
    return tuple(sorted(kept, key=lambda n: (n.start, n.pitch)))


def arrange(
    *,
    tempo: float,
    notes: FloatArray,
    chords: Sequence[Sequence[int]],
    styles: Sequence[BeatStyle],
    grooves: Sequence[BarGroove],
    key: Key | Sequence[Key] | None,
    pitch_range: PitchRange,
    temperature: float,
    rng: np.random.Generator,
    beat_times: Seconds | FloatArray | None = None,
    end: float | None = None,
    pickup: int = 0,
    lead_in: tuple[float, ...] = (),
    lead: float = 0.0,
    beats_per_bar: int = BEATS_PER_BAR,
    song: Sequence[BeatHearing] | None = None,
) -> Score:
    """Build the melody, chord and drum tracks of ``len(styles)`` beats.

    :param tempo: Beats per minute (> 0): the steady grid without ``beat_times``, else
        the tempo reported (the median).
    :param notes: Note probabilities per beat, shape ``(beats, 128)``.
    :param chords: Pitch classes of each beat's chord, root first (``()`` = no chord).
    :param styles: Expression of each beat.
    :param grooves: One groove per bar touched by the beats
        (``ceil((beats + pickup) / beats_per_bar)``).
    :param key: Key the melody keeps to (None = all twelve pitch classes), or one key per
        beat (a song that modulates; the score's key signature is the first beat's).
    :param pitch_range: Range the melody keeps to.
    :param temperature: Sampling temperature of the melody (> 0).
    :param rng: Seeded generator; the only source of randomness.
    :param beat_times: Start of each beat in seconds, increasing, shape ``(beats,)``.
    :param end: Where the last beat ends (default: one median beat after its start).
    :param pickup: Beats of the first bar before the first beat (``0 .. beats_per_bar - 1``).
    :param lead_in: Start of the silent lead-in before the first beat (``(0.0,)``), or
        ``()`` (for the MIDI tempo map).
    :param lead: The lead-in's length in beats (whole sixteenths, for the MIDI file).
    :param beats_per_bar: Beats in a bar (chords change at bar lines; a groove's 16 steps
        are four beats, repeated or cut to the bar).
    :param song: Per beat, what the song sounds
        (:func:`~kelly_runtime.generate.playalong.hear_beat`): the melody keeps off the
        avoided pitch classes and favours the chord's tones that sound strongly.
    """
    grid = _beat_grid(tempo, notes, chords, len(styles), beat_times, end)
    melody = _melody_notes(notes, styles, chords, grid, key, pitch_range, temperature, rng, song)
    harmony, drums, pedals = _accompaniment(
        chords, styles, grooves, grid, pickup=pickup, per_bar=beats_per_bar
    )
    present = (beats_per_bar - pickup) % beats_per_bar
    first_key = _beat_keys(key, len(styles))[0]
    return Score(
        tempo=tempo,
        duration=grid.duration,
        key_tonic=None if first_key is None else first_key.tonic,
        key_minor=first_key is not None and first_key.mode == "minor",
        beat_times=(*lead_in, *(float(t) for t in grid.starts)) if beat_times is not None else (),
        lead=lead if lead_in and beat_times is not None else 0.0,
        beats_per_bar=beats_per_bar,
        first_bar=(lead if lead_in else 0.0) + present if present else 0.0,
        tracks=_tracks(melody, harmony, drums, pedals),
    )


def _accompaniment(
    chords: Sequence[Sequence[int]],
    styles: Sequence[BeatStyle],
    grooves: Sequence[BarGroove],
    grid: _Grid,
    *,
    pickup: int,
    per_bar: int,
) -> tuple[tuple[NoteEvent, ...], tuple[NoteEvent, ...], tuple[ControlEvent, ...]]:
    """The chord and drum tracks' notes, and the sustain and soft pedals of melody and chords."""
    starts, duration = grid.starts, grid.duration
    notes, changes = chord_notes(
        chords, styles, starts=starts, duration=duration, pickup=pickup, per_bar=per_bar
    )
    drums = drum_notes(
        grooves,
        starts=starts,
        lengths=grid.lengths,
        duration=duration,
        pickup=pickup,
        per_bar=per_bar,
    )
    sustain = pedal(
        [s.sustain for s in styles], changes, number=SUSTAIN_PEDAL, starts=starts, duration=duration
    )
    soft = pedal([s.soft for s in styles], (), number=SOFT_PEDAL, starts=starts, duration=duration)
    return notes, drums, tuple(sorted(sustain + soft, key=lambda c: (c.time, c.number)))


def _tracks(
    melody: tuple[NoteEvent, ...],
    chords: tuple[NoteEvent, ...],
    drums: tuple[NoteEvent, ...],
    pedals: tuple[ControlEvent, ...],
) -> tuple[Track, ...]:
    """The melody, chord and drum tracks, each without overlapping notes of one pitch."""
    return (
        Track(name="melody", program=MELODY_PROGRAM, notes=_no_overlaps(melody), controls=pedals),
        Track(
            name="chords",
            program=CHORD_PROGRAM,
            notes=_no_overlaps(chords),
            controls=pedals,
        ),
        Track(name="drums", program=0, is_drum=True, notes=_no_overlaps(drums)),
    )
