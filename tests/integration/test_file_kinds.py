"""One file-kind check (kelly_core.fileio) serves every reader: the same words everywhere.

A FIFO, a folder or a missing path given as a model, checkpoint, frames or audio file is
refused unopened with :func:`kelly_core.fileio.regular_file_problem`'s sentence; there is
no second copy of that check with its own wording.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from kelly_core.errors import KellyError
from kelly_export.validate import read_text
from kelly_models.checkpoint_format import verify_checkpoint_file
from kelly_runtime.frames_file import read_frames
from kelly_runtime.generate.audio import probe_audio

_READERS: list[tuple[str, Callable[[Path], object], str]] = [
    ("frames", lambda p: read_frames(p, 4), "a .npy array file"),
    ("checkpoint", verify_checkpoint_file, "a .pt checkpoint file"),
    ("model", read_text, "a model file"),
    ("audio", probe_audio, "an audio file"),
]


@pytest.mark.parametrize(("_name", "read", "what"), _READERS, ids=[r[0] for r in _READERS])
def test_a_fifo_is_named_the_same_way_by_every_reader(
    _name: str, read: Callable[[Path], object], what: str, tmp_path: Path
) -> None:
    """'is a FIFO (named pipe); expected <what>', without opening the FIFO (no hang)."""
    fifo = tmp_path / "input"
    os.mkfifo(fifo)
    with pytest.raises(KellyError) as caught:
        read(fifo)
    assert str(caught.value) == f"{fifo}: is a FIFO (named pipe); expected {what}"


def test_missing_frames_file_says_what_was_expected(tmp_path: Path) -> None:
    """The frames reader's missing-file line is fileio's ('no such file; expected ...')."""
    with pytest.raises(KellyError) as caught:
        read_frames(tmp_path / "none.npy", 4)
    assert str(caught.value) == f"{tmp_path / 'none.npy'}: no such file; expected a .npy array file"


def test_the_second_copy_is_gone() -> None:
    """kelly_core.filekind (a copy of fileio's check with other wording) no longer exists."""
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("kelly_core.filekind")
