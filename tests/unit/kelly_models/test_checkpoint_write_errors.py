"""A checkpoint that cannot be written (a full disk under torch) is one line naming the file."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable
from pathlib import Path

import pytest
import torch

from kelly_core.cli import main
from kelly_core.errors import OutputError
from kelly_models import checkpoint_format
from kelly_models.build import build_model
from kelly_models.checkpoint_format import checkpoint_write_error, save_checkpoint
from kelly_models.training.checkpoint import CheckpointManager

ENFORCE = (
    "[enforce fail at inline_container.cc:672] . PytorchStreamWriter failed writing file "
    "data/0: file write failed"
)
"""What torch 2.x raises when a write() of a checkpoint member fails (a full disk)."""

_REAL_SAVE = torch.save


def _raising(exc: BaseException) -> Callable[..., None]:
    def save(obj: object, f: object, *args: object, **kwargs: object) -> None:
        raise exc

    return save


def _to_dev_full(obj: object, f: object, *args: object, **kwargs: object) -> None:
    """torch.save into /dev/full, where every write fails with ENOSPC: torch's own error."""
    _REAL_SAVE(obj, "/dev/full")


def _writers(tmp_path: Path) -> list[tuple[str, Callable[[], object], Path]]:
    model = build_model("DynamicsEngine", seed=0)
    manager = CheckpointManager(tmp_path / "run" / "dyn")
    return [
        ("save_checkpoint", lambda: save_checkpoint(model, tmp_path / "d.pt"), tmp_path / "d.pt"),
        (
            "CheckpointManager.save",
            lambda: manager.save({"module": model.state_dict()}, step=3),
            tmp_path / "run" / "dyn" / "step-00000003.pt",
        ),
    ]


@pytest.mark.parametrize("which", [0, 1], ids=["checkpoint_format", "training"])
class TestFullDisk:
    def test_enforce_fail_on_a_full_disk_says_so(
        self, which: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """torch's enforce-fail text becomes 'no space left on device' naming the file."""
        monkeypatch.setattr(torch, "save", _raising(RuntimeError(ENFORCE)))
        monkeypatch.setattr(checkpoint_format, "_free_bytes", lambda folder: 4096)
        _, write, target = _writers(tmp_path)[which]
        with pytest.raises(OutputError) as caught:
            write()
        text = str(caught.value)
        assert text == (
            f"{target}: cannot write checkpoint: no space left on device (4,096 bytes free)"
        )
        assert "enforce fail" not in text
        assert "inline_container" not in text
        assert not target.exists()
        assert [p.name for p in target.parent.iterdir() if p.suffix != ".json"] == []

    @pytest.mark.skipif(not os.path.exists("/dev/full"), reason="needs /dev/full")
    def test_torch_real_failure_from_dev_full(
        self, which: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """torch's real error for a failing write ('unexpected pos ...') is mapped too."""
        monkeypatch.setattr(torch, "save", _to_dev_full)
        monkeypatch.setattr(checkpoint_format, "_free_bytes", lambda folder: 0)
        _, write, target = _writers(tmp_path)[which]
        with pytest.raises(OutputError, match="no space left on device") as caught:
            write()
        assert str(caught.value).startswith(f"{target}: ")
        assert "\n" not in str(caught.value)

    def test_with_space_left_torch_reason_without_its_source_location(
        self, which: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """With free space the reason is torch's, less '[enforce fail at ...]'."""
        monkeypatch.setattr(torch, "save", _raising(RuntimeError(ENFORCE + "\nmore")))
        monkeypatch.setattr(checkpoint_format, "_free_bytes", lambda folder: 10**12)
        _, write, target = _writers(tmp_path)[which]
        with pytest.raises(OutputError) as caught:
            write()
        assert str(caught.value) == (
            f"{target}: cannot write checkpoint: the write failed (torch: PytorchStreamWriter "
            "failed writing file data/0: file write failed); check free space, quota and the "
            "device"
        )

    def test_an_os_error_gives_the_os_reason(
        self, which: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """ENOSPC from Python's writer (non-ASCII names) reads as a full disk."""
        full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        monkeypatch.setattr(torch, "save", _raising(full))
        _, write, target = _writers(tmp_path)[which]
        with pytest.raises(OutputError) as caught:
            write()
        assert str(caught.value) == f"{target}: cannot write checkpoint: no space left on device"


def test_other_os_errors_keep_their_reason(tmp_path: Path) -> None:
    """An OSError that is not ENOSPC keeps the OS's words."""
    error = checkpoint_write_error(OSError(errno.EDQUOT, "Disk quota exceeded"), tmp_path / "a.pt")
    assert str(error) == f"{tmp_path / 'a.pt'}: cannot write checkpoint: disk quota exceeded"


def test_kelly_init_on_a_full_disk_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """``kelly init`` under a full disk: one error line naming the file, exit 2."""
    monkeypatch.setattr(torch, "save", _raising(RuntimeError(ENFORCE)))
    monkeypatch.setattr(checkpoint_format, "_free_bytes", lambda folder: 0)
    code = main(["init", "-o", str(tmp_path / "out"), "--model", "DynamicsEngine"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2
    assert len(err) == 1
    assert err[0].startswith("kelly: error: ")
    assert "no space left on device (0 bytes free)" in err[0]
    assert str(tmp_path / "out") in err[0]
    assert "Traceback" not in err[0]
