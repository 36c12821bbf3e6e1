"""Tests for CSV index checks, splits and the array dataset."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.errors import DatasetError
from kelly_core.records import Example
from kelly_models.datasets.base import ArrayDataset, hash_split, read_csv_index


class TestReadCsvIndex:
    def test_spaces_and_ragged(self, tmp_path: Path) -> None:
        """Header spaces are stripped; a short row has its own cells and "" for a missing
        required column (other missing cells are absent: a wide header costs nothing)."""
        path = tmp_path / "a.csv"
        path.write_text("id, value, extra\n1, 2\n\n3, 4, 5\n7\n", encoding="utf-8")
        rows = read_csv_index(path, ("id", "value"), nonempty=("id",))
        assert rows == [
            {"id": "1", "value": "2"},
            {"id": "3", "value": "4", "extra": "5"},
            {"id": "7", "value": ""},
        ]

    def test_missing_column(self, tmp_path: Path) -> None:
        """A missing column names the path and the column."""
        path = tmp_path / "a.csv"
        path.write_text("id\n1\n", encoding="utf-8")
        with pytest.raises(DatasetError) as info:
            read_csv_index(path, ("id", "value"))
        assert info.value.field == "value"
        assert info.value.path == path

    def test_missing_file_and_empty_cell(self, tmp_path: Path) -> None:
        """A missing file or an empty required cell fails at once."""
        with pytest.raises(DatasetError, match="not found"):
            read_csv_index(tmp_path / "none.csv", ("id",))
        path = tmp_path / "b.csv"
        path.write_text("id,value\n1,\n", encoding="utf-8")
        with pytest.raises(DatasetError, match="line 2"):
            read_csv_index(path, ("id", "value"))
        assert read_csv_index(path, ("id", "value"), nonempty=("id",))[0]["value"] == ""


class TestSplits:
    def test_stable(self) -> None:
        """hash_split is deterministic and roughly 80/10/10."""
        splits = [hash_split(str(i)) for i in range(2000)]
        assert splits == [hash_split(str(i)) for i in range(2000)]
        assert 0.07 < splits.count("test") / 2000 < 0.13
        assert 0.07 < splits.count("validation") / 2000 < 0.13


class TestArrayDataset:
    def test_protocol(self) -> None:
        """Length, items, split counts."""
        ex = Example(
            inputs=np.zeros((3, 2), np.float32), targets=np.ones((3, 1), np.float32), source="x"
        )
        ds = ArrayDataset("M", [ex, ex])
        assert len(ds) == 2
        assert ds[1] is ex
        assert ds.splits() == {"train": 2, "validation": 0, "test": 0}
        assert ds.skipped == ()
