"""Inference on a worker thread; the caller's ``submit`` and ``poll`` never wait for it.

Handoff, all buffers allocated once in the constructor:

- **In**: ``capacity`` input slots. :meth:`AsyncPipeline.submit` checks the frame, copies
  it into a free slot and queues the slot. When every slot is queued, the *oldest* queued
  frame is dropped (counted in :attr:`AsyncStats.dropped`) and its slot reused: the
  queue is bounded and the newest input always gets in.
- **Out**: a ring of output slots published with a sequence number (a seqlock): the
  worker writes slot ``k % n`` and then publishes ``k``; :meth:`AsyncPipeline.poll`
  copies the latest published slot and checks that the worker did not lap it meanwhile.
  Only the latest result is kept (latest-value semantics).

No lock is shared with the worker: the queues are ``collections.deque`` (atomic append
and popleft) and the wake-up is a ``threading.Event``. ``submit`` and ``poll`` must be
called from one thread (the caller's). An exception in the worker stops it and is raised
to the caller, wrapped in ``BackendError``, by the next ``submit``, ``poll`` or ``close``.
"""

from __future__ import annotations

import contextlib
import threading
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Final, final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray, check_frame
from kelly_core.errors import BackendError
from kelly_runtime.pipeline import Pipeline

__all__ = [
    "BEAT_INPUT_SIZE",
    "NO_BEAT",
    "AsyncPipeline",
    "AsyncStats",
    "Processor",
    "beat_frame",
    "beat_processor",
]

Processor = Callable[[FloatArray, FloatArray], "bool | None"]
"""Worker-side function: read one input frame, write the result into the output slot.

Return ``False`` when the frame gave no result (nothing is published); ``None`` or
``True`` publishes the slot.
"""

BEAT_INPUT_SIZE: Final = 130
"""Values in a :func:`beat_frame`: ``[window mean 128 | has window | beat]``."""
NO_BEAT: Final = -1.0
"""The ``beat`` value of a frame that only pushes a window."""
AUTO_BEAT: Final = 4.0
"""The ``beat`` value of a beat whose bar position the pipeline counts itself."""

_OUT_SLOTS: Final = 4
_IDLE_WAIT_S: Final = 0.05


@attrs.frozen(kw_only=True)
class AsyncStats:
    """Counters since construction."""

    submitted: int
    """Frames accepted by :meth:`AsyncPipeline.submit`."""
    processed: int
    """Frames the worker finished."""
    dropped: int
    """Queued frames replaced by newer ones before the worker reached them."""


@final
class AsyncPipeline:
    """Runs ``process`` on a worker thread with bounded, non-blocking handoff.

    :param process: ``process(frame (in_size,), out (out_size,))``; runs on the worker.
    :param in_size: Values per input frame.
    :param out_size: Values per result.
    :param capacity: Input slots (at least 2). The worker holds one while it processes
        it, so ``capacity - 1`` frames can wait; a newer frame then drops the oldest.
    :param name: Worker thread name.
    """

    def __init__(
        self,
        process: Processor,
        *,
        in_size: int,
        out_size: int,
        capacity: int = 2,
        name: str = "kelly-async",
    ) -> None:
        if capacity < 2:
            raise BackendError("expected capacity >= 2", field="capacity", expected=2, got=capacity)
        self._process = process
        self._in_size = in_size
        self._inputs = np.zeros((capacity, in_size), dtype=np.float32)
        self._free: deque[int] = deque(range(capacity))
        self._pending: deque[int] = deque()
        self._outputs = np.zeros((_OUT_SLOTS, out_size), dtype=np.float32)
        self._read = np.zeros(out_size, dtype=np.float32)
        self._published = -1
        self._seen = -1
        self._submitted = 0
        self._dropped = 0
        self._processed = 0
        self._error: BaseException | None = None
        self._error_reported = False
        self._closed = False
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._work, name=name, daemon=True)
        self._thread.start()

    # ------------------------------------------------------------ caller side
    def submit(self, frame: FloatArray) -> bool:
        """Queue one frame ``(in_size,)``; never waits. Return False if a frame was dropped.

        :raises BackendError: On a bad frame (shape, dtype, NaN/Inf; nothing queued), after
            :meth:`close`, or if the worker failed (the worker's exception is the cause).
        """
        self._raise_if_failed()
        if self._closed:
            raise BackendError("submit() after close()", field="state", got="closed")
        checked = check_frame(frame, self._in_size)
        dropped = False
        try:
            slot = self._free.popleft()
        except IndexError:
            try:
                slot = self._pending.popleft()  # the oldest queued frame gives way
            except IndexError:  # only with several submitting threads: drop the new one
                self._dropped += 1
                return False
            self._dropped += 1
            dropped = True
        np.copyto(self._inputs[slot], checked)
        self._pending.append(slot)
        self._submitted += 1
        if not self._wake.is_set():  # the worker clears it before draining the queue
            self._wake.set()
        return not dropped

    def poll(self, out: FloatArray | None = None) -> FloatArray | None:
        """Return the latest result if it is newer than the last one polled, else None.

        :param out: Where to copy the result ``(out_size,)``; by default an internal
            buffer that the next ``poll`` overwrites (copy it to keep it).
        :raises BackendError: If the worker failed (the worker's exception is the cause).
        """
        self._raise_if_failed()
        target = self._read if out is None else out
        while True:
            latest = self._published
            if latest <= self._seen:
                return None
            np.copyto(target, self._outputs[latest % _OUT_SLOTS])
            # The worker rewrites slot latest % n only while producing latest + n, which
            # starts after it published latest + n - 1.
            if self._published < latest + _OUT_SLOTS - 1:
                self._seen = latest
                return target

    @property
    def stats(self) -> AsyncStats:
        """Frames submitted, processed and dropped so far."""
        return AsyncStats(
            submitted=self._submitted, processed=self._processed, dropped=self._dropped
        )

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread.is_alive()

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the worker after the frame in progress and join it; idempotent.

        Queued frames not yet started are discarded.

        :raises BackendError: If the worker failed and no call has reported it yet, or it
            did not stop within ``timeout`` seconds.
        """
        self._closed = True
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise BackendError(f"worker did not stop within {timeout} s", field="worker")
        if not self._error_reported:
            self._raise_if_failed()

    def __enter__(self) -> AsyncPipeline:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        with contextlib.suppress(BackendError):  # the exception propagating is the one to show
            self.close()

    def _raise_if_failed(self) -> None:
        error = self._error
        if error is not None:
            self._error_reported = True
            raise BackendError(
                f"async worker failed: {type(error).__name__}: {error}", field="worker"
            ) from error

    # ------------------------------------------------------------ worker side
    def _work(self) -> None:
        sequence = 0
        while not self._stop.is_set():
            self._wake.wait(_IDLE_WAIT_S)
            self._wake.clear()
            while not self._stop.is_set():
                try:
                    slot = self._pending.popleft()
                except IndexError:
                    break
                try:
                    made = self._process(self._inputs[slot], self._outputs[sequence % _OUT_SLOTS])
                except BaseException as exc:  # surfaced to the caller, never swallowed
                    self._error = exc
                    self._free.append(slot)
                    return
                self._free.append(slot)
                self._processed += 1
                if made is not False:
                    self._published = sequence
                    sequence += 1


def beat_frame(
    window: FloatArray | None = None, *, beat: bool = True, beat_in_bar: int | None = None
) -> FloatArray:
    """Build a :data:`BEAT_INPUT_SIZE` input frame for :func:`beat_processor`.

    :param window: An analysis window's log-mel mean ``(128,)`` to push first, or None.
    :param beat: Whether the frame steps a beat (the host's playhead crossed one).
    :param beat_in_bar: The beat's position in its bar (0..3); None = counted in fours.
    """
    frame = np.zeros(BEAT_INPUT_SIZE, dtype=np.float32)
    if window is not None:
        frame[:128] = check_frame(window, 128, name="window")
        frame[128] = 1.0
    if not beat:
        frame[129] = NO_BEAT
    elif beat_in_bar is None:
        frame[129] = AUTO_BEAT
    else:
        if not 0 <= beat_in_bar <= 3:
            raise BackendError(
                f"beat_in_bar must be in 0..3, got {beat_in_bar}",
                field="beat_in_bar",
                expected=(0, 3),
                got=beat_in_bar,
            )
        frame[129] = float(beat_in_bar)
    return frame


def beat_processor(pipeline: Pipeline) -> Processor:
    """Return a :data:`Processor` that streams ``pipeline`` at the host's tempo.

    Frames of :data:`BEAT_INPUT_SIZE` values (made by :func:`beat_frame`) push a window
    when they hold one and step a beat when they ask for one, so windows (every 0.5 s)
    and beats (whenever the host's playhead crosses one, at any BPM) arrive
    independently; a frame without a beat publishes nothing. A plain ``(128,)`` frame
    pushes that window and steps one beat (one window per beat). The result is the beat
    as a ``BEAT_VECTOR_SIZE`` vector (:meth:`kelly_runtime.beat.BeatOutput.from_vector`
    reads it back).
    """

    def process(frame: FloatArray, out: FloatArray) -> bool:
        if frame.shape[0] != BEAT_INPUT_SIZE:
            pipeline.push_window(frame)
            pipeline.step_beat().write_vector(out)
            return True
        if frame[128] > 0.5:
            pipeline.push_window(frame[:128])
        code = float(frame[129])
        if code < 0.0:
            return False
        position = None if code >= AUTO_BEAT else round(code)
        pipeline.step_beat(position).write_vector(out)
        return True

    return process
