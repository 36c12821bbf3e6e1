"""The dataset plugin of docs/plugins.md, built from that page alone, installed with pip
into a temporary folder and read by ``kelly data inspect``; and the boundary checks a
plugin's dataset meets."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import types
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np
import pytest

from kelly_core import cli
from kelly_core import registry as registry_module
from kelly_core.entries import DatasetEntry
from kelly_core.errors import DatasetError, PluginError
from kelly_core.hookspecs import hookimpl
from kelly_core.records import Example, SkippedFile
from kelly_core.registry import PluginSource, Registry
from kelly_models.datasets import plugin as datasets_plugin

DOCS = Path(__file__).resolve().parents[2] / "docs" / "plugins.md"
_BLOCK = re.compile(r"```(?:toml|python)\n# (\S+)\n(.*?)```", re.DOTALL)


def dataset_files() -> dict[str, str]:
    """The files of the ``## A dataset`` section: each code block whose first line names
    its path (``# kelly_my_grooves/plugin.py``), that line left out."""
    text = DOCS.read_text(encoding="utf-8")
    section = text.split("## A dataset\n", 1)[1].split("\n## ", 1)[0]
    return {path: body for path, body in _BLOCK.findall(section)}


def _run(argv: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """docs/plugins.md's dataset distribution, pip-installed into its own folder."""
    pytest.importorskip("setuptools.build_meta")
    source = tmp_path_factory.mktemp("kelly-my-grooves")
    files = dataset_files()
    assert set(files) == {
        "pyproject.toml",
        "kelly_my_grooves/__init__.py",
        "kelly_my_grooves/plugin.py",
        "kelly_my_grooves/dataset.py",
    }
    for name, body in files.items():
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        (source / name).write_text(body, encoding="utf-8")
    target = tmp_path_factory.mktemp("site")
    pip = [sys.executable, "-m", "pip", "install", "--no-deps", "--no-build-isolation"]
    pip += ["--no-index", "--quiet", "--target", str(target), str(source)]
    done = _run(pip, {**os.environ, "PIP_DISABLE_PIP_VERSION_CHECK": "1"})
    assert done.returncode == 0, done.stderr
    assert (target / "kelly_my_grooves" / "dataset.py").is_file()
    return target


def _grooves(root: Path) -> Path:
    """Three good files (one under test/), one with the wrong width, one not an archive."""
    rng = np.random.default_rng(0)
    for name, steps in (("a.npz", 5), ("b.npz", 3), ("test/c.npz", 4)):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        emotion = rng.uniform(-1, 1, (steps, 64))
        np.savez(root / name, emotion=emotion, groove=rng.uniform(0, 1, (steps, 32)))
    np.savez(root / "wide.npz", emotion=np.zeros((2, 65)), groove=np.zeros((2, 32)))
    (root / "junk.npz").write_bytes(b"not a zip file")
    return root


class TestDocumentedDatasetPlugin:
    def test_kelly_data_inspect_reads_it_first_time(self, installed: Path, tmp_path: Path) -> None:
        """Installed from the page, ``kelly data inspect my-grooves`` counts the three good
        files with their splits and lists the two bad ones with their reasons."""
        root = _grooves(tmp_path / "grooves")
        env = {**os.environ, "PYTHONPATH": str(installed)}
        env.pop("KELLY_DISABLE_PLUGIN_AUTOLOAD", None)
        cli = [sys.executable, "-m", "kelly_core.cli"]
        listing = _run([*cli, "plugins", "--json"], env)
        assert listing.returncode == 0, listing.stderr
        (entry,) = [e for e in json.loads(listing.stdout)["entries"] if e["name"] == "my-grooves"]
        assert entry["distribution"] == "kelly-my-grooves 0.1.0"
        done = _run(
            [*cli, "data", "inspect", "--dataset", "my-grooves", "--root", str(root), "--json"], env
        )
        assert done.returncode == 0, done.stderr
        summary = json.loads(done.stdout)
        assert summary["model"] == "GroovePredictor"
        assert summary["items"] == 3
        assert summary["steps"]["total"] == 12
        assert summary["splits"] == {"train": 2, "test": 1}
        assert summary["input_shape"] == [None, 64]
        assert summary["target_shape"] == [None, 32]
        reasons = {Path(s["path"]).name: s["reason"] for s in summary["skipped"]}
        assert set(reasons) == {"wide.npz", "junk.npz"}
        assert "expected emotion (T, 64) and groove (T, 32)" in reasons["wide.npz"]
        limited = _run(
            [
                *cli,
                "data",
                "inspect",
                "--dataset",
                "my-grooves",
                "--root",
                str(root),
                "-O",
                "limit=1",
            ],
            env,
        )
        assert limited.returncode == 0, limited.stderr
        assert "1 items" in limited.stdout
        missing = _run([*cli, "data", "inspect", "--dataset", "my-grooves"], env)
        assert missing.returncode == 2
        assert missing.stderr.strip() == ("kelly: error: my-grooves reads a folder of .npz files")


class _Tuples:
    """A dataset whose ``skipped`` holds ``(path, reason)`` tuples."""

    model_name = "GroovePredictor"

    def __init__(self, root: Path | None, *, items: object = "example") -> None:
        self._items = items

    @property
    def skipped(self) -> Sequence[object]:
        return [(Path("x.npz"), "bad")]

    def __len__(self) -> int:
        return 1

    def __getitem__(self, index: int) -> Example:
        return Example(
            inputs=np.zeros((2, 64), np.float32), targets=np.zeros((2, 32), np.float32), source="s"
        )


class _WrongItems(_Tuples):
    """Skipped files right, items wrong: ``(inputs, targets)`` tuples."""

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        return []

    def __getitem__(self, index: int) -> Example:
        return (np.zeros((2, 64)), np.zeros((2, 32)))  # type: ignore[return-value]


class _NotADataset:
    def __init__(self, root: Path | None) -> None:
        pass


@pytest.fixture
def boundary_plugin() -> Iterator[PluginSource]:
    module = types.ModuleType("kelly_test_boundary")
    module._Tuples = _Tuples  # type: ignore[attr-defined]
    module._WrongItems = _WrongItems  # type: ignore[attr-defined]
    module._NotADataset = _NotADataset  # type: ignore[attr-defined]
    sys.modules[module.__name__] = module

    class Plugin:
        @hookimpl
        def kelly_datasets(self) -> list[DatasetEntry]:
            return [
                DatasetEntry(name=name, model=model, factory=f"{module.__name__}:{cls}")
                for name, model, cls in (
                    ("tuples", "GroovePredictor", "_Tuples"),
                    ("wrong-items", "GroovePredictor", "_WrongItems"),
                    ("not-a-dataset", "GroovePredictor", "_NotADataset"),
                    ("other-model", "DynamicsEngine", "_WrongItems"),
                )
            ]

    yield PluginSource(plugin=Plugin(), name="grooves-plugin", distribution="grooves 0.1")
    del sys.modules[module.__name__]


class TestBoundary:
    def test_tuples_as_skipped_files_name_the_plugin(self, boundary_plugin: object) -> None:
        """``(path, reason)`` tuples: one line naming the plugin, the dataset, the entry."""
        registry = Registry(plugins=[boundary_plugin])
        with pytest.raises(PluginError) as info:
            registry.dataset("tuples", None)
        assert info.value.plugin == "grooves-plugin"
        assert str(info.value) == (
            "plugin 'grooves-plugin': dataset 'tuples': skipped[0] is a tuple; expected "
            "kelly_core.records.SkippedFile(path=..., reason=...)"
        )

    def test_other_breaches_are_one_line(self, boundary_plugin: object) -> None:
        """No Dataset at all, or examples for another model: PluginError naming both."""
        registry = Registry(plugins=[boundary_plugin])
        with pytest.raises(PluginError, match=r"'not-a-dataset'.*missing model_name, skipped"):
            registry.dataset("not-a-dataset", None)
        with pytest.raises(PluginError, match=r"holds examples for 'GroovePredictor'.*'Dyn"):
            registry.dataset("other-model", None)

    def test_data_inspect_reports_a_tuple_item_in_one_line(
        self, boundary_plugin: object, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:  # fmt: skip
        """``kelly data inspect`` on items that are tuples: one error line, no traceback."""
        registry = Registry(plugins=[datasets_plugin, boundary_plugin])
        monkeypatch.setattr(registry_module, "_DEFAULT", registry)
        assert cli.main(["data", "inspect", "--dataset", "tuples"]) == 2
        assert capsys.readouterr().err.count("\n") == 1
        assert cli.main(["data", "inspect", "--dataset", "wrong-items"]) == 2
        err = capsys.readouterr().err
        assert err == (
            "kelly: error: [0]: dataset 'wrong-items' returned a tuple for item 0; expected "
            "kelly_core.records.Example(inputs=..., targets=..., source=...)\n"
        )
        with pytest.raises(DatasetError):
            Registry(plugins=[boundary_plugin]).dataset("tuples", None, colour="red")
