"""Tests for kelly_models.training.runfolder, the checkpoint record and summary rows."""

from __future__ import annotations

import fcntl
import math
import os
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.errors import KellyError, KellyWarning, OutputError
from kelly_models.training.checkpoint import RECORD_NAME, CheckpointManager
from kelly_models.training.report import ModelReport
from kelly_models.training.runfolder import LOCK_NAME, RunLock, check_no_link, planned_paths
from kelly_models.training.summary import merge_reports


class TestCheckNoLink:
    def test_the_run_folder_itself_may_be_a_link(self, tmp_path: Path) -> None:
        """-o pointing at a link to a real folder is accepted; missing parts are fine."""
        real = tmp_path / "real"
        (real / "metrics").mkdir(parents=True)
        (tmp_path / "run").symlink_to(real, target_is_directory=True)
        check_no_link(tmp_path / "run" / "metrics" / "x.json", root=tmp_path / "run")
        check_no_link(tmp_path / "run" / "new" / "deeper" / "x.json", root=tmp_path / "run")

    @pytest.mark.parametrize("link", ["a", "a/b", "a/b/file.json"])
    def test_a_link_at_any_depth_is_named(self, tmp_path: Path, link: str) -> None:
        """The first link between the root and the path is the one named."""
        (tmp_path / "run" / "a" / "b").mkdir(parents=True)
        (tmp_path / "elsewhere").mkdir()
        place = tmp_path / "run" / link
        if place.exists():
            place.rename(tmp_path / "elsewhere" / place.name)
        place.symlink_to(tmp_path / "elsewhere")
        with pytest.raises(OutputError, match="symbolic link inside the run folder") as info:
            check_no_link(tmp_path / "run" / "a" / "b" / "file.json", root=tmp_path / "run")
        assert info.value.path == place

    def test_outside_the_root_is_refused(self, tmp_path: Path) -> None:
        with pytest.raises(OutputError, match="outside the run folder"):
            check_no_link(tmp_path / "other" / "x", root=tmp_path / "run")


class TestPlannedPaths:
    def test_lists_every_written_file(self, tmp_path: Path) -> None:
        """Model, exporter side files already present, metrics, checkpoints per fold."""
        (tmp_path / "dyn.parity.json").write_text("{}")
        (tmp_path / "dynamo.json").write_text("{}")  # another model's stem: not listed
        paths = planned_paths(
            tmp_path, ["dyn"], suffix=".json", folds=2, checkpoint_files=["best.pt"]
        )
        names = {str(p.relative_to(tmp_path)) for p in paths}
        assert {
            LOCK_NAME,
            "summary.json",
            "dyn.json",
            "dyn.parity.json",
            "metrics/dyn_fold2_history.json",
            "checkpoints/dyn/fold-2/best.pt",
        } <= names
        assert "dynamo.json" not in names
        assert "metrics/dyn_history.json" not in names


class TestRunLock:
    def test_held_until_released_and_reentrant(self, tmp_path: Path) -> None:
        """While held (twice, nested) another open file cannot lock it; after the outer
        release it can; the file then holds no name."""
        outer, inner = RunLock(tmp_path / "run"), RunLock(tmp_path / "run")
        probe = tmp_path / "run" / LOCK_NAME
        with outer:
            with inner:
                assert b'"pid": %d' % os.getpid() in probe.read_bytes()
            fd = os.open(probe, os.O_RDWR)
            try:
                with pytest.raises(BlockingIOError):
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            finally:
                os.close(fd)
        fd = os.open(probe, os.O_RDWR)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)  # free now
        finally:
            os.close(fd)
        assert probe.read_bytes() == b""

    def test_linked_lock_file_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "run").mkdir()
        (tmp_path / "target").write_text("keep")
        (tmp_path / "run" / LOCK_NAME).symlink_to(tmp_path / "target")
        with pytest.raises(OutputError, match="symbolic link"):
            RunLock(tmp_path / "run").acquire()
        assert (tmp_path / "target").read_text() == "keep"

    def test_special_lock_file_is_refused(self, tmp_path: Path) -> None:
        (tmp_path / "run").mkdir()
        os.mkfifo(tmp_path / "run" / LOCK_NAME)
        with pytest.raises(OutputError, match="not a regular file"):
            RunLock(tmp_path / "run").acquire()


class TestRecord:
    def test_only_unchanged_recorded_files_are_pruned(self, tmp_path: Path) -> None:
        """A step file the user replaced (same name, other inode) is no longer Kelly's and
        is kept; recorded ones are pruned down to keep_last."""
        manager = CheckpointManager(tmp_path, keep_last=1)
        manager.save({"module": {}}, step=1)
        replaced = tmp_path / "step-00000001.pt"
        replaced.unlink()
        replaced.write_bytes(b"the user's own")
        manager.save({"module": {}}, step=2)
        manager.save({"module": {}}, step=3)
        assert sorted(p.name for p in tmp_path.glob("step-*.pt")) == [
            "step-00000001.pt",
            "step-00000003.pt",
        ]
        assert replaced.read_bytes() == b"the user's own"

    def test_a_fresh_run_removes_an_earlier_runs_checkpoints(self, tmp_path: Path) -> None:
        """The record survives the process: a later manager without resume removes the
        files an earlier one wrote (so --resume never meets a stale, higher step), and
        nothing else."""
        CheckpointManager(tmp_path).save({"module": {}}, step=900)
        CheckpointManager(tmp_path).save_best({"module": {}})
        (tmp_path / "step-00000950.pt").write_bytes(b"not Kelly's")
        removed = CheckpointManager(tmp_path).start_afresh()
        assert sorted(p.name for p in removed) == ["best.pt", "step-00000900.pt"]
        assert [p.name for p in tmp_path.glob("*.pt")] == ["step-00000950.pt"]

    def test_unreadable_record_keeps_everything(self, tmp_path: Path) -> None:
        """A damaged record is said so; the files stay (none is known to be Kelly's)."""
        CheckpointManager(tmp_path).save({"module": {}}, step=1)
        (tmp_path / RECORD_NAME).write_text("[")
        with pytest.warns(KellyWarning, match="cannot read the record"):
            manager = CheckpointManager(tmp_path)
        assert manager.start_afresh() == []
        assert (tmp_path / "step-00000001.pt").is_file()

    def test_non_finite_state_is_not_written(self, tmp_path: Path) -> None:
        manager = CheckpointManager(tmp_path)
        with pytest.raises(KellyError, match=r"non-finite weights \(module\.w holds"):
            manager.save({"module": {"w": torch.tensor([1.0, math.inf])}}, step=1)
        assert not list(tmp_path.glob("*.pt"))


def _report(model: str, value: float | None, epochs: int = 3) -> ModelReport:
    metric = math.nan if value is None else value
    return ModelReport(
        model=model,
        dataset="d",
        synthetic=True,
        epochs=epochs,
        best_epoch=1,
        stopped_early=False,
        train_loss=0.5,
        val_loss=metric,
        test={"loss": 0.25, "baseline_loss": 0.5, "r2": metric, "mean_loss": 0.5, "mean_r2": 0.0},
        spread={"r2": 0.0},
        headline="r2",
        baseline="mean",
        baselines=("mean",),
        parameters=10,
        file=Path("m.json"),
        file_bytes=100,
        seconds=1.5,
        epoch_seconds=0.5,
    )


class TestSummaryRows:
    @settings(max_examples=30)
    @given(value=st.none() | st.floats(-1e6, 1e6, allow_nan=False), epochs=st.integers(1, 999))
    def test_row_round_trip(self, value: float | None, epochs: int) -> None:
        """Property: a summary row read back writes the same row."""
        row = _report("M", value, epochs).to_dict()
        assert ModelReport.from_dict(row).to_dict() == row

    def test_bad_row_names_the_field(self) -> None:
        row = _report("M", 0.5).to_dict()
        row["epochs"] = "three"
        with pytest.raises(KellyError, match="epochs: expected a number"):
            ModelReport.from_dict(row)

    def test_merge_keeps_order_and_replaces(self) -> None:
        """Earlier models keep their place, a retrained one its new row, new ones last."""
        earlier = [_report("A", 0.1), _report("B", 0.2), _report("A", 0.9)]
        merged = merge_reports(earlier, [_report("C", 0.3), _report("A", 0.4)])
        assert [(r.model, r.test["r2"]) for r in merged] == [("A", 0.4), ("B", 0.2), ("C", 0.3)]
