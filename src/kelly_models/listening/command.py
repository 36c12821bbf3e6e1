"""``kelly train-beats``: train the beat tracker on rendered music and export it.

The corpus is one or more folders of rendered pieces (``<name>.wav`` + ``<name>.json``
with ``"beats"`` and ``"downbeats"``). The result is an RTNeural JSON file with the
tracker's layer table in ``metadata.spec``, checked by the exporter before it is written;
``kelly generate`` loads it when it is ``kelly_runtime/generate/models/beattracker.json``.
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

import torch

from kelly_core.argtypes import int_in
from kelly_core.errors import DatasetError
from kelly_core.fileio import check_output_path
from kelly_core.listening import BEAT_TRACKER_SPEC, LOOKAHEAD_FRAMES
from kelly_core.registry import Registry, default_registry
from kelly_models.listening.corpus import load_pieces
from kelly_models.listening.train import BeatTrainConfig, fit

__all__ = ["TrainBeatsCommand"]

logger = logging.getLogger(__name__)

_DEFAULTS = BeatTrainConfig()


class TrainBeatsCommand:
    """Implements ``kelly_core.Command`` for ``kelly train-beats``.

    :param registry: Where the ``rtneural`` exporter is found (default: the installed
        plugins).
    """

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Declare the flags."""
        parser.add_argument(
            "--corpus",
            type=Path,
            action="append",
            required=True,
            help="a folder of rendered pieces (<name>.wav + <name>.json); repeatable",
        )
        parser.add_argument(
            "-o", "--output", type=Path, required=True, help="the RTNeural JSON file to write"
        )
        parser.add_argument(
            "--epochs",
            type=int_in("--epochs", 1, 1000),
            default=_DEFAULTS.epochs,
            help=f"at most this many epochs, 1..1000 (default {_DEFAULTS.epochs})",
        )
        parser.add_argument(
            "--steps-per-epoch",
            type=int_in("--steps-per-epoch", 1, 100_000),
            default=_DEFAULTS.steps_per_epoch,
            help=f"batches per epoch, 1..100000 (default {_DEFAULTS.steps_per_epoch})",
        )
        parser.add_argument(
            "--seed",
            type=int_in("--seed", 0, 2**32 - 1),
            default=_DEFAULTS.seed,
            help=f"seed, 0..2**32-1 (default {_DEFAULTS.seed})",
        )

    def run(self, args: argparse.Namespace) -> int:
        """Load the corpus, train, export; return 0."""
        output = Path(args.output)
        check_output_path(output)
        folders = [Path(f) for f in args.corpus]
        for folder in folders:
            if not folder.is_dir():
                raise DatasetError("not a folder", path=folder, expected="a folder of pieces")
        torch.set_num_threads(1)
        started = time.perf_counter()
        pieces = list(load_pieces(folders))
        if len(pieces) < 2:
            raise DatasetError(
                "expected at least two pieces (<name>.wav + <name>.json)",
                path=folders[0],
                got=len(pieces),
            )
        minutes = sum(p.features.shape[0] for p in pieces) / 86.13 / 60.0
        print(f"kelly train-beats: {len(pieces)} pieces, {minutes:.1f} min of audio", flush=True)
        config = BeatTrainConfig(
            epochs=args.epochs, steps_per_epoch=args.steps_per_epoch, seed=args.seed
        )
        trained = fit(pieces, config, progress=lambda line: print(line, flush=True))
        metadata = {
            "trained_on": [str(f) for f in folders],
            "pieces": len(pieces),
            "minutes": round(minutes, 1),
            "epochs": len(trained.history),
            "best_epoch": trained.best_epoch,
            "validation_score": round(trained.best_score, 4),
            "seed": args.seed,
            "lookahead_frames": LOOKAHEAD_FRAMES,
        }
        registry = self._registry if self._registry is not None else default_registry()
        exporter = registry.exporter("rtneural")
        path = exporter.export(
            BEAT_TRACKER_SPEC, trained.network.state_arrays(), output, metadata=metadata
        )
        elapsed = time.perf_counter() - started
        print(
            f"wrote {path}: validation score {trained.best_score:.3f} (mean of beat and "
            f"downbeat F, epoch {trained.best_epoch}), {elapsed:.0f} s",
            file=sys.stderr,
        )
        return 0
