"""``kelly train-reference``: train the five reference models that ship with Kelly.

One command, deterministic for a seed, on the best data that needs no download:

1. the rendered pieces (``DATA/rendered``: the beat tracker's train split, music21 scores
   and ``mma`` charts rendered with fluidsynth, built there first when missing, as
   ``kelly train-beats --build`` builds them, about 20 min on two cores);
2. ``kelly train -d DATA`` with fixed settings (:data:`TRAIN_ARGS`, one torch thread): the
   HarmonyPredictor and MelodyTransformer on those pieces (``rendered-harmony``,
   ``rendered-melody``: real music), the EmotionRecognizer on ``synthetic-emotion``
   (generated items plus real music rendered with fluidsynth, its default sizes), the
   DynamicsEngine and GroovePredictor on synthetic data (MAESTRO and Groove MIDI are
   downloads; a ``DATA/maestro-v3.0.0`` or ``DATA/groove`` folder is used when present);
3. each exported file written compactly to ``OUTPUT/reference/`` (weights rounded to
   ``--decimals`` places, parity vectors computed again: :mod:`kelly_export.compact`) and
   validated; ``--install`` copies the five files to the package's
   :data:`~kelly_runtime.reference.REFERENCE_DIR`, which ``kelly generate`` runs when no
   ``--models`` is given.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Final

from kelly_core._optional import require
from kelly_core.argtypes import int_in
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError, OutputError
from kelly_core.fileio import atomic_write_bytes
from kelly_core.registry import Registry
from kelly_export.compact import DEFAULT_DECIMALS, CompactReport, compact_model_file
from kelly_export.validate import validate_file
from kelly_models.training.command import TrainCommand

__all__ = ["TRAIN_ARGS", "TrainReferenceCommand", "compact_run", "install"]

TRAIN_ARGS: Final = ("--threads", "1", "-O", "workers=2", "--no-progress")
"""What the reference run adds to ``kelly train -d DATA -o OUTPUT --seed SEED`` (the
epochs, schedule and early stopping are ``kelly train``'s defaults)."""
_RENDERED: Final = "rendered"


def _say(line: str) -> None:
    sys.stderr.write(f"kelly train-reference: {line}\n")


def _has_pieces(folder: Path) -> bool:
    return folder.is_dir() and any(folder.glob("*.wav"))


def build_pieces(folder: Path, seed: int) -> None:
    """Build the listening train split into ``folder`` (kept pieces are not rebuilt).

    :raises MissingDependencyError: If fluidsynth, the SoundFont, mma, music21 or
        pretty_midi is missing.
    """
    from kelly_models.listening.pieces import build_folder
    from kelly_models.listening.render import check_tools
    from kelly_models.listening.trainset import train_jobs

    check_tools("kelly train-reference")
    require("music21", extra="music21", purpose="kelly train-reference")
    require("pretty_midi", extra="data", purpose="kelly train-reference")
    folder.mkdir(parents=True, exist_ok=True)
    jobs = train_jobs(seed)
    _say(f"building {len(jobs)} rendered pieces into {folder} (about 20 min on two cores)")
    for problem in build_folder(jobs, folder, workers=2):
        _say(f"train split: {problem}")


def compact_run(run: Path, target: Path, decimals: int) -> list[CompactReport]:
    """Write each of the run's five model files compactly into ``target`` and validate it.

    :raises ExportError: If a model file is missing or the compact file is not valid.
    """
    reports: list[CompactReport] = []
    for spec in MODEL_SPECS.values():
        source = run / f"{spec.file_stem}.json"
        if not source.is_file():
            raise ExportError("the run exported no such model file", path=source)
        report = compact_model_file(source, target / source.name, decimals=decimals)
        problems = validate_file(report.path)
        if problems:
            raise ExportError(str(problems[0]), path=report.path)
        reports.append(report)
    return reports


def install(reports: list[CompactReport], folder: Path) -> None:
    """Copy the compact model files (not their parity files) into ``folder``."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot make the folder: {exc.strerror}", path=folder) from exc
    for report in reports:
        atomic_write_bytes(folder / report.path.name, report.path.read_bytes())


class TrainReferenceCommand:
    """``kelly train-reference -d DATA -o OUTPUT [--seed N] [--install]``."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the data folder, the output folder, the seeds, the rounding, --install."""
        parser.add_argument(
            "-d",
            "--datasets-dir",
            type=Path,
            required=True,
            metavar="DATA",
            help="folder holding rendered/ (built there when missing) and any datasets",
        )
        parser.add_argument("-o", "--output", type=Path, required=True, help="the run's folder")
        parser.add_argument(
            "-s",
            "--seed",
            type=int_in("--seed", 0, 2**32 - 1),
            default=0,
            help="training seed, 0..2**32-1 (default 0)",
        )
        parser.add_argument(
            "--build-seed",
            type=int_in("--build-seed", 0, 2**32 - 1),
            default=0,
            help="seed of the rendered pieces built when DATA/rendered is missing, 0..2**32-1 "
            "(default 0)",
        )
        parser.add_argument(
            "--decimals",
            type=int_in("--decimals", 1, 9),
            default=DEFAULT_DECIMALS,
            help=f"decimal places of the shipped weights, 1..9 (default {DEFAULT_DECIMALS})",
        )
        parser.add_argument(
            "-r", "--resume", action="store_true", help="continue the training run in OUTPUT"
        )
        parser.add_argument(
            "--install",
            action="store_true",
            help="copy the five compact files into the package, where kelly generate "
            "finds them without --models",
        )

    def run(self, args: argparse.Namespace) -> int:
        """Build the pieces if needed, train, compact, validate, install; return 0."""
        from kelly_runtime.reference import REFERENCE_DIR

        data: Path = args.datasets_dir
        if not _has_pieces(data / _RENDERED):
            build_pieces(data / _RENDERED, args.build_seed)
        train = TrainCommand(self._registry)
        parser = argparse.ArgumentParser(prog="kelly train")
        train.configure(parser)
        argv = ["-d", str(data), "-o", str(args.output), "--seed", str(args.seed), *TRAIN_ARGS]
        code = train.run(parser.parse_args([*argv, *(["--resume"] if args.resume else [])]))
        if code != 0:
            return code
        reports = compact_run(args.output, args.output / "reference", args.decimals)
        for r in reports:
            _say(
                f"{r.path}: {r.bytes_before:,} -> {r.bytes_after:,} bytes, outputs moved "
                f"at most {r.max_output_change:.1e} by the rounding; valid"
            )
        total = sum(r.bytes_after for r in reports)
        _say(f"five compact files, {total:,} bytes in all")
        if args.install:
            install(reports, REFERENCE_DIR)
            _say(f"installed into {REFERENCE_DIR} (kelly generate runs them without --models)")
        return 0
