"""Synthetic audio for the EmotionRecognizer: melody, chords and bass from a progression
of the mode, a small additive synth, a random room and level, then the emotion frames
(:mod:`kelly_core.encodings.emotion_frame`) the runtime computes from audio.

Valence sets the mode and the harmonic tension, arousal the tempo, density and
articulation; key, register, texture, timbre, room and level are drawn apart from both
(see :mod:`kelly_models.datasets.synthetic`).
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Sequence
from typing import Final

import numpy as np

from kelly_core.encodings.emotion import encode_emotions
from kelly_core.encodings.emotion_frame import gain_emotion_frames, offline_emotion_frames
from kelly_core.encodings.logmel import DEFAULT_LOG_MEL
from kelly_models.datasets.augment import apply_gain, random_gain_db
from kelly_models.datasets.synthetic.common import MAJOR, MINOR, SR, is_major, segments

__all__ = ["EMOTION_GAIN_DB", "WINDOW_GAIN_DB", "emotion_item", "flip_mode"]

EMOTION_GAIN_DB: Final = 15.0
"""Each synthetic emotion segment is scaled by a gain uniform in ±15 dB (after levelling)."""
_LEVEL_RMS: Final = 0.1  # every segment is levelled to -20 dBFS RMS before its random gain
_TABLE_SIZE: Final = 4096
_LOWEST_BASS: Final = 28  # E1, about the lowest note of a GM bass or piano part
_LOWEST_CHORD: Final = 43  # G2: chord tones below it sound an octave up
_MODE_SLOPE: Final = 20.0  # major with probability sigmoid(_MODE_SLOPE * valence)
WINDOW_GAIN_DB: Final = 6.0
"""On top of its segment's gain, each 0.5 s window's frame gets a gain in ±6 dB
(:func:`~kelly_core.encodings.emotion_frame.gain_emotion_frames`: its level column)."""
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
    major = is_major(rng, valence * _MODE_SLOPE / 6)
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


def emotion_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """One or two emotion segments of audio; its emotion frames -> emotion codes.

    Half the items have two segments; in half of those (:data:`_MODE_PAIRS`) the second
    is the first's notes, timbres and gain in the parallel mode, labelled with the
    opposite valence and the same arousal: the only difference the model can hear is
    the mode.
    """
    labels = segments(rng, steps, steps if rng.random() < 0.5 else -(-steps // 2))
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
    windows = offline_emotion_frames(audio, SR)[:steps]
    jitter = rng.uniform(-WINDOW_GAIN_DB, WINDOW_GAIN_DB, size=(len(windows), 1))
    return gain_emotion_frames(windows, jitter), encode_emotions(labels[: len(windows)])
