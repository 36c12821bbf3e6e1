"""Building and running the C++ check programs of tests/cpp/ (shared by their tests).

A check program reads raw little-endian float32 rows from one file, runs one part of
kelly_companion.h over them and writes float32 rows to another. Without a C++ compiler
the tests skip, saying so, unless ``KELLY_REQUIRE_CXX=1`` (``.ci/run`` sets it), where a
missing compiler fails.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from kelly_export.cpp_files import companion_header

__all__ = ["CPP_DIR", "Runner", "build_check", "compiler", "runner"]

CPP_DIR = Path(__file__).resolve().parent / "cpp"

Runner = Callable[..., np.ndarray]
"""``run(mode, rows, width, *extra)``: the program's output rows of ``width`` floats."""


def compiler() -> str | None:
    """``$CXX`` if set (None when not found), else g++ or clang++ on the PATH."""
    named = os.environ.get("CXX")
    if named:
        return shutil.which(named)
    return shutil.which("g++") or shutil.which("clang++")


def build_check(name: str, folder: Path, *, what: str, flags: tuple[str, ...] = ()) -> Path:
    """Compile ``tests/cpp/<name>.cpp`` (C++17, warnings as errors) into ``folder``.

    :param what: What the program checks, for the skip message.
    """
    found = compiler()
    if found is None:
        if os.environ.get("KELLY_REQUIRE_CXX") == "1":
            pytest.fail("KELLY_REQUIRE_CXX=1 but no C++ compiler (g++, clang++ or $CXX)")
        pytest.skip(f"no C++ compiler (g++, clang++ or $CXX) to build {what}")
    out = folder / name
    command = [found, "-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror", "-pedantic", *flags]
    command += [f"-I{companion_header().parent}", str(CPP_DIR / f"{name}.cpp"), "-o", str(out)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    return out


def runner(binary: Path, folder: Path) -> Runner:
    """Run ``binary MODE IN OUT *extra`` on float32 rows written to ``folder``."""

    def run(mode: str, rows: np.ndarray, width: int, *extra: str) -> np.ndarray:
        src, dst = folder / f"{mode}.in", folder / f"{mode}.out"
        np.ascontiguousarray(rows, dtype="<f4").tofile(src)
        subprocess.run([str(binary), mode, str(src), str(dst), *extra], check=True)
        return np.fromfile(dst, dtype="<f4").reshape(-1, width)

    return run
