"""Latency measurement for ``kelly bench``: per model, the five-model step, async submit.

Everything runs in the calling thread (the async worker aside), timed call by call with
``time.perf_counter_ns`` after a warm-up. Nothing is pinned here: pin the process from
outside (``taskset -c 1 kelly bench``). NumPy's BLAS thread count is set by the command
(:func:`blas_threads`), through threadpoolctl when it is installed.

Parts: :mod:`.timing` (latency, interleaved turns, the machine's tail), :mod:`.weights`
(the models timed), :mod:`.contenders` (backends and baseline, throughput, async submit),
:mod:`.report` (the table and the estimate). Every name is importable from here.
"""

from __future__ import annotations

from kelly_runtime.bench.contenders import (
    BASELINE_NAME,
    PIPELINE,
    BackendBench,
    bench_all,
    bench_async_submit,
    bench_backend,
    bench_baseline,
    bench_options,
    five_calls,
    throughput,
    usable_backends,
)
from kelly_runtime.bench.report import (
    baseline_keys,
    estimate_reference_us,
    write_baseline,
    write_machine_tail,
    write_table,
)
from kelly_runtime.bench.timing import (
    Latency,
    MachineTail,
    blas_threads,
    calibrate_count,
    compute_loop,
    machine_probes,
    measure,
    measure_interleaved,
    summarize,
)
from kelly_runtime.bench.weights import fresh_models, models_from_directory

__all__ = [
    "BASELINE_NAME",
    "PIPELINE",
    "BackendBench",
    "Latency",
    "MachineTail",
    "baseline_keys",
    "bench_all",
    "bench_async_submit",
    "bench_backend",
    "bench_baseline",
    "bench_options",
    "blas_threads",
    "calibrate_count",
    "compute_loop",
    "estimate_reference_us",
    "five_calls",
    "fresh_models",
    "machine_probes",
    "measure",
    "measure_interleaved",
    "models_from_directory",
    "summarize",
    "throughput",
    "usable_backends",
    "write_baseline",
    "write_machine_tail",
    "write_table",
]
