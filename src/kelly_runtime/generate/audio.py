"""Reading audio files: any format libsndfile reads, mixed to mono, resampled to 22050 Hz.

soundfile (libsndfile) decodes WAV, FLAC, OGG/Vorbis and MP3 (libsndfile >= 1.1, which
the soundfile wheels bundle); soxr, installed with librosa, resamples with its
high-quality filter. The file is read in blocks of :data:`BLOCK_FRAMES` frames, each
mixed to mono in float32 and resampled by a streaming soxr resampler, so memory holds
the mono 22050 Hz result and one block, never the whole file at its own rate. Both
are imported only when a file is read, so importing
``kelly_runtime`` needs neither. Every failure is an :class:`AudioError` naming the file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np

from kelly_core._optional import require
from kelly_core.arrays import FloatArray
from kelly_runtime.generate.errors import AudioError

__all__ = ["SAMPLE_RATE", "AudioClip", "read_audio", "resample", "to_mono"]

logger = logging.getLogger(__name__)

SAMPLE_RATE: Final = 22050
"""Sample rate of the log-mel features (docs/encodings.md), in Hz."""


@attrs.frozen(kw_only=True, eq=False)
class AudioClip:
    """Mono float32 samples at :data:`SAMPLE_RATE`, with where they came from."""

    samples: FloatArray
    """Shape ``(n,)``, float32, nominally in [-1, 1]."""
    sample_rate: int
    """Sample rate of :attr:`samples` in Hz."""
    path: Path | None = None
    """The file read, if any."""
    source_sample_rate: int = SAMPLE_RATE
    """The file's own sample rate, before resampling."""
    source_channels: int = 1
    """Channels in the file, before mixing to mono."""

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return float(self.samples.shape[0]) / float(self.sample_rate)

    @property
    def is_silent(self) -> bool:
        """Whether every sample is zero."""
        return not bool(np.any(self.samples))


def to_mono(data: np.ndarray) -> FloatArray:
    """Average the channels of ``data`` ``(frames, channels)`` or pass ``(frames,)`` through.

    The mean is taken in float32 (no float64 copy of the file).
    """
    if data.ndim == 1:
        return np.ascontiguousarray(data, dtype=np.float32)
    if data.shape[1] == 1:
        return np.ascontiguousarray(data[:, 0], dtype=np.float32)
    return np.ascontiguousarray(data.mean(axis=1, dtype=np.float32), dtype=np.float32)


def resample(samples: FloatArray, source_rate: int, target_rate: int = SAMPLE_RATE) -> FloatArray:
    """Resample mono ``samples`` ``(n,)`` from ``source_rate`` to ``target_rate`` (soxr HQ).

    :raises MissingDependencyError: If soxr is not installed.
    """
    if source_rate == target_rate:
        return samples
    soxr = require("soxr", extra="data", purpose="resampling audio")
    out = soxr.resample(np.asarray(samples, dtype=np.float32), source_rate, target_rate, "HQ")
    return np.ascontiguousarray(out, dtype=np.float32)


BLOCK_FRAMES: Final = 1 << 17
"""Frames read (and resampled) at a time: memory stays at the mono 22050 Hz result."""


def _read_blocks(handle: Any, file: Path, rate: int, sample_rate: int) -> FloatArray:
    """Read ``handle`` block by block: float32, mixed to mono, resampled on the fly."""
    stream = None
    if rate != sample_rate:
        soxr = require("soxr", extra="data", purpose="resampling audio")
        stream = soxr.ResampleStream(rate, sample_rate, 1, dtype="float32", quality="HQ")
    chunks: list[FloatArray] = []
    total = 0
    while True:
        data = handle.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
        last = data.shape[0] < BLOCK_FRAMES
        if data.shape[0] and not np.isfinite(data).all():
            raise AudioError(
                "holds NaN or Inf samples", path=file, expected="finite", got="NaN/Inf"
            )
        total += data.shape[0]
        mono = to_mono(data)
        if stream is not None:
            mono = np.ascontiguousarray(stream.resample_chunk(mono, last=last), dtype=np.float32)
        if mono.size:
            chunks.append(mono)
        if last:
            break
    if total == 0:
        raise AudioError("holds no samples; expected at least one", path=file, got=0)
    return np.concatenate(chunks) if len(chunks) != 1 else chunks[0]


def read_audio(path: str | Path, *, sample_rate: int = SAMPLE_RATE) -> AudioClip:
    """Read an audio file as mono float32 at ``sample_rate`` Hz.

    Stereo (or more channels) is averaged to mono; another sample rate is resampled.
    Silence is valid audio (it reads as zeros).

    :param path: A WAV, FLAC, OGG or MP3 file (any format libsndfile reads).
    :returns: The samples, shape ``(n,)``, with the file's own rate and channel count.
    :raises AudioError: If the file is missing, empty, not audio, holds no samples or
        holds NaN/Inf samples; ``error.path`` is the file.
    :raises MissingDependencyError: If soundfile (or soxr, when resampling) is missing.
    """
    file = Path(path)
    if not file.exists():
        raise AudioError("file not found", path=file)
    if not file.is_file():
        raise AudioError("not a file", path=file, expected="an audio file", got="a folder")
    if file.stat().st_size == 0:
        raise AudioError("empty file (0 bytes); expected audio", path=file, got=0)
    soundfile = require("soundfile", extra="data", purpose="reading audio")
    try:
        with soundfile.SoundFile(str(file)) as handle:
            rate = int(handle.samplerate)
            channels = int(handle.channels)
            if rate <= 0:
                raise AudioError(f"invalid sample rate {rate}", path=file, expected="> 0", got=rate)
            samples = _read_blocks(handle, file, rate, sample_rate)
    # soundfile.LibsndfileError is a RuntimeError; a bad header may raise the others
    except (RuntimeError, TypeError, ValueError, OSError) as exc:
        if isinstance(exc, AudioError):
            raise
        raise AudioError(
            f"not a readable audio file; expected WAV, FLAC, OGG or MP3 ({exc})",
            path=file,
            expected="WAV, FLAC, OGG or MP3",
        ) from exc
    clip = AudioClip(
        samples=samples,
        sample_rate=sample_rate,
        path=file,
        source_sample_rate=rate,
        source_channels=channels,
    )
    logger.debug(
        "%s: %d channel(s) at %d Hz, %.2f s", file, clip.source_channels, rate, clip.duration
    )
    if clip.is_silent:
        logger.info("%s: the audio is silent", file)
    return clip
