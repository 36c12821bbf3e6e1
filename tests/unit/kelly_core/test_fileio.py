"""Tests for kelly_core.fileio: writes are all or nothing."""

from __future__ import annotations

import json
import math
import os
import stat
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.errors import OutputError
from kelly_core.fileio import (
    TEMP_SUFFIX,
    atomic_path,
    atomic_write_bytes,
    atomic_write_json,
    atomic_write_text,
    check_output_path,
    is_temp_name,
    remove_stale_temp_files,
)


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
            assert tmp.name.startswith(".out.mid.")
            assert tmp.name.endswith(TEMP_SUFFIX)
            assert not tmp.match("*.mid")
            assert is_temp_name(tmp.name)
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

    def test_new_file_gets_the_usual_permissions(self, tmp_path: Path) -> None:
        """A new file is readable by others as with open() (not mkstemp's 0600)."""
        umask = os.umask(0o022)
        try:
            target = atomic_write_text(tmp_path / "model.json", "{}")
        finally:
            os.umask(umask)
        assert stat.S_IMODE(target.stat().st_mode) == 0o644

    def test_existing_file_keeps_its_mode(self, tmp_path: Path) -> None:
        """Replacing a file keeps the mode it had."""
        target = tmp_path / "model.json"
        target.write_text("old", encoding="utf-8")
        target.chmod(0o640)
        atomic_write_text(target, "new")
        assert stat.S_IMODE(target.stat().st_mode) == 0o640

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


class TestTempFiles:
    def test_stale_temp_of_a_dead_process_is_removed(self, tmp_path: Path) -> None:
        """A temp file named for a process that no longer runs goes; a live one stays."""
        dead = tmp_path / f".step-00000001.pt.{2**22 + 12345}-abcd1234{TEMP_SUFFIX}"
        live = tmp_path / f".step-00000002.pt.{os.getpid()}-abcd1234{TEMP_SUFFIX}"
        old = tmp_path / ".step-00000003.pt.ab12cd34.tmp.pt"  # an older Kelly's name
        for path in (dead, live, old):
            path.write_bytes(b"")
        os.utime(old, (1, 1))
        assert sorted(p.name for p in remove_stale_temp_files(tmp_path)) == sorted(
            [dead.name, old.name]
        )
        assert [p.name for p in tmp_path.iterdir()] == [live.name]

    def test_interrupted_write_leaves_no_file_a_glob_finds(self, tmp_path: Path) -> None:
        """Even while the body runs, no ``*.pt`` name but the target's exists."""
        with atomic_path(tmp_path / "best.pt") as tmp:
            tmp.write_bytes(b"x")
            assert sorted(tmp_path.glob("*.pt")) == []
            assert sorted(tmp_path.glob("step-*")) == []
        assert [p.name for p in tmp_path.iterdir()] == ["best.pt"]


class TestOutputErrors:
    def test_path_under_a_regular_file(self, tmp_path: Path) -> None:
        (tmp_path / "plain").write_text("x")
        with pytest.raises(OutputError, match=r"plain is a file, not a folder"):
            check_output_path(tmp_path / "plain" / "sub" / "out.json")
        with pytest.raises(OutputError, match=r"cannot create the folder|cannot write"):
            atomic_write_text(tmp_path / "plain" / "out.json", "{}")

    def test_wrong_kinds(self, tmp_path: Path) -> None:
        (tmp_path / "file.json").write_text("x")
        with pytest.raises(OutputError, match="is a folder; expected a file name"):
            check_output_path(tmp_path, kind="file")
        with pytest.raises(OutputError, match="is an existing file; expected a folder"):
            check_output_path(tmp_path / "file.json", kind="folder")
        with pytest.raises(OutputError, match="is a folder"):
            atomic_write_text(tmp_path, "{}")
        assert check_output_path(tmp_path / "new" / "deeper", kind="folder") == (
            tmp_path / "new" / "deeper"
        )
        assert not (tmp_path / "new").exists()  # the check creates nothing

    @pytest.mark.skipif(os.geteuid() == 0, reason="root ignores permissions")
    def test_read_only_folder(self, tmp_path: Path) -> None:
        folder = tmp_path / "ro"
        folder.mkdir()
        folder.chmod(0o500)
        try:
            with pytest.raises(OutputError, match=r"cannot write into .*ro: Permission denied"):
                check_output_path(folder / "out.npy")
        finally:
            folder.chmod(0o700)

    def test_disk_full_in_the_body_names_the_target(self, tmp_path: Path) -> None:
        """An OSError while writing (ENOSPC) becomes one OutputError; no temp file stays."""
        target = tmp_path / "out.bin"
        with (
            pytest.raises(OutputError, match=r"out\.bin: cannot write: No space left on device"),
            atomic_path(target),
        ):
            raise OSError(28, "No space left on device")
        assert list(tmp_path.iterdir()) == []
