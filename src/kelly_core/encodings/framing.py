"""Framing shared by the audio front ends (log-mel, chroma, onsets).

Every front end cuts the audio the same way: frame ``k`` covers samples ``[k·hop, k·hop +
n_fft)`` (no centring, so a stream never needs future samples), weighted by a periodic
Hann window; a frame's time is its window's centre.
"""

from __future__ import annotations

import functools

import numpy as np

from kelly_core.arrays import check_shape

__all__ = ["FrameBuffer", "frame_centres", "hann_window", "offline_frames"]


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


class FrameBuffer:
    """The streaming side of the framing: push samples, get the frames they complete.

    Holds at most ``n_fft + hop`` samples between pushes; the frames are the same,
    whatever the chunking, as the offline ``sliding_window_view(audio, n_fft)[::hop]``.
    """

    def __init__(self, n_fft: int, hop: int) -> None:
        self.n_fft = n_fft
        self.hop = hop
        self._buffer = np.zeros(0, dtype=np.float64)

    def push(self, samples: object) -> np.ndarray:
        """Append ``(n,)`` samples; return the ``(k, n_fft)`` frames completed by them."""
        chunk = np.asarray(samples, dtype=np.float64)
        check_shape(chunk, (None,), name="samples")
        self._buffer = np.concatenate([self._buffer, chunk])
        if self._buffer.shape[0] < self.n_fft:
            return np.zeros((0, self.n_fft), dtype=np.float64)
        count = 1 + (self._buffer.shape[0] - self.n_fft) // self.hop
        windows = np.lib.stride_tricks.sliding_window_view(self._buffer, self.n_fft)
        frames: np.ndarray = windows[:: self.hop][:count].copy()
        self._buffer = self._buffer[count * self.hop :]
        return frames

    def reset(self) -> None:
        """Forget buffered samples (start a new stream)."""
        self._buffer = np.zeros(0, dtype=np.float64)


def offline_frames(audio: object, sr: int, *, expected_sr: int, n_fft: int, hop: int) -> np.ndarray:
    """All ``(k, n_fft)`` frames of a mono clip (a read-only view), ``k = 1 + (N - n_fft) //
    hop``, 0 when the clip is shorter than one window.

    :param audio: ``(N,)`` samples in [-1, 1].
    :raises ValueError: If ``sr`` is not ``expected_sr`` (resample first).
    """
    if sr != expected_sr:
        raise ValueError(f"expected audio at {expected_sr} Hz, got {sr} Hz; resample first")
    samples = np.asarray(audio, dtype=np.float64)
    check_shape(samples, (None,), name="audio")
    if samples.shape[0] < n_fft:
        return np.zeros((0, n_fft), dtype=np.float64)
    frames: np.ndarray = np.lib.stride_tricks.sliding_window_view(samples, n_fft)[::hop]
    return frames
