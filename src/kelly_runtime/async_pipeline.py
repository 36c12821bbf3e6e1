"""Inference on a worker thread; the caller's ``submit`` and ``poll`` never wait for it.

Handoff, all buffers allocated once in the constructor:

- **In**: ``capacity`` input slots (2..:data:`MAX_CAPACITY`). :meth:`AsyncPipeline.submit`
  checks the frame (shape, dtype, finite values, and the processor's own ``check``, such
  as :func:`beat_processor`'s beat column), copies it into a free slot and queues the
  slot. When every slot is queued, the *oldest* queued frame is dropped (counted in
  :attr:`AsyncStats.dropped`) and its slot reused: the queue is bounded and the newest
  input always gets in.
- **Out**: a ring of output slots published with a sequence number (a seqlock): the
  worker writes slot ``k % n`` and then publishes ``k``; :meth:`AsyncPipeline.poll`
  copies the latest published slot and checks that the worker did not lap it meanwhile.
  Only the latest result is kept (latest-value semantics).

No lock is shared with the worker: the queues are ``collections.deque`` (atomic append
and popleft) and the wake-up is a ``threading.Event``. ``submit`` and ``poll`` must be
called from one thread (the caller's). An exception in the worker stops it and is raised
to the caller, wrapped in ``BackendError``, by every later ``submit`` and ``poll`` (and by
``close`` if none reported it); a worker that stopped without one is reported the same way.

Lifetime: the worker thread holds the shared buffers, never the :class:`AsyncPipeline`,
and a ``weakref.finalize`` stops it when the pipeline is garbage-collected, so a pipeline
that is never closed does not keep its thread. The thread is a daemon (it never holds up
interpreter exit). Every frame accepted is accounted for: ``submitted == processed +
dropped + discarded`` once the pipeline is closed (``discarded``: queued frames that
``close`` stopped before the worker reached them).
"""

from __future__ import annotations

import contextlib
import threading
import weakref
from collections import deque
from collections.abc import Callable
from types import TracebackType
from typing import Final, final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray, check_frame
from kelly_core.errors import BackendError
from kelly_runtime.beat_frames import (
    AUTO_BEAT,
    BEAT_CHROMA,
    BEAT_INPUT_SIZE,
    NO_BEAT,
    beat_frame,
    beat_processor,
    check_beat_frame,
)

__all__ = [
    "AUTO_BEAT",
    "BEAT_CHROMA",
    "BEAT_INPUT_SIZE",
    "MAX_CAPACITY",
    "MAX_FRAME_SIZE",
    "NO_BEAT",
    "AsyncPipeline",
    "AsyncStats",
    "Processor",
    "beat_frame",
    "beat_processor",
    "check_beat_frame",
]

Processor = Callable[[FloatArray, FloatArray], "bool | None"]
"""Worker-side function: read one input frame, write the result into the output slot.

Return ``False`` when the frame gave no result (nothing is published); ``None`` or
``True`` publishes the slot. A processor may carry a ``check(frame)`` attribute that
raises ``BackendError`` on a frame it cannot process; :meth:`AsyncPipeline.submit` calls
it, so such a frame is refused on the caller's thread instead of stopping the worker.
"""
FrameCheck = Callable[[FloatArray], None]
"""A processor's optional ``check``: raises ``BackendError`` on a frame it refuses."""

MAX_CAPACITY: Final = 4096
"""Most input slots (a host buffers a few frames; more only delays the newest)."""
MAX_FRAME_SIZE: Final = 1 << 20
"""Most values per input or output frame."""

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
    discarded: int = 0
    """Queued frames that :meth:`AsyncPipeline.close` stopped before the worker reached
    them."""


class _Shared:
    """What the caller and the worker share; the worker thread holds only this."""

    def __init__(self, process: Processor, in_size: int, out_size: int, capacity: int) -> None:
        self.process = process
        self.inputs = np.zeros((capacity, in_size), dtype=np.float32)
        self.free: deque[int] = deque(range(capacity))
        self.pending: deque[int] = deque()
        self.outputs = np.zeros((_OUT_SLOTS, out_size), dtype=np.float32)
        self.published = -1
        self.processed = 0
        self.error: BaseException | None = None
        self.wake = threading.Event()
        self.stop = threading.Event()


def _work(shared: _Shared) -> None:
    """The worker loop: process queued slots until told to stop (or the processor fails)."""
    sequence = 0
    while not shared.stop.is_set():
        shared.wake.wait(_IDLE_WAIT_S)
        shared.wake.clear()
        while not shared.stop.is_set():
            try:
                slot = shared.pending.popleft()
            except IndexError:
                break
            out = shared.outputs[sequence % _OUT_SLOTS]
            try:
                made = shared.process(shared.inputs[slot], out)
            except BaseException as exc:  # surfaced to the caller, never swallowed
                shared.error = exc
                shared.free.append(slot)
                return
            shared.free.append(slot)
            shared.processed += 1
            if made is not False:
                shared.published = sequence
                sequence += 1


def _stop(shared: _Shared) -> None:
    """Finalizer of a pipeline collected without close(): stop its worker (no join)."""
    shared.stop.set()
    shared.wake.set()


def _size(value: object, name: str, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, int | np.integer)
        or not low <= value <= high
    ):
        raise BackendError(
            f"expected an integer in {low}..{high}, got {value!r}",
            field=name,
            expected=(low, high),
            got=value,
        )
    return int(value)


@final
class AsyncPipeline:
    """Runs ``process`` on a worker thread with bounded, non-blocking handoff.

    :param process: ``process(frame (in_size,), out (out_size,))``; runs on the worker.
        Its ``check`` attribute, if any, vets each frame in :meth:`submit`.
    :param in_size: Values per input frame (1..:data:`MAX_FRAME_SIZE`).
    :param out_size: Values per result (1..:data:`MAX_FRAME_SIZE`).
    :param capacity: Input slots (2..:data:`MAX_CAPACITY`). The worker holds one while it
        processes it, so ``capacity - 1`` frames can wait; a newer frame then drops the
        oldest.
    :param name: Worker thread name.
    :raises BackendError: On a size or capacity out of range (nothing is allocated).
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
        capacity = _size(capacity, "capacity", 2, MAX_CAPACITY)
        self._in_size = _size(in_size, "in_size", 1, MAX_FRAME_SIZE)
        out_size = _size(out_size, "out_size", 1, MAX_FRAME_SIZE)
        check = getattr(process, "check", None)
        self._check: FrameCheck | None = check if callable(check) else None
        self._shared = _Shared(process, self._in_size, out_size, capacity)
        self._read = np.zeros(out_size, dtype=np.float32)
        self._seen = -1
        self._submitted = 0
        self._dropped = 0
        self._discarded = 0
        self._error_reported = False
        self._closed = False
        self._thread = threading.Thread(target=_work, args=(self._shared,), name=name, daemon=True)
        self._finalizer = weakref.finalize(self, _stop, self._shared)
        self._thread.start()

    # ------------------------------------------------------------ caller side
    def submit(self, frame: FloatArray) -> bool:
        """Queue one frame ``(in_size,)``; never waits. Return False if a frame was dropped.

        :raises BackendError: On a bad frame (shape, dtype, NaN/Inf, or refused by the
            processor's ``check``; nothing queued), after :meth:`close`, or if the worker
            failed or stopped (the worker's exception is the cause).
        """
        self._raise_if_failed()
        if self._closed:
            raise BackendError("submit() after close()", field="state", got="closed")
        checked = check_frame(frame, self._in_size)
        if self._check is not None:
            self._check(checked)
        shared = self._shared
        dropped = False
        try:
            slot = shared.free.popleft()
        except IndexError:
            try:
                slot = shared.pending.popleft()  # the oldest queued frame gives way
            except IndexError:  # only with several submitting threads: drop the new one
                self._dropped += 1
                return False
            self._dropped += 1
            dropped = True
        np.copyto(shared.inputs[slot], checked)
        shared.pending.append(slot)
        self._submitted += 1
        if not shared.wake.is_set():  # the worker clears it before draining the queue
            shared.wake.set()
        return not dropped

    def poll(self, out: FloatArray | None = None) -> FloatArray | None:
        """Return the latest result if it is newer than the last one polled, else None.

        :param out: Where to copy the result ``(out_size,)``; by default an internal
            buffer that the next ``poll`` overwrites (copy it to keep it).
        :raises BackendError: If the worker failed or stopped (the worker's exception is
            the cause).
        """
        self._raise_if_failed()
        shared = self._shared
        target = self._read if out is None else out
        while True:
            latest = shared.published
            if latest <= self._seen:
                return None
            np.copyto(target, shared.outputs[latest % _OUT_SLOTS])
            # The worker rewrites slot latest % n only while producing latest + n, which
            # starts after it published latest + n - 1.
            if shared.published < latest + _OUT_SLOTS - 1:
                self._seen = latest
                return target

    @property
    def stats(self) -> AsyncStats:
        """Frames submitted, processed, dropped and discarded so far."""
        return AsyncStats(
            submitted=self._submitted,
            processed=self._shared.processed,
            dropped=self._dropped,
            discarded=self._discarded,
        )

    @property
    def running(self) -> bool:
        """Whether the worker thread is alive."""
        return self._thread.is_alive()

    def close(self, timeout: float | None = 5.0) -> None:
        """Stop the worker after the frame in progress and join it; idempotent.

        Queued frames not yet started are discarded and counted in
        :attr:`AsyncStats.discarded`.

        :raises BackendError: If the worker failed and no call has reported it yet, or it
            did not stop within ``timeout`` seconds.
        """
        shared = self._shared
        self._closed = True
        shared.stop.set()
        shared.wake.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            raise BackendError(f"worker did not stop within {timeout} s", field="worker")
        self._finalizer.detach()
        while True:
            try:
                shared.free.append(shared.pending.popleft())
            except IndexError:
                break
            self._discarded += 1
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
        error = self._shared.error
        if error is not None:
            self._error_reported = True
            raise BackendError(
                f"async worker failed: {type(error).__name__}: {error}", field="worker"
            ) from error
        if not self._closed and not self._thread.is_alive():
            self._error_reported = True
            raise BackendError("async worker stopped; create a new pipeline", field="worker")
