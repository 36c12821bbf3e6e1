"""``kelly cpp --output DIR``: the C++ side of the exported models, written for a plugin.

Writes ``kelly_models.h`` (RTNeural compile-time model types and a checking loader,
generated from the model specs), ``kelly_companion.h`` (the header-only C++17 companion:
features, contexts, decoding, fallbacks, handoff) and ``example/`` (a program that
streams a WAV file through the five models, with its CMake file). See docs/cpp.md.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from kelly_core.errors import KellyError
from kelly_core.fileio import atomic_write_text
from kelly_export.cpp_files import COMPANION_HEADER, EXAMPLE_FILES, cpp_dir
from kelly_export.cpp_header import HEADER_NAME, models_header

__all__ = ["CppCommand", "write_cpp"]

logger = logging.getLogger(__name__)


def write_cpp(output: Path, *, example: bool = True) -> list[Path]:
    """Write the generated header, the companion and (optionally) the example to ``output``.

    :returns: The files written, in order.
    :raises KellyError: If ``output`` exists and is not a folder.
    """
    output = Path(output)
    if output.exists() and not output.is_dir():
        raise KellyError("not a folder", path=output, expected="a folder for the C++ files")
    written = [atomic_write_text(output / HEADER_NAME, models_header())]
    sources = [COMPANION_HEADER, *(EXAMPLE_FILES if example else ())]
    for name in sources:
        text = (cpp_dir() / name).read_text(encoding="utf-8")
        written.append(atomic_write_text(output / name, text))
    return written


class CppCommand:
    """``kelly cpp --output DIR [--no-example]``."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add ``--output`` and ``--no-example``."""
        parser.add_argument(
            "--output", "-o", type=Path, required=True, help="folder for the C++ files"
        )
        parser.add_argument("--no-example", action="store_true", help="write only the two headers")

    def run(self, args: argparse.Namespace) -> int:
        """Write the files; print one line per file; return 0."""
        for path in write_cpp(args.output, example=not args.no_example):
            sys.stdout.write(f"wrote {path}\n")
        return 0
