"""Latency measurement for ``kelly bench``: per model, the five-model step, async submit.

Everything runs in the calling thread (the async worker aside), timed call by call with
``time.perf_counter_ns`` after a warm-up. Nothing is pinned here: pin the process from
outside (``taskset -c 1 kelly bench``). NumPy's BLAS thread count is set by the command
(:func:`blas_threads`), through threadpoolctl when it is installed.
"""

from __future__ import annotations

import contextlib
import importlib
import logging
import math
import time
import warnings
from collections.abc import Callable, Iterator, Mapping
from functools import partial
from pathlib import Path
from typing import Final, TextIO, cast

import attrs
import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import KellyError, KellyWarning, MissingDependencyError, SpecError
from kelly_core.fileio import input_problem
from kelly_core.interfaces import Backend
from kelly_core.records import LoadedModel
from kelly_core.registry import Registry
from kelly_runtime._reference import REFERENCE_MACHINE_US, ReferenceNet
from kelly_runtime.async_pipeline import AsyncPipeline, beat_processor
from kelly_runtime.beat import BEAT_VECTOR_SIZE
from kelly_runtime.model_files import find_model_file, model_file_candidates
from kelly_runtime.pipeline import STAGES, Pipeline
from kelly_runtime.select import by_priority, create_backend

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
    "throughput",
    "usable_backends",
    "write_baseline",
    "write_machine_tail",
    "write_table",
]

logger = logging.getLogger(__name__)

BASELINE_NAME = "numpy-reference"
"""The name :func:`bench_baseline` reports (the straightforward NumPy step)."""


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


@attrs.frozen(kw_only=True)
class BackendBench:
    """One backend's numbers: each model's step, and all five stepped as one unit."""

    backend: str
    models: Mapping[str, Latency]
    pipeline: Latency
    throughput: Mapping[str, float] | None = None
    """Offline frames/s of ``run`` per model and ``"pipeline"`` (all five), if measured."""

    def to_dict(self) -> dict[str, object]:
        """Return the ``--json`` object for this backend."""
        document: dict[str, object] = {
            "backend": self.backend,
            "models": {name: lat.to_dict() for name, lat in self.models.items()},
            "pipeline": self.pipeline.to_dict(),
        }
        if self.throughput is not None:
            document["throughput_fps"] = {k: round(v, 1) for k, v in self.throughput.items()}
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


_STREAM: Final = "machine/stream"
_COMPUTE: Final = "machine/compute"


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
    return {_STREAM: stream, _COMPUTE: partial(compute_loop, count)}


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


def fresh_models(registry: Registry, *, seed: int = 0) -> tuple[dict[str, LoadedModel], str]:
    """Freshly initialised weights for the five models, and a note saying where from.

    Uses ``registry.model(name, seed=seed)`` (needs torch); without torch, seeded uniform
    random arrays in ±1/sqrt(fan-in) (torch's default range) built from the specs.
    """
    models: dict[str, LoadedModel] = {}
    try:
        for name in STAGES:
            arrays = registry.model(name, seed=seed).state_arrays()
            models[name] = LoadedModel(spec=MODEL_SPECS[name], arrays=arrays)
        return models, f"weights: freshly initialised models (seed {seed})"
    except MissingDependencyError:
        rng = np.random.default_rng(seed)
        for name in STAGES:
            spec = MODEL_SPECS[name]
            random_arrays: dict[str, FloatArray] = {}
            for key, shape in spec.array_shapes().items():
                fan = shape[-1] if len(shape) == 2 else shape[0]
                bound = 1.0 / math.sqrt(fan)
                random_arrays[key] = rng.uniform(-bound, bound, size=shape).astype(np.float32)
            models[name] = LoadedModel(spec=spec, arrays=random_arrays)
        return models, f"weights: seeded random arrays from the specs (seed {seed}; no torch)"


def models_from_directory(folder: Path, registry: Registry) -> tuple[dict[str, LoadedModel], str]:
    """Read the five model files (``<stem><suffix>``, :mod:`.model_files`) from ``folder``.

    A file that cannot be read (malformed, too deep, wrong sizes) gives a ``KellyWarning``
    naming it, and that stage is timed with freshly initialised weights of the same spec
    (the same cost per step; the note says which stages), as a pipeline would run that
    stage on its fallback instead of stopping.

    :raises SpecError: If the folder or a model file is missing.
    """
    problem = input_problem(folder, kind="folder", what="folder of model files")
    if problem is not None:
        raise SpecError(problem, path=folder, field="--models", expected="a folder of model files")
    models: dict[str, LoadedModel] = {}
    replaced: list[str] = []
    for name in STAGES:
        stem = MODEL_SPECS[name].file_stem
        path = find_model_file(folder, stem, registry)
        if path is None:
            names = " or ".join(p.name for p in model_file_candidates(folder, stem, registry))
            raise SpecError(f"no model file for {name!r}", path=folder, expected=names)
        try:
            models[name] = registry.exporter_for(path).read(path)
        except KellyError as exc:
            warnings.warn(
                f"{name}: {exc}; timing this stage with freshly initialised weights",
                KellyWarning,
                stacklevel=2,
            )
            replaced.append(name)
    if replaced:
        fresh, _ = fresh_models(registry)
        models.update({name: fresh[name] for name in replaced})
        return models, f"weights: {folder} (freshly initialised for {', '.join(replaced)})"
    return models, f"weights: {folder}"


def _frames(seed: int) -> dict[str, FloatArray]:
    rng = np.random.default_rng(seed)
    return {
        name: rng.uniform(-1.0, 1.0, MODEL_SPECS[name].input_size).astype(np.float32)
        for name in STAGES
    }


def _loaded_backends(
    backend: str,
    models: Mapping[str, LoadedModel],
    registry: Registry,
    options: Mapping[str, object],
) -> dict[str, Backend]:
    loaded: dict[str, Backend] = {}
    for name in STAGES:
        instance = create_backend(backend, registry=registry, **options)
        instance.load(models[name].spec, models[name].arrays)
        loaded[name] = instance
    return loaded


def bench_backend(
    backend: str,
    models: Mapping[str, LoadedModel],
    *,
    registry: Registry,
    steps: int,
    warmup: int,
    options: Mapping[str, object] | None = None,
) -> BackendBench:
    """Time each model's ``step`` and the five steps as one unit on ``backend``."""
    backends = _loaded_backends(backend, models, registry, options or {})
    return _time_five(
        backend,
        {name: instance.step for name, instance in backends.items()},
        steps=steps,
        warmup=warmup,
    )


def _time_five(
    name: str, step_of: Mapping[str, Callable[[FloatArray], object]], *, steps: int, warmup: int
) -> BackendBench:
    frames = _frames(1)
    per_model = {
        stage: measure(partial(step_of[stage], frames[stage]), steps=steps, warmup=warmup)
        for stage in STAGES
    }
    calls = [(step_of[stage], frames[stage]) for stage in STAGES]

    def all_five() -> None:
        for step, frame in calls:
            step(frame)

    return BackendBench(
        backend=name, models=per_model, pipeline=measure(all_five, steps=steps, warmup=warmup)
    )


_Calls = dict[str, Callable[[FloatArray], object]]

PIPELINE: Final = "pipeline"
"""The key of the five-model step (and the five-model ``run`` throughput)."""


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


def five_calls(
    step_of: Mapping[str, Callable[[FloatArray], object]],
) -> dict[str, Callable[[], object]]:
    """Per stage a call stepping one fixed frame, and :data:`PIPELINE`: all five in turn."""
    frames = _frames(1)
    calls: dict[str, Callable[[], object]] = {
        stage: partial(step_of[stage], frames[stage]) for stage in STAGES
    }
    pairs = [(step_of[stage], frames[stage]) for stage in STAGES]

    def all_five() -> None:
        for step, frame in pairs:
            step(frame)

    calls[PIPELINE] = all_five
    return calls


def throughput(
    run_of: Mapping[str, Callable[[FloatArray], object]],
    *,
    frames: int,
    repeats: int = 3,
    seed: int = 3,
) -> dict[str, float]:
    """Frames per second of ``run`` over ``frames`` random frames (the fastest of
    ``repeats`` runs: other processes only ever slow a run down), per stage, and
    :data:`PIPELINE`: ``frames`` divided by the five stages' summed times."""
    rng = np.random.default_rng(seed)
    seconds: dict[str, float] = {}
    for stage in STAGES:
        size = MODEL_SPECS[stage].input_size
        batch: FloatArray = rng.uniform(-1.0, 1.0, (frames, size)).astype(np.float32)
        run_of[stage](batch[: min(frames, 8)])  # warm (a first call may compile or allocate)
        best = math.inf
        for _ in range(max(repeats, 1)):
            start = time.perf_counter()
            run_of[stage](batch)
            best = min(best, time.perf_counter() - start)
        seconds[stage] = best
    result = {stage: frames / max(seconds[stage], 1e-9) for stage in STAGES}
    result[PIPELINE] = frames / max(sum(seconds.values()), 1e-9)
    return result


def bench_all(
    names: list[str],
    models: Mapping[str, LoadedModel],
    *,
    registry: Registry,
    steps: int,
    warmup: int,
    block: int = 100,
    baseline: bool = True,
    run_frames: int = 0,
    options_of: Callable[[str], Mapping[str, object]] | None = None,
) -> tuple[BackendBench | None, list[BackendBench], MachineTail]:
    """Time the baseline (if asked) and every backend in ``names``, interleaved.

    Each model's step and the five-model step of every contender, and the two
    :class:`MachineTail` probes, are measured in turns (:func:`measure_interleaved`); then,
    if ``run_frames`` > 0, each contender's offline ``run`` over ``run_frames`` frames per
    model (:func:`throughput`).

    :returns: The baseline (``None`` if not asked), one result per backend name, and the
        machine's own tail.
    """
    weight_bytes = sum(int(a.nbytes) for m in models.values() for a in m.arrays.values())
    contenders: dict[str, tuple[_Calls, _Calls, list[Callable[[], None]]]] = {}
    if baseline:
        nets = {name: ReferenceNet(models[name].spec, models[name].arrays) for name in STAGES}
        contenders[BASELINE_NAME] = (
            {name: net.step for name, net in nets.items()},
            {name: partial(_reference_run, net) for name, net in nets.items()},
            [net.reset for net in nets.values()],
        )
    for name in names:
        options = options_of(name) if options_of is not None else {}
        loaded = _loaded_backends(name, models, registry, options)
        contenders[name] = (
            {stage: b.step for stage, b in loaded.items()},
            {stage: b.run for stage, b in loaded.items()},
            [b.reset for b in loaded.values()],
        )
    calls: dict[str, Callable[[], object]] = {}
    for name, (steps_of, _, _) in contenders.items():
        for key, call in five_calls(steps_of).items():
            calls[f"{name}/{key}"] = call
    calls.update(machine_probes(weight_bytes))
    results: list[BackendBench] = []
    with np.errstate(over="ignore"):  # the baseline's exp(-x) may overflow (result 0)
        timed = measure_interleaved(calls, steps=steps, warmup=warmup, block=block)
        for name, (_, runs_of, resets) in contenders.items():
            for reset in resets:
                reset()
            results.append(
                BackendBench(
                    backend=name,
                    models={stage: timed[f"{name}/{stage}"] for stage in STAGES},
                    pipeline=timed[f"{name}/{PIPELINE}"],
                    throughput=throughput(runs_of, frames=run_frames) if run_frames > 0 else None,
                )
            )
    tail = MachineTail(stream=timed[_STREAM], stream_bytes=weight_bytes, compute=timed[_COMPUTE])
    if baseline:
        return results[0], results[1:], tail
    return None, results, tail


def _reference_run(net: ReferenceNet, frames: FloatArray) -> FloatArray:
    """The baseline's offline run: its step on each frame (it has no batched path)."""
    return np.stack([net.step(frame) for frame in frames])


def bench_baseline(models: Mapping[str, LoadedModel], *, steps: int, warmup: int) -> BackendBench:
    """Time the straightforward NumPy step (:mod:`kelly_runtime._reference`) like a backend.

    Its pipeline median is the yardstick: a backend's median divided by it is a ratio that
    holds on a loaded machine, and times :data:`REFERENCE_MACHINE_US` it estimates the
    backend's time on the reference machine (see :func:`estimate_reference_us`).
    """
    nets = {name: ReferenceNet(models[name].spec, models[name].arrays) for name in STAGES}
    with np.errstate(over="ignore"):  # sigmoid's exp(-x) may overflow to inf (result 0)
        return _time_five(
            BASELINE_NAME,
            {name: net.step for name, net in nets.items()},
            steps=steps,
            warmup=warmup,
        )


def estimate_reference_us(median_us: float, baseline_median_us: float) -> float:
    """``median × 128 µs / baseline median``: an estimate, not a measurement."""
    return median_us * REFERENCE_MACHINE_US / baseline_median_us


def baseline_keys(result: BackendBench, baseline: BackendBench) -> dict[str, object]:
    """The ``--json`` keys a backend gains from the in-process baseline."""
    base = baseline.pipeline.median_us
    return {
        "baseline": {
            **baseline.to_dict(),
            "reference_machine_us": REFERENCE_MACHINE_US,
        },
        "ratio_to_baseline": round(result.pipeline.median_us / base, 3),
        "estimated_reference_machine_us": round(
            estimate_reference_us(result.pipeline.median_us, base), 1
        ),
    }


def usable_backends(registry: Registry) -> list[str]:
    """Every usable registered backend, highest ``priority`` first (then by name)."""
    ranked = by_priority(registry)
    usable = {r.entry.name for r in registry.entries("backend") if r.usable}
    return ranked + sorted(usable - set(ranked))


def bench_options(registry: Registry, name: str) -> dict[str, object]:
    """Options for timing backend ``name``: one thread (``threads=1``) where its entry
    declares a ``threads`` option, so every contender computes on one core."""
    return {"threads": 1} if "threads" in registry.options("backend", name) else {}


def write_table(out: TextIO, results: list[BackendBench], baseline: BackendBench | None) -> None:
    """Write step median / p99 (and the ratio of medians to the baseline's) per model and
    for the five-model step, p99 ÷ median, and the offline throughput, one column each."""
    columns = ([baseline] if baseline is not None else []) + results
    width = 30
    out.write(f"{'step: median / p99 µs':<22}" + "".join(f"{c.backend:>{width}}" for c in columns))
    out.write("\n")
    for key in [*STAGES, PIPELINE]:
        cells = []
        for column in columns:
            lat = column.pipeline if key == PIPELINE else column.models[key]
            cell = f"{lat.median_us:.1f} / {lat.p99_us:.1f}"
            if baseline is not None:
                base = baseline.pipeline if key == PIPELINE else baseline.models[key]
                cell += f" ({lat.median_us / base.median_us:.2f}x)"
            cells.append(cell)
        label = "pipeline (all five)" if key == PIPELINE else key
        out.write(f"{label:<22}" + "".join(f"{c:>{width}}" for c in cells) + "\n")
    tails = [f"{c.pipeline.p99_us / c.pipeline.median_us:.2f}" for c in columns]
    out.write(f"{'pipeline p99 / median':<22}" + "".join(f"{t:>{width}}" for t in tails) + "\n")
    if all(c.throughput is not None for c in columns):
        out.write("offline run(), frames/s\n")
        for key in [*STAGES, PIPELINE]:
            label = "pipeline (all five)" if key == PIPELINE else key
            rates = [f"{cast(Mapping[str, float], c.throughput)[key]:,.0f}" for c in columns]
            out.write(f"{label:<22}" + "".join(f"{r:>{width}}" for r in rates) + "\n")
    ratios = ", ".join(
        f"{r.backend} {r.pipeline.median_us / results[0].pipeline.median_us:.2f}x" for r in results
    )
    out.write(f"pipeline median relative to {results[0].backend}: {ratios}\n")


def write_baseline(out: TextIO, results: list[BackendBench], baseline: BackendBench) -> None:
    """Write the baseline's pipeline time, each backend's ratio to it and the estimate."""
    base = baseline.pipeline
    out.write(
        f"baseline {baseline.backend} (straightforward NumPy, same process): "
        f"pipeline median {base.median_us:.1f} µs, p99 {base.p99_us:.1f} µs\n"
    )
    for r in results:
        estimate = estimate_reference_us(r.pipeline.median_us, base.median_us)
        out.write(
            f"{r.backend}: pipeline median {r.pipeline.median_us / base.median_us:.2f}x the "
            f"baseline; estimated on the reference machine (baseline = "
            f"{REFERENCE_MACHINE_US:.0f} µs there): ~{estimate:.0f} µs (an estimate, "
            f"not a measurement)\n"
        )


def write_machine_tail(out: TextIO, tail: MachineTail) -> None:
    """Write the machine's own tail (:class:`MachineTail`) in two lines."""
    stream, compute = tail.stream, tail.compute
    out.write(
        f"machine tail, no model, same turns: reading {tail.stream_bytes / 1e6:.1f} MB once "
        f"(the weights' size) {stream.median_us:.1f} µs median, p99 / median "
        f"{stream.p99_us / stream.median_us:.2f}; a compute-only loop {compute.median_us:.1f} "
        f"µs, p99 / median {compute.p99_us / compute.median_us:.2f}\n"
        "  (a step's p99 / median near these is the machine's, not the code's)\n"
    )


def bench_async_submit(
    backend: str,
    models: Mapping[str, LoadedModel],
    *,
    registry: Registry,
    steps: int,
    interval_s: float = 2e-4,
    options: Mapping[str, object] | None = None,
) -> tuple[Latency, int]:
    """Time :meth:`AsyncPipeline.submit` while its worker runs the pipeline.

    One window and one beat per frame; a frame every ``interval_s`` (about, ``time.sleep``),
    faster than the worker can go, so it is always busy and frames are dropped.

    :returns: The submit latency and the number of frames dropped.
    """
    pipeline = Pipeline(_loaded_backends(backend, models, registry, options or {}))
    frame = _frames(2)["EmotionRecognizer"]
    samples = [0] * steps
    clock = time.perf_counter_ns
    with AsyncPipeline(
        beat_processor(pipeline), in_size=frame.shape[0], out_size=BEAT_VECTOR_SIZE
    ) as worker:
        for _ in range(20):
            worker.submit(frame)
            time.sleep(interval_s)
        for i in range(steps):
            start = clock()
            worker.submit(frame)
            samples[i] = clock() - start
            worker.poll()
            time.sleep(interval_s)
        dropped = worker.stats.dropped
    return summarize(samples), dropped
