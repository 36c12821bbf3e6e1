"""Tests for kelly_core.fileio: writes are all or nothing."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.fileio import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text


class TestAtomicPath:
    def test_failure_leaves_old_file_and_no_temp(self, tmp_path: Path) -> None:
        """If the writer raises, the old content stays and no temp file is left behind."""
        target = tmp_path / "model.json"
        target.write_text("old", encoding="utf-8")

        def crash_mid_write() -> None:
            with atomic_path(target) as tmp:
                tmp.write_text("half", encoding="utf-8")
                raise RuntimeError("crash")

        with pytest.raises(RuntimeError, match="crash"):
            crash_mid_write()
        assert target.read_text(encoding="utf-8") == "old"
        assert sorted(p.name for p in tmp_path.iterdir()) == ["model.json"]

    def test_temp_file_is_beside_target(self, tmp_path: Path) -> None:
        """The temp file lives in the target's folder (same file system, so rename is atomic)."""
        target = tmp_path / "sub" / "out.mid"
        with atomic_path(target) as tmp:
            assert tmp.parent == target.parent
            assert tmp.suffix == ".mid"
            tmp.write_bytes(b"MThd")
        assert target.read_bytes() == b"MThd"


class TestAtomicWrite:
    @given(st.binary(max_size=2048))
    def test_bytes_round_trip(self, data: bytes) -> None:
        """Whatever is written is read back unchanged, replacing earlier content."""
        import tempfile

        with tempfile.TemporaryDirectory() as folder:
            target = Path(folder) / "blob.bin"
            target.write_bytes(b"previous")
            atomic_write_bytes(target, data)
            assert target.read_bytes() == data

    def test_text_is_utf8(self, tmp_path: Path) -> None:
        """Text is written as UTF-8."""
        target = atomic_write_text(tmp_path / "t.txt", "café ♪")
        assert target.read_bytes() == "café ♪".encode()

    def test_json_refuses_nan_and_writes_nothing(self, tmp_path: Path) -> None:
        """NaN is refused (RTNeural files must be strict JSON) and no file appears."""
        target = tmp_path / "bad.json"
        with pytest.raises(ValueError, match="not JSON compliant"):
            atomic_write_json(target, {"w": [1.0, math.nan]})
        assert not target.exists()
        assert list(tmp_path.iterdir()) == []

    def test_json_round_trip(self, tmp_path: Path) -> None:
        """A JSON document is read back equal."""
        doc = {"in_shape": [None, None, 4], "layers": [{"type": "dense"}]}
        atomic_write_json(tmp_path / "m.json", doc, indent=1)
        assert json.loads((tmp_path / "m.json").read_text(encoding="utf-8")) == doc
