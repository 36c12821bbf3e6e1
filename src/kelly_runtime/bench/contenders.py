"""What ``kelly bench`` times: each backend's five models stepped one by one and as one
unit, the in-process NumPy baseline beside them, offline ``run`` throughput and the async
pipeline's submit latency."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from functools import partial
from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.interfaces import Backend
from kelly_core.records import LoadedModel
from kelly_core.registry import Registry
from kelly_runtime._reference import ReferenceNet
from kelly_runtime.async_pipeline import AsyncPipeline, beat_processor
from kelly_runtime.beat import BEAT_VECTOR_SIZE
from kelly_runtime.bench.timing import (
    MACHINE_COMPUTE,
    MACHINE_STREAM,
    Latency,
    MachineTail,
    machine_probes,
    measure,
    measure_interleaved,
    summarize,
)
from kelly_runtime.pipeline import STAGES, Pipeline
from kelly_runtime.select import by_priority, create_backend

__all__ = [
    "BASELINE_NAME",
    "PIPELINE",
    "BackendBench",
    "bench_all",
    "bench_async_submit",
    "bench_backend",
    "bench_baseline",
    "bench_options",
    "five_calls",
    "throughput",
    "usable_backends",
]

BASELINE_NAME = "numpy-reference"
"""The name :func:`bench_baseline` reports (the straightforward NumPy step)."""


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


_Calls = dict[str, Callable[[FloatArray], object]]

PIPELINE: Final = "pipeline"
"""The key of the five-model step (and the five-model ``run`` throughput)."""


def usable_backends(registry: Registry) -> list[str]:
    """Every usable registered backend, highest ``priority`` first (then by name)."""
    ranked = by_priority(registry)
    usable = {r.entry.name for r in registry.entries("backend") if r.usable}
    return ranked + sorted(usable - set(ranked))


def bench_options(registry: Registry, name: str) -> dict[str, object]:
    """Options for timing backend ``name``: one thread (``threads=1``) where its entry
    declares a ``threads`` option, so every contender computes on one core."""
    return {"threads": 1} if "threads" in registry.options("backend", name) else {}


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
    """Time each stage's call and :data:`PIPELINE` (:func:`five_calls`) one after another."""
    timed = {
        key: measure(call, steps=steps, warmup=warmup) for key, call in five_calls(step_of).items()
    }
    return BackendBench(
        backend=name, models={stage: timed[stage] for stage in STAGES}, pipeline=timed[PIPELINE]
    )


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


_Contender = tuple[_Calls, _Calls, list[Callable[[], None]]]
"""Per stage its ``step`` and its ``run``, and the resets of the five."""


def _contenders(
    names: list[str],
    models: Mapping[str, LoadedModel],
    registry: Registry,
    *,
    baseline: bool,
    options_of: Callable[[str], Mapping[str, object]] | None,
) -> dict[str, _Contender]:
    """The baseline's reference nets (if asked) and each backend in ``names``, loaded."""
    contenders: dict[str, _Contender] = {}
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
    return contenders


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
    contenders = _contenders(names, models, registry, baseline=baseline, options_of=options_of)
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
    tail = MachineTail(
        stream=timed[MACHINE_STREAM], stream_bytes=weight_bytes, compute=timed[MACHINE_COMPUTE]
    )
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
