"""C++ RTNeural and the numba backend, each as a ratio to ``kelly bench``'s baseline.

    RTNEURAL_DIR=/path/to/RTNeural OMP_NUM_THREADS=1 taskset -c 1 \\
        .venv/bin/python -m tests.benchmarks.cpp_ratio [--rounds 3] [--flags "-O3 -march=native"]

Builds the example pipeline (``kelly cpp``) against RTNeural once, exports the five
models (seeded, untrained: step times do not depend on the values), then for each round
runs the example's ``--bench 20000`` (each model's ``forward`` 20,000 times; the sum of
the five medians is its five-model step) and, in this process right after, the baseline
and the numba backend interleaved (:func:`kelly_runtime.bench.bench_all`). It prints both
ratios per round: what compiled C++ reaches on this machine against the same yardstick.

The C++ figure is optimistic beside the pipeline's: each model is stepped alone, so the
small models' weights stay in L2 between steps, where the pipeline's five steps stream
all 4.6 MB of weights through it.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from kelly_core.catalog import MODEL_NAMES
from kelly_core.registry import default_registry
from kelly_export.rtneural import RTNeuralExporter
from kelly_models.build import build_model
from kelly_runtime.bench import bench_all, blas_threads, fresh_models
from tests.benchmarks.cpp_report import build_example


def build(work: Path, rtneural: Path, compiler: str, flags: list[str]) -> tuple[Path, Path, Path]:
    """Export the models, build the example; return (binary, models folder, a short wav)."""
    models = work / "models"
    models.mkdir()
    for seed, name in enumerate(MODEL_NAMES):
        model = build_model(name, seed=seed)
        RTNeuralExporter(parity_frames=0).export(model.spec, model.state_arrays(), models)
    binary, wav = build_example(work, compiler, rtneural, flags)
    return binary, models, wav


def cpp_medians(binary: Path, models: Path, wav: Path) -> dict[str, float]:
    """Each model's C++ step median in µs (the example's ``--bench`` lines)."""
    result = subprocess.run(
        [str(binary), str(models), str(wav), "--beats", "1", "--bench", "20000"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    medians: dict[str, float] = {}
    for line in result.stderr.splitlines():
        parts = line.split()
        if parts and parts[0] == "bench":
            medians[parts[1]] = float(parts[3])
    return medians


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--flags", default="-O3 -march=native", help="C++ optimisation flags")
    parser.add_argument("--steps", type=int, default=3000, help="Python steps per contender")
    args = parser.parse_args()
    rtneural = os.environ.get("RTNEURAL_DIR")
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("clang++")
    if not rtneural or not (Path(rtneural) / "RTNeural" / "RTNeural.h").is_file():
        raise SystemExit("set RTNEURAL_DIR to a checkout of RTNeural")
    if compiler is None:
        raise SystemExit("no C++ compiler (g++, clang++ or $CXX)")
    registry = default_registry()
    models, _ = fresh_models(registry)
    with tempfile.TemporaryDirectory() as tmp:
        binary, folder, wav = build(Path(tmp), Path(rtneural), compiler, args.flags.split())
        print(f"C++: {compiler} {args.flags}, RTNeural at {rtneural}")
        with blas_threads(1):
            for round_ in range(1, args.rounds + 1):
                cpp = cpp_medians(binary, folder, wav)
                baseline, results, _ = bench_all(
                    ["numba"], models, registry=registry, steps=args.steps, warmup=300
                )
                assert baseline is not None
                base = baseline.pipeline.median_us
                numba = results[0].pipeline.median_us
                total = sum(cpp[name] for name in MODEL_NAMES)
                print(
                    f"round {round_}: baseline {base:.1f} µs; numba {numba:.1f} µs "
                    f"({numba / base:.2f}x); C++ RTNeural, sum of the five medians "
                    f"{total:.1f} µs ({total / base:.2f}x): "
                    + ", ".join(f"{name} {cpp[name]:.1f}" for name in MODEL_NAMES)
                )


if __name__ == "__main__":
    main()
