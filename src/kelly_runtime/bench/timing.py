"""Timing primitives of ``kelly bench``: per-call latency, interleaved turns, and the
machine's own tail (a read of the weights' size and a compute-only loop).

Calls are timed one by one with ``time.perf_counter_ns`` after a warm-up, in the calling
thread. NumPy's BLAS thread count is set by the command (:func:`blas_threads`).
"""

from __future__ import annotations

import contextlib
import importlib
import math
import time
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from typing import Final, cast

import attrs
import numpy as np

__all__ = [
    "MACHINE_COMPUTE",
    "MACHINE_STREAM",
    "Latency",
    "MachineTail",
    "blas_threads",
    "calibrate_count",
    "compute_loop",
    "machine_probes",
    "measure",
    "measure_interleaved",
    "summarize",
]


@attrs.frozen(kw_only=True)
class Latency:
    """Per-call latency in microseconds."""

    median_us: float
    p99_us: float
    p999_us: float
    calls: int

    def to_dict(self) -> dict[str, float]:
        """Return ``{"median_us": ..., "p99_us": ...}`` rounded to 0.01 µs."""
        return {"median_us": round(self.median_us, 2), "p99_us": round(self.p99_us, 2)}


@attrs.frozen(kw_only=True)
class MachineTail:
    """Two calls that run no model, timed in the same turns as the backends: what the
    machine itself adds to the tail of a call of about a step's length.

    A step's p99 ÷ median near these is the machine's (interrupts, the hypervisor, other
    jobs on the core or on the caches and memory it shares), not the code's.
    """

    stream: Latency
    """One read of as many bytes as the five models' weights (``numpy.max`` over float32)."""
    stream_bytes: int
    compute: Latency
    """:func:`compute_loop`, calibrated to the stream's median: no memory beyond L1. It is
    calibrated once, before the timing: if the machine's speed changes during the run,
    its median drifts from the stream's (its tail ratio is what counts)."""

    def to_dict(self) -> dict[str, object]:
        """Return the ``--json`` object (each with its ``p99_over_median``)."""
        document: dict[str, object] = {"stream_bytes": self.stream_bytes}
        for name, latency in (("stream", self.stream), ("compute", self.compute)):
            document[name] = {
                **latency.to_dict(),
                "p99_over_median": round(latency.p99_us / latency.median_us, 3),
            }
        return document


def _percentile(sorted_ns: list[int], fraction: float) -> float:
    index = min(len(sorted_ns) - 1, math.ceil(fraction * len(sorted_ns)) - 1)
    return sorted_ns[max(index, 0)] / 1000.0


def summarize(samples_ns: list[int]) -> Latency:
    """Median, p99 and p99.9 of ``samples_ns`` (nanoseconds) in microseconds."""
    ordered = sorted(samples_ns)
    return Latency(
        median_us=_percentile(ordered, 0.5),
        p99_us=_percentile(ordered, 0.99),
        p999_us=_percentile(ordered, 0.999),
        calls=len(ordered),
    )


def measure(call: Callable[[], object], *, steps: int, warmup: int) -> Latency:
    """Call ``call`` ``warmup`` times, then time ``steps`` calls one by one."""
    for _ in range(warmup):
        call()
    clock = time.perf_counter_ns
    samples = [0] * steps
    for i in range(steps):
        start = clock()
        call()
        samples[i] = clock() - start
    return summarize(samples)


def compute_loop(count: int) -> int:
    """Spin ``count`` iterations of a Python loop that touches nothing beyond a few
    registers and the interpreter's own hot data: pure computation, no model memory."""
    total = 0
    for i in range(count):
        total ^= i
    return total


def calibrate_count(target_us: float, time_of: Callable[[int], float]) -> int:
    """The iteration count of :func:`compute_loop` that takes about ``target_us``.

    ``time_of(count)`` gives a measured median in µs. The count grows tenfold from 1,000
    until a run takes a tenth of the target; then secant steps on (count, time) solve for
    the target (a call's fixed cost does not bias them, as plain proportion would).
    """
    count = 1000
    took = time_of(count)
    while took < target_us / 10 and count < 10**9:
        count *= 10
        took = time_of(count)
    previous, previous_took = count, took
    count = max(1, round(count * target_us / max(took, 1e-3)))
    for _ in range(3):
        took = time_of(count)
        if count == previous or took == previous_took:
            break
        slope = (took - previous_took) / (count - previous)
        if slope <= 0:
            break
        previous, previous_took = count, took
        count = max(1, round(count + (target_us - took) / slope))
    return count


MACHINE_STREAM: Final = "machine/stream"
MACHINE_COMPUTE: Final = "machine/compute"


def machine_probes(weight_bytes: int) -> dict[str, Callable[[], object]]:
    """The two calls of :class:`MachineTail`: a read of ``weight_bytes`` bytes, and a
    compute-only loop calibrated to that read's median."""
    size = max(1, weight_bytes // 4)
    data = np.random.default_rng(0).standard_normal(size).astype(np.float32)
    stream = partial(np.max, data)
    median = measure(stream, steps=101, warmup=10).median_us
    count = calibrate_count(
        median, lambda n: measure(partial(compute_loop, n), steps=21, warmup=2).median_us
    )
    return {MACHINE_STREAM: stream, MACHINE_COMPUTE: partial(compute_loop, count)}


@contextlib.contextmanager
def blas_threads(count: int | None) -> Iterator[str]:
    """Limit NumPy's BLAS to ``count`` threads inside the block (threadpoolctl, if installed).

    Yields a note for the report. ``None`` leaves the BLAS as it is.
    """
    if count is None:
        yield "BLAS threads: unchanged"
        return
    try:
        module = importlib.import_module("threadpoolctl")  # optional, untyped
    except ImportError:
        yield "BLAS threads: unchanged (threadpoolctl not installed; set OPENBLAS_NUM_THREADS)"
        return
    limits = cast(
        Callable[..., contextlib.AbstractContextManager[object]], module.threadpool_limits
    )
    with limits(limits=count, user_api="blas"):
        yield f"BLAS threads: {count} (threadpoolctl)"


def measure_interleaved(
    calls: Mapping[str, Callable[[], object]], *, steps: int, warmup: int, block: int = 100
) -> dict[str, Latency]:
    """Time every call ``steps`` times, in blocks of ``block`` calls taken in turn.

    Interleaving spreads a change of machine load (another process starting, a core's
    frequency) over every contender alike, so ratios between them stay fair.
    """
    for call in calls.values():
        for _ in range(warmup):
            call()
    clock = time.perf_counter_ns
    samples: dict[str, list[int]] = {name: [] for name in calls}
    done = 0
    while done < steps:
        count = min(block, steps - done)
        for name, call in calls.items():
            taken = samples[name]
            for _ in range(count):
                start = clock()
                call()
                taken.append(clock() - start)
        done += count
    return {name: summarize(taken) for name, taken in samples.items()}
