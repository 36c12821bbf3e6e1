"""The EmotionRecognizer's input: one 128-value frame per 0.5 s window (docs/encodings.md).

A window is what the log-mel front end's :func:`~kelly_core.encodings.logmel.window_means`
makes it: log-mel frame ``k`` belongs to window ``floor(k / 21.533)``, an incomplete last
window is dropped, so a clip gives as many frames as it has window means. A window's frame
is finished when its last log-mel frame is (``(last + 1) · 512 + 1536`` samples), and reads
only audio up to there: the chroma frames (:mod:`.chroma`) complete by then feed the
running chroma. Columns (:data:`EMOTION_FRAME_COLUMNS`), each on a fixed scale:

- ``shape`` (64): the window's mean log-mel bands (scaled ``(dB + 20) / 60``), adjacent
  pairs averaged, minus the largest of them, floored at -1 (60 dB below it): the spectral
  shape in [-1, 0], unmoved by a gain while the music stays 60 dB above the -80 dB floor.
- ``level``: the window's mean power over its log-mel bands and frames on the log-mel's
  scale (-1 at the floor, 0 at -20 dB, +1 at +40 dB: a gain of ``g`` dB adds ``g / 60``);
  ``level_spread``: the largest minus the smallest frame level in the window.
- ``flux``, ``flux_low``, ``flux_high``: :data:`FLUX_SCALE` times the window's mean
  spectral flux (``max(0, band[k] - band[k-1])`` averaged over all bands, the bands
  centred below 200 Hz, above 4 kHz); ``onset_rate``: upward crossings of the flux over
  the mean of its previous 16 frames plus :data:`ONSET_DELTA`, per second, divided by
  :data:`ONSET_RATE_SCALE`.
- ``pulse_clarity``, ``tempo``, ``tempogram`` (12): :func:`~.emotion_cues.tempo_cues` of
  the flux over the last 5.94 s.
- the 20 mode cues (:data:`~.emotion_cues.MODE_CUES`) and ``tonic_chroma`` /
  ``window_tonic_chroma`` (12 each): :func:`~.emotion_cues.mode_cues` of the running
  chroma (chroma and bass frames summed with weight ``exp(-age / 8 s)``) and of the
  window's mean chroma.

Offline and streaming give the same numbers: :func:`offline_emotion_frames` is the
stream fed the whole clip at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape
from kelly_core.constants import WINDOW_S
from kelly_core.encodings.chroma import DEFAULT_CHROMA, FRAME_WIDTH, StreamingChroma
from kelly_core.encodings.emotion_cues import MODE_CUES, TEMPO_BINS, mode_cues, tempo_cues
from kelly_core.encodings.logmel import (
    DEFAULT_LOG_MEL,
    StreamingLogMel,
    frames_per_window,
    mel_filterbank,
)

__all__ = [
    "EMOTION_FRAME_COLUMNS",
    "EMOTION_FRAME_SIZE",
    "EMOTION_FRAME_VERSION",
    "FLUX_SCALE",
    "ONSET_DELTA",
    "ONSET_RATE_SCALE",
    "RUNNING_CHROMA_S",
    "StreamingEmotionFrames",
    "gain_emotion_frames",
    "offline_emotion_frames",
]

EMOTION_FRAME_SIZE: Final = 128
"""Values in one emotion frame (the EmotionRecognizer's input size)."""
EMOTION_FRAME_VERSION: Final = "emotion_frame"
"""The EmotionRecognizer's ``input_name``: model files record it in ``metadata.spec``; a
file of the earlier design (``"log_mel"``: 128 log-mel window means) is refused by it."""

SHAPE_BANDS: Final = 64
FLUX_SCALE: Final = 10.0
"""Multiplier of the mean spectral flux (scaled log-mel units per frame)."""
ONSET_DELTA: Final = 0.02
"""Flux above the mean of its previous :data:`ONSET_CONTEXT` frames that makes an onset."""
ONSET_CONTEXT: Final = 16
ONSET_RATE_SCALE: Final = 10.0
"""Onsets per second are divided by this (10 onsets/s -> 1)."""
RUNNING_CHROMA_S: Final = 8.0
"""Time constant of the running chroma in seconds."""
LOW_HZ: Final = 200.0
HIGH_HZ: Final = 4000.0
_BLOCK: Final = 1 << 18
"""Samples pushed at a time by :func:`offline_emotion_frames` (bounds its memory)."""


def _layout() -> dict[str, slice]:
    names = ["shape", "level", "level_spread", "flux", "flux_low", "flux_high", "onset_rate"]
    widths = [SHAPE_BANDS, 1, 1, 1, 1, 1, 1]
    names += ["pulse_clarity", "tempo", "tempogram", *MODE_CUES]
    widths += [1, 1, TEMPO_BINS, *(1 for _ in MODE_CUES)]
    names += ["tonic_chroma", "window_tonic_chroma"]
    widths += [12, 12]
    out: dict[str, slice] = {}
    start = 0
    for name, width in zip(names, widths, strict=True):
        out[name] = slice(start, start + width)
        start += width
    assert start == EMOTION_FRAME_SIZE, start
    out["rhythm"] = slice(out["flux"].start, out["tempogram"].stop)
    out["mode"] = slice(out[MODE_CUES[0]].start, out[MODE_CUES[-1]].stop)
    return out


EMOTION_FRAME_COLUMNS: Final[Mapping[str, slice]] = MappingProxyType(_layout())
"""Column name -> slice of the frame: each value (1 wide), ``shape`` (64), ``tempogram``
(12), ``tonic_chroma``, ``window_tonic_chroma`` (12), and the groups ``rhythm`` (flux ..
tempogram) and ``mode`` (the 20 mode cues)."""


def _band_masks() -> tuple[np.ndarray, np.ndarray]:
    weights = mel_filterbank(DEFAULT_LOG_MEL)
    freqs = np.fft.rfftfreq(DEFAULT_LOG_MEL.n_fft, d=1.0 / DEFAULT_LOG_MEL.sr)
    centres = (weights * freqs).sum(axis=1) / weights.sum(axis=1)
    return centres < LOW_HZ, centres > HIGH_HZ


def _power_level(scaled: np.ndarray) -> np.ndarray:
    """Per row of scaled log-mel values: the level of their mean power, on the same scale."""
    config = DEFAULT_LOG_MEL
    db = scaled * config.db_half_range + config.db_center
    peak = db.max(axis=1, keepdims=True)
    mean_db = peak[:, 0] + 10.0 * np.log10(np.mean(10.0 ** ((db - peak) / 10.0), axis=1))
    levels: np.ndarray = (mean_db - config.db_center) / config.db_half_range
    return levels


class StreamingEmotionFrames:
    """Computes the same frames as :func:`offline_emotion_frames` from audio pushed in
    chunks of any size (module doc)."""

    def __init__(self) -> None:
        self._mel = StreamingLogMel()
        self._chroma = StreamingChroma()
        self._per = frames_per_window(DEFAULT_LOG_MEL, WINDOW_S)
        self._fps = DEFAULT_LOG_MEL.sr / DEFAULT_LOG_MEL.hop
        self._decay = float(np.exp(-DEFAULT_CHROMA.hop / DEFAULT_CHROMA.sr / RUNNING_CHROMA_S))
        self._low, self._high = _band_masks()
        self.reset()

    def reset(self) -> None:
        """Start a new stream."""
        self._mel.reset()
        self._chroma.reset()
        self._frame = 0  # log-mel frames seen
        self._window = 0  # frames emitted
        self._previous: np.ndarray | None = None
        self._flux = np.zeros(0)  # flux of the frames before self._frame (a tail)
        self._above = False
        self._pending = np.zeros((0, DEFAULT_LOG_MEL.n_mels + 4))
        self._chroma_queue = np.zeros((0, FRAME_WIDTH))
        self._chroma_next = 0  # global index of the queue's first chroma frame
        self._running = np.zeros(FRAME_WIDTH)
        self._last_window = np.zeros(12)

    def push(self, samples: object) -> FloatArray:
        """Append ``(n,)`` samples (22050 Hz, in [-1, 1]); return the ``(k, 128)`` frames
        of the windows they finish."""
        mel = self._mel.push(samples).astype(np.float64)
        chroma = self._chroma.push(samples).astype(np.float64)
        self._chroma_queue = np.concatenate([self._chroma_queue, chroma])
        if mel.shape[0] == 0:
            return np.zeros((0, EMOTION_FRAME_SIZE), dtype=np.float32)
        rows, flux = self._frame_rows(mel)
        history = np.concatenate([self._flux, flux])
        first = self._frame - self._pending.shape[0]  # global index of pending[0]
        origin = self._frame - self._flux.shape[0]  # global index of history[0]
        self._pending = np.concatenate([self._pending, rows])
        self._frame += mel.shape[0]
        out: list[np.ndarray] = []
        while True:
            end = int(np.ceil((self._window + 1) * self._per - 1e-9))
            if end > self._frame:
                break
            window_rows = self._pending[: end - first]
            self._pending = self._pending[end - first :]
            out.append(self._finish(window_rows, history[: end - origin], end))
            first = end
            self._window += 1
        self._flux = history[-max(256, ONSET_CONTEXT) :]
        if not out:
            return np.zeros((0, EMOTION_FRAME_SIZE), dtype=np.float32)
        return as_float32(np.stack(out))

    def _frame_rows(self, mel: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per log-mel frame: ``[bands (128) | flux all, low, high | onset]``; and the flux."""
        previous = mel[:1] if self._previous is None else self._previous[None, :]
        rise = np.maximum(mel - np.concatenate([previous, mel[:-1]]), 0.0)
        self._previous = mel[-1].copy()
        flux = rise.mean(axis=1)
        low = rise[:, self._low].mean(axis=1)
        high = rise[:, self._high].mean(axis=1)
        onsets = np.zeros(mel.shape[0])
        history = np.concatenate([self._flux[-ONSET_CONTEXT:], flux])
        offset = history.shape[0] - flux.shape[0]
        for index, value in enumerate(flux):
            before = history[max(0, offset + index - ONSET_CONTEXT) : offset + index]
            threshold = (before.mean() if before.size else 0.0) + ONSET_DELTA
            above = bool(value > threshold)
            onsets[index] = 1.0 if above and not self._above else 0.0
            self._above = above
        return np.column_stack([mel, flux, low, high, onsets]), flux

    def _take_chroma(self, end: int) -> np.ndarray:
        """Fold the chroma frames complete by log-mel frame ``end - 1`` into the running
        chroma; return their mean chroma (12), zeros when none."""
        last_sample = (end - 1) * DEFAULT_LOG_MEL.hop + DEFAULT_LOG_MEL.n_fft
        count = (last_sample - DEFAULT_CHROMA.n_fft) // DEFAULT_CHROMA.hop + 1 - self._chroma_next
        count = max(0, min(count, self._chroma_queue.shape[0]))
        taken = self._chroma_queue[:count]
        self._chroma_queue = self._chroma_queue[count:]
        self._chroma_next += count
        for frame in taken:
            self._running = self._decay * self._running + frame
        return taken[:, :12].mean(axis=0) if count else np.zeros(12)

    def _finish(self, rows: np.ndarray, flux: np.ndarray, end: int) -> np.ndarray:
        """The frame of the window whose log-mel rows are ``rows`` (ending at ``end``)."""
        bands = rows[:, : DEFAULT_LOG_MEL.n_mels]
        means = bands.reshape(bands.shape[0], SHAPE_BANDS, -1).mean(axis=(0, 2))
        frame_levels = _power_level(bands)
        level = float(_power_level(bands.reshape(1, -1))[0])
        window_chroma = self._take_chroma(end)
        cues, tonic_chroma, window_tonic = mode_cues(
            self._running, window_chroma, self._last_window
        )
        self._last_window = window_chroma
        extra = rows[:, DEFAULT_LOG_MEL.n_mels :]
        onset_rate = extra[:, 3].sum() / WINDOW_S / ONSET_RATE_SCALE
        return np.concatenate(
            [
                np.maximum(means - means.max(), -1.0),
                [level, frame_levels.max() - frame_levels.min()],
                FLUX_SCALE * extra[:, :3].mean(axis=0),
                [onset_rate],
                tempo_cues(flux, self._fps),
                cues,
                tonic_chroma,
                window_tonic,
            ]
        )


def offline_emotion_frames(audio: object, sr: int) -> FloatArray:
    """Return the ``(W, 128)`` emotion frames of a mono clip, one per 0.5 s window.

    ``W`` is the number of :func:`~kelly_core.encodings.logmel.window_means` windows of the
    clip's log-mel frames (0 when shorter than one window).

    :param audio: ``(N,)`` samples in [-1, 1].
    :param sr: Sample rate; must be 22050 (resample first).
    :raises ValueError: On a different sample rate.
    """
    if sr != DEFAULT_LOG_MEL.sr:
        raise ValueError(f"expected audio at {DEFAULT_LOG_MEL.sr} Hz, got {sr} Hz; resample first")
    samples = np.asarray(audio, dtype=np.float64)
    check_shape(samples, (None,), name="audio")
    stream = StreamingEmotionFrames()
    parts = [stream.push(samples[i : i + _BLOCK]) for i in range(0, samples.shape[0], _BLOCK)]
    return np.concatenate([np.zeros((0, EMOTION_FRAME_SIZE), dtype=np.float32), *parts])


def gain_emotion_frames(frames: object, db: float | np.ndarray) -> FloatArray:
    """Frames as a gain of ``db`` decibels would make them: ``level`` moves by ``db / 60``
    (not below the floor, -1); every other column is unmoved by a gain (up to bands near
    the floor). ``db`` is one number or an array broadcast against ``(W, 1)``."""
    out = np.array(frames, dtype=np.float32, copy=True)
    check_shape(out, (None, EMOTION_FRAME_SIZE), name="frames")
    gain = np.asarray(db, dtype=np.float64) / DEFAULT_LOG_MEL.db_half_range
    level = EMOTION_FRAME_COLUMNS["level"]
    out[:, level] = np.maximum(out[:, level] + gain, -1.0)
    return out
