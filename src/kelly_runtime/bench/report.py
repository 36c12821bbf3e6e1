"""What ``kelly bench`` prints: the table of medians and tails, the baseline's ratios and
the reference-machine estimate, and the machine's own tail."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TextIO, cast

from kelly_runtime._reference import REFERENCE_MACHINE_US
from kelly_runtime.bench.contenders import PIPELINE, BackendBench
from kelly_runtime.bench.timing import MachineTail
from kelly_runtime.pipeline import STAGES

__all__ = [
    "baseline_keys",
    "estimate_reference_us",
    "write_baseline",
    "write_machine_tail",
    "write_table",
]


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
