"""Tests for kelly_models.training.history."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from kelly_core.errors import KellyError
from kelly_models.training.history import History


class TestHistory:
    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        """A saved history loads back equal, NaN included (written as null)."""
        history = History("Tiny")
        history.append({"train_loss": 1.0, "val_loss": 2.0})
        history.append({"train_loss": 0.5, "val_loss": math.nan})
        history.notes["best_epoch"] = 0
        path = history.save(tmp_path / "h.json")
        data = json.loads(path.read_text())
        assert data["series"]["val_loss"] == [2.0, None]
        loaded = History.load(path)
        assert loaded.series["train_loss"] == [1.0, 0.5]
        assert math.isnan(loaded.series["val_loss"][1])
        assert loaded.notes == {"best_epoch": 0}
        assert len(loaded) == 2

    def test_atomic_no_temp_left(self, tmp_path: Path) -> None:
        """Saving leaves only the target file in the folder."""
        History("Tiny").save(tmp_path / "h.json")
        assert [p.name for p in tmp_path.iterdir()] == ["h.json"]

    def test_missing_series_rejected(self) -> None:
        """Each epoch must give every series seen before."""
        history = History("Tiny")
        history.append({"train_loss": 1.0, "val_loss": 1.0})
        with pytest.raises(KellyError, match="val_loss"):
            history.append({"train_loss": 1.0})

    def test_new_series_padded(self) -> None:
        """A series first seen later is padded with NaN for earlier epochs."""
        history = History("Tiny")
        history.append({"a": 1.0})
        history.append({"a": 2.0, "b": 3.0})
        assert math.isnan(history.series["b"][0])

    def test_load_rejects_other_json(self, tmp_path: Path) -> None:
        """A JSON file that is not a history raises KellyError naming the file."""
        path = tmp_path / "x.json"
        path.write_text("[1, 2]")
        with pytest.raises(KellyError) as info:
            History.load(path)
        assert info.value.path == path
