"""``kelly init`` and ``kelly export``: seeded checkpoints, and exporting them by format name.

Exporters are found through the registry by name (``--format``), never imported.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path
from typing import cast

from kelly_core.argtypes import MAX_SEED, int_in
from kelly_core.entries import ExporterEntry
from kelly_core.errors import KellyError
from kelly_core.fileio import check_output_path, is_temp_name, remove_stale_temp_files
from kelly_core.flags import add_renamed
from kelly_core.registry import Registry, default_registry
from kelly_models.build import build_model
from kelly_models.checkpoint_format import read_checkpoint, save_checkpoint

__all__ = ["ExportCommand", "InitCommand"]

logger = logging.getLogger(__name__)


class InitCommand:
    """``kelly init --seed N --output DIR [-m/--model NAME...]``."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add ``--seed``, ``--output`` and ``-m/--model`` (``--models``: its spelling of
        the previous release, with a warning)."""
        parser.add_argument(
            "--seed",
            type=int_in("--seed", 0, MAX_SEED),
            default=0,
            help="weight initialisation seed, 0..2**64-1",
        )
        parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write into")
        parser.add_argument(
            "-m",
            "--model",
            dest="models",
            action="extend",
            nargs="+",
            metavar="NAME",
            help="models to write, repeatable (default all five)",
        )
        add_renamed(parser, "--models", new="-m/--model", dest="models", nargs="+", metavar="NAME")

    def run(self, args: argparse.Namespace) -> int:
        """Write ``DIR/<lowercase name>.pt`` for each model; return 0."""
        registry = self._registry or default_registry()
        check_output_path(args.output, kind="folder")
        names = list(args.models) if args.models else list(registry.model_names())
        order = registry.model_names()
        for name in names:
            registry.resolve("model", name)  # unknown names fail with the available ones
            seed = int(args.seed) + order.index(name)  # the same per model, whatever is chosen
            model = build_model(name, seed=seed)
            path = save_checkpoint(
                model,
                Path(args.output) / f"{model.spec.file_stem}.pt",
                metadata={"seed": seed, "trained": False},
            )
            logger.info("wrote %s (%s, %d parameters)", path, name, model.spec.parameter_count)
        return 0


class ExportCommand:
    """``kelly export CKPT_DIR --output DIR [--format rtneural]``."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the checkpoint folder, ``--output`` and ``--format``."""
        parser.add_argument(
            "checkpoints", type=Path, help="folder of *.pt checkpoints (or one file)"
        )
        parser.add_argument("-o", "--output", type=Path, required=True, help="folder to write into")
        parser.add_argument("--format", default="rtneural", help="exporter name (default rtneural)")

    def run(self, args: argparse.Namespace) -> int:
        """Export each checkpoint, then check each written file; 0 if all are valid."""
        registry = self._registry or default_registry()
        source = Path(args.checkpoints)
        if not source.exists():
            raise KellyError("no such file or folder", path=source)
        check_output_path(args.output, kind="folder")
        if source.is_dir():
            remove_stale_temp_files(source)
        paths = (
            [source]
            if source.is_file()
            else sorted(  # hidden names (temp files of an interrupted write) are not models
                p
                for p in source.glob("*.pt")
                if not p.name.startswith(".") and not is_temp_name(p.name) and p.is_file()
            )
        )
        if not paths:
            raise KellyError("no *.pt checkpoints found", path=source)
        entry = cast(ExporterEntry, registry.resolve("exporter", args.format).entry)
        exporter = registry.exporter(args.format)
        failures = 0
        for path in paths:
            loaded = read_checkpoint(path)
            target = Path(args.output) / f"{loaded.spec.file_stem}{entry.suffix}"
            extra = {k: v for k, v in loaded.metadata.items() if k != "kelly_version"}
            written = exporter.export(loaded.spec, loaded.arrays, target, metadata=extra)
            problems = exporter.check(written)
            for problem in problems:
                sys.stderr.write(f"{problem}\n")
            failures += bool(problems)
            logger.info("%s -> %s%s", path, written, " (INVALID)" if problems else "")
        return 1 if failures else 0
