"""``kelly train``: train the models, export them, and report how training went.

Replaces the original ``train_all_models.py``: every flag is declared once (its CLI
crashed with a duplicated ``-d``), and the LSTMs train on sequences with carried state.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Final

import torch

from kelly_core.argtypes import float_in, int_in
from kelly_core.catalog import MODEL_NAMES
from kelly_core.errors import Interrupted, KellyError
from kelly_core.fileio import check_output_path
from kelly_core.flags import add_max_items_argument, add_option_argument, add_renamed, key_values
from kelly_core.registry import Registry, default_registry
from kelly_models.datasets.inspect import check_known_options
from kelly_models.training.config import (
    DEVICES,
    OPEN_ENDS,
    RANGES,
    SCHEDULES,
    TrainConfig,
    describe_range,
)
from kelly_models.training.run import RunOptions, pick_device, train_models
from kelly_models.training.runfolder import RunLock
from kelly_models.training.summary import (
    baseline_table,
    format_table,
    verdict_line,
    write_summary,
)

__all__ = ["TrainCommand", "resolve_model_names"]

logger = logging.getLogger(__name__)

_DEFAULTS = TrainConfig()


def resolve_model_names(registry: Registry, requested: list[str] | None) -> list[str]:
    """Map ``--model`` values (case-insensitive names or file stems) to model names.

    :raises KellyError: Through ``registry.resolve`` for an unknown name.
    """
    names = list(registry.model_names())
    if not requested:
        return names
    by_lower = {n.lower(): n for n in names}
    chosen: list[str] = []
    for raw in requested:
        name = by_lower.get(raw.lower(), raw)
        registry.resolve("model", name)  # raises UnknownNameError with a suggestion
        if name not in chosen:
            chosen.append(name)
    return chosen


_FLAGS = {
    "epochs": "--epochs", "batch_size": "--batch-size", "learning_rate": "--lr",
    "seed": "--seed", "val_split": "--val-split", "window": "--window",
    "schedule": "--schedule", "patience": "--patience", "min_epochs": "--min-epochs",
    "smooth_epochs": "--smooth-epochs", "folds": "--folds",
    "steps_per_epoch": "--steps-per-epoch", "checkpoint_every": "--checkpoint-every",
    "keep_last": "--keep-last",
}  # fmt: skip
MAX_THREADS: Final = 1024
"""Largest ``--threads`` (0: torch's choice)."""


def _number(name: str) -> Callable[[str], float]:
    """The argparse type of the option of :class:`TrainConfig` field ``name``: its range
    (:data:`~kelly_models.training.config.RANGES`) checked while the arguments are parsed."""
    flag = _FLAGS[name]
    low, high = RANGES[name]
    if isinstance(low, int) and isinstance(high, int):
        return int_in(flag, low, high)
    end = OPEN_ENDS.get(name)
    return float_in(flag, low, high, low_open=end == "low", high_open=end == "high")


def _span(name: str) -> str:
    """``1..10000`` or ``> 0 and <= 10``: field ``name``'s range for a ``--help`` line."""
    text = describe_range(name)
    return text.removeprefix("an integer in ").removeprefix("a finite number ")


def _config_option(
    group: argparse._ArgumentGroup,
    field: str,
    *flags: str,
    what: str,
    paren: str | None = None,
    default: object = None,
    **extra: str,
) -> None:
    """The option of numeric :class:`TrainConfig` field ``field``: its range checked at
    parse time (:func:`_number`), its default the field's (unless given), and the help
    ``WHAT, RANGE (default D)`` (``paren`` replaces what the parentheses say)."""
    value = getattr(_DEFAULTS, field) if default is None else default
    group.add_argument(
        *flags,
        type=_number(field),
        default=value,
        help=f"{what}, {_span(field)} ({paren or f'default {value}'})",
        **extra,  # type: ignore[arg-type]  # dest and metavar: strings argparse takes
    )


def _add_data_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``data`` options: what to train on, what to train, where results go."""
    group = parser.add_argument_group("data")
    source = group.add_mutually_exclusive_group()
    source.add_argument(
        "-d",
        "--datasets-dir",
        type=Path,
        metavar="DIR",
        help="folder holding the datasets (deam/, lmd_full/, maestro-v3.0.0/, ...); a model "
        "whose dataset is missing trains on synthetic data, with a notice",
    )
    source.add_argument(
        "--synthetic",
        action="store_true",
        help="train every model on generated data (the default without --datasets-dir)",
    )
    group.add_argument(
        "-o",
        "--output",
        type=Path,
        required=True,
        metavar="DIR",
        help="where models, metrics, checkpoints and the summary go",
    )
    group.add_argument(
        "-m",
        "--model",
        dest="models",
        action="extend",
        nargs="+",
        metavar="NAME",
        help=f"models to train, repeatable (default all: {', '.join(MODEL_NAMES)}); "
        "case-insensitive",
    )
    add_renamed(group, "--models", new="-m/--model", dest="models", nargs="+", metavar="NAME")
    add_max_items_argument(group)
    add_option_argument(group, each_reader=True)
    group.add_argument(
        "--format",
        dest="export_format",
        default="rtneural",
        help="exporter to write the models with (default rtneural)",
    )


def _add_fit_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``training`` options: the optimiser and its schedule."""
    group = parser.add_argument_group("training")
    _config_option(group, "epochs", "-e", "--epochs", what="maximum epochs per model")
    _config_option(group, "batch_size", "-b", "--batch-size", what="sequences per batch")
    _config_option(
        group, "learning_rate", "--lr", "--learning-rate", what="initial learning rate", dest="lr"
    )
    group.add_argument(
        "--schedule",
        choices=SCHEDULES,
        default=_DEFAULTS.schedule,
        help=f"learning-rate schedule (default {_DEFAULTS.schedule})",
    )
    _config_option(group, "window", "--window", what="truncated-BPTT window in steps")


def _add_split_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``data split`` options: held-out data, folds and the seed."""
    group = parser.add_argument_group("data split")
    group.add_argument(
        "-s",
        "--seed",
        type=_number("seed"),
        default=_DEFAULTS.seed,
        help="seed for weights, data order and splits, 0..2**64-1 (default 0)",
    )
    _config_option(
        group,
        "val_split",
        "--val-split",
        what="share of sequences held out for validation, and again for test, when the "
        "dataset has no splits",
    )
    _config_option(
        group,
        "folds",
        "--folds",
        what="K-fold cross-validation by file: K models, metrics as mean and spread over "
        "the folds; the exported model is fold 1's",
        paren="default 1: one split",
        metavar="K",
    )
    group.add_argument(
        "--augment-keys",
        action="store_true",
        help="also train on every sequence transposed into the 11 other keys (for "
        "absolute-pitch data; the exported file says tonal_reference 'absolute')",
    )


def _add_stopping_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``early stopping`` options: when a model stops training."""
    group = parser.add_argument_group("early stopping")
    _config_option(
        group,
        "patience",
        "--patience",
        what="early stopping: epochs without validation improvement",
        paren=f"default {_DEFAULTS.patience}; 0 disables",
    )
    _config_option(
        group,
        "min_epochs",
        "--min-epochs",
        what="early stopping: epochs always trained, none before kept as the best",
    )
    _config_option(
        group,
        "smooth_epochs",
        "--smooth-epochs",
        what="early stopping: validation losses averaged into the criterion",
        paren=f"default {_DEFAULTS.smooth_epochs}; 1: the raw loss",
    )


def _add_run_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``run`` options: the machine, checkpoints and resuming, output."""
    group = parser.add_argument_group("run")
    group.add_argument(
        "--device",
        choices=DEVICES,
        default="cpu",
        help="cpu (default), cuda, mps, or auto (cuda, then mps, then cpu)",
    )
    group.add_argument(
        "-r",
        "--resume",
        action="store_true",
        help="continue each model from its last checkpoint under DIR/checkpoints",
    )
    _config_option(
        group,
        "steps_per_epoch",
        "--steps-per-epoch",
        what="at most N batches per epoch",
        paren="quick runs; default 0: all",
        default=0,
        metavar="N",
    )
    _config_option(
        group,
        "checkpoint_every",
        "--checkpoint-every",
        what="also checkpoint every N batches inside an epoch",
        paren="default 0: at epoch ends",
        default=0,
        metavar="N",
    )
    _config_option(
        group, "keep_last", "--keep-last", what="checkpoints kept besides best.pt", metavar="N"
    )
    group.add_argument(
        "--threads",
        type=int_in("--threads", 0, MAX_THREADS),
        default=1,
        metavar="N",
        help=(
            f"torch CPU threads, 0..{MAX_THREADS} (default 1: these small batches gain "
            "little from more, and lose 10-30x when the cores are busy; 0: torch's choice)"
        ),
    )
    group.add_argument("--no-progress", action="store_true", help="no progress bars or lines")


class TrainCommand:
    """``kelly train [--datasets-dir DIR | --synthetic] --output DIR [options]``."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the training options (each flag once; short aliases where the original had
        them), in five groups of ``--help``: data, training, data split, early stopping, run."""
        for add in (
            _add_data_arguments,
            _add_fit_arguments,
            _add_split_arguments,
            _add_stopping_arguments,
            _add_run_arguments,
        ):
            add(parser)

    def run(self, args: argparse.Namespace) -> int:
        """Train, export, print the summary table; return 0.

        A model that does not beat its baseline is warned about, not failed. The run folder
        is locked while the run writes it; another run into it is refused at once.
        """
        registry = self._registry or default_registry()
        check_output_path(args.output, kind="folder")
        config = _config(args)
        if args.threads > 0:
            torch.set_num_threads(args.threads)
        options = _options(args)
        check_known_options(registry, options.dataset_options)
        names = resolve_model_names(registry, args.models)
        registry.resolve("exporter", options.export_format)  # fail before training, not after
        try:
            with RunLock(options.output):  # one run at a time writes a run folder
                logger.info(
                    "training %s on %s into %s", ", ".join(names), options.device, options.output
                )
                reports = train_models(registry, names, config, options)
                write_summary(reports, options.output)
        except KeyboardInterrupt:
            raise Interrupted(
                f"the models finished are in {options.output}, each model's last checkpoint "
                f"under {options.output / 'checkpoints'}",
                rerun_with="--resume",
                rerun_flags=("--resume", "-r"),
            ) from None
        sys.stdout.write(format_table(reports))
        sys.stdout.write("\n" + baseline_table(reports))
        verdict = verdict_line(reports)
        sys.stdout.write(f"\n{verdict}\n")
        if any(not r.beats_baseline for r in reports):
            logger.warning("%s", verdict)
        return 0


def _config(args: argparse.Namespace) -> TrainConfig:
    """The training settings from the parsed flags; a bad value names the flag."""
    try:
        return TrainConfig(
            epochs=args.epochs,
            batch_size=args.batch_size,
            learning_rate=args.lr,
            seed=args.seed,
            val_split=args.val_split,
            window=args.window,
            schedule=args.schedule,
            patience=args.patience,
            min_epochs=args.min_epochs,
            smooth_epochs=args.smooth_epochs,
            folds=args.folds,
            augment_keys=bool(args.augment_keys),
            steps_per_epoch=args.steps_per_epoch,
            checkpoint_every=args.checkpoint_every,
            keep_last=args.keep_last,
        )
    except (ValueError, TypeError) as exc:
        message = str(exc)
        for name, flag in _FLAGS.items():  # attrs names the field; the user typed the flag
            message = message.replace(f"'{name}'", flag)
        raise KellyError(f"invalid option: {message}") from exc


def _options(args: argparse.Namespace) -> RunOptions:
    """Where the run reads and writes, on which device, and the dataset options."""
    return RunOptions(
        output=args.output,
        datasets_dir=args.datasets_dir,
        synthetic=bool(args.synthetic),
        resume=bool(args.resume),
        device=pick_device(args.device),
        export_format=args.export_format,
        max_items=args.max_items,
        dataset_options=key_values(args.option),
        progress=not args.no_progress,
    )
