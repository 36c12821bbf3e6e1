"""First-call cost of the numba backend in a fresh process: import, load, first step.

Not collected by pytest. Run it several times with one cache folder; the first run
compiles, the later ones load numba's cache:

    D=$(mktemp -d); for i in 1 2 3; do NUMBA_CACHE_DIR=$D .venv/bin/python -m \\
        tests.benchmarks.bench_numba_first_call; done
"""

from __future__ import annotations

import time

import numpy as np


def main() -> int:
    """Print seconds spent importing, loading (with the warm-up) and in the first step."""
    start = time.perf_counter()
    from kelly_core.catalog import MODEL_SPECS
    from kelly_runtime.backends.numba_backend import NumbaBackend

    imported = time.perf_counter()
    spec = MODEL_SPECS["EmotionRecognizer"]
    rng = np.random.default_rng(0)
    arrays = {
        name: rng.uniform(-0.1, 0.1, shape).astype(np.float32)
        for name, shape in spec.array_shapes().items()
    }
    backend = NumbaBackend()
    backend.load(spec, arrays)
    loaded = time.perf_counter()
    backend.step(np.zeros(spec.input_size, dtype=np.float32))
    stepped = time.perf_counter()
    print(
        f"import {imported - start:.2f} s, load (with warm-up) {loaded - imported:.2f} s, "
        f"first step {1e3 * (stepped - loaded):.2f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
