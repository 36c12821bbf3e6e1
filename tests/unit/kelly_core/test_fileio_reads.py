"""Tests for kelly_core.fileio's reads: special files refused before opening, sizes bounded."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from kelly_core.fileio import (
    InputFileError,
    format_size,
    input_problem,
    read_regular_bytes,
    regular_file_problem,
)


class TestKinds:
    def test_fifo_is_refused_without_opening_it(self, tmp_path: Path) -> None:
        """Opening a FIFO for reading would wait for a writer forever; it is never opened."""
        fifo = tmp_path / "model.json"
        os.mkfifo(fifo)
        with pytest.raises(InputFileError) as info:
            read_regular_bytes(fifo, limit=100, what="model file")
        assert str(info.value) == f"{fifo}: is a FIFO (named pipe); expected a model file"
        assert input_problem(fifo, kind="file", what="model file") == (
            "is a FIFO (named pipe); expected a model file"
        )

    def test_device_folder_and_link_to_a_device(self, tmp_path: Path) -> None:
        assert regular_file_problem("/dev/null", what="CSV file") == (
            "is a character device; expected a CSV file"
        )
        (tmp_path / "zero.mid").symlink_to("/dev/zero")
        with pytest.raises(InputFileError, match=r"is a character device; expected a MIDI file$"):
            read_regular_bytes(tmp_path / "zero.mid", limit=10, what="MIDI file")
        assert regular_file_problem(tmp_path, what="audio file") == (
            "is a folder; expected an audio file"
        )
        assert regular_file_problem(tmp_path / "none", what="CSV file") == (
            "no such file; expected a CSV file"
        )

    def test_regular_file_is_read(self, tmp_path: Path) -> None:
        path = tmp_path / "a.csv"
        path.write_bytes(b"a,b\n1,2\n")
        assert read_regular_bytes(path, limit=8, what="CSV file") == b"a,b\n1,2\n"
        assert regular_file_problem(path, what="CSV file") is None
        assert input_problem(path, kind="file", what="model file") is None


class TestLimits:
    def test_larger_than_the_limit_is_refused_before_reading(self, tmp_path: Path) -> None:
        path = tmp_path / "big.csv"
        path.write_bytes(b"x")
        os.truncate(path, 2**30)  # sparse: refused from its size, nothing read
        with pytest.raises(InputFileError) as info:
            read_regular_bytes(path, limit=16 * 2**20, what="CSV file")
        assert info.value.reason == "is 1073741824 bytes; expected a CSV file of at most 16 MiB"

    @pytest.mark.parametrize(
        ("size", "text"),
        [(16 * 2**20, "16 MiB"), (128 * 2**10, "128 KiB"), (1000, "1000 bytes"), (2**30, "1 GiB")],
    )
    def test_format_size(self, size: int, text: str) -> None:
        assert format_size(size) == text
