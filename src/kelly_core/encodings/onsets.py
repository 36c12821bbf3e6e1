"""Onset features for beat tracking: band-wise spectral flux at 86 frames per second.

The beat tracker (``kelly_core.barpointer``) needs a finer time grid than the
log-mel front end (hop 512, 23 ms): beats are scored within ±70 ms and a tempo of 120 BPM
is 21.5 log-mel frames per beat. This front end keeps the log-mel's conventions (22050
Hz, periodic Hann window, no centring: frame ``k`` covers samples ``[k·hop, k·hop +
n_fft)``) with a hop of 256 samples (11.6 ms, 86.13 frames per second):

1. Magnitude spectrum of an ``n_fft`` = 2048 window.
2. A filterbank of :attr:`OnsetConfig.bands_per_octave` triangular bands per octave on a
   logarithmic frequency axis from :attr:`OnsetConfig.fmin` to :attr:`OnsetConfig.fmax`
   (adjacent bands overlap by half; each band's weights sum to 1), then
   ``log10(1 + gain · magnitude)`` (:attr:`OnsetConfig.gain` = 20): loudness differences
   become ratios, so a quiet note's onset counts like a loud one's.
3. Flux: ``max(0, band[k] - maxfilter(band[k - lag]))`` with a lag of 2 frames (23 ms)
   and a maximum over each band's neighbours (three bands) in the reference frame, the
   "SuperFlux" of Böck and Widmer (2013): vibrato and slow glides add little flux.
4. Three onset curves per frame, each the band flux summed over a range: ``all`` bands,
   ``low`` (below :attr:`OnsetConfig.low_hz`, 200 Hz: kick drum and bass notes) and
   ``high`` (above :attr:`OnsetConfig.high_hz`, 4 kHz: hi-hat, snare, attacks).

The first ``lag`` frames have no reference and are 0. All numbers are computed in float64
and returned as float32; the offline function processes the clip in blocks, so memory
stays bounded (about 12 bytes per frame: 1 MB per minute of audio).
"""

from __future__ import annotations

import functools
from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.encodings.framing import frame_centres, hann_window, offline_frames

__all__ = [
    "DEFAULT_ONSETS",
    "ONSET_CURVES",
    "OnsetConfig",
    "band_centres",
    "curves_from_bands",
    "frame_seconds",
    "onset_bands",
    "onset_curves",
    "onset_filterbank",
]

ONSET_CURVES: Final = ("all", "low", "high")
"""Column names of :func:`onset_curves`'s result."""


@attrs.frozen(kw_only=True)
class OnsetConfig:
    """Settings of the onset front end (module docstring)."""

    sr: int = 22050
    """Sample rate in Hz."""
    n_fft: int = 2048
    """FFT and window length in samples."""
    hop: int = 256
    """Hop between frames in samples (86.13 frames per second at 22050 Hz)."""
    fmin: float = 30.0
    """Lowest band centre in Hz."""
    fmax: float = 11000.0
    """Highest band centre in Hz."""
    bands_per_octave: int = 6
    """Logarithmic bands per octave."""
    gain: float = 20.0
    """Magnitude multiplier before ``log10(1 + x)``."""
    lag: int = 2
    """Frames between a frame and the reference it is compared with."""
    low_hz: float = 200.0
    """Bands centred below this sum into the ``low`` curve."""
    high_hz: float = 4000.0
    """Bands centred above this sum into the ``high`` curve."""

    @property
    def fps(self) -> float:
        """Frames per second."""
        return self.sr / self.hop


DEFAULT_ONSETS: Final = OnsetConfig()

_BLOCK_FRAMES: Final = 4096


def frame_seconds(frames: object, config: OnsetConfig = DEFAULT_ONSETS) -> np.ndarray:
    """Time of onset frames in seconds: each window's centre, ``k · hop / sr + n_fft / 2 /
    sr`` (the flux of frame ``k`` rises when an onset reaches the middle of its window)."""
    return frame_centres(frames, n_fft=config.n_fft, hop=config.hop, sr=config.sr)


def band_centres(config: OnsetConfig = DEFAULT_ONSETS) -> np.ndarray:
    """Centre frequency of every band in Hz, increasing."""
    octaves = np.log2(config.fmax / config.fmin)
    count = int(np.floor(octaves * config.bands_per_octave)) + 1
    centres: np.ndarray = config.fmin * 2.0 ** (np.arange(count) / config.bands_per_octave)
    return centres


@functools.lru_cache(maxsize=4)
def onset_filterbank(config: OnsetConfig = DEFAULT_ONSETS) -> np.ndarray:
    """Return the ``(bands, n_fft // 2 + 1)`` triangular filterbank (rows sum to 1).

    Band ``b`` rises from centre ``b - 1`` to centre ``b`` and falls to centre ``b + 1``
    on the log-frequency axis; a band narrower than an FFT bin takes the nearest bin.
    """
    centres = np.log2(band_centres(config))
    step = 1.0 / config.bands_per_octave
    freqs = np.fft.rfftfreq(config.n_fft, d=1.0 / config.sr)
    log_freqs = np.log2(np.maximum(freqs, 1e-6))
    distance = np.abs(log_freqs[None, :] - centres[:, None]) / step
    weights: np.ndarray = np.maximum(0.0, 1.0 - distance)
    for band in np.flatnonzero(weights.sum(axis=1) <= 0.0):
        weights[band, int(np.argmin(distance[band]))] = 1.0
    weights /= weights.sum(axis=1, keepdims=True)
    weights.setflags(write=False)
    return weights


def _bands(frames: np.ndarray, config: OnsetConfig) -> np.ndarray:
    """Map ``(k, n_fft)`` sample frames to ``(k, bands)`` log-compressed band magnitudes."""
    magnitude = np.abs(np.fft.rfft(frames * hann_window(config.n_fft), axis=1))
    filtered: np.ndarray = np.log10(1.0 + config.gain * (magnitude @ onset_filterbank(config).T))
    return filtered


def _curve_masks(config: OnsetConfig) -> np.ndarray:
    centres = band_centres(config)
    return np.stack(
        [np.ones_like(centres), centres < config.low_hz, centres > config.high_hz]
    ).astype(np.float64)


def onset_bands(audio: object, sr: int, config: OnsetConfig = DEFAULT_ONSETS) -> FloatArray:
    """Return ``(frames, 2 · bands)``: each frame's log band magnitudes, then their flux.

    ``frames = 1 + (N - n_fft) // hop`` (0 when the clip is shorter than one window);
    frame ``k`` starts at ``k · hop / sr`` seconds. The first ``lag`` frames' flux is 0.
    This is the beat tracker's input (:data:`kelly_core.listening.BEAT_TRACKER_SPEC`).

    :param audio: ``(N,)`` samples in [-1, 1].
    :param sr: Sample rate of ``audio``; must equal ``config.sr``.
    :raises ValueError: On a different sample rate.
    """
    windows = offline_frames(audio, sr, expected_sr=config.sr, n_fft=config.n_fft, hop=config.hop)
    count = band_centres(config).shape[0]
    if windows.shape[0] == 0:
        return np.zeros((0, 2 * count), dtype=np.float32)
    out = np.zeros((windows.shape[0], 2 * count), dtype=np.float32)
    lag = config.lag
    previous = np.zeros((0, count))
    for start in range(0, windows.shape[0], _BLOCK_FRAMES):
        bands = _bands(windows[start : start + _BLOCK_FRAMES], config)
        out[start : start + bands.shape[0], :count] = bands
        joined = np.concatenate([previous, bands])
        padded = np.pad(joined, ((0, 0), (1, 1)), mode="edge")
        reference = np.maximum(np.maximum(padded[:, :-2], padded[:, 1:-1]), padded[:, 2:])
        if joined.shape[0] > lag:
            flux = np.maximum(0.0, joined[lag:] - reference[:-lag])
            end = start + bands.shape[0]
            out[end - flux.shape[0] : end, count:] = flux
        previous = joined[-lag:]
    return out


def curves_from_bands(bands: FloatArray, config: OnsetConfig = DEFAULT_ONSETS) -> FloatArray:
    """The ``(frames, 3)`` onset curves (:data:`ONSET_CURVES`) of :func:`onset_bands`."""
    count = band_centres(config).shape[0]
    flux = np.asarray(bands, dtype=np.float64)[:, count:]
    curves: FloatArray = (flux @ _curve_masks(config).T).astype(np.float32)
    return curves


def onset_curves(audio: object, sr: int, config: OnsetConfig = DEFAULT_ONSETS) -> FloatArray:
    """Return the ``(frames, 3)`` onset curves (:data:`ONSET_CURVES`) of a mono clip."""
    return curves_from_bands(onset_bands(audio, sr, config), config)
