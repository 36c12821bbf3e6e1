"""One command-line vocabulary: a flag means the same in every ``kelly`` command.

``--models DIR`` is a folder of model files, ``-m/--model NAME`` names models,
``--dataset NAME`` and ``--root DIR`` name one dataset, ``-O KEY=VALUE`` is a reader
option, and every help states its default as ``(default X)``. The old spellings of the
previous release still work, each with one ``kelly: warning:`` line naming the new one.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from kelly_core.cli import HelpFormatter, main
from kelly_core.flags import RenamedFlagWarning
from kelly_core.registry import default_registry

COMMANDS = ("bench", "evaluate", "generate", "infer", "init", "train", "validate", "export")


def _parsers() -> dict[str, argparse.ArgumentParser]:
    """Every registered command's parser (``data`` as ``data inspect``)."""
    registry = default_registry()
    parsers: dict[str, argparse.ArgumentParser] = {}
    for name in registry.names("command"):
        parser = argparse.ArgumentParser(prog=f"kelly {name}", formatter_class=HelpFormatter)
        registry.command(name).configure(parser)
        parsers[name] = parser
        for action in parser._actions:
            if isinstance(action, argparse._SubParsersAction):
                for sub, subparser in action.choices.items():
                    parsers[f"{name} {sub}"] = subparser
    return parsers


def _options(parser: argparse.ArgumentParser) -> dict[str, argparse.Action]:
    """Flag -> action, for the flags ``--help`` shows."""
    return {
        flag: action
        for action in parser._actions
        if action.help != argparse.SUPPRESS
        for flag in action.option_strings
    }


@pytest.fixture(scope="module")
def parsers() -> dict[str, argparse.ArgumentParser]:
    return _parsers()


def test_defaults_are_written_one_way(parsers: dict[str, argparse.ArgumentParser]) -> None:
    """No help says ``(default: X)``; every stated default is ``(default X)``."""
    for name, parser in parsers.items():
        text = " ".join(parser.format_help().split())
        assert "default:" not in text, name
    assert "(default 2000)" in " ".join(parsers["bench"].format_help().split())
    assert "(default 0)" in " ".join(parsers["init"].format_help().split())


def test_each_flag_has_one_meaning(parsers: dict[str, argparse.ArgumentParser]) -> None:
    shown = {name: _options(parser) for name, parser in parsers.items()}
    models = {name: o["--models"] for name, o in shown.items() if "--models" in o}
    assert sorted(models) == ["bench", "generate"]
    assert {a.metavar for a in models.values()} == {"DIR"}
    assert all((a.help or "").startswith("folder of model files") for a in models.values())
    model = {name: o["--model"] for name, o in shown.items() if "--model" in o}
    assert sorted(model) == ["infer", "init", "train"]
    assert {a.metavar for a in model.values()} == {"NAME"}
    assert all(o["-m"] is o["--model"] for name, o in shown.items() if "--model" in o)
    dataset = sorted(name for name, o in shown.items() if "--dataset" in o)
    assert dataset == ["data inspect", "evaluate"]
    assert all(shown[name]["--root"].metavar == "DIR" for name in dataset)
    assert sorted(n for n, o in shown.items() if "-O" in o) == ["data inspect", "evaluate", "train"]
    max_items = {(o["--max-items"].help or "") for o in shown.values() if "--max-items" in o}
    assert len(max_items) == 1
    backend = {o["--backend"].help for n, o in shown.items() if "--backend" in o and n != "bench"}
    assert len(backend) == 1
    assert "numba if installed" in str(backend)


def _warning_lines(caplog: pytest.LogCaptureFixture) -> list[str]:
    """The ``kelly: warning:`` lines logged (the CLI logs them to stderr), then forget them."""
    lines = [m for m in caplog.messages if m.startswith("kelly: warning:")]
    caplog.clear()
    return lines


def test_old_model_names_flag_warns_and_works(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """``kelly init --models NAME`` (previous release): one warning naming ``-m/--model``,
    and the same checkpoints as the new spelling."""
    assert main(["init", "-o", str(tmp_path / "old"), "--models", "GroovePredictor"]) == 0
    warned = _warning_lines(caplog)
    assert warned == [
        "kelly: warning: --models is deprecated and will be removed in the next release; "
        "use -m/--model"
    ]
    assert main(["init", "-o", str(tmp_path / "new"), "-m", "GroovePredictor"]) == 0
    assert _warning_lines(caplog) == []
    old = sorted(p.name for p in (tmp_path / "old").iterdir())
    assert old == sorted(p.name for p in (tmp_path / "new").iterdir()) == ["groovepredictor.pt"]


def test_model_names_accumulate() -> None:
    """``-m A -m B`` and ``-m A B`` choose the same models; the old flag adds to them."""
    from kelly_models.commands import InitCommand

    parser = argparse.ArgumentParser()
    InitCommand().configure(parser)
    assert parser.parse_args(["-o", "x", "-m", "A", "-m", "B"]).models == ["A", "B"]
    assert parser.parse_args(["-o", "x", "-m", "A", "B"]).models == ["A", "B"]
    with pytest.warns(RenamedFlagWarning, match="use -m/--model"):
        assert parser.parse_args(["-o", "x", "-m", "A", "--models", "B"]).models == ["A", "B"]
    assert parser.parse_args(["-o", "x"]).models is None


def test_data_inspect_positional_warns_and_works(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    argv = ["--dataset", "synthetic-groove", "-O", "items=3", "--json"]
    assert main(["data", "inspect", *argv]) == 0
    new = capsys.readouterr()
    assert _warning_lines(caplog) == []
    assert main(["data", "inspect", "synthetic-groove", "-", "-O", "items=3", "--json"]) == 0
    old = capsys.readouterr()
    assert json.loads(old.out) == json.loads(new.out)
    assert _warning_lines(caplog) == [
        "kelly: warning: kelly data inspect NAME [ROOT] is deprecated and will be removed in "
        "the next release; use kelly data inspect --dataset NAME --root DIR"
    ]


def test_data_inspect_needs_a_dataset(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["data", "inspect", "-O", "items=3"]) == 2
    assert capsys.readouterr().err == (
        "kelly: error: --dataset: expected a dataset name (`kelly plugins` lists the dataset "
        "readers)\n"
    )
    assert main(["data", "inspect", "synthetic-groove", "--dataset", "synthetic-groove"]) == 2
    assert "name the dataset with --dataset NAME" in capsys.readouterr().err


def test_train_refuses_an_option_no_reader_declares(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kelly train -O colour=red``: one line before any training."""
    argv = ["train", "--synthetic", "-o", str(tmp_path / "run"), "-O", "colour=red"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("kelly: error: --option colour: no dataset reader has an option")
    assert "items" in err
    assert not (tmp_path / "run").exists()


def test_train_gives_each_reader_its_options(tmp_path: Path) -> None:
    """``kelly train -O items=10``: the synthetic reader declares ``items`` and reads 10
    (its default is 400)."""
    run = tmp_path / "run"
    argv = ["train", "--synthetic", "-o", str(run), "-m", "GroovePredictor", "-e", "1"]
    assert main([*argv, "-O", "items=10", "--no-progress"]) == 0
    document = json.loads((run / "metrics" / "groovepredictor_metrics.json").read_text())
    split = document["dataset"]
    assert split["train"] + split["validation"] + split["test"] == 10
