"""Log-mel features, offline and streaming, with identical numbers (docs/encodings.md).

librosa conventions: sr 22050, n_fft 2048, hop 512, 128 Slaney-normalised mel bands
(``librosa.filters.mel(htk=False, norm="slaney")``, recomputed here in numpy and checked
against librosa in the tests, so the runtime needs no librosa), periodic Hann window,
power 2, no centring (``center=False``: frame ``k`` covers samples
``[k·hop, k·hop + n_fft)``, so a streaming extractor never needs future samples or
padding). Decibels use a fixed reference, ``10·log10(max(power, amin) / ref)`` with
``amin = 1e-8``, ``ref = 1`` (floor -80 dB); no whole-clip statistic. The fixed affine map
``(dB - db_center) / db_half_range`` with ``db_center = -20``, ``db_half_range = 60`` maps
the floor to -1 and +40 dB (a loud full-scale tone) to +1; louder bins may exceed 1.
"""

from __future__ import annotations

import functools
from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape
from kelly_core.constants import WINDOW_S
from kelly_core.encodings.framing import FrameBuffer, hann_window, offline_frames

__all__ = [
    "DEFAULT_LOG_MEL",
    "LogMelConfig",
    "StreamingLogMel",
    "WindowAverager",
    "frames_per_window",
    "mel_filterbank",
    "offline_log_mel",
    "window_means",
]


@attrs.frozen(kw_only=True)
class LogMelConfig:
    """Settings of the log-mel front end (the defaults are listed in docs/encodings.md)."""

    sr: int = 22050
    """Sample rate in Hz."""
    n_fft: int = 2048
    """FFT and window length in samples."""
    hop: int = 512
    """Hop between frames in samples."""
    n_mels: int = 128
    """Number of mel bands."""
    fmin: float = 0.0
    """Lowest mel band edge in Hz."""
    fmax: float | None = None
    """Highest band edge in Hz (None: sr / 2)."""
    amin: float = 1e-8
    """Power floor before the logarithm."""
    ref: float = 1.0
    """Fixed decibel reference power."""
    db_center: float = -20.0
    """Decibels mapped to 0."""
    db_half_range: float = 60.0
    """Decibels per unit of output."""


DEFAULT_LOG_MEL: Final = LogMelConfig()


def _hz_to_mel(hz: np.ndarray) -> np.ndarray:
    """Slaney mel scale (librosa ``htk=False``): linear below 1 kHz, log above."""
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    mels = hz / f_sp
    above = hz >= min_log_hz
    mels[above] = min_log_mel + np.log(hz[above] / min_log_hz) / logstep
    return mels


def _mel_to_hz(mels: np.ndarray) -> np.ndarray:
    f_sp = 200.0 / 3
    min_log_hz = 1000.0
    min_log_mel = min_log_hz / f_sp
    logstep = np.log(6.4) / 27.0
    hz = f_sp * mels
    above = mels >= min_log_mel
    hz[above] = min_log_hz * np.exp(logstep * (mels[above] - min_log_mel))
    return hz


@functools.lru_cache(maxsize=8)
def mel_filterbank(config: LogMelConfig = DEFAULT_LOG_MEL) -> np.ndarray:
    """Return the ``(n_mels, n_fft // 2 + 1)`` float64 Slaney filterbank (as librosa's)."""
    fmax = config.sr / 2 if config.fmax is None else config.fmax
    fft_freqs = np.fft.rfftfreq(config.n_fft, d=1.0 / config.sr)
    mel_points = np.linspace(
        _hz_to_mel(np.array([config.fmin]))[0], _hz_to_mel(np.array([fmax]))[0], config.n_mels + 2
    )
    hz_points = _mel_to_hz(mel_points)
    fdiff = np.diff(hz_points)
    ramps = hz_points[:, None] - fft_freqs[None, :]
    lower = -ramps[:-2] / fdiff[:-1, None]
    upper = ramps[2:] / fdiff[1:, None]
    weights: np.ndarray = np.maximum(0.0, np.minimum(lower, upper))
    weights *= (2.0 / (hz_points[2:] - hz_points[:-2]))[:, None]
    weights.setflags(write=False)
    return weights


def _frames_to_features(frames: np.ndarray, config: LogMelConfig) -> FloatArray:
    """Map ``(k, n_fft)`` sample frames to ``(k, n_mels)`` scaled log-mel features."""
    if len(frames) == 0:
        return np.zeros((0, config.n_mels), dtype=np.float32)
    spectrum = np.fft.rfft(frames * hann_window(config.n_fft), axis=1)
    power = spectrum.real**2 + spectrum.imag**2
    mel = power @ mel_filterbank(config).T
    db = 10.0 * np.log10(np.maximum(mel, config.amin) / config.ref)
    return as_float32((db - config.db_center) / config.db_half_range)


def offline_log_mel(audio: object, sr: int, config: LogMelConfig = DEFAULT_LOG_MEL) -> FloatArray:
    """Return scaled log-mel frames ``(frames, n_mels)`` of a mono clip.

    ``frames = 1 + (N - n_fft) // hop`` (0 when the clip is shorter than one window).

    :param audio: ``(N,)`` samples in [-1, 1].
    :param sr: Sample rate of ``audio``; must equal ``config.sr`` (resample first).
    :raises ValueError: On a different sample rate.
    """
    frames = offline_frames(audio, sr, expected_sr=config.sr, n_fft=config.n_fft, hop=config.hop)
    if frames.shape[0] == 0:
        return np.zeros((0, config.n_mels), dtype=np.float32)
    return _frames_to_features(frames, config)


class StreamingLogMel:
    """Computes the same frames as :func:`offline_log_mel` from audio pushed in chunks."""

    def __init__(self, config: LogMelConfig = DEFAULT_LOG_MEL) -> None:
        self.config = config
        self._frames = FrameBuffer(config.n_fft, config.hop)

    def push(self, samples: object) -> FloatArray:
        """Append ``(n,)`` samples; return the ``(k, n_mels)`` frames completed by them."""
        frames = self._frames.push(samples)
        if frames.shape[0] == 0:
            return np.zeros((0, self.config.n_mels), dtype=np.float32)
        return _frames_to_features(frames, self.config)

    def reset(self) -> None:
        """Forget buffered samples (start a new stream)."""
        self._frames.reset()


def frames_per_window(config: LogMelConfig = DEFAULT_LOG_MEL, seconds: float = WINDOW_S) -> float:
    """Return how many frames start in one analysis window (21.53 for the defaults:
    :data:`~kelly_core.constants.WINDOW_S`, 22050 Hz, hop 512)."""
    return seconds * config.sr / config.hop


def _window_bounds(count: int, per_window: float) -> np.ndarray:
    """Frame ``k`` belongs to window ``floor(k / per_window)``."""
    bounds: np.ndarray = np.ceil(np.arange(count + 1) * per_window - 1e-9).astype(int)
    return bounds


def window_means(frames: object, frames_per_window: float) -> FloatArray:
    """Average consecutive frames into analysis windows.

    Frame ``k`` (starting at ``k · hop / sr`` s) belongs to window
    ``floor(k / frames_per_window)``, so window ``w`` covers frame starts in
    ``[w · T, (w + 1) · T)`` for ``T = frames_per_window · hop / sr`` (0.5 s). An
    incomplete last window is dropped.

    :param frames: ``(F, n)`` feature frames.
    :param frames_per_window: Frames per window, possibly fractional (see
        :func:`frames_per_window`).
    :returns: ``(W, n)`` float32 window means, ``W = floor(F / frames_per_window)``.
    """
    array = np.asarray(frames, dtype=np.float64)
    check_shape(array, (None, None), name="frames")
    if frames_per_window < 1:
        raise ValueError(f"frames_per_window must be >= 1, got {frames_per_window}")
    count = int(np.floor(len(array) / frames_per_window + 1e-9))
    bounds = _window_bounds(count, frames_per_window)
    if count == 0:
        return np.zeros((0, array.shape[1]), dtype=np.float32)
    sums = np.add.reduceat(array[: bounds[-1]], bounds[:-1], axis=0)
    return as_float32(sums / np.diff(bounds)[:, None])


class WindowAverager:
    """Streaming :func:`window_means`: push frames, get completed window means."""

    def __init__(self, frames_per_window: float) -> None:
        if frames_per_window < 1:
            raise ValueError(f"frames_per_window must be >= 1, got {frames_per_window}")
        self.frames_per_window = frames_per_window
        self._sum: np.ndarray | None = None
        self._count = 0
        self._seen = 0
        self._window = 0

    def push(self, frames: object) -> FloatArray:
        """Append ``(k, n)`` frames; return the ``(w, n)`` windows they complete."""
        array = np.asarray(frames, dtype=np.float64)
        check_shape(array, (None, None), name="frames")
        out: list[np.ndarray] = []
        for frame in array:
            if self._sum is None:
                self._sum = np.zeros_like(frame)
            self._sum = self._sum + frame
            self._count += 1
            self._seen += 1
            end = int(_window_bounds(self._window + 1, self.frames_per_window)[-1])
            if self._seen == end:
                out.append(self._sum / self._count)
                self._sum, self._count, self._window = None, 0, self._window + 1
        width = array.shape[1]
        return as_float32(np.stack(out)) if out else np.zeros((0, width), dtype=np.float32)

    def reset(self) -> None:
        """Start a new stream."""
        self._sum = None
        self._count = 0
        self._seen = 0
        self._window = 0
