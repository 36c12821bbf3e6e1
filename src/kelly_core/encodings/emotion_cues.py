"""The per-window cues of the emotion frame: tempo from an onset curve, mode from chroma.

Pure functions of fixed-length histories, shared by :mod:`.emotion_frame`'s streaming
extractor (which keeps the histories) and its tests; every scale is fixed and documented
in docs/encodings.md ("Emotion frame").

- :func:`tempo_cues`: the normalised autocorrelation of the onset curve (the log-mel
  spectral flux) over the last :data:`TEMPO_HISTORY` frames, read at the lags of 40–240
  BPM: pulse clarity, the strongest tempo and a 12-bin tempogram.
- :func:`mode_cues`: evidence of major versus minor that does not depend on the key: the
  best major key's profile correlation against the best minor key's (Temperley's profiles,
  :mod:`.keyfinding`), the same for triad templates, and the chroma rotated to the running
  key's tonic.
"""

from __future__ import annotations

import functools
from typing import Final

import numpy as np

from kelly_core.encodings.keyfinding import BASS_WEIGHT, key_correlations, key_evidence

__all__ = [
    "MODE_CUES",
    "TEMPO_BINS",
    "TEMPO_HISTORY",
    "mode_cues",
    "tempo_bin_lags",
    "tempo_cues",
    "triad_correlations",
]

TEMPO_HISTORY: Final = 256
"""Onset-curve frames in the tempo autocorrelation (5.94 s at 43.07 frames per second)."""
TEMPO_BINS: Final = 12
"""Log-spaced tempo bins, centres ``40 · 6^(b / 11)`` BPM, b = 0..11 (40 .. 240 BPM)."""
_LOW_BPM: Final = 40.0
_HIGH_BPM: Final = 240.0
_REFERENCE_BPM: Final = 120.0
_TEMPO_SCALE: Final = 1.6
"""``log2(bpm / 120) / 1.6``: 40 BPM -> -0.99, 240 BPM -> 0.63."""
_TEMPO_PRIOR: Final = np.exp(
    -0.5 * (np.log2(_LOW_BPM / _REFERENCE_BPM * 6.0 ** (np.arange(TEMPO_BINS) / 11)) / 1.0) ** 2
)
"""Weight of each bin when choosing the tempo: ``exp(-log2(bpm / 120)² / 2)`` (a beat
near 120 BPM is preferred to its half or double, as listeners do)."""

MODE_CUES: Final = (
    "key_major",
    "key_minor",
    "key_mode",
    "key_clarity",
    "window_key_major",
    "window_key_minor",
    "window_key_mode",
    "triad_major",
    "triad_minor",
    "triad_mode",
    "window_triad_major",
    "window_triad_minor",
    "window_triad_mode",
    "window_diminished",
    "window_augmented",
    "window_dominant",
    "harmonic_change",
    "concentration",
    "bass_mode",
    "tonic_mode",
)
"""Names of :func:`mode_cues`' scalar values, in order."""

# triad and seventh-chord shapes above the root (pitch classes)
_SHAPES: Final = {
    "major": (0, 4, 7),
    "minor": (0, 3, 7),
    "diminished": (0, 3, 6),
    "augmented": (0, 4, 8),
    "dominant": (0, 4, 7, 10),
}


@functools.lru_cache(maxsize=4)
def tempo_bin_lags(fps: float) -> tuple[tuple[int, ...], ...]:
    """The integer autocorrelation lags (frames) of each tempo bin at ``fps`` frames/s.

    Bin ``b`` holds the lags whose tempo ``60 · fps / lag`` lies within half a bin
    (``6^(±1/22)``) of its centre; a bin with no such lag takes the lag nearest its centre.
    """
    step = np.log(_HIGH_BPM / _LOW_BPM) / (TEMPO_BINS - 1)
    out: list[tuple[int, ...]] = []
    for b in range(TEMPO_BINS):
        centre = _LOW_BPM * np.exp(step * b)
        lo, hi = centre * np.exp(-step / 2), centre * np.exp(step / 2)
        lags = tuple(
            lag
            for lag in range(int(60 * fps / hi), int(60 * fps / lo) + 2)
            if lo <= 60 * fps / lag < hi
        )
        out.append(lags or (round(60 * fps / centre),))
    return tuple(out)


def tempo_cues(flux: object, fps: float) -> np.ndarray:
    """Pulse clarity, tempo and tempogram of an onset curve: ``(2 + TEMPO_BINS,)`` float64.

    ``r(l) = Σ x_i x_{i-l} / Σ x_i²`` over the curve ``x`` with its mean removed (at most
    :data:`TEMPO_HISTORY` frames). Tempogram bin ``b``: the largest ``r`` of its lags
    (:func:`tempo_bin_lags`), in [-1, 1]. Pulse clarity: the largest bin, clipped to
    [0, 1]. Tempo: ``log2(bpm / 120) / 1.6`` of the lag of the bin whose value times
    ``exp(-log2(bpm / 120)² / 2)`` is largest (0 when the curve is constant: silence, a
    held chord).
    """
    x = np.asarray(flux, dtype=np.float64)[-TEMPO_HISTORY:]
    x = x - x.mean() if x.size else x
    energy = float(x @ x)
    out = np.zeros(2 + TEMPO_BINS)
    if energy <= 1e-12:
        return out
    bins = tempo_bin_lags(fps)
    best_score, best_lag = -np.inf, 0
    for b, lags in enumerate(bins):
        values = [float(x[lag:] @ x[:-lag]) / energy if lag < x.size else 0.0 for lag in lags]
        k = int(np.argmax(values))
        out[2 + b] = values[k]
        score = values[k] * _TEMPO_PRIOR[b]
        if score > best_score:
            best_score, best_lag = score, lags[k]
    out[0] = min(max(float(out[2:].max()), 0.0), 1.0)
    out[1] = np.log2(60.0 * fps / best_lag / _REFERENCE_BPM) / _TEMPO_SCALE
    return out


@functools.lru_cache(maxsize=1)
def _shape_templates() -> dict[str, np.ndarray]:
    """Centred, unit-norm templates of each shape at the 12 roots: ``(12, 12)`` each."""
    out: dict[str, np.ndarray] = {}
    for name, shape in _SHAPES.items():
        rows = np.zeros((12, 12))
        for root in range(12):
            rows[root, [(root + i) % 12 for i in shape]] = 1.0
        rows -= rows.mean(axis=1, keepdims=True)
        rows /= np.linalg.norm(rows, axis=1, keepdims=True)
        rows.setflags(write=False)
        out[name] = rows
    return out


def triad_correlations(chroma: object) -> dict[str, float]:
    """The best Pearson correlation of a ``(12,)`` chroma with each chord shape over the
    12 roots (major, minor, diminished, augmented, dominant seventh); 0 for a constant
    chroma."""
    array = np.asarray(chroma, dtype=np.float64)
    centred = array - array.mean()
    norm = float(np.linalg.norm(centred))
    if norm <= 1e-12:
        return dict.fromkeys(_SHAPES, 0.0)
    unit = centred / norm
    return {name: float(np.max(rows @ unit)) for name, rows in _shape_templates().items()}


def _cosine(a: np.ndarray, b: np.ndarray) -> float:
    norm = float(np.linalg.norm(a) * np.linalg.norm(b))
    return float(a @ b) / norm if norm > 1e-12 else 0.0


def _unit_max(vector: np.ndarray) -> np.ndarray:
    peak = float(vector.max())
    return vector / peak if peak > 1e-12 else np.zeros_like(vector)


def mode_cues(
    running: object, window: object, previous: object
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mode evidence of a running chroma and a window's chroma.

    :param running: ``(24,)`` running chroma and bass (a decaying sum of chroma frames).
    :param window: ``(12,)`` mean chroma of the window's frames (zeros when none).
    :param previous: ``(12,)`` the previous window's mean chroma.
    :returns: ``(cues, running_rotated, window_rotated)``: the :data:`MODE_CUES` values
        (``(20,)``), then the running chroma and the window chroma, each divided by its
        largest value (so in [0, 1]) and rotated so index 0 is the running key's tonic.
    """
    run = np.asarray(running, dtype=np.float64)
    win = np.asarray(window, dtype=np.float64)
    prev = np.asarray(previous, dtype=np.float64)
    evidence = key_evidence(run) / (1.0 + BASS_WEIGHT)  # [-1, 1]
    order = np.argsort(-evidence, kind="stable")
    tonic = int(order[0]) % 12
    window_keys = key_correlations(win)
    run_triads = triad_correlations(run[:12])
    win_triads = triad_correlations(win)
    bass = key_correlations(run[12:])
    peak = float(win.max())
    cues = np.array(
        [
            evidence[:12].max(),
            evidence[12:].max(),
            evidence[:12].max() - evidence[12:].max(),
            evidence[order[0]] - evidence[order[1]],
            window_keys[:12].max(),
            window_keys[12:].max(),
            window_keys[:12].max() - window_keys[12:].max(),
            run_triads["major"],
            run_triads["minor"],
            run_triads["major"] - run_triads["minor"],
            win_triads["major"],
            win_triads["minor"],
            win_triads["major"] - win_triads["minor"],
            win_triads["diminished"],
            win_triads["augmented"],
            win_triads["dominant"],
            1.0 - _cosine(win, prev) if peak > 1e-12 and prev.max() > 1e-12 else 0.0,
            1.0 - float(win.mean()) / peak if peak > 1e-12 else 0.0,
            bass[:12].max() - bass[12:].max(),
            evidence[tonic] - evidence[12 + tonic],
        ]
    )
    rotated_run = np.roll(_unit_max(run[:12]), -tonic)
    rotated_win = np.roll(_unit_max(win), -tonic)
    return cues, rotated_run, rotated_win
