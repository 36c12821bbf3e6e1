"""``kelly train`` keeps to its run folder: no links followed, one run at a time, and a
summary that keeps every model trained into the folder.

Each case trains one small model of the test plugin for one epoch (about a second).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from kelly_core.cli import main
from kelly_core.errors import KellyError, KellyWarning, OutputError
from kelly_core.registry import Registry
from kelly_export import plugin as export_plugin
from kelly_models import plugin as models_plugin
from kelly_models.training import plugin as training_plugin
from kelly_models.training.command import TrainCommand
from tests.unit.kelly_models.training import fake_plugin

REGISTRY = Registry(plugins=[models_plugin, export_plugin, fake_plugin, training_plugin])


def _train(output: Path, *extra: str, models: tuple[str, ...] = ("DynamicsEngine",)) -> int:
    command = TrainCommand(REGISTRY)
    parser = argparse.ArgumentParser()
    command.configure(parser)
    argv = ["--synthetic", "-o", str(output), "-e", "1", "-b", "8", "--keep-last", "1"]
    argv += ["--model", *models, "--no-progress", "--lr", "0.01", *extra]
    return command.run(parser.parse_args(argv))


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (links not followed) with its bytes."""
    found: dict[str, bytes] = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            path = Path(dirpath) / name
            found[str(path.relative_to(folder))] = (
                os.readlink(path).encode() if path.is_symlink() else path.read_bytes()
            )
    return found


def _outside(tmp_path: Path) -> Path:
    """A folder outside the run folder, holding a user's files."""
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "notes.txt").write_text("mine\n")
    (outside / "step-00000001.pt").write_bytes(b"a user's file, not a checkpoint")
    return outside


class TestLinks:
    def test_linked_checkpoint_folder_is_refused_and_nothing_outside_changes(
        self, tmp_path: Path
    ) -> None:
        """checkpoints/<model> linked elsewhere: --resume stops before any work, naming the
        link; the folder it points to keeps exactly its files."""
        run = tmp_path / "run"
        assert _train(run) == 0
        outside = _outside(tmp_path)
        folder = run / "checkpoints" / "dynamicsengine"
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
        folder.symlink_to(outside, target_is_directory=True)
        before = _snapshot(outside)
        with pytest.raises(OutputError, match="symbolic link") as info:
            _train(run, "--resume", "-e", "2")
        assert info.value.path == folder
        assert "\n" not in str(info.value)
        assert _snapshot(outside) == before

    @pytest.mark.parametrize(
        "link",
        [
            "metrics",
            "checkpoints",
            "summary.json",
            "summary.md",
            "dynamicsengine.json",
            "dynamicsengine.parity.json",
            "metrics/dynamicsengine_metrics.json",
            "metrics/dynamicsengine_history.json",
            "checkpoints/dynamicsengine/best.pt",
        ],
    )
    def test_any_link_where_the_run_writes_is_refused(self, tmp_path: Path, link: str) -> None:
        """A link in place of any folder or file the run writes: refused before training,
        naming the link; the link and what it points to are left as they were."""
        run = tmp_path / "run"
        assert _train(run) == 0
        outside = _outside(tmp_path)
        path = run / link
        if path.is_dir():
            target = outside / "folder"
            os.rename(path, target)
        else:
            target = outside / path.name
            os.rename(path, target)
        path.symlink_to(target, target_is_directory=target.is_dir())
        before = _snapshot(outside)
        with pytest.raises(OutputError, match="symbolic link") as info:
            _train(run, "--resume")
        assert info.value.path == path
        assert path.is_symlink()
        assert _snapshot(outside) == before

    def test_linked_step_file_is_skipped_with_its_reason(self, tmp_path: Path) -> None:
        """A step file that is a link is not read and not deleted: resume passes over it
        with a warning saying why, and the file it points to is untouched."""
        run = tmp_path / "run"
        assert _train(run) == 0
        outside = _outside(tmp_path)
        folder = run / "checkpoints" / "dynamicsengine"
        (step,) = folder.glob("step-*.pt")
        os.rename(step, outside / step.name)
        link = folder / "step-99999999.pt"
        link.symlink_to(outside / step.name)
        before = _snapshot(outside)
        with pytest.warns(KellyWarning, match=r"step-99999999\.pt.*symbolic link"):
            assert _train(run, "--resume", "-e", "2") == 0
        assert link.is_symlink()
        assert _snapshot(outside) == before

    def test_files_the_run_did_not_write_are_never_deleted(self, tmp_path: Path) -> None:
        """Pruning (--keep-last 1) removes only checkpoints Kelly wrote in the folder: a
        user's file with a checkpoint's name stays, in a fresh run and on --resume."""
        run = tmp_path / "run"
        folder = run / "checkpoints" / "dynamicsengine"
        folder.mkdir(parents=True)
        planted = folder / "step-00000001.pt"
        planted.write_bytes(b"a user's file")
        assert _train(run, "-e", "2") == 0
        assert planted.read_bytes() == b"a user's file"
        assert _train(run, "--resume", "-e", "4") == 0  # resumes from its own newest file
        assert planted.read_bytes() == b"a user's file"
        kept = sorted(p.name for p in folder.glob("step-*.pt"))
        assert len(kept) == 2  # the user's file and the one step file --keep-last keeps
        assert "step-00000001.pt" in kept

    def test_one_line_through_kelly(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """Through ``kelly train``: one ``kelly: error:`` line naming the link, exit 2."""
        run = tmp_path / "run"
        run.mkdir()
        outside = _outside(tmp_path)
        (run / "metrics").symlink_to(outside, target_is_directory=True)
        before = _snapshot(outside)
        argv = ["train", "--synthetic", "-o", str(run), "--model", "DynamicsEngine"]
        argv += ["-e", "1", "--max-items", "8", "--steps-per-epoch", "1", "--no-progress"]
        assert main(argv) == 2
        lines = capsys.readouterr().err.strip().splitlines()
        assert len(lines) == 1
        assert lines[0].startswith(f"kelly: error: {run / 'metrics'}: is a symbolic link")
        assert _snapshot(outside) == before


_HOLDER = """
import fcntl, json, os, sys, time
fd = os.open(sys.argv[1], os.O_RDWR | os.O_CREAT, 0o644)
fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
os.write(fd, json.dumps({"pid": os.getpid(), "host": "elsewhere"}).encode())
print("locked", flush=True)
sys.stdin.read()
"""


class TestLock:
    def test_second_run_is_refused_naming_the_holder(self, tmp_path: Path) -> None:
        """While another process holds the run folder's lock, a run is refused at once in
        one line naming its pid and host; once that process is gone the lock is free."""
        run = tmp_path / "run"
        run.mkdir()
        holder = subprocess.Popen(
            [sys.executable, "-c", _HOLDER, str(run / ".kelly-lock")],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        try:
            assert holder.stdout is not None
            assert holder.stdout.readline().strip() == "locked"
            with pytest.raises(OutputError, match="in use by another kelly train") as info:
                _train(run)
            message = str(info.value)
            assert f"pid {holder.pid} on elsewhere" in message
            assert "\n" not in message
            assert not (run / "summary.json").exists()
            assert not (run / "metrics").exists()
        finally:
            holder.communicate("")  # closes stdin: the holder exits, its lock with it
        assert holder.returncode == 0
        assert _train(run) == 0  # the dead holder's lock file is taken over
        assert (run / "summary.json").is_file()

    def test_the_lock_is_released_after_a_run(self, tmp_path: Path) -> None:
        """Two runs one after the other in one process both get the lock (and a failing run
        releases it too)."""
        run = tmp_path / "run"
        assert _train(run) == 0
        with pytest.raises(KellyError):
            _train(run, "--resume", "--batch-size", "4")  # other settings: refused
        assert _train(run, "--resume") == 0


class TestSummary:
    def test_second_model_keeps_the_first_models_entry(self, tmp_path: Path) -> None:
        """Training another model into a run folder adds its row: summary.json and
        summary.md describe every model whose files are in the folder."""
        run = tmp_path / "run"
        assert _train(run) == 0
        first = json.loads((run / "summary.json").read_text())["models"][0]
        assert _train(run, models=("HarmonyPredictor",)) == 0
        rows = json.loads((run / "summary.json").read_text())["models"]
        assert [r["model"] for r in rows] == ["DynamicsEngine", "HarmonyPredictor"]
        assert rows[0] == first
        markdown = (run / "summary.md").read_text()
        assert "| DynamicsEngine |" in markdown
        assert "| HarmonyPredictor |" in markdown
        assert (run / "dynamicsengine.json").is_file()

    def test_retraining_a_model_replaces_its_entry(self, tmp_path: Path) -> None:
        """A model trained again has one row, the new run's (here with 2 epochs)."""
        run = tmp_path / "run"
        assert _train(run, models=("DynamicsEngine", "HarmonyPredictor")) == 0
        assert _train(run, "-e", "2") == 0
        rows = json.loads((run / "summary.json").read_text())["models"]
        assert [r["model"] for r in rows] == ["DynamicsEngine", "HarmonyPredictor"]
        assert [r["epochs"] for r in rows] == [2, 1]
        assert (run / "summary.md").read_text().count("| DynamicsEngine | synthetic-") == 1

    def test_unreadable_summary_is_replaced_with_a_warning(self, tmp_path: Path) -> None:
        """A summary.json that is not a summary is said so, and rewritten."""
        run = tmp_path / "run"
        run.mkdir()
        (run / "summary.json").write_text("{not json")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert _train(run) == 0
        messages = [str(w.message) for w in caught if issubclass(w.category, KellyWarning)]
        assert any("summary.json" in m and "earlier summary" in m for m in messages)
        rows = json.loads((run / "summary.json").read_text())["models"]
        assert [r["model"] for r in rows] == ["DynamicsEngine"]
