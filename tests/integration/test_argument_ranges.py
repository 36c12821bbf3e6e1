"""Every numeric option of every ``kelly`` command has a documented range, checked at parse time.

The commands are found through the registry, so a command or option added later is held
to the same rule: its type comes from :mod:`kelly_core.argtypes`, its ``--help`` states
the range the type checks, and a value outside it (``1e38``, ``nan``, ``-1``, a
30-digit number) is one ``kelly: error:`` line naming the flag, exit 2, before any work.
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path
from typing import Any

import pytest

from kelly_core.cli import main
from kelly_core.registry import default_registry
from kelly_models.training.config import RANGES, TrainConfig, in_range

_HOSTILE = ("1e38", "nan", "inf", "-1", "9" * 30, "", "0x10", "2.5e")


def _numeric_options() -> list[tuple[str, str, argparse.Action]]:
    registry = default_registry()
    found: list[tuple[str, str, argparse.Action]] = []
    for name in registry.names("command"):
        parser = argparse.ArgumentParser(prog=f"kelly {name}")
        registry.command(name).configure(parser)
        for action in parser._actions:  # argparse has no public list
            kind = getattr(action.type, "__name__", "")
            if kind in ("int", "float", "integer", "number") and action.option_strings:
                found.append((name, action.option_strings[-1], action))
    return found


_OPTIONS = _numeric_options()
_IDS = [f"{command} {flag}" for command, flag, _ in _OPTIONS]


def test_the_train_options_are_found() -> None:
    """The scan sees the numeric options (a scan that found none would prove nothing)."""
    flags = {(c, f) for c, f, _ in _OPTIONS}
    assert {("train", "--learning-rate"), ("train", "--epochs"), ("train", "--val-split")} <= flags
    assert ("evaluate", "--max-items") in flags
    assert len(_OPTIONS) >= 25


@pytest.mark.parametrize(("command", "flag", "action"), _OPTIONS, ids=_IDS)
def test_type_is_a_bounded_argtype(command: str, flag: str, action: argparse.Action) -> None:
    """No bare ``int``/``float``: the type is kelly_core.argtypes' int_in or float_in."""
    qualname = getattr(action.type, "__qualname__", "")
    assert qualname.split(".")[0] in ("int_in", "float_in"), (command, flag, qualname)


def _range_in_message(err: str) -> str:
    found = re.search(r"expected (?:an integer in|a number) (.+?), got", err)
    assert found is not None, err
    return found.group(1)


def _documented(span: str, help_text: str) -> bool:
    """Whether ``help_text`` states ``span`` (``0..18446744073709551615`` may read
    ``0..2**64-1``; ``>= 20 and <= 400`` may read ``20..400``)."""
    spellings = {span, span.replace(str(2**64 - 1), "2**64-1").replace(str(2**32 - 1), "2**32-1")}
    closed = re.fullmatch(r">= (\S+) and <= (\S+)", span)
    if closed:
        spellings.add(f"{closed.group(1)}..{closed.group(2)}")
    return any(s in help_text for s in spellings)


@pytest.mark.parametrize(("command", "flag", "action"), _OPTIONS, ids=_IDS)
def test_out_of_range_is_one_line_and_documented(
    command: str,
    flag: str,
    action: argparse.Action,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Each hostile value: exit 2, one line naming the flag; --help states that range."""
    for value in _HOSTILE:
        code = main([command, flag, value, "-o", str(tmp_path / "out")])
        err = capsys.readouterr().err
        lines = err.strip().splitlines()
        assert code == 2, (value, err)
        assert len(lines) == 1, (value, err)
        named = [f"kelly: error: {f}: expected " for f in action.option_strings]
        assert lines[0].startswith(tuple(named)), (value, err)
        assert "Traceback" not in err
        assert _documented(_range_in_message(lines[0]), action.help or ""), (value, action.help)
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("args", "line"),
    [
        (["--lr", "1e38"], "--lr: expected a number > 0 and <= 10, got '1e38'"),
        (["--learning-rate", "nan"], "--lr: expected a number > 0 and <= 10, got 'nan'"),
        (["--lr", "0"], "--lr: expected a number > 0 and <= 10, got '0'"),
        (["--epochs", "0"], "--epochs: expected an integer in 1..10000, got '0'"),
        (["--val-split", "0.5"], "--val-split: expected a number >= 0 and < 0.5, got '0.5'"),
        (["--folds", "101"], "--folds: expected an integer in 1..100, got '101'"),
        (["--keep-last", "0"], "--keep-last: expected an integer in 1..1000, got '0'"),
        (["--max-items", "-1"], "--max-items: expected an integer in 0..1000000000, got '-1'"),
        (["--window", "4097"], "--window: expected an integer in 1..4096, got '4097'"),
    ],
)
def test_train_lines(
    args: list[str], line: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kelly train --lr 1e38`` and kin: the exact line, no training, no run folder."""
    code = main(["train", "--synthetic", "-o", str(tmp_path / "run"), *args])
    assert code == 2
    assert capsys.readouterr().err == f"kelly: error: {line}\n"
    assert not (tmp_path / "run").exists()


def test_train_bounds_themselves_are_accepted(capsys: pytest.CaptureFixture[str]) -> None:
    """The ends of each range parse (a range check that refused its own bounds is a bug)."""
    registry = default_registry()
    parser = argparse.ArgumentParser()
    registry.command("train").configure(parser)
    args = parser.parse_args(
        ["-o", "x", "--lr", "10", "--epochs", "10000", "--val-split", "0", "--folds", "100"]
    )
    assert (args.lr, args.epochs, args.val_split, args.folds) == (10.0, 10000, 0.0, 100)


def _config(field: str, value: object) -> TrainConfig:
    options: dict[str, Any] = {field: value}
    return TrainConfig(**options)


class TestTrainConfigRanges:
    @pytest.mark.parametrize("field", sorted(RANGES))
    @pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
    def test_non_finite_refused(self, field: str, value: float) -> None:
        """NaN and inf fail every numeric field (inf once passed 'learning_rate > 0')."""
        with pytest.raises(ValueError, match=f"'{field}' must be "):
            _config(field, value)

    @pytest.mark.parametrize("field", sorted(RANGES))
    def test_ends_and_beyond(self, field: str) -> None:
        """Each closed end is accepted; a step beyond it is refused."""
        low, high = RANGES[field]
        step = 1 if isinstance(low, int) and isinstance(high, int) else 1e-9 * max(1.0, high)
        assert not in_range(field, high + step)
        assert not in_range(field, low - step)
        if in_range(field, high):
            assert getattr(_config(field, high), field) == high
        if in_range(field, low):
            assert getattr(_config(field, low), field) == low

    def test_open_ends(self) -> None:
        """A learning rate of 0 and a val_split of 0.5 are refused; 10 and 0 accepted."""
        assert not in_range("learning_rate", 0.0)
        assert in_range("learning_rate", 10.0)
        assert not in_range("val_split", 0.5)
        assert in_range("val_split", 0.0)

    def test_an_integer_field_refuses_a_float_and_a_bool(self) -> None:
        """epochs=2.5 or True is not an epoch count."""
        with pytest.raises(
            ValueError, match=r"'epochs' must be an integer in 1\.\.10000, got 2\.5$"
        ):
            TrainConfig(epochs=2.5)  # type: ignore[arg-type]  # the point of the test
        with pytest.raises(ValueError, match="'epochs' must be"):
            TrainConfig(epochs=True)

    def test_message(self) -> None:
        """The message names the field, the range and the value."""
        with pytest.raises(ValueError, match="learning_rate") as caught:
            TrainConfig(learning_rate=1e38)
        assert str(caught.value) == (
            "'learning_rate' must be a finite number > 0 and <= 10, got 1e+38"
        )
