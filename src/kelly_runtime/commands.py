"""``kelly infer`` (frames through one model) and ``kelly bench`` (latency per backend)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import cast

import numpy as np

from kelly_core.argtypes import int_in
from kelly_core.entries import BackendEntry
from kelly_core.errors import BackendError
from kelly_core.fileio import atomic_path, check_output_path
from kelly_core.flags import BACKEND_HELP
from kelly_core.interfaces import Backend
from kelly_core.records import LoadedModel
from kelly_core.registry import Registry, default_registry
from kelly_runtime.bench import (
    BackendBench,
    MachineTail,
    baseline_keys,
    bench_all,
    bench_async_submit,
    bench_options,
    blas_threads,
    fresh_models,
    models_from_directory,
    usable_backends,
    write_baseline,
    write_machine_tail,
    write_table,
)
from kelly_runtime.frames_file import read_frames
from kelly_runtime.loading import load_backend, read_model
from kelly_runtime.pipeline import STAGES
from kelly_runtime.select import select_backend_name

__all__ = [
    "MAX_BENCH_FRAMES",
    "MAX_BENCH_STEPS",
    "MAX_BLAS_THREADS",
    "BenchCommand",
    "InferCommand",
    "backend_with_options",
    "read_frames",
]


logger = logging.getLogger(__name__)

MAX_BENCH_STEPS = 10_000_000
"""Largest ``--steps``, ``--warmup`` and ``--block`` of ``kelly bench``."""
MAX_BENCH_FRAMES = 10_000_000
"""Largest ``--run-frames`` (frames per model for the offline throughput)."""
MAX_BLAS_THREADS = 1024
"""Largest ``--blas-threads``."""


def _check_takes_device(registry: Registry, chosen: str, device: str) -> None:
    """Refuse ``--device`` for a backend whose entry declares no ``device`` option."""
    if "device" in registry.options("backend", chosen):
        return
    declaring = sorted(
        {
            r.entry.name
            for r in registry.entries("backend")
            if "device" in cast(BackendEntry, r.entry).options
        }
    )
    raise BackendError(
        f"backend {chosen!r} declares no 'device' option and takes no --device; "
        f"--device is for {', '.join(map(repr, declaring)) or 'no registered backend'}",
        field="--device",
        got=device,
    )


def backend_with_options(
    loaded: LoadedModel,
    name: str | None,
    registry: Registry,
    *,
    device: str | None = None,
) -> Backend:
    """Create backend ``name`` with ``--device`` (if given) and load ``loaded`` into it.

    :raises BackendError: If the backend's entry declares no ``device`` option
        (``BackendEntry.options``), or it cannot use the device (CUDA asked of a CPU-only
        torch, say), as one line naming the flag.
    """
    chosen = select_backend_name(name, registry=registry)
    options: dict[str, object] = {}
    if device is not None:
        _check_takes_device(registry, chosen, device)
        options["device"] = device
    try:
        return load_backend(loaded, chosen, model=None, registry=registry, **options)
    except (AssertionError, RuntimeError, TypeError) as exc:
        if isinstance(exc, BackendError):
            raise
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackendError(
            f"backend {chosen!r} cannot run on --device {device!r}: {first}"
            if device is not None
            else f"backend {chosen!r} cannot load the model: {first}",
            path=loaded.path,
            field="--device" if device is not None else None,
            got=device,
        ) from exc


class InferCommand:
    """``kelly infer MODEL_FILE --input X.npy --output Y.npy``."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the arguments."""
        parser.add_argument("model_file", type=Path, metavar="MODEL_FILE", help=".json or .pt")
        parser.add_argument("-m", "--model", metavar="NAME", help="model name the file must hold")
        parser.add_argument("--backend", help=BACKEND_HELP)
        parser.add_argument("--device", help="torch device (torch backend only)")
        parser.add_argument("--input", type=Path, required=True, help="frames (T, in) .npy")
        parser.add_argument(
            "-o",
            "--output",
            type=Path,
            required=True,
            help="outputs (T, out) .npy; missing parent folders are created",
        )

    def run(self, args: argparse.Namespace) -> int:
        """Step the frames through the model one at a time (state carried); write outputs.

        The spec comes from the model file, not from the backend: any object that
        implements the ``Backend`` protocol (load, step, run, reset) works here.
        """
        check_output_path(args.output)
        registry = default_registry()
        loaded = read_model(args.model_file, model=args.model, registry=registry)
        spec = loaded.spec
        frames = read_frames(args.input, spec.input_size)
        chosen = select_backend_name(args.backend, registry=registry)
        backend = backend_with_options(loaded, chosen, registry, device=args.device)
        outputs = np.empty((frames.shape[0], spec.output_size), dtype=np.float32)
        for t in range(frames.shape[0]):
            outputs[t] = backend.step(frames[t])
        with atomic_path(args.output) as tmp, tmp.open("wb") as handle:
            np.save(handle, outputs)
        logger.info(
            "%s: %d frames (%d -> %d) on %s -> %s",
            spec.name,
            frames.shape[0],
            spec.input_size,
            spec.output_size,
            chosen,
            args.output,
        )
        return 0


class BenchCommand:
    """``kelly bench``: per-model and five-model step latency, offline throughput, async
    submit latency, for every backend beside the in-process baseline."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the arguments."""
        parser.add_argument(
            "--models",
            type=Path,
            metavar="DIR",
            help="folder of model files (default fresh untrained weights)",
        )
        parser.add_argument(
            "--backend",
            action="append",
            dest="backends",
            metavar="NAME",
            help="backend name, repeatable (default every usable one)",
        )
        parser.add_argument(
            "--steps",
            type=int_in("--steps", 1, MAX_BENCH_STEPS),
            default=2000,
            help=f"timed steps, 1..{MAX_BENCH_STEPS} (default 2000)",
        )
        parser.add_argument(
            "--warmup",
            type=int_in("--warmup", 0, MAX_BENCH_STEPS),
            default=200,
            help=f"untimed steps first, 0..{MAX_BENCH_STEPS} (default 200)",
        )
        parser.add_argument(
            "--block",
            type=int_in("--block", 1, MAX_BENCH_STEPS),
            default=100,
            help="steps timed in a row before the next contender's turn, "
            f"1..{MAX_BENCH_STEPS} (default 100)",
        )
        parser.add_argument(
            "--run-frames",
            type=int_in("--run-frames", 0, MAX_BENCH_FRAMES),
            default=10_000,
            help="frames per model for the offline run() throughput, "
            f"0..{MAX_BENCH_FRAMES} (default 10000; 0 skips)",
        )
        parser.add_argument(
            "--blas-threads",
            type=int_in("--blas-threads", 0, MAX_BLAS_THREADS),
            default=1,
            help=f"numpy BLAS threads via threadpoolctl, 0..{MAX_BLAS_THREADS} "
            "(default 1; 0 leaves it unchanged)",
        )
        parser.add_argument("--no-async", action="store_true", help="skip the async measure")
        parser.add_argument(
            "--baseline",
            action=argparse.BooleanOptionalAction,
            default=True,
            help="also time the straightforward NumPy step and report ratios to it (default on)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON only")

    def run(self, args: argparse.Namespace) -> int:
        """Measure every backend asked, print a table (or JSON)."""
        registry = default_registry()
        for flag, value, least in (("--steps", args.steps, 1), ("--block", args.block, 1)):
            if value < least:
                raise BackendError(f"expected {flag} >= {least}", field=flag, got=value)
        if args.run_frames < 0:
            raise BackendError("expected --run-frames >= 0", field="--run-frames")
        names: list[str] = args.backends or usable_backends(registry)
        for name in names:
            registry.resolve("backend", name)
        if args.models is not None:
            models, note = models_from_directory(args.models, registry)
        else:
            models, note = fresh_models(registry)
        asyncs: dict[str, tuple[float, float, int]] = {}
        with blas_threads(args.blas_threads or None) as blas_note:
            baseline, results, tail = bench_all(
                names,
                models,
                registry=registry,
                steps=args.steps,
                warmup=args.warmup,
                block=args.block,
                baseline=args.baseline,
                run_frames=args.run_frames,
                options_of=lambda name: bench_options(registry, name),
            )
            if not args.no_async:
                for name in names:
                    latency, dropped = bench_async_submit(
                        name,
                        models,
                        registry=registry,
                        steps=args.steps,
                        options=bench_options(registry, name),
                    )
                    asyncs[name] = (latency.median_us, latency.p999_us, dropped)
        if args.json:
            sys.stdout.write(json.dumps(_documents(results, baseline, asyncs, tail)) + "\n")
            return 0
        out = sys.stdout
        out.write(
            f"{note}; {blas_note}; {args.steps} steps after {args.warmup} warm-up, "
            f"contenders interleaved in blocks of {args.block}\n"
        )
        write_table(out, results, baseline)
        if baseline is not None:
            write_baseline(out, results, baseline)
        write_machine_tail(out, tail)
        for name, (median, p999, dropped) in asyncs.items():
            out.write(
                f"async submit ({name} worker busy): median {median:.1f} µs, "
                f"p99.9 {p999:.1f} µs, {dropped} frames dropped\n"
            )
        return 0


def _documents(
    results: list[BackendBench],
    baseline: BackendBench | None,
    asyncs: dict[str, tuple[float, float, int]],
    tail: MachineTail,
) -> object:
    first = results[0].pipeline.median_us
    documents: list[dict[str, object]] = []
    for result in results:
        document = result.to_dict()
        document["ratio"] = round(result.pipeline.median_us / first, 3)
        document["p99_over_median"] = round(result.pipeline.p99_us / result.pipeline.median_us, 3)
        document["machine_tail"] = tail.to_dict()
        if baseline is not None:
            document.update(baseline_keys(result, baseline))
            document["models_ratio_to_baseline"] = {
                stage: round(result.models[stage].median_us / baseline.models[stage].median_us, 3)
                for stage in STAGES
            }
        if result.backend in asyncs:
            median, p999, dropped = asyncs[result.backend]
            document["async_submit"] = {
                "median_us": round(median, 2),
                "p999_us": round(p999, 2),
                "dropped": dropped,
            }
        documents.append(document)
    return documents[0] if len(documents) == 1 else documents
