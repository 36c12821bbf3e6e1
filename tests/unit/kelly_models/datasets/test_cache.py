"""Tests for the preprocessing cache: resumable, parallel, corrupt files skipped."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kelly_core.records import Example
from kelly_models.datasets.base import ArrayDataset
from kelly_models.datasets.cache import process_files


def parse_numbers(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: a text file of numbers -> one example; logs each call next to the file."""
    with (path.parent / "calls.log").open("a", encoding="utf-8") as log:
        log.write(path.name + "\n")
    values = [float(x) for x in path.read_text(encoding="utf-8").split()]
    scale = float(options["scale"])  # type: ignore[arg-type]  # test option
    arr = np.array(values, dtype=np.float32)[:, None] * scale
    return [Example(inputs=arr, targets=arr, source=str(path))]


def _files(tmp_path: Path) -> list[Path]:
    data = tmp_path / "data"
    data.mkdir()
    files = []
    for i, text in enumerate(["1 2 3", "4 5", "not numbers", "6"]):
        path = data / f"{i}.txt"
        path.write_text(text, encoding="utf-8")
        files.append(path)
    return files


class TestProcessFiles:
    def test_cached_and_resumed(self, tmp_path: Path) -> None:
        """The second run reads the cache and only retries the failed file."""
        files = _files(tmp_path)
        kwargs = {
            "reader": "t",
            "version": 1,
            "options": {"scale": 2},
            "cache_dir": tmp_path / "c",
            "workers": 1,
        }
        items, skipped = process_files(files, parse_numbers, **kwargs)  # type: ignore[arg-type]  # kwargs
        assert len(items) == 3
        assert [s.path.name for s in skipped] == ["2.txt"]
        # the parser's own words ("could not convert string to float") become a sentence
        assert skipped[0].reason == "malformed file: a value outside what its field allows"
        log = tmp_path / "data" / "calls.log"
        log.unlink()
        items2, skipped2 = process_files(files, parse_numbers, **kwargs)  # type: ignore[arg-type]  # kwargs
        assert log.read_text(encoding="utf-8").split() == ["2.txt"]
        ds = ArrayDataset("M", items2, skipped2)
        assert ds[0].inputs[:, 0].tolist() == [2.0, 4.0, 6.0]
        assert len(skipped2) == 1

    def test_settings_invalidate(self, tmp_path: Path) -> None:
        """Other encoder settings use another cache folder."""
        files = _files(tmp_path)
        for scale in (1, 3):
            items, _ = process_files(
                files, parse_numbers, reader="t", version=1, options={"scale": scale},
                cache_dir=tmp_path / "c", workers=1,
            )  # fmt: skip
            assert ArrayDataset("M", items)[2].inputs[0, 0] == 6.0 * scale
        assert len(list((tmp_path / "c").iterdir())) == 2

    def test_parallel_in_memory(self, tmp_path: Path) -> None:
        """Two worker processes, no cache: same results in file order."""
        files = _files(tmp_path)
        items, skipped = process_files(
            files, parse_numbers, reader="t", version=1, options={"scale": 1},
            use_cache=False, workers=2,
        )  # fmt: skip
        assert [Path(ArrayDataset("M", items)[i].source).name for i in range(3)] == [
            "0.txt",
            "1.txt",
            "3.txt",
        ]
        assert len(skipped) == 1
        assert not (tmp_path / "c").exists()
