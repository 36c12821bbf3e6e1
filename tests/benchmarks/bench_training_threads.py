"""Training step time with 1 vs 2 torch threads, alone and beside a CPU-bound process.

Not collected by pytest (the file name is not ``test_*``). Run:

    .venv/bin/python -m tests.benchmarks.bench_training_threads [--iterations 300]

Each round times ``--iterations`` optimizer steps of the MelodyTransformer (batch 8,
window 16, the training defaults) under each condition, interleaved, and prints the
median over rounds per condition, and the ratio to one thread alone.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time

import torch

from kelly_core.registry import default_registry

_BUSY = "while True: pass"


def _train_seconds(threads: int, iterations: int) -> float:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = default_registry().model("MelodyTransformer", seed=0)
    assert isinstance(model, torch.nn.Module)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    x = torch.rand(8, 16, 64)
    y = (torch.rand(8, 16, 128) > 0.9).float()
    loss_fn = torch.nn.BCELoss()
    start = time.perf_counter()
    for _ in range(iterations):
        optimizer.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


def main() -> int:
    """Print the median seconds per condition over ``--rounds`` interleaved rounds."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--iterations", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times: dict[str, list[float]] = {}
    for _ in range(args.rounds):
        for competing in (False, True):
            busy = subprocess.Popen([sys.executable, "-c", _BUSY]) if competing else None
            try:
                time.sleep(0.2 if busy else 0.0)
                for threads in (1, 2):
                    key = f"{threads} thread(s), {'one busy process' if competing else 'alone'}"
                    times.setdefault(key, []).append(_train_seconds(threads, args.iterations))
            finally:
                if busy is not None:
                    busy.kill()
                    busy.wait()
    base = statistics.median(times["1 thread(s), alone"])
    for key, values in times.items():
        median = statistics.median(values)
        print(f"{key:<36} median {median:6.2f} s  ({median / base:.2f}x 1 thread alone)  {values}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
