"""Tests for ``kelly data inspect``."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kelly_core.cli import main
from tests.unit.kelly_models.datasets.helpers import write_maestro


class TestInspect:
    def test_synthetic_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--json prints one object with counts and shapes; no --root means none."""
        assert (
            main(["data", "inspect", "--dataset", "synthetic-groove", "-O", "items=4", "--json"])
            == 0
        )
        summary = json.loads(capsys.readouterr().out)
        assert summary["dataset"] == "synthetic-groove"
        assert summary["items"] == 4
        assert summary["skipped"] == []
        assert summary["input_shape"] == [None, 64]
        assert summary["target_shape"] == [None, 32]
        assert -1.0 <= summary["target_range"][0] <= summary["target_range"][1] <= 1.0

    def test_text_has_no_python_reprs(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The text form says counts and ranges in words, not dicts, lists or None."""
        argv = ["data", "inspect", "--dataset", "synthetic-groove", "-O", "items=4"]
        assert main([*argv, "-O", "steps=8"]) == 0
        out = capsys.readouterr().out
        assert not any(c in out for c in "{}[]'"), out
        assert "None" not in out
        lines = out.splitlines()
        assert lines[0] == "synthetic-groove (GroovePredictor): 4 items"
        assert lines[1].startswith("  inputs  (steps, 64) per item, values -1 .. ")
        assert lines[2] == "  targets (steps, 32) per item, values -1 .. 1"
        assert lines[3] == "  steps per item 8 .. 8, 32 in all"
        assert lines[4] == "  splits: train 4"

    def test_reader_lists_skipped(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A real layout: the corrupt file is listed with its reason."""
        write_maestro(tmp_path)
        argv = [
            "data",
            "inspect",
            "--dataset",
            "maestro",
            "--root",
            str(tmp_path),
            "-O",
            "workers=1",
        ]
        argv += ["-O", f"cache_dir={tmp_path / 'cache'}"]
        assert main(argv) == 0
        out = capsys.readouterr().out
        assert "2 items" in out
        assert "MIDI-corrupt.midi" in out

    def test_tuple_option_is_a_list_of_names(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``-O splits=train`` is the tuple ("train",) the reader declares, not the string
        (whose letters matched no split): only the train performance is kept."""
        write_maestro(tmp_path)
        argv = [
            "data",
            "inspect",
            "--dataset",
            "maestro",
            "--root",
            str(tmp_path),
            "-O",
            "splits=train",
            "--json",
        ]
        argv += ["-O", "workers=1", "-O", f"cache_dir={tmp_path / 'cache'}"]
        assert main(argv) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["items"] == 1
        assert set(summary["splits"]) == {"train"}

    def test_bool_option_refuses_other_words(self, capsys: pytest.CaptureFixture[str]) -> None:
        """A declared bool takes true/false (or 1/0); another word names the option."""
        argv = ["data", "inspect", "--dataset", "lakh", "-O", "key_relative=maybe"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert "option 'key_relative': expected true or false, got 'maybe'" in err

    def test_errors(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A missing index file is an error (exit 2) naming the file."""
        assert main(["data", "inspect", "--dataset", "maestro", "--root", str(tmp_path)]) == 2
        assert "maestro-v3.0.0.csv" in capsys.readouterr().err
