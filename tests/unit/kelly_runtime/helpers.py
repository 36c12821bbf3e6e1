"""Shared helpers for the runtime tests: registries, random weights, model folders."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

import kelly_export.plugin
import kelly_models.plugin
import kelly_runtime.plugin
from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.registry import Registry
from kelly_core.specs import ModelSpec
from kelly_runtime.async_pipeline import AsyncPipeline, beat_processor
from kelly_runtime.beat import BEAT_VECTOR_SIZE
from kelly_runtime.pipeline import Pipeline

__all__ = [
    "async_beats",
    "random_arrays",
    "random_frames",
    "runtime_registry",
    "write_models",
]


def runtime_registry() -> Registry:
    """A registry of Kelly's own models, exporters and backends (no entry points)."""
    return Registry(plugins=[kelly_models.plugin, kelly_export.plugin, kelly_runtime.plugin])


def random_arrays(spec: ModelSpec, seed: int, scale: float = 0.3) -> dict[str, FloatArray]:
    """Seeded random state arrays for ``spec``, uniform in ±scale."""
    rng = np.random.default_rng(seed)
    return {
        name: rng.uniform(-scale, scale, size=shape).astype(np.float32)
        for name, shape in spec.array_shapes().items()
    }


def random_frames(size: int, steps: int, seed: int) -> FloatArray:
    """Seeded random frames ``(steps, size)`` in [-1, 1]."""
    return np.random.default_rng(seed).uniform(-1, 1, (steps, size)).astype(np.float32)


def write_models(folder: Path, registry: Registry, *, seed: int, names: tuple[str, ...]) -> Path:
    """Export seeded random weights of ``names`` as RTNeural JSON into ``folder``."""
    folder.mkdir(parents=True, exist_ok=True)
    exporter = registry.exporter("rtneural")
    for index, name in enumerate(names):
        spec = MODEL_SPECS[name]
        exporter.export(spec, random_arrays(spec, seed + index), folder / f"{spec.file_stem}.json")
    return folder


def async_beats(
    pipeline: Pipeline, frames: Sequence[FloatArray], *, capacity: int
) -> list[FloatArray]:
    """Stream ``frames`` through an :class:`AsyncPipeline` over ``beat_processor(pipeline)``
    one at a time, waiting (at most 10 s each) until the worker has processed each one,
    and return copies of the beat vectors polled after them (a frame without a beat
    publishes none)."""
    got: list[FloatArray] = []
    with AsyncPipeline(
        beat_processor(pipeline),
        in_size=frames[0].shape[0],
        out_size=BEAT_VECTOR_SIZE,
        capacity=capacity,
    ) as worker:
        for frame in frames:
            worker.submit(frame)
            deadline = time.monotonic() + 10.0
            while worker.stats.processed < worker.stats.submitted:
                assert time.monotonic() < deadline
                time.sleep(0.001)
            vector = worker.poll()
            if vector is not None:
                got.append(vector.copy())
    return got
