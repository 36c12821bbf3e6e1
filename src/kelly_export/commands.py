"""``kelly validate PATH...`` and ``kelly convert LEGACY --output NEW``."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from kelly_core.errors import ExportError, KellyError
from kelly_core.fileio import check_output_path
from kelly_export.legacy import WEIGHT_LAYOUTS, read_legacy
from kelly_export.problems import Problem
from kelly_export.rtneural import RTNeuralExporter
from kelly_export.validate import collect_files, validate_file, validate_found_file

__all__ = ["ConvertCommand", "ValidateCommand"]

logger = logging.getLogger(__name__)


class ValidateCommand:
    """``kelly validate PATH... [--json] [-v]``: exit 0 only if every file passes.

    In a folder, JSON files that are not model files (a run's metrics, parity vectors,
    summary) are counted in one line; ``-v`` (or ``kelly -v validate``) lists them.
    """

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the paths, ``--json`` and ``-v``."""
        parser.add_argument("paths", nargs="+", type=Path, help="files, or folders of *.json")
        parser.add_argument("--json", action="store_true", help="print one JSON report")
        parser.add_argument(
            "-v",
            "--verbose",
            action="store_true",
            help="also list each skipped file that is not a model file",
        )

    def run(self, args: argparse.Namespace) -> int:
        """Validate each file; print problems (or a JSON report); return 0, 1 or 2."""
        files = collect_files(args.paths)
        report: dict[str, list[Problem]] = {}
        skipped: list[str] = []
        for path, named in files:
            problems = validate_file(path) if named else validate_found_file(path)
            if problems is None:
                skipped.append(str(path))
            else:
                report[str(path)] = problems
        if not report:
            raise KellyError("no model files (*.json with 'layers') found", path=args.paths[0])
        failed = sum(1 for problems in report.values() if problems)
        if args.json:
            document = {
                "ok": failed == 0,
                "files": [
                    {"file": name, "ok": not problems, "problems": [p.to_dict() for p in problems]}
                    for name, problems in report.items()
                ],
                "skipped": skipped,
            }
            sys.stdout.write(json.dumps(document, indent=2) + "\n")
        else:
            for name, problems in report.items():
                sys.stdout.write(f"{'FAIL' if problems else 'ok'}  {name}\n")
                for problem in problems:
                    sys.stdout.write(f"  {problem}\n")
            _write_skipped(skipped, verbose=args.verbose or logger.isEnabledFor(logging.DEBUG))
            sys.stdout.write(f"{len(report) - failed} of {len(report)} model files valid\n")
        return 1 if failed else 0


def _write_skipped(skipped: list[str], *, verbose: bool) -> None:
    """One line per skipped file with ``verbose``, else their count (none: nothing)."""
    if verbose:
        for name in skipped:
            sys.stdout.write(f"skip  {name} (not a model file: no 'layers' or 'in_shape')\n")
    elif skipped:
        files = "file" if len(skipped) == 1 else "files"
        sys.stdout.write(
            f"skipped {len(skipped)} {files} that are not model files (no 'layers' or "
            "'in_shape': metrics, parity vectors, summaries); -v lists them\n"
        )


class ConvertCommand:
    """``kelly convert LEGACY.json --output NEW.json [--name N] [--weights-layout L]``."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the source, ``--output``, ``--name`` and ``--weights-layout``."""
        parser.add_argument("source", type=Path, help="a file in the legacy layout")
        parser.add_argument(
            "-o", "--output", type=Path, required=True, help="RTNeural file to write"
        )
        parser.add_argument("--name", help="model name, if the file has none and is not known")
        parser.add_argument(
            "--weights-layout",
            choices=WEIGHT_LAYOUTS,
            help="orientation of dense weights if the file does not say (out_in: PyTorch)",
        )

    def run(self, args: argparse.Namespace) -> int:
        """Convert, write atomically, then validate the result; return 0 if it is valid."""
        check_output_path(args.output)
        loaded = read_legacy(args.source, name=args.name, weights_layout=args.weights_layout)
        exporter = RTNeuralExporter()
        try:
            written = exporter.export(
                loaded.spec, loaded.arrays, args.output,
                metadata={"converted_from": str(args.source)},
            )  # fmt: skip
        except ExportError as exc:  # a converted value is wrong: the source file holds it
            raise exc.located(
                path=args.source,
                reason=f"{exc.reason} (after conversion; nothing written to {args.output})",
            ) from exc
        problems = exporter.check(written)
        for problem in problems:
            sys.stderr.write(f"{problem}\n")
        logger.info("wrote %s (%s)", written, loaded.spec.name)
        return 1 if problems else 0
