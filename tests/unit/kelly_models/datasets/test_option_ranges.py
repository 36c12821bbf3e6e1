"""The readers' numeric options have ranges: checked by ``data inspect -O`` and by the readers.

``limit=-1`` once dropped the last file silently (``files[:-1]``), ``limit=0`` read
nothing, ``workers=100000`` asked for a process per file, ``items=10**20`` overflowed
inside numpy: each is now one line naming the option and its range.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from kelly_core.cli import main
from kelly_core.errors import DatasetError
from kelly_core.registry import default_registry
from kelly_models.datasets import chords, groove_midi, lakh, maestro
from kelly_models.datasets.common import OPTION_RANGES, option_range_problem
from tests.unit.kelly_models.datasets.helpers import write_groove, write_lakh, write_maestro

_READERS: dict[str, tuple[Callable[..., object], Callable[[Path], object]]] = {
    "lakh": (lakh.open_lakh, write_lakh),
    "maestro": (maestro.open_maestro, write_maestro),
    "groove": (groove_midi.open_groove, write_groove),
}


class TestCommandLine:
    @pytest.mark.parametrize(
        ("dataset", "option", "line"),
        [
            ("lakh", "limit=-1", "expected an integer in 1..1000000000, got -1"),
            ("lakh", "limit=0", "expected an integer in 1..1000000000, got 0"),
            ("lakh", "workers=100000", "expected an integer in 1..256, got 100000"),
            ("lakh", "workers=0", "expected an integer in 1..256, got 0"),
            ("lakh", "min_notes=-3", "expected an integer in 0..100000, got -3"),
            ("synthetic-groove", "items=" + "9" * 20, "expected an integer in 1..100000"),
            ("synthetic-groove", "steps=100000000000", "expected an integer in 1..10000"),
            ("synthetic-groove", "seed=-1", "expected an integer in 0..18446744073709551615"),
        ],
    )
    def test_one_line_before_any_work(
        self,
        dataset: str,
        option: str,
        line: str,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        """Exit 2, one line naming the option and its range; the reader never runs."""
        monkeypatch.setattr(lakh, "find_midi_files", _must_not_run)
        root = ["--root", str(tmp_path)] if dataset == "lakh" else []
        assert main(["data", "inspect", "--dataset", dataset, *root, "-O", option]) == 2
        err = capsys.readouterr().err
        key = option.partition("=")[0]
        assert err.startswith(f"kelly: error: --option {key}: option '{key}': {line}")
        assert err.count("\n") == 1

    def test_the_ends_are_accepted(self, capsys: pytest.CaptureFixture[str]) -> None:
        """items=1 and steps=1 (the lower ends) open the synthetic dataset."""
        args = [
            "data",
            "inspect",
            "--dataset",
            "synthetic-groove",
            "-O",
            "items=1",
            "-O",
            "steps=1",
        ]
        assert main(args) == 0
        assert "synthetic-groove (GroovePredictor): 1 items" in capsys.readouterr().out


def _must_not_run(*args: object) -> list[Path]:
    raise AssertionError("the reader listed files before checking its options")


class TestReaders:
    @pytest.mark.parametrize("reader", sorted(_READERS))
    @pytest.mark.parametrize(
        ("option", "value"), [("limit", -1), ("limit", 0), ("workers", 0), ("workers", 257)]
    )
    def test_api_refuses_out_of_range(
        self, reader: str, option: str, value: int, tmp_path: Path
    ) -> None:
        """Called directly, each reader refuses the value, naming the dataset and option."""
        open_reader, write = _READERS[reader]
        write(tmp_path)
        with pytest.raises(DatasetError) as caught:
            open_reader(tmp_path, use_cache=False, **{option: value})
        assert caught.value.field == f"--option {option}"
        assert f"dataset {reader!r}: option {option!r}: expected an integer in" in str(caught.value)

    def test_limit_keeps_the_first_files(self, tmp_path: Path) -> None:
        """limit=1 reads one file of the two MAESTRO lists (with its split), limit=None both."""
        write_maestro(tmp_path)
        one = maestro.open_maestro(tmp_path, limit=1, use_cache=False, workers=1)
        every = maestro.open_maestro(tmp_path, use_cache=False, workers=1)
        assert [one[i].source for i in range(len(one))] == [every[0].source]
        assert one[0].split == "train"
        assert len(every) == 2

    def test_chords_limit(self, tmp_path: Path) -> None:
        """The chord reader goes through the same check."""
        (tmp_path / "a.json").write_text('[{"chords": ["C", "G"]}]', encoding="utf-8")
        with pytest.raises(DatasetError, match="option 'limit': expected an integer"):
            chords.open_chords(tmp_path, limit=-1, use_cache=False)


class TestSynthetic:
    @pytest.mark.parametrize(
        ("options", "message"),
        [
            ({"items": 10**20}, "option 'items': expected an integer in 1..100000"),
            ({"items": 0}, "option 'items': expected an integer in 1..100000, got 0"),
            ({"steps": 10_001}, "option 'steps': expected an integer in 1..10000"),
            ({"seed": -1}, "option 'seed': expected an integer in 0..18446744073709551615"),
            (
                {"items": 100_000, "steps": 10_000},
                "items x steps is 1,000,000,000; at most 2,000,000 steps are generated",
            ),
        ],
    )
    def test_api_refuses(self, options: dict[str, int], message: str) -> None:
        """Through the registry (no command line): a DatasetError, nothing generated."""
        with pytest.raises(DatasetError) as caught:
            default_registry().dataset("synthetic-groove", None, **options)
        assert message in str(caught.value)
        assert caught.value.field == f"--option {next(iter(options))}"

    def test_product_on_the_command_line(self, capsys: pytest.CaptureFixture[str]) -> None:
        """items and steps each in range but together too many: one line."""
        args = [
            "data",
            "inspect",
            "--dataset",
            "synthetic-groove",
            "-O",
            "items=100000",
            "-O",
            "steps=21",
        ]
        assert main(args) == 2
        err = capsys.readouterr().err
        assert err == (
            "kelly: error: --option items: synthetic-groove: items x steps is 2,100,000; at "
            "most 2,000,000 steps are generated (under 1 KiB each)\n"
        )


class TestRangeProblem:
    def test_every_range_has_its_ends_inside(self) -> None:
        """Each range's ends pass; one beyond fails; None and other options pass."""
        for key, (low, high) in OPTION_RANGES.items():
            assert option_range_problem(key, low) is None
            assert option_range_problem(key, high) is None
            assert option_range_problem(key, high + 1) == (
                f"expected an integer in {low}..{high}, got {high + 1}"
            )
            assert option_range_problem(key, low - 1) is not None
            assert option_range_problem(key, None) is None
        assert option_range_problem("cache_dir", -1) is None
