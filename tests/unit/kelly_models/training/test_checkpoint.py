"""Tests for kelly_models.training.checkpoint."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import torch

from kelly_core.errors import KellyError, KellyWarning
from kelly_models.training.checkpoint import CheckpointManager, capture_rng, restore_rng


def _draws(shuffle: np.random.Generator) -> tuple[object, ...]:
    return (
        random.random(),
        float(np.random.random()),
        float(torch.rand(1)),
        float(shuffle.random()),
    )


class TestRng:
    def test_round_trip_through_file(self, tmp_path: Path) -> None:
        """Captured RNG states, saved and loaded, replay the same draws."""
        shuffle = np.random.default_rng(3)
        manager = CheckpointManager(tmp_path)
        manager.save({"module": {}, "rng": capture_rng(shuffle)}, step=1)
        first = _draws(shuffle)
        _, state = manager.load_latest() or (None, {})
        restore_rng(state["rng"], shuffle)  # type: ignore[arg-type]  # saved above
        assert _draws(shuffle) == first


class TestCheckpointManager:
    def test_round_trip(self, tmp_path: Path) -> None:
        """Tensors and plain values come back equal."""
        manager = CheckpointManager(tmp_path)
        state = {"module": {"w": torch.arange(4.0)}, "epoch": 3, "order": [2, 0, 1]}
        path = manager.save(state, step=7)
        assert path.name == "step-00000007.pt"
        loaded = manager.load(path)
        assert torch.equal(loaded["module"]["w"], torch.arange(4.0))  # type: ignore[index]  # saved above
        assert loaded["epoch"] == 3
        assert loaded["order"] == [2, 0, 1]

    def test_keeps_last_n(self, tmp_path: Path) -> None:
        """Only the newest keep_last step files remain, sorted by step not by name length."""
        manager = CheckpointManager(tmp_path, keep_last=2)
        for step in (5, 50, 500, 100000000):
            manager.save({"module": {}}, step=step)
        assert [p.name for p in manager.checkpoints()] == ["step-00000500.pt", "step-100000000.pt"]

    def test_best_separate(self, tmp_path: Path) -> None:
        """best.pt is not pruned and not taken as the latest checkpoint."""
        manager = CheckpointManager(tmp_path, keep_last=1)
        manager.save_best({"module": {}, "epoch": 0})
        manager.save({"module": {}, "epoch": 1}, step=1)
        manager.save({"module": {}, "epoch": 2}, step=2)
        assert manager.best_path.exists()
        found = manager.load_latest()
        assert found is not None
        assert found[1]["epoch"] == 2

    def test_damaged_latest_skipped(self, tmp_path: Path) -> None:
        """A damaged newest file is skipped with a warning; the previous one is used."""
        manager = CheckpointManager(tmp_path, keep_last=3)
        manager.save({"module": {}, "epoch": 1}, step=1)
        (tmp_path / "step-00000002.pt").write_bytes(b"not a checkpoint")
        with pytest.warns(KellyWarning, match="damaged"):
            found = manager.load_latest()
        assert found is not None
        assert found[1]["epoch"] == 1

    def test_none_when_empty(self, tmp_path: Path) -> None:
        """No folder means no checkpoint."""
        assert CheckpointManager(tmp_path / "missing").load_latest() is None

    def test_not_a_checkpoint(self, tmp_path: Path) -> None:
        """A torch file without 'module' is refused."""
        path = tmp_path / "x.pt"
        torch.save({"other": 1}, path)
        with pytest.raises(KellyError, match="not a Kelly checkpoint"):
            CheckpointManager(tmp_path).load(path)

    def test_refuses_pickled_code(self, tmp_path: Path) -> None:
        """Files that need arbitrary unpickling are refused (weights_only loading)."""
        path = tmp_path / "step-00000001.pt"
        torch.save({"module": {}, "bad": Path("x")}, path)
        with pytest.raises(KellyError, match="cannot read checkpoint"):
            CheckpointManager(tmp_path).load(path)
