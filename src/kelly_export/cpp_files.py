"""The C++ files Kelly ships as package data (``kelly_export/cpp/``)."""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["COMPANION_HEADER", "EXAMPLE_FILES", "companion_header", "cpp_dir"]

COMPANION_HEADER: Final = "kelly_companion.h"
"""The header-only C++17 companion: features, contexts, decoding, fallbacks, handoff."""
EXAMPLE_FILES: Final = ("example/kelly_pipeline.cpp", "example/CMakeLists.txt")
"""The example pipeline program and its CMake file, relative to :func:`cpp_dir`."""


def cpp_dir() -> Path:
    """Return the folder of the shipped C++ files."""
    return Path(__file__).resolve().parent / "cpp"


def companion_header() -> Path:
    """Return the path of ``kelly_companion.h``."""
    return cpp_dir() / COMPANION_HEADER
