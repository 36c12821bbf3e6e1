"""Missing packages: one message naming every one, the extra that brings it, one command."""

from __future__ import annotations

import argparse
import re
import tomllib
from pathlib import Path

import pytest

import kelly_core
import kelly_models.training.plugin
from kelly_core._optional import EXTRAS, install_command, missing_message, require_all
from kelly_core.errors import MissingDependencyError
from kelly_core.registry import Registry

PYPROJECT = Path(kelly_core.__file__).resolve().parents[2] / "pyproject.toml"
BROUGHT_BY_OTHERS = {"soxr"}  # librosa's dependency, imported by Kelly itself


def test_extras_table_matches_pyproject() -> None:
    """Each extra's modules are the packages pyproject.toml lists for it."""
    declared = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"][
        "optional-dependencies"
    ]
    for extra, modules in EXTRAS.items():
        names = {
            re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0] for requirement in declared[extra]
        }
        assert names == set(modules) - BROUGHT_BY_OTHERS, extra


@pytest.mark.parametrize(
    ("modules", "command"),
    [
        (("torch", "matplotlib"), 'pip install "kelly[train]"'),
        (("torch",), 'pip install "kelly[torch]"'),
        (("pretty_midi", "soundfile", "matplotlib"), 'pip install "kelly[data,train]"'),
        (("soxr",), 'pip install "kelly[data]"'),
        (("onnxruntime", "numba"), 'pip install "kelly[fast]" onnxruntime'),
    ],
)
def test_install_command_covers_every_module(modules: tuple[str, ...], command: str) -> None:
    assert install_command(modules) == command


def test_message_names_every_package_and_its_extra() -> None:
    message = missing_message("kelly generate", ("pretty_midi", "soundfile", "matplotlib"))
    assert message == (
        "kelly generate needs 'pretty_midi', 'soundfile' and 'matplotlib', which are not "
        "installed (extra 'data' brings pretty_midi, soundfile; extra 'train' brings "
        'matplotlib); install them with: pip install "kelly[data,train]"'
    )
    single = missing_message("reading audio", ("soundfile",))
    assert single.endswith(
        "needs 'soundfile', which is not installed (extra 'data' brings it); "
        'install it with: pip install "kelly[data]"'
    )


def test_require_all_lists_all_at_once() -> None:
    with pytest.raises(MissingDependencyError) as info:
        require_all(("numpy", "not_a_module_kelly_a", "not_a_module_kelly_b"), purpose="x")
    assert "'not_a_module_kelly_a' and 'not_a_module_kelly_b'" in str(info.value)
    assert info.value.expected == ("not_a_module_kelly_a", "not_a_module_kelly_b")
    require_all(("numpy", "attrs"), purpose="x")  # all there: nothing raised


def test_train_without_extras_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    """``kelly train`` on an install without torch and matplotlib: one line with both
    packages and the extra that brings them."""
    monkeypatch.setattr("kelly_core.plugin_loader.missing_modules", lambda modules: modules)
    registry = Registry(plugins=[kelly_models.training.plugin])
    with pytest.raises(MissingDependencyError) as info:
        registry.command("train")
    assert str(info.value) == (
        "command 'train' ((explicit)) needs 'torch' and 'matplotlib', which are not installed "
        "(extra 'train' brings both); install them with: pip install \"kelly[train]\""
    )


def test_generate_names_every_missing_package_before_any_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Without soxr and matplotlib, ``kelly generate --plot`` says both in one line and
    writes nothing (it used to stop at one, then at the next after the work)."""
    pytest.importorskip("pretty_midi")
    pytest.importorskip("soundfile")
    from kelly_runtime.generate.command import GenerateCommand
    from tests.unit.kelly_runtime.generate.helpers import tone, write_wav

    wav = write_wav(tmp_path / "in.wav", tone(1.0, sr=22050, freq=330.0), sr=22050)
    gone = {"soxr", "matplotlib"}
    monkeypatch.setattr(
        "kelly_core._optional.is_available", lambda module: module.split(".")[0] not in gone
    )
    command = GenerateCommand()
    parser = argparse.ArgumentParser()
    command.configure(parser)
    argv = [str(wav), "-o", str(tmp_path / "out.mid"), "--plot", str(tmp_path / "p.png")]
    with pytest.raises(MissingDependencyError) as info:
        command.run(parser.parse_args(argv))
    assert "kelly generate needs 'soxr' and 'matplotlib'" in str(info.value)
    assert str(info.value).endswith('pip install "kelly[data,train]"')
    assert sorted(p.name for p in tmp_path.iterdir()) == ["in.wav"]
