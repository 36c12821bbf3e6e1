"""Reading audio files: any format libsndfile reads, mixed to mono, resampled to 22050 Hz.

soundfile (libsndfile) decodes WAV, FLAC, OGG/Vorbis and MP3 (libsndfile >= 1.1, which
the soundfile wheels bundle); soxr, installed with librosa, resamples with its
high-quality filter. The file is read in blocks of :data:`BLOCK_FRAMES` frames, each
mixed to mono in float32 and resampled by a streaming soxr resampler, so memory holds
the mono 22050 Hz result and one block, never the whole file at its own rate. Both
are imported only when a file is read, so importing
``kelly_runtime`` needs neither. Every failure is an :class:`AudioError` naming the file.

Before decoding, the path must be a regular file (a FIFO or a device is refused
unopened) and the header's length at most :data:`MAX_AUDIO_S`. After decoding, the
frames decoded are compared with what the header declares (:mod:`.audio_header`): a
file cut short or a decoder error part-way gives a ``KellyWarning`` with both lengths,
and an error when nothing but silence came out.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np

from kelly_core._optional import require
from kelly_core.arrays import FloatArray
from kelly_core.errors import KellyWarning
from kelly_core.fileio import regular_file_problem
from kelly_runtime.generate.audio_header import declared_frames
from kelly_runtime.generate.errors import AudioError

__all__ = [
    "MAX_AUDIO_S",
    "SAMPLE_RATE",
    "AudioClip",
    "AudioInfo",
    "probe_audio",
    "read_audio",
    "resample",
    "to_mono",
]

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
MAX_AUDIO_S: Final = 3600.0
"""Longest audio read, in seconds (one hour). Memory grows with the length (the mono
22050 Hz samples, the log-mel frames and the beat analysis: see docs/generate.md for the
measured figure per hour), and an hour of beats at the fastest tempo the beat tracker
follows (215 BPM, ``kelly_core.barpointer.BeatHmmConfig.max_bpm``) still fits one MIDI
file (:data:`kelly_runtime.generate.options.MAX_BEATS`: 20,000 beats)."""
_SLACK: Final = {"MP3": 2 * 1152, "OGG": 960}
"""Frames a decoder may fall short of the header's count by, per libsndfile format: an
MP3 decoder two MPEG frames (encoder delay and padding against the Xing/Info count); an
Ogg decoder one 20 ms Opus frame at 48 kHz (the end trimming of Opus; one of 29
``warzone2100-music`` files decodes 10 frames short). Other formats must decode exactly
what they declare."""


@attrs.frozen(kw_only=True)
class AudioInfo:
    """What an audio file's header says, before any decoding."""

    path: Path
    sample_rate: int
    """The file's own sample rate in Hz."""
    channels: int
    format: str
    """libsndfile's format name: ``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ..."""
    frames: int
    """Frames libsndfile expects to decode (for a cut WAV or AIFF: what is left)."""
    declared_frames: int
    """Frames the header declares (:func:`~.audio_header.declared_frames` for WAV and
    AIFF, else libsndfile's count)."""

    @property
    def duration(self) -> float:
        """The longer of the decodable and the declared length, in seconds."""
        return max(self.frames, self.declared_frames) / float(self.sample_rate)


def _seconds(frames: int, rate: int) -> str:
    seconds = frames / float(rate)
    if seconds < 120.0:
        return f"{seconds:.2f} s"
    minutes, rest = divmod(round(seconds), 60)
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min {rest:02d} s" if hours else f"{minutes} min {rest:02d} s"


def _limit(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 and seconds % 60 == 0 else f"{seconds:g} s"


def _check_file(file: Path) -> None:
    problem = regular_file_problem(file, what="audio file")
    if problem is not None:
        raise AudioError(
            "file not found" if problem.startswith("no such") else problem,
            path=file,
            expected="an audio file",
        )
    if file.stat().st_size == 0:
        raise AudioError("empty file (0 bytes); expected audio", path=file, got=0)


def _info(handle: Any, file: Path) -> AudioInfo:
    rate = int(handle.samplerate)
    if rate <= 0:
        raise AudioError(f"invalid sample rate {rate}", path=file, expected="> 0", got=rate)
    frames = max(0, int(handle.frames))
    declared = declared_frames(file)
    return AudioInfo(
        path=file,
        sample_rate=rate,
        channels=int(handle.channels),
        format=str(handle.format),
        frames=frames,
        declared_frames=frames if declared is None else declared,
    )


def _unreadable(file: Path, exc: BaseException) -> AudioError:
    first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return AudioError(
        f"not a readable audio file; expected WAV, FLAC, OGG or MP3 ({first})",
        path=file,
        expected="WAV, FLAC, OGG or MP3",
    )


def _check_length(info: AudioInfo, max_seconds: float) -> None:
    if info.duration > max_seconds:
        raise AudioError(
            f"the audio is {_seconds(max(info.frames, info.declared_frames), info.sample_rate)} "
            f"long; at most {_limit(max_seconds)} is read (memory and one MIDI file's "
            "length are bounded); cut the file into parts",
            path=info.path,
            expected=max_seconds,
            got=info.duration,
        )


def probe_audio(path: str | Path, *, max_seconds: float = MAX_AUDIO_S) -> AudioInfo:
    """Read the header of an audio file (no decoding) and check its length.

    :raises AudioError: If the path is not a regular file, is empty, is not audio, or
        is longer than ``max_seconds``.
    """
    file = Path(path)
    _check_file(file)
    soundfile = require("soundfile", extra="data", purpose="reading audio")
    try:
        with soundfile.SoundFile(str(file)) as handle:
            info = _info(handle, file)
    except (RuntimeError, TypeError, ValueError, OSError) as exc:
        if isinstance(exc, AudioError):
            raise
        raise _unreadable(file, exc) from exc
    _check_length(info, max_seconds)
    return info


def _read_blocks(
    handle: Any, info: AudioInfo, sample_rate: int, max_seconds: float
) -> tuple[FloatArray, int, str | None]:
    """Read ``handle`` block by block: float32, mixed to mono, resampled on the fly.

    :returns: The samples, the frames decoded, and why decoding stopped early (None if
        it reached the end).
    """
    stream = None
    if info.sample_rate != sample_rate:
        soxr = require("soxr", extra="data", purpose="resampling audio")
        stream = soxr.ResampleStream(
            info.sample_rate, sample_rate, 1, dtype="float32", quality="HQ"
        )
    chunks: list[FloatArray] = []
    total = 0
    limit = max_seconds * info.sample_rate
    stopped: str | None = None
    while True:
        try:
            data = handle.read(BLOCK_FRAMES, dtype="float32", always_2d=True)
        except RuntimeError as exc:  # a decoder error part-way: keep what was decoded
            stopped = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            data = np.zeros((0, info.channels), dtype=np.float32)
        last = stopped is not None or data.shape[0] < BLOCK_FRAMES
        if data.shape[0] and not np.isfinite(data).all():
            raise AudioError(
                "holds NaN or Inf samples", path=info.path, expected="finite", got="NaN/Inf"
            )
        total += data.shape[0]
        if total > limit:  # a header that understated the length (an estimated MP3 count)
            _check_length(attrs.evolve(info, frames=total), max_seconds)
        mono = to_mono(data)
        if stream is not None:
            mono = np.ascontiguousarray(stream.resample_chunk(mono, last=last), dtype=np.float32)
        if mono.size:
            chunks.append(mono)
        if last:
            break
    if not chunks:
        return np.zeros(0, dtype=np.float32), total, stopped
    return (np.concatenate(chunks) if len(chunks) > 1 else chunks[0]), total, stopped


def _check_decoded(info: AudioInfo, samples: FloatArray, decoded: int, stopped: str | None) -> None:
    """Compare what was decoded with what the header declares: warn, or refuse if nothing
    usable came out."""
    slack = _SLACK.get(info.format, 0)
    short = info.declared_frames - decoded > slack
    if decoded == 0 and info.declared_frames == 0 and stopped is None:
        raise AudioError("holds no samples; expected at least one", path=info.path, got=0)
    if not (short or stopped):
        if not np.any(samples):
            warnings.warn(
                f"{info.path}: the audio is silent (all {decoded} frames are zero); "
                "the music follows no beat or emotion of it",
                KellyWarning,
                stacklevel=3,
            )
        return
    rate = info.sample_rate
    declared = _seconds(info.declared_frames, rate)
    said = f"of the {declared} its header declares"
    why = f" ({stopped})" if stopped else " (the file is truncated or damaged)"
    if decoded == 0 or not np.any(samples):
        what = "nothing" if decoded == 0 else f"{_seconds(decoded, rate)} of silence"
        raise AudioError(
            f"decodes to {what} {said}{why}; expected audio",
            path=info.path,
            expected=info.declared_frames,
            got=decoded,
        )
    got = _seconds(decoded, rate)
    if got == declared:  # whole seconds past 2 min: say what is missing
        got += f" ({_seconds(info.declared_frames - decoded, rate)} less)"
    warnings.warn(
        f"{info.path}: decoded {got} {said}{why}; the music covers the decoded part only",
        KellyWarning,
        stacklevel=3,
    )


def read_audio(
    path: str | Path, *, sample_rate: int = SAMPLE_RATE, max_seconds: float = MAX_AUDIO_S
) -> AudioClip:
    """Read an audio file as mono float32 at ``sample_rate`` Hz.

    Stereo (or more channels) is averaged to mono; another sample rate is resampled.
    Silence is valid audio (it reads as zeros, with a ``KellyWarning``). A file that
    decodes to less than its header declares (cut short, or a decoder error part-way)
    gives a ``KellyWarning`` saying how much of it was decoded.

    :param path: A WAV, FLAC, OGG or MP3 file (any format libsndfile reads).
    :param max_seconds: Longest audio accepted (default :data:`MAX_AUDIO_S`, one hour);
        checked on the header before decoding, and again while decoding.
    :returns: The samples, shape ``(n,)``, with the file's own rate and channel count.
    :raises AudioError: If the path is missing or not a regular file, or the file is
        empty, not audio, longer than ``max_seconds``, decodes to nothing usable or holds
        NaN/Inf samples; ``error.path`` is the file.
    :raises MissingDependencyError: If soundfile (or soxr, when resampling) is missing.
    """
    file = Path(path)
    _check_file(file)
    soundfile = require("soundfile", extra="data", purpose="reading audio")
    try:
        with soundfile.SoundFile(str(file)) as handle:
            info = _info(handle, file)
            _check_length(info, max_seconds)
            samples, decoded, stopped = _read_blocks(handle, info, sample_rate, max_seconds)
    # soundfile.LibsndfileError is a RuntimeError; a bad header may raise the others
    except (RuntimeError, TypeError, ValueError, OSError) as exc:
        if isinstance(exc, AudioError):
            raise
        raise _unreadable(file, exc) from exc
    _check_decoded(info, samples, decoded, stopped)
    clip = AudioClip(
        samples=samples,
        sample_rate=sample_rate,
        path=file,
        source_sample_rate=info.sample_rate,
        source_channels=info.channels,
    )
    logger.debug(
        "%s: %d channel(s) at %d Hz, %.2f s",
        file,
        clip.source_channels,
        info.sample_rate,
        clip.duration,
    )
    return clip
