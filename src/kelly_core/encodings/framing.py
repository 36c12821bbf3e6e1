"""Framing shared by the audio front ends (log-mel, chroma, onsets).

Every front end cuts the audio the same way: frame ``k`` covers samples ``[k·hop, k·hop +
n_fft)`` (no centring, so a stream never needs future samples), weighted by a periodic
Hann window; a frame's time is its window's centre.
"""

from __future__ import annotations

import functools

import numpy as np

__all__ = ["frame_centres", "hann_window"]


@functools.lru_cache(maxsize=8)
def hann_window(n_fft: int) -> np.ndarray:
    """The periodic Hann window of ``n_fft`` samples (read-only, cached)."""
    n = np.arange(n_fft)
    window = 0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft)
    window.setflags(write=False)
    return window


def frame_centres(frames: object, *, n_fft: int, hop: int, sr: int) -> np.ndarray:
    """Seconds at the centre of frames ``frames`` (indices): ``(k·hop + n_fft / 2) / sr``."""
    seconds: np.ndarray = (np.asarray(frames, dtype=np.float64) * hop + n_fft / 2) / sr
    return seconds
