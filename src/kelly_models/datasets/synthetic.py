"""Structured synthetic data for every model: seeded, emotion-conditioned, musical.

Each item draws (valence, arousal) segments and renders music whose features follow
them the way the music-psychology literature and the labeller say they should, and
nothing else does (no shortcut a model could learn instead):

- valence → mode (major vs. harmonic minor) and harmonic tension (sevenths, diminished
  chords, added seconds grow likelier below ``v = 0.2``);
- arousal → tempo (60–180 BPM), notes per beat, articulation (legato to staccato);
- drawn independently of both: the key of the audio, the register (the tune's tonic
  anywhere in MIDI 48..83, the bass two or three octaves below), the voicing and
  texture, the timbre (partials, attack, decay, bright onsets), the balance of the
  voices and, for the audio, a room (random reverb) and the level (each segment is
  levelled to -20 dBFS RMS, then scaled by a random gain in ±:data:`EMOTION_GAIN_DB` dB,
  :mod:`kelly_models.datasets.augment`; each 0.5 s window's features then get another
  gain in ±:data:`WINDOW_GAIN_DB` dB).

Symbolic data is in C (C major or C harmonic minor), the key-relative convention of
:mod:`kelly_core.encodings.tonal`; the audio is absolute, in a random key.

Datasets (``DatasetEntry`` names ``synthetic-<kind>``), factory
``(root=None, *, seed=0, items=..., steps=...)``; item ``i`` uses
``numpy.random.default_rng([seed, i])`` and ``i % 10 == 8`` is validation, ``== 9`` test:

- ``emotion`` (400 items of 20 windows = 10 s): melody, chords (close or spread; block,
  arpeggiated or held) and bass from a progression of the mode, rendered by a small
  additive synth (two random instruments), then :func:`offline_log_mel` and 0.5 s window
  means; inputs ``(steps, 128)``, targets ``(steps, 64)``. Half the items change emotion
  halfway; half of those repeat the first half's notes, timbres and gain in the parallel
  mode (:func:`flip_mode`) with the valence negated, so the mode is the only difference;
- ``melody``: inputs ``(steps, 64)``, targets ``(steps, 128)`` (default steps 64), in C
  around C4 (:data:`REFERENCE_TONIC`, one register whatever the emotion): C major or C
  harmonic minor (major with probability ``sigmoid(6 v)``). One emotion segment per
  16-beat phrase of four 4/4 bars over I-IV-V-I (i-iv-V-i); each bar plays a one-bar
  stock motif transposed to its chord (arpeggio, stepwise descent, neighbour figure +
  run, broken chord, scale run: :data:`_MOTIFS`). Arousal picks notes per beat (1, 2, 4)
  and the motif (six bands of width 1/3). Seeded noise: 15 % of bars take the band's
  other motif, 8 % of notes (not a bar's first) become a neighbour tone. Every phrase
  ends on the tonic, held for the whole last beat. So the notes are predictable from
  emotion and beat position (what the model sees), not from the emotion alone;
- ``harmony``: progressions in C major or C minor, valence → mode and tension, arousal →
  harmonic rhythm, ``(steps, 128)`` -> ``(steps, 64)``;
- ``dynamics``: generated piano notes in C (register drawn per 8 beats) and pedals
  through the real expression extractor, ``(steps, 32)`` -> ``(steps, 16)``;
- ``groove``: drum patterns with swing and humanised timing through
  :func:`groove_from_hits`, ``(steps, 64)`` -> ``(steps, 32)``.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.encodings.chords import reduce_roman
from kelly_core.encodings.context import melody_contexts
from kelly_core.encodings.emotion import coarse_emotions, encode_emotions
from kelly_core.encodings.expression import expressions_for_beats, pedal_intervals
from kelly_core.encodings.groove import groove_from_hits
from kelly_core.encodings.logmel import (
    DEFAULT_LOG_MEL,
    frames_per_window,
    offline_log_mel,
    window_means,
)
from kelly_core.errors import DatasetError
from kelly_core.records import Example, SkippedFile, Split
from kelly_models.datasets.augment import apply_gain, gain_log_mel, random_gain_db
from kelly_models.datasets.chords import progression_example

__all__ = [
    "MAJOR",
    "MINOR",
    "PHRASE_BEATS",
    "REFERENCE_TONIC",
    "SyntheticDataset",
    "synthetic_dynamics",
    "synthetic_emotion",
    "synthetic_groove",
    "synthetic_harmony",
    "synthetic_melody",
]

MAJOR: Final = (0, 2, 4, 5, 7, 9, 11)
MINOR: Final = (0, 2, 3, 5, 7, 8, 11)  # harmonic minor: the raised 7th marks the mode
SR: Final = DEFAULT_LOG_MEL.sr

Generator = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]


def _split(index: int) -> Split:
    return "validation" if index % 10 == 8 else "test" if index % 10 == 9 else "train"


class SyntheticDataset:
    """A :class:`kelly_core.interfaces.Dataset` that generates item ``i`` on first access."""

    def __init__(
        self, model_name: str, kind: str, generate: Generator, *, seed: int, items: int, steps: int
    ) -> None:
        if items < 1 or steps < 1:
            raise DatasetError(f"items and steps must be >= 1, got {items} and {steps}")
        self._model_name = model_name
        self.name = f"synthetic-{kind}"
        self._generate = generate
        self._seed = seed
        self._items = items
        self._steps = steps
        self._memo: dict[int, Example] = {}

    @property
    def model_name(self) -> str:
        """Name of the model these examples train."""
        return self._model_name

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        """Always empty: generated data has no unreadable files."""
        return ()

    def __len__(self) -> int:
        """Number of items."""
        return self._items

    def __getitem__(self, index: int) -> Example:
        """Generate (once) and return item ``index``."""
        if not -self._items <= index < self._items:
            raise IndexError(f"item {index} out of range for {self._items} items")
        index %= self._items
        if index not in self._memo:
            rng = np.random.default_rng([self._seed, index])
            inputs, targets = self._generate(rng, self._steps)
            self._memo[index] = Example(
                inputs=inputs.astype(np.float32),
                targets=targets.astype(np.float32),
                source=f"{self.name}:{self._seed}:{index}",
                split=_split(index),
            )
        return self._memo[index]


def _segments(rng: np.random.Generator, steps: int, length: int) -> np.ndarray:
    """Per-step (valence, arousal): piecewise constant over segments of ``length`` steps."""
    count = -(-steps // length)
    points = rng.uniform(-1, 1, size=(count, 2))
    return np.repeat(points, length, axis=0)[:steps]


def _is_major(rng: np.random.Generator, valence: float) -> bool:
    return bool(rng.random() < 1.0 / (1.0 + np.exp(-6.0 * valence)))


# ----------------------------------------------------------------------------- emotion
EMOTION_GAIN_DB: Final = 15.0
"""Each synthetic emotion segment is scaled by a gain uniform in ±15 dB (after levelling)."""
_LEVEL_RMS: Final = 0.1  # every segment is levelled to -20 dBFS RMS before its random gain
_TABLE_SIZE: Final = 4096
_LOWEST_BASS: Final = 28  # E1, about the lowest note of a GM bass or piano part
_LOWEST_CHORD: Final = 43  # G2: chord tones below it sound an octave up
_MODE_SLOPE: Final = 20.0  # major with probability sigmoid(_MODE_SLOPE * valence)
WINDOW_GAIN_DB: Final = 6.0
"""On top of its segment's gain, each 0.5 s window's features get a gain in ±6 dB."""
_MAJ, _MIN, _DIM, _DOM7, _DIM7, _HDIM7 = (
    (0, 4, 7), (0, 3, 7), (0, 3, 6), (0, 4, 7, 10), (0, 3, 6, 9), (0, 3, 6, 10),
)  # fmt: skip
Chord = tuple[int, tuple[int, ...]]  # (root in semitones above the tonic, intervals)
_I, _ii, _iii, _IV, _V, _vi = (0, _MAJ), (2, _MIN), (4, _MIN), (5, _MAJ), (7, _MAJ), (9, _MIN)
_i, _iio, _III, _iv, _VI, _VII = (0, _MIN), (2, _DIM), (3, _MAJ), (5, _MIN), (8, _MAJ), (10, _MAJ)
_EMOTION_PROGRESSIONS: Final[dict[bool, tuple[tuple[Chord, ...], ...]]] = {
    True: (
        (_I, _IV, _V, _I), (_I, _vi, _IV, _V), (_I, _V, _vi, _IV),
        (_ii, _V, _I, _I), (_I, _iii, _IV, _V), (_IV, _I, _V, _I),
    ),
    False: (
        (_i, _iv, _V, _i), (_i, _VI, _III, _VII), (_i, _iv, _VII, _III),
        (_i, _VI, _iv, _V), (_i, _iio, _V, _i), (_i, _VII, _VI, _V),
    ),
}  # fmt: skip


def _tense(chord: Chord, rng: np.random.Generator, tension: float) -> Chord:
    """Add harmonic tension: dominant sevenths, half-diminished ii, diminished sevenths."""
    if rng.random() >= tension:
        return chord
    root, intervals = chord
    if root == 7:
        return (11, _DIM7) if rng.random() < 0.4 else (7, _DOM7)
    if intervals == _DIM:
        return (root, _HDIM7)
    if rng.random() < 0.5:  # a minor second above a chord tone
        return (root, (*intervals, intervals[1] + 1))
    return chord


@functools.lru_cache(maxsize=512)
def _wavetable(weights: tuple[float, ...]) -> np.ndarray:
    """One period of a harmonic tone with partial amplitudes ``weights``, peak 1."""
    spectrum = np.zeros(_TABLE_SIZE // 2 + 1, dtype=np.complex128)
    spectrum[1 : len(weights) + 1] = -1j * np.asarray(weights)  # sines
    table = np.fft.irfft(spectrum, n=_TABLE_SIZE)
    out: np.ndarray = (table / max(float(np.abs(table).max()), 1e-12)).astype(np.float32)
    return out


class _Timbre:
    """A random instrument: partials, attack, decay (or sustain), release, bright onset.

    The onset has more upper partials than the body (they fade with ``bright_s``), as in
    struck and plucked instruments, so the share of time near onsets, hence the density
    of notes, shows in the spectrum whatever the level.
    """

    def __init__(self, rng: np.random.Generator) -> None:
        count = int(rng.integers(4, 15))
        k = np.arange(1, count + 1)
        weights = k ** -rng.uniform(0.8, 2.4) * np.exp(rng.normal(0, 0.3, count))
        weights[1::2] *= rng.uniform(0.15, 1.0)  # even partials (clarinet-like when weak)
        self.body = tuple(float(round(w, 3)) for w in weights)
        bright = k ** -rng.uniform(0.3, 0.9) * np.exp(rng.normal(0, 0.3, count))
        self.onset = tuple(float(round(w, 3)) for w in bright)
        self.bright_s = float(rng.uniform(0.03, 0.2))
        self.attack = float(rng.uniform(0.002, 0.04))
        self.decay = float(rng.uniform(0.2, 1.5)) if rng.random() < 0.6 else 6.0
        self.release = float(rng.uniform(0.02, 0.12))

    def tone(self, midi: int, seconds: float) -> np.ndarray:
        """A note of ``seconds`` (plus the release) at MIDI pitch ``midi``, peak about 1."""
        freq = 440.0 * 2.0 ** ((midi - 69) / 12)
        partials = max(1, min(len(self.body), int(10000 // freq)))
        hold, tail = int(seconds * SR), int(self.release * SR)
        n = np.arange(hold + tail, dtype=np.int64)
        index = (n * round(freq * _TABLE_SIZE * 64 / SR) // 64) % _TABLE_SIZE
        t = n.astype(np.float32) / np.float32(SR)
        fade = np.exp(-t / np.float32(self.bright_s))
        body = _wavetable(self.body[:partials])[index]
        wave = body + fade * (_wavetable(self.onset[:partials])[index] - body)
        envelope = np.minimum(t / np.float32(self.attack), 1.0) * np.exp(
            -t / np.float32(self.decay)
        )
        envelope[hold:] *= np.linspace(1.0, 0.0, tail, dtype=np.float32)
        out: np.ndarray = wave * envelope
        return out


def _voicing(top: int, root: int, intervals: tuple[int, ...], spread: bool) -> list[int]:
    """Chord tones below the tune's tonic ``top``: close position, or spread over two
    octaves (every other tone an octave up, as in four-part writing); none below G2."""
    base = top - 12 + root - 12 * int(spread)
    chord = [base + i + 12 * (spread and k % 2 == 1) for k, i in enumerate(intervals)]
    chord = [p - 12 if p >= top else p for p in chord]
    return [p + 12 if p < _LOWEST_CHORD else p for p in chord]


def _segment_notes(
    rng: np.random.Generator, valence: float, arousal: float, seconds: float
) -> tuple[int, bool, list[tuple[int, int, float, float, float]]]:
    """Melody, chords and bass for one emotion: tonic pitch class, whether major, and
    ``(voice, pitch, start, length, amp)`` per note.

    Valence: the mode (major with probability ``sigmoid(20 v)``: nearly always major above
    ``v = 0.15``, minor below ``-0.15``) and harmonic tension (below ``v = 0.2``:
    sevenths, diminished chords, added seconds). Arousal: tempo (60..180 BPM), notes per
    beat and articulation (legato to staccato). Key, register (the tune's tonic MIDI
    48..83, the bass two or three octaves below it but not below E1), texture (block, arpeggiated or
    held chords, close or spread) and chord rhythm are drawn independently of the emotion.
    """
    major = _is_major(rng, valence * _MODE_SLOPE / 6)
    scale = MAJOR if major else MINOR
    tension = float(np.clip((0.2 - valence) / 1.2, 0.0, 1.0))
    trng = np.random.default_rng(rng.integers(0, 2**63))  # tension: its own stream
    beat = 60.0 / (60.0 * 3.0 ** ((arousal + 1) / 2) * float(np.exp(rng.normal(0, 0.06))))
    level = arousal + rng.normal(0, 0.1)
    sub = 1 if level < -0.33 else 2 if level < 0.33 else 4
    melody_sub = sub
    legato = float(np.clip(1.1 - 0.4 * (arousal + 1) + rng.normal(0, 0.05), 0.25, 1.1))
    tonic = int(rng.integers(0, 12))
    top = tonic + 12 * int(rng.integers(4, 7))  # the tune's tonic: MIDI 48..83
    bass_drop = 12 * int(rng.integers(2, 4))
    texture = str(rng.choice(("block", "arpeggio", "held")))
    spread = bool(rng.random() < 0.5)
    chord_beats = int(rng.choice((1, 2)))
    progression = _EMOTION_PROGRESSIONS[major][int(rng.integers(6))]
    notes: list[tuple[int, int, float, float, float]] = []
    degree = int(rng.integers(0, 5))
    for c, start in enumerate(np.arange(0.0, seconds, beat * chord_beats)):
        root, intervals = _tense(progression[c % 4], trng, tension)
        span = beat * chord_beats
        chord = _voicing(top, root, intervals, spread)
        bass = top - bass_drop + root - 12 * int(root > 6)
        bass += 12 * max(0, -(-(_LOWEST_BASS - bass) // 12))  # not below E1
        notes.append((1, bass, start, span * legato, 0.8))
        if texture == "held":
            notes += [(1, p, start, span * max(legato, 0.9), 0.5) for p in chord]
        else:
            for slot, t in enumerate(np.arange(start, start + span - 1e-9, beat / sub)):
                picked = chord if texture == "block" else [chord[slot % len(chord)]]
                notes += [(1, p, t, beat / sub * legato, 0.5) for p in picked]
        for t in np.arange(start, start + span - 1e-9, beat / melody_sub):
            degree = int(np.clip(degree + rng.integers(-2, 3), -2, 9))
            pitch = top + 12 * (degree // 7) + scale[degree % 7]
            if t == start:  # a chord tone where the chord changes
                pitch = min(chord, key=lambda p: abs((p - pitch) % 12))
                pitch += 12 * round((top + 7 - pitch) / 12)
            notes.append((0, pitch, t, beat / melody_sub * legato, 1.0))
    return tonic, major, [n for n in notes if n[2] < seconds]


def flip_mode(pitches: Sequence[int], tonic: int, major: bool) -> list[int]:
    """The parallel mode's pitches: major's 3rd and 6th degrees a semitone down, or
    (from harmonic minor) up; the leading tone stays."""
    if major:
        return [p - int((p - tonic) % 12 in (4, 9)) for p in pitches]
    return [p + int((p - tonic) % 12 in (3, 8)) for p in pitches]


def _room(dry: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Add a random room: exponentially decaying noise as the impulse response (RT60
    0.3..2 s), mixed in at a random level (dry only up to a reverb louder than the dry
    sound), as a GM synth's reverb or a hall does. Drawn apart from the emotion."""
    rt60 = float(rng.uniform(0.3, 2.0))
    wet = float(rng.uniform(0.0, 1.2))
    t = np.arange(int(rt60 * SR)) / SR
    response = rng.normal(size=len(t)) * np.exp(-6.9 * t / rt60)
    response /= np.sqrt(np.sum(response**2))
    size = 1 << int(np.ceil(np.log2(len(dry) + len(response))))
    tail = np.fft.irfft(np.fft.rfft(dry, size) * np.fft.rfft(response, size), size)
    out: np.ndarray = (dry + wet * tail[: len(dry)]).astype(np.float32)
    return out


def _render_segment(
    rng: np.random.Generator, valence: float, arousal: float, seconds: float, *, flip: bool
) -> np.ndarray:
    """Render one segment, levelled, then scaled by a random gain.

    ``flip``: the same notes (timbres, gain) with the mode flipped (:func:`flip_mode`).
    """
    n = int(seconds * SR)
    out = np.zeros(n + 2 * SR, dtype=np.float32)
    voices = (_Timbre(rng), _Timbre(rng))
    balance = (1.0, float(10 ** (rng.uniform(-9, 0) / 20)))
    cache: dict[tuple[int, int, int], np.ndarray] = {}
    tonic, major, notes = _segment_notes(rng, valence, arousal, seconds)
    if flip:
        flipped = flip_mode([nt[1] for nt in notes], tonic, major)
        notes = [(v, p, s, d, a) for (v, _, s, d, a), p in zip(notes, flipped, strict=True)]
    for voice, pitch, start, length, amp in notes:
        key = (voice, pitch, int(length * 200))
        if key not in cache:
            cache[key] = voices[voice].tone(pitch, max(key[2], 1) / 200)
        wave = cache[key]
        first = int(start * SR)
        gain = amp * balance[voice] * float(np.exp(rng.normal(0, 0.15)))
        out[first : first + len(wave)] += np.float32(gain) * wave[: len(out) - first]
    clip = _room(out, rng)[:n]
    rms = float(np.sqrt(np.mean(clip.astype(np.float64) ** 2)))
    levelled = clip * np.float32(_LEVEL_RMS / max(rms, 1e-9))
    return apply_gain(levelled, random_gain_db(rng, EMOTION_GAIN_DB))


_MODE_PAIRS: Final = 0.5
"""Share of two-segment items whose second half repeats the first in the other mode."""


def _emotion_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """One or two emotion segments of audio; window means of log-mel -> emotion codes.

    Half the items have two segments; in half of those (:data:`_MODE_PAIRS`) the second
    is the first's notes, timbres and gain in the parallel mode, labelled with the
    opposite valence and the same arousal: the only difference the model can hear is
    the mode.
    """
    per = frames_per_window(DEFAULT_LOG_MEL, 0.5)
    labels = _segments(rng, steps, steps if rng.random() < 0.5 else -(-steps // 2))
    change = int(np.argmax(np.any(labels != labels[0], axis=1))) or steps
    bounds = [0, change, steps] if change < steps else [0, steps]
    paired = change < steps and rng.random() < _MODE_PAIRS
    seeds = rng.integers(0, 2**63, size=2)
    if paired:
        labels[change:] = (-labels[0, 0], labels[0, 1])
        seeds[1] = seeds[0]
    first = (float(labels[0, 0]), float(labels[0, 1]))
    audio = np.concatenate(
        [
            _render_segment(
                np.random.default_rng(seeds[k]),
                *(first if paired else (float(labels[a, 0]), float(labels[a, 1]))),
                (b - a) * 0.5,
                flip=paired and k == 1,
            )
            for k, (a, b) in enumerate(itertools.pairwise(bounds))
        ]
        + [np.zeros(DEFAULT_LOG_MEL.n_fft, dtype=np.float32)]
    )
    windows = window_means(offline_log_mel(audio, SR), per)[:steps]
    jitter = rng.uniform(-WINDOW_GAIN_DB, WINDOW_GAIN_DB, size=(len(windows), 1))
    return gain_log_mel(windows, jitter), encode_emotions(labels[: len(windows)])


# ----------------------------------------------------------------------------- melody
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
        scale = MAJOR if _is_major(rng, valence) else MINOR
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


def _melody_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    labels = _segments(rng, steps, PHRASE_BEATS)
    notes = _melody_notes(rng, labels)
    bounds = np.arange(steps + 1) * 0.5
    table = np.array([n[:3] for n in notes], dtype=np.float64).reshape(len(notes), 3)
    sounding = sounding_multihot(table[:, 0].astype(np.intp), table[:, 1], table[:, 2], bounds)
    return melody_contexts(coarse_emotions(labels), np.arange(steps) % 4, sounding), sounding


# ----------------------------------------------------------------------------- harmony
_MAJOR_PROGRESSIONS: Final = (
    ("I", "V", "vi", "IV"), ("I", "IV", "V", "I"), ("I", "vi", "IV", "V"),
    ("ii", "V", "I", "I"), ("I", "iii", "IV", "V"), ("IV", "I", "V", "vi"),
)  # fmt: skip
_MINOR_PROGRESSIONS: Final = (
    ("i", "iv", "V", "i"), ("i", "VI", "III", "VII"), ("i", "iv", "VII", "III"),
    ("i", "VI", "iv", "V"), ("i", "iio", "V", "i"), ("i", "VII", "VI", "V"),
)  # fmt: skip


def _harmony_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A progression in C major or C minor (key-relative chord classes).

    Valence: the mode (major with probability ``sigmoid(6 v)``) and harmonic tension
    (below ``v = 0.2`` dominant sevenths, ii7 / half-diminished ii and iv7 grow likelier,
    and V may become the leading-tone diminished seventh). Arousal: harmonic rhythm
    (chords held two steps when calm).
    """
    valence, arousal = rng.uniform(-1, 1, size=2)
    major = _is_major(rng, float(valence))
    key = "C" if major else "c"
    table = _MAJOR_PROGRESSIONS if major else _MINOR_PROGRESSIONS
    tension = float(np.clip((0.2 - valence) / 1.2, 0.0, 1.0))
    repeat = 2 if arousal < -0.33 else 1
    classes: list[int] = []
    while len(classes) < steps:
        for numeral in table[int(rng.integers(len(table)))]:
            if numeral in ("V", "ii", "iio", "iv") and rng.random() < 0.8 * tension:
                numeral = "viio7" if numeral == "V" and rng.random() < 0.3 else numeral + "7"
            classes.extend([reduce_roman(numeral, key)] * repeat)
    example = progression_example(
        classes[:steps], float(valence), float(arousal), source="synthetic", split="train"
    )
    return example.inputs, example.targets


# ----------------------------------------------------------------------------- dynamics
def _dynamics_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Piano notes in C (major when valence > 0, else harmonic minor), one beat at a time.

    Arousal sets notes per beat, loudness, legato and push; the register (the mean pitch)
    is drawn per 8-beat segment independently of the emotion. Vectorised over notes.
    """
    labels = _segments(rng, steps, 8)
    beat = 0.5
    valence, arousal = labels[:, 0], labels[:, 1]
    count = np.clip(np.round(1 + 2.5 * (arousal + 1) + rng.normal(0, 0.5, steps)), 1, 8).astype(
        np.intp
    )
    level = 40 + 35 * (arousal + 1) + rng.normal(0, 4, steps)
    legato = 1.1 - 0.35 * (arousal + 1)
    lag = 0.15 * (0.0 - arousal) / 4  # laid back when calm, pushing when excited
    register = np.repeat(rng.integers(52, 72, size=-(-steps // 8)), 8)[:steps]
    b = np.repeat(np.arange(steps), count)  # beat of each note
    k = np.arange(len(b)) - np.repeat(np.cumsum(count) - count, count)  # index in its beat
    position = k / count[b]
    downbeat = (k == 0) & (b % 4 == 0)
    accent = np.where(downbeat, 1 + 0.3 * (arousal[b] + 1), 1.0)
    velocity = np.clip(level[b] * accent + rng.normal(0, 5, len(b)), 1, 127).astype(np.intp)
    start = np.maximum((b + position + lag[b] / 4 + rng.normal(0, 0.01, len(b))) * beat, 0.0)
    end = start + beat / count[b] * legato[b]
    scale = np.where(valence[b, None] > 0, np.array(MAJOR), np.array(MINOR))
    degree = rng.integers(0, 7, size=len(b))
    pitch = register[b] + scale[np.arange(len(b)), degree] - 12 * (rng.random(len(b)) < 0.3)
    notes = list(zip(pitch.tolist(), start.tolist(), end.tolist(), velocity.tolist(), strict=True))
    pedal_down = (arousal < 0.0) & (rng.random(steps) < 0.8)
    soft_down = (arousal < -0.5) & (valence < 0)
    times = (np.arange(steps) * beat + 0.01).tolist()
    sustain = pedal_intervals(list(zip(times, (100 * pedal_down).tolist(), strict=True)))
    soft = pedal_intervals(list(zip(times, (100 * soft_down).tolist(), strict=True)))
    bounds = np.arange(steps + 1) * beat
    targets = expressions_for_beats(notes, bounds, sustain=sustain, soft=soft)
    sounding = sounding_multihot(pitch, start, end, bounds)
    profiles = (sounding @ _PITCH_CLASS_FOLD > 0).astype(np.float32)
    one_hot = np.eye(4, dtype=np.float32)[np.arange(steps) % 4]
    return np.concatenate([coarse_emotions(labels), one_hot, profiles], axis=1), targets


def sounding_multihot(
    pitch: np.ndarray, start: np.ndarray, end: np.ndarray, bounds: np.ndarray
) -> np.ndarray:
    """Vectorised :func:`~kelly_core.encodings.melody.notes_to_multihot` (same result).

    A note marks its pitch in every beat it overlaps by more than 1 ms.
    """
    beats = len(bounds) - 1
    out = np.zeros((beats, 128), dtype=np.float32)
    pitch = np.asarray(pitch, dtype=np.intp)
    ok = (pitch >= 0) & (pitch < 128) & (end > start)
    pitch, start, end = pitch[ok], start[ok], end[ok]
    first = np.searchsorted(bounds[1:], start, side="right")
    last = np.minimum(np.searchsorted(bounds[:-1], end, side="left"), beats)
    spans = np.maximum(last - first, 0)
    row = np.repeat(np.arange(len(pitch)), spans)
    beat = first[row] + np.arange(len(row)) - np.repeat(np.cumsum(spans) - spans, spans)
    overlap = np.minimum(end[row], bounds[beat + 1]) - np.maximum(start[row], bounds[beat])
    keep = overlap > 1e-3
    out[beat[keep], pitch[row][keep]] = 1.0
    return out


_PITCH_CLASS_FOLD: Final = (np.arange(128)[:, None] % 12 == np.arange(12)[None, :]).astype(
    np.float32
)


# ----------------------------------------------------------------------------- groove
def _pattern(arousal: float, rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """(step, Roland pitch, relative velocity) of one bar."""
    hits: list[tuple[int, int, float]] = []
    if arousal < -0.33:
        hats, kicks, snares = range(0, 16, 4), [0], [8]
    elif arousal < 0.33:
        hats, kicks, snares = (
            range(0, 16, 2),
            [0, 8] + ([10] if rng.random() < 0.5 else []),
            [4, 12],
        )
    else:
        hats = range(16)
        kicks = [0, 6, 8] + ([10, 14] if rng.random() < 0.6 else [11])
        snares = [4, 12] + ([15] if rng.random() < 0.5 else [])
    hits += [(s, 42, 0.55 + (0.2 if s % 4 == 0 else 0.0)) for s in hats]
    hits += [(s, 36, 0.9) for s in kicks]
    hits += [(s, 38, 1.0) for s in snares]
    if arousal > 0.5 and rng.random() < 0.5:
        hits.append((0, 49, 1.0))
    return hits


def _groove_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    labels = _segments(rng, steps, 4)
    bar = 2.0
    step_len = bar / 16
    out = []
    for b, (valence, arousal) in enumerate(labels):
        swing = max(float(valence), 0.0) * 0.35
        base = 45 + 40 * (arousal + 1)
        lag = -0.08 * arousal
        triples = []
        for step, pitch, rel in _pattern(float(arousal), rng):
            delay = swing if step % 2 == 1 else swing * 0.5 if step % 4 == 2 else 0.0
            offset = float(np.clip(delay + lag + rng.normal(0, 0.03), -0.45, 0.45))
            velocity = int(np.clip(base * rel + rng.normal(0, 4), 1, 127))
            triples.append((b * bar + (step + offset) * step_len, pitch, velocity))
        out.append(groove_from_hits(triples, b * bar, bar))
    return encode_emotions(labels), np.stack(out)


def _factory(
    model: str, kind: str, generate: Generator, default_steps: int, default_items: int = 200
) -> Callable[..., SyntheticDataset]:
    def factory(
        root: Path | None = None,
        *,
        seed: int = 0,
        items: int = default_items,
        steps: int = default_steps,
    ) -> SyntheticDataset:
        if root is not None and str(root) not in ("-", ""):
            raise DatasetError(f"synthetic-{kind} takes no root folder (use '-')", path=root)
        return SyntheticDataset(
            model, kind, generate, seed=int(seed), items=int(items), steps=int(steps)
        )

    factory.__name__ = f"synthetic_{kind}"
    factory.__doc__ = (
        f"Open ``synthetic-{kind}`` ({model}): seeded, ``items`` items of ``steps`` steps."
    )
    return factory


synthetic_emotion = _factory("EmotionRecognizer", "emotion", _emotion_item, 20, 400)
synthetic_melody = _factory("MelodyTransformer", "melody", _melody_item, 64)
synthetic_harmony = _factory("HarmonyPredictor", "harmony", _harmony_item, 32)
synthetic_dynamics = _factory("DynamicsEngine", "dynamics", _dynamics_item, 64)
synthetic_groove = _factory("GroovePredictor", "groove", _groove_item, 16)
