"""``kelly train-beats``: train the beat tracker on rendered music and export it.

The corpus is one or more folders of rendered pieces (``<name>.wav`` + ``<name>.json``
with ``"beats"`` and ``"downbeats"``): ``--corpus DIR`` (repeatable), and/or ``--build
DIR``, which first builds the train split (:mod:`kelly_models.listening.trainset`) into
``DIR`` (pieces already built for ``--build-seed`` are kept; two worker processes;
fluidsynth, fluid-soundfont-gm and mma from apt, music21 from pip). The result is an
convolutional tracker's JSON file (:mod:`kelly_core.beat_tcn`; ``--architecture tcn``,
the default), which ``kelly generate`` loads when it is
``kelly_runtime/generate/models/beattracker_tcn.json``, or with ``--architecture lstm``
an RTNeural JSON file with the LSTM tracker's layer table in ``metadata.spec``, checked by
the exporter before it is written (``beattracker.json``, and ``--backward`` for
``beattracker_backward.json``).
"""

from __future__ import annotations

import argparse
import logging
import sys
import time
from pathlib import Path

from kelly_core._optional import require
from kelly_core.argtypes import int_in
from kelly_core.beat_tcn import to_document
from kelly_core.encodings.onsets import DEFAULT_ONSETS
from kelly_core.errors import DatasetError, OutputError, SpecError
from kelly_core.fileio import atomic_write_json, check_output_path
from kelly_core.listening import BEAT_TRACKER_SPEC, LOOKAHEAD_FRAMES
from kelly_core.registry import Registry, default_registry
from kelly_models.listening.corpus import load_pieces, reversed_piece
from kelly_models.listening.pieces import build_folder
from kelly_models.listening.render import check_tools
from kelly_models.listening.tcn import TcnNetwork, TcnTrainConfig, fit_tcn
from kelly_models.listening.train import BeatTrainConfig, TrainedTracker, fit
from kelly_models.listening.trainset import train_jobs
from kelly_models.network import SpecNetwork

__all__ = ["TrainBeatsCommand"]

logger = logging.getLogger(__name__)

_DEFAULTS = BeatTrainConfig()
_TCN_DEFAULTS = TcnTrainConfig()
_BUILD_WORKERS = 2
_EPILOG = (
    "--build DIR makes the training corpus: the train split of Kelly's listening pieces "
    "(mma grooves, Bach chorales, folk tunes, Haydn; none of the listening benchmark's "
    "test material), rendered with exact beats into DIR, then trains on it. It needs "
    "'apt-get install fluidsynth fluid-soundfont-gm mma' and music21 (pip install -e "
    "'.[dev]'); the first build takes about 20 minutes on two cores, a second run "
    "keeps what is built. See docs/listening.md."
)


def _say(line: str) -> None:
    """One progress line on stdout, flushed (training takes minutes)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class TrainBeatsCommand:
    """Implements ``kelly_core.Command`` for ``kelly train-beats``.

    :param registry: Where the ``rtneural`` exporter is found (default: the installed
        plugins).
    """

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Declare the flags."""
        parser.epilog = _EPILOG
        parser.add_argument(
            "--corpus",
            type=Path,
            action="append",
            default=[],
            help="a folder of rendered pieces (<name>.wav + <name>.json); repeatable",
        )
        parser.add_argument(
            "--build",
            type=Path,
            metavar="DIR",
            default=None,
            help="build the train split into DIR first (pieces already built are kept), "
            "then train on it (with any --corpus)",
        )
        parser.add_argument(
            "--build-seed",
            type=int_in("--build-seed", 0, 2**32 - 1),
            default=0,
            help="seed of the pieces --build makes, 0..2**32-1 (default 0)",
        )
        parser.add_argument(
            "-o", "--output", type=Path, required=True, help="the tracker file to write (JSON)"
        )
        parser.add_argument(
            "--architecture",
            choices=("tcn", "lstm"),
            default="tcn",
            help="tcn: the convolutional tracker kelly generate ships (default); lstm: the "
            "causal LSTM tracker, an RTNeural JSON file",
        )
        parser.add_argument(
            "--epochs",
            type=int_in("--epochs", 1, 1000),
            default=None,
            help=f"epochs, 1..1000 (default {_TCN_DEFAULTS.epochs} for tcn; at most "
            f"{_DEFAULTS.epochs} for lstm, which stops early)",
        )
        parser.add_argument(
            "--steps-per-epoch",
            type=int_in("--steps-per-epoch", 1, 100_000),
            default=_DEFAULTS.steps_per_epoch,
            help=f"batches per epoch, 1..100000 (default {_DEFAULTS.steps_per_epoch})",
        )
        parser.add_argument(
            "--backward",
            action="store_true",
            help="with --architecture lstm: train the backward tracker, the pieces played "
            "from their end to their start (averaged with the forward one)",
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
        tcn = args.architecture == "tcn"
        if tcn and args.backward:
            raise SpecError(
                "only with --architecture lstm (the convolutional tracker hears both "
                "directions already)",
                field="--backward",
                expected="--architecture lstm",
            )
        folders = [Path(f) for f in args.corpus]
        if not folders and args.build is None:
            raise DatasetError("expected --corpus DIR or --build DIR (or both)")
        for folder in folders:
            if not folder.is_dir():
                raise DatasetError("not a folder", path=folder, expected="a folder of pieces")
        started = time.perf_counter()
        if args.build is not None:
            folders.append(_build(Path(args.build), args.build_seed))
        pieces = list(load_pieces(folders))
        if args.backward:
            pieces = [reversed_piece(p) for p in pieces]
        if len(pieces) < 2:
            raise DatasetError(
                "expected at least two pieces (<name>.wav + <name>.json)",
                path=folders[0],
                got=len(pieces),
            )
        minutes = sum(p.features.shape[0] for p in pieces) / DEFAULT_ONSETS.fps / 60.0
        _say(f"kelly train-beats: {len(pieces)} pieces, {minutes:.1f} min of audio")
        defaults = _TCN_DEFAULTS if tcn else _DEFAULTS
        epochs = defaults.epochs if args.epochs is None else args.epochs
        trained: TrainedTracker[TcnNetwork] | TrainedTracker[SpecNetwork]
        if tcn:
            trained = fit_tcn(
                pieces,
                TcnTrainConfig(epochs=epochs, steps_per_epoch=args.steps_per_epoch, seed=args.seed),
                progress=_say,
            )
        else:
            trained = fit(
                pieces,
                BeatTrainConfig(
                    epochs=epochs, steps_per_epoch=args.steps_per_epoch, seed=args.seed
                ),
                progress=_say,
            )
        metadata: dict[str, object] = {
            "architecture": args.architecture,
            "direction": "both" if tcn else "backward" if args.backward else "forward",
            "trained_on": [f.name for f in folders],
            "pieces": len(pieces),
            "minutes": round(minutes, 1),
            "epochs": len(trained.history),
            "best_epoch": trained.best_epoch,
            "validation_score": round(trained.best_score, 4),
            "seed": args.seed,
            "lookahead_frames": 0 if tcn else LOOKAHEAD_FRAMES,
        }
        if args.build is not None:
            metadata["train_split_seed"] = args.build_seed
        if isinstance(trained.network, TcnNetwork):
            path = atomic_write_json(output, to_document(trained.network.weights(metadata)))
        else:
            registry = self._registry if self._registry is not None else default_registry()
            exporter = registry.exporter("rtneural")
            path = exporter.export(
                BEAT_TRACKER_SPEC, trained.network.state_arrays(), output, metadata=metadata
            )
        elapsed = time.perf_counter() - started
        sys.stderr.write(
            f"wrote {path}: validation score {trained.best_score:.3f} (mean of beat and "
            f"downbeat F, epoch {trained.best_epoch}), {elapsed:.0f} s\n"
        )
        return 0


def _build(folder: Path, seed: int) -> Path:
    """Build the train split into ``folder``; return it.

    :raises MissingDependencyError: If fluidsynth, the SoundFont, mma, music21 or
        pretty_midi is missing (one line naming what to install).
    :raises OutputError: If ``folder`` cannot be made.
    """
    check_tools("kelly train-beats --build")
    require("music21", extra="music21", purpose="kelly train-beats --build")
    require("pretty_midi", extra="data", purpose="kelly train-beats --build")
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        reason = "not a folder" if folder.exists() else exc.strerror or type(exc).__name__
        raise OutputError(f"cannot make the folder for --build: {reason}", path=folder) from exc
    jobs = train_jobs(seed)
    started = time.perf_counter()
    _say(f"kelly train-beats: building {len(jobs)} pieces into {folder}")
    problems = build_folder(jobs, folder, workers=_BUILD_WORKERS)
    for problem in problems:
        logger.warning("train split: %s", problem)
    _say(
        f"kelly train-beats: built in {time.perf_counter() - started:.0f} s, "
        f"{len(problems)} piece(s) failed"
    )
    return folder
