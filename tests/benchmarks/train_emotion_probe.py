"""Train the EmotionRecognizer the probe scores: more and longer synthetic items.

Run (not collected by pytest)::

    python tests/benchmarks/train_emotion_probe.py --output runs/probe
    python tests/benchmarks/emotion_probe.py --models runs/probe --pieces 6

The same pipeline as ``kelly train -m EmotionRecognizer --synthetic`` (training loop,
early stopping, test metrics against the baselines, export, summary), on
``synthetic-emotion`` with ``--items`` items of ``--steps`` 0.5 s windows instead of the
main job's defaults.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import torch

from kelly_core.interfaces import Dataset
from kelly_core.registry import Registry
from kelly_models.training.config import TrainConfig
from kelly_models.training.run import RunOptions, train_models
from kelly_models.training.summary import baseline_table, format_table, write_summary


class _Sized(Registry):
    """The installed plugins, opening ``synthetic-emotion`` with ``items`` and ``steps``."""

    def __init__(self, items: int, steps: int) -> None:
        super().__init__()
        self._sizes = {"items": items, "steps": steps}

    def dataset(self, name: str, root: Path | None, **options: object) -> Dataset:
        """Open dataset ``name``; ``synthetic-emotion`` with this registry's sizes."""
        if name == "synthetic-emotion":
            options = {**options, **self._sizes}
        return super().dataset(name, root, **options)


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, required=True, help="run folder")
    parser.add_argument("--items", type=int, default=4000, help="items (default 4000)")
    parser.add_argument("--steps", type=int, default=20, help="windows per item (default 20)")
    parser.add_argument("--epochs", type=int, default=60, help="epochs (default 60)")
    parser.add_argument("--patience", type=int, default=0, help="early stopping (0: never)")
    parser.add_argument("--batch-size", type=int, default=32, help="sequences per batch")
    parser.add_argument("--lr", type=float, default=3e-3, help="initial learning rate")
    parser.add_argument("--seed", type=int, default=0, help="weights, order and data seed")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    config = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        learning_rate=args.lr,
        patience=args.patience,
        seed=args.seed,
    )
    options = RunOptions(output=args.output, synthetic=True, progress=False)
    registry = _Sized(args.items, args.steps)
    reports = train_models(registry, ["EmotionRecognizer"], config, options)
    write_summary(reports, options.output)
    sys.stdout.write(format_table(reports) + "\n" + baseline_table(reports))
    return 0


if __name__ == "__main__":
    sys.exit(main())
