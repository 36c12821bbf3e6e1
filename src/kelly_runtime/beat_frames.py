"""Frames of the beat-streaming processor: a window, a beat column and the song's chroma
heard, checked on submit.

:func:`beat_frame` builds a :data:`BEAT_INPUT_SIZE` frame ``[emotion frame 128 | has window
| beat | chroma 24]``; :func:`beat_processor` steps a
:class:`~kelly_runtime.pipeline.Pipeline` with such frames on
:class:`~kelly_runtime.async_pipeline.AsyncPipeline`'s worker, and its
``check`` (:func:`check_beat_frame`) lets ``submit`` refuse a frame the pipeline could
not step (a beat column out of range) on the caller's thread, before it reaches the
worker.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Final, final

import numpy as np

from kelly_core.arrays import FloatArray, check_frame
from kelly_core.catalog import MODEL_SPECS
from kelly_core.constants import BEATS_PER_BAR
from kelly_core.encodings.context import SONG_WIDTH
from kelly_core.errors import BackendError
from kelly_runtime.pipeline import Pipeline

__all__ = [
    "AUTO_BEAT",
    "BEAT_CHROMA",
    "BEAT_INPUT_SIZE",
    "NO_BEAT",
    "WINDOW_SIZE",
    "beat_frame",
    "beat_processor",
    "check_beat_frame",
]

WINDOW_SIZE: Final = MODEL_SPECS["EmotionRecognizer"].input_size
"""Values of an analysis window's emotion frame (128, :mod:`kelly_core.encodings.emotion_frame`)."""
_FLAG: Final = WINDOW_SIZE
_BEAT: Final = WINDOW_SIZE + 1
BEAT_CHROMA: Final = slice(WINDOW_SIZE + 2, WINDOW_SIZE + 2 + SONG_WIDTH)
"""Columns of a :func:`beat_frame` holding the song's beat chroma heard (24: chroma, bass)."""
BEAT_INPUT_SIZE: Final = BEAT_CHROMA.stop
"""Values in a :func:`beat_frame`: ``[emotion frame 128 | has window | beat | chroma 24]``
(154)."""
NO_BEAT: Final = -1.0
"""The ``beat`` value of a frame that only pushes a window."""
AUTO_BEAT: Final = float(BEATS_PER_BAR)
"""The ``beat`` value of a beat whose bar position the pipeline counts itself."""


def beat_frame(
    window: FloatArray | None = None,
    *,
    beat: bool = True,
    beat_in_bar: int | None = None,
    chroma: object = None,
) -> FloatArray:
    """Build a :data:`BEAT_INPUT_SIZE` input frame for :func:`beat_processor`.

    :param window: An analysis window's emotion frame ``(128,)`` to push first, or None.
    :param beat: Whether the frame steps a beat (the host's playhead crossed one).
    :param beat_in_bar: The beat's position in its bar (0..3); None = counted in fours.
    :param chroma: The song's beat chroma the beat hears, ``(24,)`` absolute chroma and
        bass (:meth:`~kelly_runtime.pipeline.Pipeline.step_beat`'s ``chroma``: at zero
        latency the previous beat's, with a beat of look-ahead its own); None: silence
        (zeros).
    :raises BackendError: On a window or chroma of the wrong shape or with NaN/Inf, or a
        ``beat_in_bar`` out of range.
    """
    frame = np.zeros(BEAT_INPUT_SIZE, dtype=np.float32)
    if window is not None:
        frame[:WINDOW_SIZE] = check_frame(window, WINDOW_SIZE, name="window")
        frame[_FLAG] = 1.0
    if chroma is not None:
        frame[BEAT_CHROMA] = check_frame(chroma, SONG_WIDTH, name="chroma")
    if not beat:
        frame[_BEAT] = NO_BEAT
    elif beat_in_bar is None:
        frame[_BEAT] = AUTO_BEAT
    else:
        if not 0 <= beat_in_bar < BEATS_PER_BAR:
            raise BackendError(
                f"beat_in_bar must be in 0..{BEATS_PER_BAR - 1}, got {beat_in_bar}",
                field="beat_in_bar",
                expected=(0, BEATS_PER_BAR - 1),
                got=beat_in_bar,
            )
        frame[_BEAT] = float(beat_in_bar)
    return frame


def check_beat_frame(frame: FloatArray) -> None:
    """Refuse a frame :func:`beat_processor` cannot step (the ``check`` submit calls).

    A frame is a plain window ``(128,)`` or a :func:`beat_frame` ``(154,)`` whose window
    flag is 0 or 1 and whose beat column is :data:`NO_BEAT`, :data:`AUTO_BEAT` or a
    position ``0..3``.

    :raises BackendError: Naming the column, what it holds and what it may hold.
    """
    size = frame.shape[0]
    if size not in (WINDOW_SIZE, BEAT_INPUT_SIZE):
        raise BackendError(
            f"expected a window of {WINDOW_SIZE} values or a beat frame of "
            f"{BEAT_INPUT_SIZE}, got {size}",
            field="frame",
            expected=(WINDOW_SIZE, BEAT_INPUT_SIZE),
            got=size,
        )
    if size == WINDOW_SIZE:
        return
    flag = float(frame[_FLAG])
    if flag not in (0.0, 1.0):
        raise BackendError(
            f"the window flag must be 0 or 1, got {flag:g}",
            field=f"frame[{_FLAG}]",
            expected=(0.0, 1.0),
            got=flag,
        )
    code = float(frame[_BEAT])
    if code not in _BEAT_CODES:
        last = BEATS_PER_BAR - 1
        raise BackendError(
            f"the beat column must be {NO_BEAT:g} (no beat), 0..{last} (the beat's "
            f"place in its bar) or {AUTO_BEAT:g} (counted), got {code:g}",
            field=f"frame[{_BEAT}]",
            expected=_BEAT_CODES,
            got=code,
        )


_BEAT_CODES: Final = (NO_BEAT, *(float(p) for p in range(BEATS_PER_BAR)), AUTO_BEAT)


@final
class _BeatProcessor:
    """A processor over a :class:`Pipeline`, with its frame ``check``."""

    check = staticmethod(check_beat_frame)

    def __init__(self, pipeline: Pipeline) -> None:
        self._pipeline = pipeline

    def __call__(self, frame: FloatArray, out: FloatArray) -> bool:
        pipeline = self._pipeline
        if frame.shape[0] != BEAT_INPUT_SIZE:
            pipeline.push_window(frame)
            pipeline.step_beat().write_vector(out)
            return True
        if frame[_FLAG] > 0.5:
            pipeline.push_window(frame[:WINDOW_SIZE])
        code = float(frame[_BEAT])
        if code < 0.0:
            return False
        position = None if code >= AUTO_BEAT else round(code)
        pipeline.step_beat(position, chroma=frame[BEAT_CHROMA]).write_vector(out)
        return True


def beat_processor(pipeline: Pipeline) -> Callable[[FloatArray, FloatArray], bool]:
    """Return a processor (:data:`~kelly_runtime.async_pipeline.Processor`) that streams
    ``pipeline`` at the host's tempo.

    Frames of :data:`BEAT_INPUT_SIZE` values (made by :func:`beat_frame`) push a window
    when they hold one and step a beat when they ask for one, hearing the frame's chroma
    (:data:`BEAT_CHROMA`; zeros: silence), so windows (every 0.5 s) and beats (whenever
    the host's playhead crosses one, at any BPM) arrive independently; a frame without a
    beat publishes nothing. A plain ``(128,)`` frame pushes that window and steps one beat
    (one window per beat) that hears nothing. The result is the beat
    as a ``BEAT_VECTOR_SIZE`` vector (:meth:`kelly_runtime.beat.BeatOutput.from_vector`
    reads it back). Its ``check`` (:func:`check_beat_frame`) lets
    :meth:`~kelly_runtime.async_pipeline.AsyncPipeline.submit` refuse a frame with a beat
    column out of range.
    """
    return _BeatProcessor(pipeline)
