"""Chroma with semitone resolution, offline and streaming, with identical numbers.

The front end of key finding and of beat-synchronous pitch-class features
(docs/encodings.md, "Chroma"). Per frame, at 22050 Hz:

1. frame ``k`` covers samples ``[k·hop, k·hop + n_fft)`` (``n_fft`` 8192, ``hop`` 2048,
   no centring, so a stream never needs future samples); its time is its centre,
   ``(k·hop + n_fft / 2) / sr`` (0.186 s + k · 0.0929 s);
2. periodic Hann window, real FFT divided by ``n_fft / 4`` (a full-scale sine then has
   amplitude 1 in its bin), power ``|X|²``;
3. semitone energies ``E_p = Σ_k W[p, k] · P_k`` for MIDI pitches ``low_pitch`` ..
   ``high_pitch`` (C2 .. B6, 65.4–1976 Hz, A4 = 440 Hz), ``W`` triangular in pitch:
   ``max(0, 1 − |pitch(f_k) − p| / width)`` with ``width`` 1 semitone (the filters sum to
   1 between two pitch centres);
4. magnitudes ``M_p = √E_p`` minus their local mean over ``p ± contrast_radius``
   (6 semitones, indices clamped at the ends), rectified: a broadband sound (a drum, noise)
   lifts every semitone alike and is taken away, a partial stands out;
5. folded to 12 pitch classes (index 0 = C) by summing the octaves;
6. divided by ``max(max_pc chroma, floor)`` (``floor`` 0.001): a frame with a clear pitch
   content has maximum 1; a quieter one (silence: all 0) stays proportionally smaller.

A frame has 24 values: columns 0–11 the chroma above; columns 12–23 the **bass**: the
magnitudes ``M_p`` of the bands C2..B3 (``low_pitch`` .. ``bass_high_pitch``) folded to
12 pitch classes, not normalised (a full-scale sine at a band's centre gives about 1.1;
silence 0), so loud bass notes weigh more when summed; the key finder reads both.

Every constant is fixed; no whole-clip statistic. :func:`beat_chroma` averages the frames
centred in each beat; :class:`BeatChromaAccumulator` does the same for a stream told where
beats start (a plugin gets them from the host's playhead).
"""

from __future__ import annotations

import functools
from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape
from kelly_core.encodings.framing import (
    FrameBuffer,
    frame_centres,
    hann_window,
    offline_frames,
)

__all__ = [
    "BASS",
    "CHROMA",
    "DEFAULT_CHROMA",
    "FRAME_WIDTH",
    "BeatChromaAccumulator",
    "ChromaConfig",
    "StreamingChroma",
    "beat_chroma",
    "frame_times",
    "heard_late",
    "offline_chroma",
    "relative_to_tonic",
    "semitone_filterbank",
]

PITCH_CLASSES: Final = 12
FRAME_WIDTH: Final = 24
"""Values per frame: chroma (12), then bass (12)."""
CHROMA: Final = slice(0, 12)
"""The chroma columns of a frame."""
BASS: Final = slice(12, 24)
"""The bass columns of a frame."""


_BLOCK_FRAMES: Final = 256
"""Frames transformed together by :func:`offline_chroma` (256 × 8192 samples: 17 MB)."""


@attrs.frozen(kw_only=True)
class ChromaConfig:
    """Settings of the chroma front end (the defaults are listed in docs/encodings.md)."""

    sr: int = 22050
    """Sample rate in Hz."""
    n_fft: int = 8192
    """FFT and window length in samples (0.37 s: bins 2.7 Hz apart, under a semitone at C2)."""
    hop: int = 2048
    """Hop between frames in samples (0.093 s)."""
    low_pitch: int = 36
    """Lowest semitone band, MIDI pitch (C2)."""
    high_pitch: int = 95
    """Highest semitone band, MIDI pitch (B6)."""
    bass_high_pitch: int = 59
    """Highest band of the bass columns, MIDI pitch (B3)."""
    tuning: float = 440.0
    """Frequency of A4 (MIDI 69) in Hz."""
    width: float = 1.0
    """Half-width of a band's triangle, in semitones."""
    contrast_radius: int = 6
    """Semitones either side in the local mean subtracted from each band's magnitude."""
    floor: float = 1e-3
    """A frame is divided by ``max(its largest pitch class, floor)``."""

    @property
    def pitches(self) -> int:
        """Number of semitone bands."""
        return self.high_pitch - self.low_pitch + 1


DEFAULT_CHROMA: Final = ChromaConfig()


@functools.lru_cache(maxsize=8)
def semitone_filterbank(config: ChromaConfig = DEFAULT_CHROMA) -> np.ndarray:
    """Return the ``(pitches, n_fft // 2 + 1)`` float64 triangular semitone filterbank."""
    freqs = np.fft.rfftfreq(config.n_fft, d=1.0 / config.sr)
    pitch = np.full(freqs.shape, -np.inf)
    pitch[1:] = 69.0 + 12.0 * np.log2(freqs[1:] / config.tuning)
    centres = np.arange(config.low_pitch, config.high_pitch + 1, dtype=np.float64)
    weights: np.ndarray = np.maximum(
        0.0, 1.0 - np.abs(pitch[None, :] - centres[:, None]) / config.width
    )
    weights.setflags(write=False)
    return weights


@functools.lru_cache(maxsize=8)
def _bin_range(config: ChromaConfig) -> tuple[int, int]:
    """The FFT bins any band uses: ``[first, stop)``."""
    used = np.flatnonzero(semitone_filterbank(config).any(axis=0))
    return int(used[0]), int(used[-1]) + 1


def _local_mean(values: np.ndarray, radius: int) -> np.ndarray:
    """Mean of ``values[:, p - radius : p + radius + 1]`` along axis 1, ends clamped."""
    n = values.shape[1]
    index = np.clip(np.arange(-radius, n + radius), 0, n - 1)
    padded = values[:, index]
    sums = np.cumsum(padded, axis=1)
    sums = np.concatenate([np.zeros((len(values), 1)), sums], axis=1)
    width = 2 * radius + 1
    result: np.ndarray = (sums[:, width:] - sums[:, :-width]) / width
    return result


def _fold(bands: np.ndarray, low_pitch: int) -> np.ndarray:
    """Sum ``(k, n)`` band values into ``(k, 12)`` pitch classes (band 0 is ``low_pitch``)."""
    out = np.zeros((len(bands), PITCH_CLASSES))
    for band in range(bands.shape[1]):
        out[:, (low_pitch + band) % PITCH_CLASSES] += bands[:, band]
    return out


def _frames_to_chroma(frames: np.ndarray, config: ChromaConfig) -> FloatArray:
    """Map ``(k, n_fft)`` sample frames to ``(k, 24)`` chroma and bass."""
    if len(frames) == 0:
        return np.zeros((0, FRAME_WIDTH), dtype=np.float32)
    first, stop = _bin_range(config)
    spectrum = np.fft.rfft(frames * hann_window(config.n_fft), axis=1)[:, first:stop]
    spectrum /= config.n_fft / 4
    power = spectrum.real**2 + spectrum.imag**2
    magnitude = np.sqrt(power @ semitone_filterbank(config)[:, first:stop].T)
    contrast = np.maximum(magnitude - _local_mean(magnitude, config.contrast_radius), 0.0)
    chroma = _fold(contrast, config.low_pitch)
    chroma /= np.maximum(chroma.max(axis=1, keepdims=True), config.floor)
    bass = _fold(magnitude[:, : config.bass_high_pitch - config.low_pitch + 1], config.low_pitch)
    return as_float32(np.concatenate([chroma, bass], axis=1))


def offline_chroma(audio: object, sr: int, config: ChromaConfig = DEFAULT_CHROMA) -> FloatArray:
    """Return chroma and bass frames ``(frames, 24)`` of a mono clip (see the module doc).

    ``frames = 1 + (N - n_fft) // hop`` (0 when the clip is shorter than one window).

    :param audio: ``(N,)`` samples in [-1, 1].
    :param sr: Sample rate of ``audio``; must equal ``config.sr`` (resample first).
    :raises ValueError: On a different sample rate.
    """
    frames = offline_frames(audio, sr, expected_sr=config.sr, n_fft=config.n_fft, hop=config.hop)
    if frames.shape[0] == 0:
        return np.zeros((0, FRAME_WIDTH), dtype=np.float32)
    # a block of frames at a time: every value is computed within its own frame, and the
    # whole clip's windowed frames and spectra at once took about 1 GB per 10 minutes
    return np.concatenate(
        [
            _frames_to_chroma(frames[start : start + _BLOCK_FRAMES], config)
            for start in range(0, frames.shape[0], _BLOCK_FRAMES)
        ]
    )


class StreamingChroma:
    """Computes the same frames as :func:`offline_chroma` from audio pushed in chunks."""

    def __init__(self, config: ChromaConfig = DEFAULT_CHROMA) -> None:
        self.config = config
        self._frames = FrameBuffer(config.n_fft, config.hop)

    def push(self, samples: object) -> FloatArray:
        """Append ``(n,)`` samples; return the ``(k, 24)`` frames completed by them."""
        frames = self._frames.push(samples)
        if frames.shape[0] == 0:
            return np.zeros((0, FRAME_WIDTH), dtype=np.float32)
        return _frames_to_chroma(frames, self.config)

    def reset(self) -> None:
        """Forget buffered samples (start a new stream)."""
        self._frames.reset()


def frame_times(count: int, config: ChromaConfig = DEFAULT_CHROMA) -> np.ndarray:
    """Centre of each of ``count`` frames in seconds: ``(k·hop + n_fft / 2) / sr``."""
    return frame_centres(np.arange(count), n_fft=config.n_fft, hop=config.hop, sr=config.sr)


def beat_chroma(
    frames: object,
    beat_times: object,
    *,
    end: float | None = None,
    config: ChromaConfig = DEFAULT_CHROMA,
) -> FloatArray:
    """Average chroma frames per beat: ``(beats, 24)``, on the frames' scales.

    Beat ``i`` covers ``[beat_times[i], beat_times[i + 1])`` and the last beat
    ``[beat_times[-1], end)`` (``end`` None: through the last frame); a frame belongs to the
    beat its centre (:func:`frame_times`) lies in. A beat without a frame centre (shorter
    than a hop, or outside the frames) is all zeros.

    :param frames: ``(F, 24)`` chroma frames from the start of the audio.
    :param beat_times: ``(B,)`` increasing beat starts in seconds.
    :raises ValueError: If the beat times decrease.
    """
    array = np.asarray(frames, dtype=np.float64)
    check_shape(array, (None, FRAME_WIDTH), name="frames")
    starts = np.asarray(beat_times, dtype=np.float64)
    check_shape(starts, (None,), name="beat_times")
    if np.any(np.diff(starts) < 0):
        raise ValueError("beat_times must not decrease")
    bounds = np.append(starts, np.inf if end is None else float(end))
    cuts = np.searchsorted(frame_times(len(array), config), bounds, side="left")
    out = np.zeros((len(starts), FRAME_WIDTH))
    for beat in range(len(starts)):
        lo, hi = int(cuts[beat]), int(cuts[beat + 1])
        if hi > lo:
            out[beat] = array[lo:hi].mean(axis=0)
    return as_float32(out)


class BeatChromaAccumulator:
    """Streaming :func:`beat_chroma`: mark beat starts, push frames, get finished beats.

    A beat is finished when a frame centred at or after the next beat's start arrives, so
    beat ``i`` comes out about ``n_fft / 2 + hop`` samples (0.28 s) after beat ``i + 1``
    starts. Mark a beat before pushing the frames centred after it (a host that marks each
    beat when its first sample is pushed always does: a frame is complete ``n_fft / 2``
    samples after its centre). Frames before the first mark are dropped.
    """

    def __init__(self, config: ChromaConfig = DEFAULT_CHROMA) -> None:
        self.config = config
        self._marks: list[float] = []
        self._sum = np.zeros(FRAME_WIDTH)
        self._count = 0
        self._frame = 0
        self._open = False

    def reset(self) -> None:
        """Start a new stream: no marks, no frames."""
        self._marks = []
        self._sum = np.zeros(FRAME_WIDTH)
        self._count = 0
        self._frame = 0
        self._open = False

    def mark(self, time: float) -> None:
        """Say a beat starts at ``time`` seconds (same clock as the frames).

        :raises ValueError: If ``time`` is before an earlier mark or before a frame
            centre already pushed.
        """
        latest = self._marks[-1] if self._marks else -np.inf
        pushed = float(frame_times(self._frame, self.config)[-1]) if self._frame else -np.inf
        if time < latest or time <= pushed:
            raise ValueError(f"beat at {time} s marked after a later beat or frame")
        self._marks.append(float(time))

    def push(self, frames: object) -> FloatArray:
        """Append ``(k, 24)`` frames; return the ``(b, 24)`` beats they finish."""
        array = np.asarray(frames, dtype=np.float64)
        check_shape(array, (None, FRAME_WIDTH), name="frames")
        times = frame_times(self._frame + len(array), self.config)[self._frame :]
        out: list[np.ndarray] = []
        for frame, time in zip(array, times, strict=True):
            while self._marks and time >= self._marks[0]:
                if self._open:
                    out.append(self._finish())
                self._marks.pop(0)
                self._open = True
            if self._open:
                self._sum += frame
                self._count += 1
        self._frame += len(array)
        return as_float32(np.stack(out)) if out else np.zeros((0, FRAME_WIDTH), dtype=np.float32)

    def close(self) -> FloatArray:
        """Finish the open beat (end of the stream): ``(1, 24)``, or ``(0, 24)`` if none.

        Beats marked but not yet reached by a frame come out as zeros, as in
        :func:`beat_chroma`.
        """
        out = [self._finish()] if self._open else []
        out += [np.zeros(FRAME_WIDTH) for _ in self._marks]
        self._marks.clear()
        self._open = False
        return as_float32(np.stack(out)) if out else np.zeros((0, FRAME_WIDTH), dtype=np.float32)

    def _finish(self) -> np.ndarray:
        mean = self._sum / self._count if self._count else np.zeros(FRAME_WIDTH)
        self._sum = np.zeros(FRAME_WIDTH)
        self._count = 0
        return mean


def heard_late(beats: FloatArray, lag: int = 1) -> FloatArray:
    """Per-beat rows ``(B, W)`` as a player ``lag`` beats behind hears them: row ``i`` is
    row ``i - lag``, the first ``lag`` rows silence (zeros). ``lag`` 1 is a zero-latency
    plugin, which hears a beat once it is over; 0 returns a copy.

    :raises ValueError: If ``lag`` is negative.
    """
    if lag < 0:
        raise ValueError(f"lag must be >= 0, got {lag}")
    out = np.zeros_like(beats)
    out[lag:] = beats[: max(len(beats) - lag, 0)]
    return out


def relative_to_tonic(vectors: object, tonic: int) -> FloatArray:
    """Rotate ``(..., 12)`` (or ``(..., 24)`` frames: each half) so index 0 is ``tonic``.

    ``out[..., i] = vectors[..., (i + tonic) % 12]``: index 4 is the major third above the
    tonic whatever the key.
    """
    array = np.asarray(vectors, dtype=np.float32)
    width = array.shape[-1] if array.ndim else 0
    if width not in (PITCH_CLASSES, FRAME_WIDTH):
        raise ValueError(f"expected (..., 12) or (..., 24) vectors, got shape {array.shape}")
    blocks = array.reshape(*array.shape[:-1], width // PITCH_CLASSES, PITCH_CLASSES)
    return np.roll(blocks, -int(tonic), axis=-1).reshape(array.shape)
