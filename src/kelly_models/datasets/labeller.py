"""A documented labeller: symbolic music -> (valence, arousal) in [-1, 1]².

Symbolic datasets have no emotion labels, so Kelly derives them from musical features
(the standard correlates in music-psychology: mode ↔ valence, tempo/loudness/density ↔
arousal). For a span of music (a sliding window of beats, or a whole piece):

- ``mode = r_major − r_minor``: the best Pearson correlation of the duration-weighted
  pitch-class histogram with the 12 rotations of the Krumhansl–Kessler major profile,
  minus the best with the minor profile (typically ±0.3). 0 when there are no pitched
  notes (drums).
- ``tempo = clip((bpm − 110) / 50, −1, 1)``.
- ``density = clip((log2(onsets per second) − 2) / 2, −1, 1)`` (4 onsets/s → 0).
- ``loudness = clip((mean velocity − 80) / 40, −1, 1)``.

Then ``valence = clip(0.8 · tanh(mode / 0.1) + 0.2 · tempo, −1, 1)`` and
``arousal = clip(0.4 · tempo + 0.35 · density + 0.25 · loudness, −1, 1)``.
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
    "beat_emotions",
    "emotion_from_features",
    "mode_score",
    "piece_emotion",
]

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
    mode: np.ndarray, bpm: np.ndarray, onsets_per_s: np.ndarray, mean_velocity: np.ndarray
) -> np.ndarray:
    """Apply the documented formula; all arguments broadcast; returns ``(..., 2)`` float64."""
    tempo = np.clip((np.asarray(bpm, dtype=np.float64) - 110.0) / 50.0, -1, 1)
    density = np.clip((np.log2(np.maximum(onsets_per_s, 1e-3)) - 2.0) / 2.0, -1, 1)
    loudness = np.clip((np.asarray(mean_velocity, dtype=np.float64) - 80.0) / 40.0, -1, 1)
    valence = np.clip(0.8 * np.tanh(np.asarray(mode) / 0.1) + 0.2 * tempo, -1, 1)
    arousal = np.clip(0.4 * tempo + 0.35 * density + 0.25 * loudness, -1, 1)
    result: np.ndarray = np.stack(np.broadcast_arrays(valence, arousal), axis=-1)
    return result


def _per_beat_stats(
    notes: Sequence[tuple[int, float, float, int]], bounds: np.ndarray, pitched: bool
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
    notes: Sequence[tuple[int, float, float, int]],
    beat_bounds: object,
    *,
    window_beats: int = 16,
    pitched: bool = True,
    beats_per_step: float = 1.0,
) -> FloatArray:
    """Label each beat from a window of ``window_beats`` beats centred on it.

    :param notes: ``(pitch, start_s, end_s, velocity)``; pitched notes, or drum hits with
        ``pitched=False`` (then the mode term is 0).
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

    lengths = smooth(np.diff(bounds)[:, None])[:, 0]
    counts = smooth(onsets[:, None])[:, 0]
    vel_sum = smooth(velocity[:, None])[:, 0]
    mode = mode_score(smooth(hist)) if pitched else np.zeros(beats)
    bpm = 60.0 * beats_per_step * smooth(np.ones((beats, 1)))[:, 0] / np.maximum(lengths, 1e-6)
    mean_vel = np.where(counts > 0, vel_sum / np.maximum(counts, 1), 80.0)
    return as_float32(emotion_from_features(mode, bpm, counts / lengths, mean_vel))


def piece_emotion(
    notes: Sequence[tuple[int, float, float, int]], bpm: float, duration_s: float
) -> tuple[float, float]:
    """Label a whole piece (or any span) of pitched notes at tempo ``bpm``."""
    hist = np.zeros((1, 12))
    for pitch, start, end, _ in notes:
        hist[0, pitch % 12] += max(end - start, 0.0)
    mean_vel = float(np.mean([n[3] for n in notes])) if notes else 80.0
    result = emotion_from_features(
        mode_score(hist), np.array([bpm]), np.array([len(notes) / max(duration_s, 1e-6)]),
        np.array([mean_vel]),
    )[0]  # fmt: skip
    return float(result[0]), float(result[1])
