"""A documented labeller: symbolic music -> (valence, arousal) in [-1, 1]².

Symbolic datasets have no emotion labels, so Kelly derives them from musical features
(the standard correlates in music-psychology: mode and harmonic tension ↔ valence;
tempo, onset density, articulation and loudness ↔ arousal). For a span of music (a
sliding window of beats, or a whole piece):

- ``mode = r_major − r_minor``: the best Pearson correlation of the duration-weighted
  pitch-class histogram with the 12 rotations of the Krumhansl–Kessler major profile,
  minus the best with the minor profile (typically ±0.3). 0 when there are no pitched
  notes (drums).
- ``tension = clip(dissonance / 0.3, 0, 1)``: ``dissonance`` is the share of the time two
  pitched notes sound together (summed over pairs of notes, weighted by their overlap)
  spent a semitone, a major seventh or a tritone apart (interval class 1 or 6, any
  octave). A triad has 0, a dominant seventh chord 1/6, a tone cluster more than 1/3;
  0 when nothing sounds together (a single line, drums).
- ``tempo = clip((bpm − 110) / 50, −1, 1)``.
- ``density = clip((log2(onsets per second) − 2) / 2, −1, 1)`` (4 onsets/s → 0).
- ``articulation = clip((0.75 − legato) / 0.5, −1, 1)``: ``legato`` is the mean, over the
  pitched notes followed by another onset, of the note's sounding duration over the time
  to the next onset, each capped at 1 (1 legato → −0.5; 0.25, staccato → +1); 0.75 (a
  term of 0) when no note is followed by an onset (drums).
- ``loudness = clip((mean velocity − 80) / 40, −1, 1)``.

Then ``valence = clip(0.8 · tanh(mode / 0.1) − 0.2 · tension + 0.2 · tempo, −1, 1)`` and
``arousal = clip(0.4 · tempo + 0.35 · density + 0.15 · articulation + 0.25 · loudness,
−1, 1)``. :data:`LABELLER_VERSION` changes with the formula (caches of labels hold it).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape
from kelly_core.encodings import tonal

__all__ = [
    "KK_MAJOR",
    "KK_MINOR",
    "LABELLER_VERSION",
    "beat_emotions",
    "emotion_from_features",
    "legato_ratios",
    "mode_score",
    "piece_emotion",
    "sounding_pairs",
]

Note = tuple[int, float, float, int]
"""(MIDI pitch, start s, end s, velocity)."""
LABELLER_VERSION: Final = 2
"""1: mode, tempo, density and loudness; 2: harmonic tension and articulation added."""
TENSION_SCALE: Final = 0.3
"""The dissonant share of sounding-together time that gives full tension."""
LEGATO_NEUTRAL: Final = 0.75
"""The legato ratio whose articulation term is 0 (also used when it is unknown)."""

KK_MAJOR: Final = np.array(tonal.KK_MAJOR)
"""Krumhansl–Kessler major key profile (C major)."""
KK_MINOR: Final = np.array(tonal.KK_MINOR)
"""Krumhansl–Kessler minor key profile (C minor)."""


def _profiles(base: np.ndarray) -> np.ndarray:
    rolled = np.stack([np.roll(base, k) for k in range(12)])
    centred = rolled - rolled.mean(axis=1, keepdims=True)
    normed: np.ndarray = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    return normed


_MAJOR_ROT: Final = _profiles(KK_MAJOR)
_MINOR_ROT: Final = _profiles(KK_MINOR)


def mode_score(histograms: np.ndarray) -> np.ndarray:
    """Return ``r_major − r_minor`` per row of ``(N, 12)`` pitch-class histograms (0 if empty)."""
    hist = np.asarray(histograms, dtype=np.float64)
    centred = hist - hist.mean(axis=1, keepdims=True)
    norm = np.linalg.norm(centred, axis=1)
    safe = np.where(norm > 1e-12, norm, 1.0)
    unit = centred / safe[:, None]
    r_major = (unit @ _MAJOR_ROT.T).max(axis=1)
    r_minor = (unit @ _MINOR_ROT.T).max(axis=1)
    score: np.ndarray = np.where(norm > 1e-12, r_major - r_minor, 0.0)
    return score


def emotion_from_features(
    mode: np.ndarray,
    bpm: np.ndarray,
    onsets_per_s: np.ndarray,
    mean_velocity: np.ndarray,
    *,
    dissonance: np.ndarray | float = 0.0,
    legato: np.ndarray | float = LEGATO_NEUTRAL,
) -> np.ndarray:
    """Apply the documented formula; all arguments broadcast; returns ``(..., 2)`` float64.

    ``dissonance`` (share in [0, 1]) and ``legato`` (ratio in [0, 1]) default to the values
    whose terms are 0."""
    tempo = np.clip((np.asarray(bpm, dtype=np.float64) - 110.0) / 50.0, -1, 1)
    density = np.clip((np.log2(np.maximum(onsets_per_s, 1e-3)) - 2.0) / 2.0, -1, 1)
    loudness = np.clip((np.asarray(mean_velocity, dtype=np.float64) - 80.0) / 40.0, -1, 1)
    tension = np.clip(np.asarray(dissonance, dtype=np.float64) / TENSION_SCALE, 0, 1)
    articulation = np.clip((LEGATO_NEUTRAL - np.asarray(legato, dtype=np.float64)) / 0.5, -1, 1)
    valence = np.clip(0.8 * np.tanh(np.asarray(mode) / 0.1) - 0.2 * tension + 0.2 * tempo, -1, 1)
    arousal = np.clip(0.4 * tempo + 0.35 * density + 0.15 * articulation + 0.25 * loudness, -1, 1)
    result: np.ndarray = np.stack(np.broadcast_arrays(valence, arousal), axis=-1)
    return result


def _pitched_arrays(notes: Sequence[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pitches, starts and ends, sorted by start."""
    if not notes:
        empty = np.zeros(0)
        return empty.astype(np.int64), empty, empty
    table = np.array([(n[0], n[1], max(n[2], n[1])) for n in notes], dtype=np.float64)
    table = table[np.argsort(table[:, 1], kind="stable")]
    return table[:, 0].astype(np.int64), table[:, 1], table[:, 2]


def sounding_pairs(notes: Sequence[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of notes sounding together: ``(start of the overlap s, overlap s,
    dissonant)`` (dissonant: interval class 1 or 6, a semitone, major 7th or tritone)."""
    pitch, start, end = _pitched_arrays(notes)
    at, length, clash = [], [], []
    for i in range(len(start)):
        last = int(np.searchsorted(start, end[i], side="left"))
        if last <= i + 1:
            continue
        j = np.arange(i + 1, last)
        overlap = np.minimum(end[i], end[j]) - start[j]
        steps = np.abs(pitch[j] - pitch[i]) % 12
        keep = overlap > 1e-9  # not notes that only touch, up to rounding
        at.append(start[j][keep])
        length.append(overlap[keep])
        clash.append(np.isin(np.minimum(steps, 12 - steps), (1, 6))[keep])
    if not at:
        return np.zeros(0), np.zeros(0), np.zeros(0, dtype=bool)
    return np.concatenate(at), np.concatenate(length), np.concatenate(clash)


def legato_ratios(notes: Sequence[Note]) -> tuple[np.ndarray, np.ndarray]:
    """``(start s, ratio)`` of every note followed by an onset: its sounding duration over
    the time to the next onset (of any note), capped at 1."""
    _, start, end = _pitched_arrays(notes)
    onsets = np.unique(start)
    following = np.searchsorted(onsets, start, side="right")
    has_next = following < len(onsets)
    gap = onsets[following[has_next]] - start[has_next]
    ratio = np.minimum((end - start)[has_next] / np.maximum(gap, 1e-9), 1.0)
    return start[has_next], ratio


def _per_beat_stats(
    notes: Sequence[Note], bounds: np.ndarray, pitched: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    beats = len(bounds) - 1
    hist = np.zeros((beats, 12))
    onsets = np.zeros(beats)
    velocity = np.zeros(beats)
    for pitch, start, end, vel in notes:
        b = int(np.searchsorted(bounds, start, side="right")) - 1
        if 0 <= b < beats:
            onsets[b] += 1
            velocity[b] += vel
            if pitched:
                hist[b, pitch % 12] += max(end - start, 0.0)
    return hist, onsets, velocity


def beat_emotions(
    notes: Sequence[Note],
    beat_bounds: object,
    *,
    window_beats: int = 16,
    pitched: bool = True,
    beats_per_step: float = 1.0,
) -> FloatArray:
    """Label each beat from a window of ``window_beats`` beats centred on it.

    :param notes: ``(pitch, start_s, end_s, velocity)``; pitched notes, or drum hits with
        ``pitched=False`` (then the mode, tension and articulation terms are 0).
    :param beat_bounds: ``(B + 1,)`` step boundaries in seconds (beats, or bars with
        ``beats_per_step=4``).
    :param window_beats: Window length in steps.
    :returns: ``(B, 2)`` float32 (valence, arousal) in [-1, 1].
    """
    bounds = np.asarray(beat_bounds, dtype=np.float64)
    check_shape(bounds, (None,), name="beat_bounds")
    beats = max(len(bounds) - 1, 0)
    if beats == 0:
        return np.zeros((0, 2), dtype=np.float32)
    hist, onsets, velocity = _per_beat_stats(notes, bounds, pitched)
    kernel = np.ones(min(max(int(window_beats), 1), beats))

    def smooth(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = np.apply_along_axis(lambda c: np.convolve(c, kernel, "same"), 0, x)
        return out

    def per_beat(times: np.ndarray, weights: np.ndarray) -> np.ndarray:
        b = np.searchsorted(bounds, times, side="right") - 1
        inside = (b >= 0) & (b < beats)
        summed = np.bincount(b[inside], weights=weights[inside], minlength=beats)
        return smooth(summed[:, None])[:, 0]

    lengths = smooth(np.diff(bounds)[:, None])[:, 0]
    counts = smooth(onsets[:, None])[:, 0]
    vel_sum = smooth(velocity[:, None])[:, 0]
    mode = mode_score(smooth(hist)) if pitched else np.zeros(beats)
    bpm = 60.0 * beats_per_step * smooth(np.ones((beats, 1)))[:, 0] / np.maximum(lengths, 1e-6)
    mean_vel = np.where(counts > 0, vel_sum / np.maximum(counts, 1), 80.0)
    share, ratio = np.zeros(beats), np.full(beats, LEGATO_NEUTRAL)
    if pitched:
        at, overlap, clash = sounding_pairs(notes)
        together = per_beat(at, overlap)
        clashing = per_beat(at, np.where(clash, overlap, 0.0))
        share = np.where(together > 1e-9, clashing / np.maximum(together, 1e-9), 0.0)
        starts, ratios = legato_ratios(notes)
        followed = per_beat(starts, np.ones_like(ratios))
        ratio_sum = per_beat(starts, ratios)
        ratio = np.where(followed > 0, ratio_sum / np.maximum(followed, 1), LEGATO_NEUTRAL)
    labels = emotion_from_features(
        mode, bpm, counts / lengths, mean_vel, dissonance=share, legato=ratio
    )
    return as_float32(labels)


def piece_emotion(notes: Sequence[Note], bpm: float, duration_s: float) -> tuple[float, float]:
    """Label a whole piece (or any span) of pitched notes at tempo ``bpm``."""
    hist = np.zeros((1, 12))
    for pitch, start, end, _ in notes:
        hist[0, pitch % 12] += max(end - start, 0.0)
    mean_vel = float(np.mean([n[3] for n in notes])) if notes else 80.0
    _, overlap, clash = sounding_pairs(notes)
    together = float(overlap.sum())
    share = float(overlap[clash].sum()) / together if together > 1e-9 else 0.0
    ratios = legato_ratios(notes)[1]
    ratio = float(ratios.mean()) if len(ratios) else LEGATO_NEUTRAL
    result = emotion_from_features(
        mode_score(hist), np.array([bpm]), np.array([len(notes) / max(duration_s, 1e-6)]),
        np.array([mean_vel]), dissonance=share, legato=ratio,
    )[0]  # fmt: skip
    return float(result[0]), float(result[1])
