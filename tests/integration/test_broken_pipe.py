"""Output cut short by its reader (``kelly validate f | head -2``) ends without a traceback.

Each case runs ``kelly`` in a child process whose standard output is a pipe with no
reader left (its read end is closed before the child starts), so every write to it
fails with ``EPIPE`` the way it does once ``head`` has exited.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.cli import BROKEN_PIPE_STATUS
from kelly_export.rtneural import RTNeuralExporter
from tests.unit.kelly_runtime.helpers import random_arrays

_RUN = "from kelly_core.cli import main; raise SystemExit(main())"
_LINE_BUFFERED = (
    "import io, sys; "
    "sys.stdout = io.TextIOWrapper(open(1, 'wb', buffering=0, closefd=False), "
    "line_buffering=True); " + _RUN
)
"""Standard output flushed at every line, so the write inside the command fails."""


def _kelly_into_closed_pipe(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        return subprocess.run(
            [sys.executable, "-c", code, *args],
            stdout=write_end,
            stderr=subprocess.PIPE,
            text=True,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)


@pytest.fixture
def model_files(tmp_path: Path) -> list[Path]:
    """Three valid RTNeural files, so validate prints several lines."""
    spec = MODEL_SPECS["DynamicsEngine"]
    exporter = RTNeuralExporter()
    return [
        exporter.export(spec, random_arrays(spec, i), tmp_path / f"m{i}.json") for i in (0, 1, 2)
    ]


@pytest.mark.parametrize("code", [_RUN, _LINE_BUFFERED], ids=["at-exit-flush", "mid-output"])
def test_validate_into_a_closed_pipe_ends_quietly(code: str, model_files: list[Path]) -> None:
    """No BrokenPipeError traceback, no 'Exception ignored', the documented status."""
    done = _kelly_into_closed_pipe(code, "validate", *map(str, model_files))
    assert "Traceback" not in done.stderr
    assert "BrokenPipeError" not in done.stderr
    assert "Exception ignored" not in done.stderr
    assert done.returncode == BROKEN_PIPE_STATUS == 1


def test_plugins_json_into_a_closed_pipe_ends_quietly() -> None:
    """Another command's output (plugins --json) is handled the same way."""
    done = _kelly_into_closed_pipe(_LINE_BUFFERED, "plugins", "--json")
    assert done.stderr.strip() == ""
    assert done.returncode == 1


def test_validate_into_a_reader_prints_its_lines(model_files: list[Path]) -> None:
    """With a reader, the output is unchanged: a line per file, exit 0."""
    done = subprocess.run(
        [sys.executable, "-c", _RUN, "validate", *map(str, model_files)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines()[:3] == [f"ok  {path}" for path in model_files]
