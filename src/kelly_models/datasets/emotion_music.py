"""Real music as notes for the EmotionRecognizer's rendered data and its probe.

A :class:`Music` is parts of notes in seconds with its counted beats, the beat tempo and
its key: an excerpt of a music21 corpus score (:func:`from_score`, through
:mod:`kelly_models.listening.scores`) or an ``mma`` groove's chord chart
(:func:`from_groove`, through :mod:`kelly_models.listening.charts`). The transformations
change one property each and keep everything else:

- :func:`parallel_mode`: the parallel mode by the music's own key (the major key's 3rd
  and 6th degrees a semitone down, or a minor key's up:
  :func:`~kelly_models.datasets.synthetic.flip_mode`); drums untouched;
- :func:`at_tempo`: every time divided by a factor (the beat tempo multiplied by it);
- :func:`shifted`: every pitched note moved by some semitones (an octave: the register);
- :func:`with_drums`: a kit part on the beats (kick, snare on the back beats, hi-hat on
  every half beat) for music that has none; :func:`with_melody`: a melody of chord tones
  of what sounds at each beat, with passing notes of the key's scale.

:func:`label` is the documented labeller (:func:`kelly_models.datasets.labeller.piece_emotion`)
on the pitched notes: mode and harmonic tension → valence; tempo, onset density,
articulation and velocity → arousal.
Nothing here depends on the level, register or sounds the music is rendered with.
"""

from __future__ import annotations

import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core._optional import require
from kelly_core.encodings import tonal
from kelly_models.datasets.labeller import piece_emotion
from kelly_models.datasets.synthetic.common import MAJOR, MINOR
from kelly_models.datasets.synthetic.emotion import flip_mode
from kelly_models.listening import scores
from kelly_models.listening.charts import Style, render_chart

__all__ = [
    "Music",
    "Part",
    "at_tempo",
    "cut",
    "estimated_key",
    "from_groove",
    "from_score",
    "label",
    "parallel_mode",
    "pitch_class",
    "programs_for",
    "shifted",
    "with_drums",
    "with_melody",
]

Note = tuple[int, float, float, int]
"""(MIDI pitch, start s, end s, velocity)."""
ANY_MELODIC: Final = -1
"""A part's program when its sound is free: any melodic family (music21 parts)."""
_LETTERS: Final = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_LOWEST, _HIGHEST = 21, 108  # the piano's range: shifted notes are folded into it
_KICK, _SNARE, _HAT = 36, 38, 42


@dataclass(frozen=True)
class Part:
    """One instrument: its GM program (:data:`ANY_MELODIC`: free) or drum kit, its notes."""

    program: int
    is_drum: bool
    notes: tuple[Note, ...]


@dataclass(frozen=True)
class Music:
    """Notes in seconds, the counted beats, the beat tempo and the key."""

    name: str
    parts: tuple[Part, ...]
    beats: tuple[float, ...]
    """Times of the counted beats (s)."""
    beats_per_bar: int
    bpm: float
    tonic: int
    major: bool
    length: float
    """Seconds of music."""

    @property
    def pitched(self) -> list[Note]:
        """Every note of the pitched parts."""
        return [n for part in self.parts if not part.is_drum for n in part.notes]

    @property
    def has_drums(self) -> bool:
        """Whether a part is a drum kit."""
        return any(part.is_drum for part in self.parts)


def pitch_class(name: str) -> int:
    """The pitch class of a note name (``"C#"``, ``"Eb"``, ``"B-"``: music21's flat)."""
    base, marks = _LETTERS[name[0].upper()], name[1:]
    return (base + marks.count("#") - marks.count("b") - marks.count("-")) % 12


def _key(text: str) -> tuple[int, bool]:
    """``"Eb:minor"`` → ``(3, False)``."""
    tonic, _, mode = text.partition(":")
    return pitch_class(tonic), mode != "minor"


def estimated_key(music: Music) -> tuple[int, bool]:
    """The key of the pitched notes by Krumhansl–Schmuckler
    (:func:`kelly_core.encodings.tonal.estimate_key`): ``(tonic, major)``."""
    hist = np.zeros(12)
    for pitch, start, end, _ in music.pitched:
        hist[pitch % 12] += max(end - start, 0.0)
    tonic, minor = tonal.estimate_key(hist)
    return tonic, not minor


def from_score(spec: scores.ScoreSpec, *, bpm: float, seconds: float) -> Music:
    """About ``seconds`` of complete bars of a music21 score at a beat tempo of ``bpm``
    (:func:`kelly_models.listening.scores.load_excerpt`); its key is the score's own (or
    music21's analysis of the excerpt)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        excerpt, qpm = scores.load_excerpt(scores.find_score(spec), beat_bpm=bpm, seconds=seconds)
    second = 60.0 / qpm
    parts = [
        Part(
            ANY_MELODIC,
            False,
            tuple(
                (n.pitch, n.start * second, n.end * second, max(1, min(127, n.velocity)))
                for n in excerpt.notes
                if n.part == index
            ),
        )
        for index in range(excerpt.parts)
    ]
    beats: list[float] = []
    per_bar = 4
    for start, num, den in excerpt.bars:
        step = scores.beat_quarters(num, den)
        per_bar = scores.beats_per_bar(num)
        beats += [(start + k * step) * second for k in range(per_bar)]
    tonic, major = _key(excerpt.key or excerpt.key_analysis)
    return Music(
        name=spec.name,
        parts=tuple(p for p in parts if p.notes),
        beats=tuple(beats),
        beats_per_bar=per_bar,
        bpm=float(bpm),
        tonic=tonic,
        major=major,
        length=excerpt.length * second,
    )


def from_groove(style: Style, rng: np.random.Generator, *, seconds: float, name: str) -> Music:
    """A random chord chart of about ``seconds`` in ``style``, rendered to MIDI by mma
    (:func:`kelly_models.listening.charts.render_chart`), with its written key."""
    pretty_midi = require("pretty_midi", extra="data", purpose="reading mma's MIDI")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "mma.mid"
        chart = render_chart(style, rng, seconds=seconds, midi_out=raw)
        pm = pretty_midi.PrettyMIDI(str(raw))
    num, den = style.midi_signature
    pm.time_signature_changes = [pretty_midi.TimeSignature(num, den, 0.0)]
    end = float(pm.tick_to_time(chart["bars"] * style.time * pm.resolution))
    beats = [float(b) for b in pm.get_beats() if b < end - 1e-3]
    parts = tuple(
        Part(
            int(inst.program),
            bool(inst.is_drum),
            tuple(
                (int(n.pitch), float(n.start), float(n.end), int(n.velocity))
                for n in inst.notes
                if n.start < end
            ),
        )
        for inst in pm.instruments
        if inst.notes
    )
    tonic, major = _key(str(chart["key"]))
    bpm = float(np.median(60.0 / np.diff(beats))) if len(beats) > 1 else 120.0
    per_bar = scores.beats_per_bar(num)
    return Music(name, parts, tuple(beats), per_bar, bpm, tonic, major, end)


def _pitched(music: Music, pitch: Callable[[list[int]], Sequence[int]]) -> Music:
    """``music`` with every pitched note's pitch mapped by ``pitch(notes) -> pitches``."""
    parts = []
    for part in music.parts:
        if part.is_drum:
            parts.append(part)
            continue
        moved = pitch([n[0] for n in part.notes])
        notes = tuple((int(p), s, e, v) for p, (_, s, e, v) in zip(moved, part.notes, strict=True))
        parts.append(replace(part, notes=notes))
    return replace(music, parts=tuple(parts))


def parallel_mode(music: Music, key: tuple[int, bool] | None = None) -> Music:
    """The same music in the parallel mode of ``key`` (default: its own)."""
    tonic, major = key if key is not None else (music.tonic, music.major)
    flipped = _pitched(music, lambda ps: flip_mode(ps, tonic, major))
    return replace(flipped, tonic=tonic, major=not major)


def _fold(pitch: int) -> int:
    while pitch > _HIGHEST:
        pitch -= 12
    while pitch < _LOWEST:
        pitch += 12
    return pitch


def shifted(music: Music, semitones: int) -> Music:
    """Every pitched note ``semitones`` up (notes leaving the piano's range folded back by
    octaves); the key's tonic moves with them."""
    moved = _pitched(music, lambda ps: [_fold(p + semitones) for p in ps])
    return replace(moved, tonic=(music.tonic + semitones) % 12)


def at_tempo(music: Music, factor: float) -> Music:
    """The same music ``factor`` times as fast."""
    parts = tuple(
        replace(p, notes=tuple((n, s / factor, e / factor, v) for n, s, e, v in p.notes))
        for p in music.parts
    )
    return replace(
        music,
        parts=parts,
        beats=tuple(b / factor for b in music.beats),
        bpm=music.bpm * factor,
        length=music.length / factor,
    )


def cut(music: Music, seconds: float) -> Music:
    """The first ``seconds`` of ``music`` (notes cut at the end)."""
    parts = tuple(
        replace(p, notes=tuple((n, s, min(e, seconds), v) for n, s, e, v in p.notes if s < seconds))
        for p in music.parts
    )
    beats = tuple(b for b in music.beats if b < seconds)
    return replace(music, parts=parts, beats=beats, length=min(music.length, seconds))


def with_drums(music: Music, rng: np.random.Generator) -> Music:
    """Add a drum kit part on the beats: kick on the bar's first beat (and the middle one
    of four), snare on the back beats, hi-hat on every half beat, velocities jittered."""
    notes: list[Note] = []
    beats = list(music.beats)
    ends = [*beats[1:], music.length]
    for index, (beat, nxt) in enumerate(zip(beats, ends, strict=True)):
        place = index % max(music.beats_per_bar, 1)
        drum = _KICK if place == 0 or (music.beats_per_bar == 4 and place == 2) else None
        if place % 2 == 1 and music.beats_per_bar != 3:
            drum = _SNARE
        hits = [(_HAT, beat), (_HAT, (beat + nxt) / 2)]
        if drum is not None:
            hits.append((drum, beat))
        for pitch, at in hits:
            velocity = int(np.clip(rng.normal(90 if pitch != _HAT else 70, 8), 30, 127))
            notes.append((pitch, at, at + 0.1, velocity))
    return replace(music, parts=(*music.parts, Part(0, True, tuple(notes))))


def _sounding(music: Music, time: float) -> list[int]:
    """Pitch classes of the pitched notes sounding at ``time``."""
    return sorted({n[0] % 12 for n in music.pitched if n[1] <= time + 1e-3 < n[2]})


def with_melody(music: Music, rng: np.random.Generator, *, program: int = ANY_MELODIC) -> Music:
    """Add a melody (MIDI 62..84): on each beat the chord tone of what sounds there nearest
    a random step from the previous note; on about half the beats a passing note of the
    key's scale on the half beat."""
    scale = [(music.tonic + d) % 12 for d in (MAJOR if music.major else MINOR)]
    beats = list(music.beats)
    ends = [*beats[1:], music.length]
    notes: list[Note] = []
    previous = 72
    for beat, nxt in zip(beats, ends, strict=True):
        chord = _sounding(music, beat)
        if not chord:
            continue
        target = previous + int(rng.integers(-4, 5))
        options = [p for p in range(62, 85) if p % 12 in chord]
        pitch = min(options, key=lambda p: (abs(p - target), p))
        half = (beat + nxt) / 2
        if rng.random() < 0.5:
            notes.append((pitch, beat, half, 92))
            step = 1 if rng.random() < 0.5 else -1
            passing = next(
                p for p in range(pitch + step, pitch + 13 * step, step) if p % 12 in scale
            )
            notes.append((passing, half, nxt, 84))
        else:
            notes.append((pitch, beat, nxt, 92))
        previous = pitch
    return replace(music, parts=(*music.parts, Part(program, False, tuple(notes))))


def label(music: Music) -> tuple[float, float]:
    """(valence, arousal) of ``music`` by the documented labeller (its pitched notes, its
    beat tempo and its length)."""
    return piece_emotion(music.pitched, music.bpm, music.length)


def programs_for(
    music: Music, rng: np.random.Generator, offsets: Sequence[int], kits: Sequence[int]
) -> list[int]:
    """A program per part: a drum kit from ``kits``; a place in ``offsets`` of the part's
    family (a free part: a random melodic family)."""
    out = []
    for part in music.parts:
        if part.is_drum:
            out.append(int(rng.choice(list(kits))))
            continue
        family = part.program // 8 if part.program >= 0 else int(rng.choice(MELODIC_FAMILIES))
        out.append(family * 8 + int(rng.choice(list(offsets))))
    return out


MELODIC_FAMILIES: Final = (0, 1, 2, 3, 5, 6, 7, 8, 9)
"""GM families a free part draws from: piano, chromatic percussion, organ, guitar, strings,
ensemble, brass, reed, pipe."""
