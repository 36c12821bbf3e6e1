"""Arguments and input files checked before any work: ranges, .npy headers, file kinds.

Every case ends in one ``kelly: error:`` line naming the flag or the file, never a
traceback and never a hang: a FIFO where a file is expected is refused without opening
it (a helper thread opens the FIFO's other end, so a reader that does open it finishes
instead of waiting forever, and the test fails on the message rather than hanging).
"""

from __future__ import annotations

import errno
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kelly_core.argtypes import MAX_SEED
from kelly_core.catalog import MODEL_SPECS
from kelly_core.cli import main
from kelly_export.rtneural import RTNeuralExporter
from tests.unit.kelly_runtime.helpers import random_arrays


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kelly: error: "), err
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture
def groove(tmp_path: Path) -> Path:
    """An exported GroovePredictor (64 inputs)."""
    spec = MODEL_SPECS["GroovePredictor"]
    return RTNeuralExporter().export(spec, random_arrays(spec, 0), tmp_path / "groove.json")


@pytest.fixture
def fifo(tmp_path: Path) -> Iterator[Path]:
    """A named pipe whose writer end a thread opens and closes whenever a reader waits."""
    path = tmp_path / "pipe.json"
    os.mkfifo(path)
    stop = threading.Event()

    def unblock() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError as exc:  # ENXIO: no reader yet
                if exc.errno != errno.ENXIO:
                    return
                stop.wait(0.05)
                continue
            os.close(fd)

    thread = threading.Thread(target=unblock, daemon=True)
    thread.start()
    yield path
    stop.set()
    thread.join(5.0)


class TestGenerateArguments:
    @pytest.mark.parametrize(
        ("flag", "value", "range_text"),
        [
            ("--seed", "-1", f"0..{MAX_SEED}"),
            ("--seed", str(MAX_SEED + 1), f"0..{MAX_SEED}"),
            ("--bars", "1000000000", "1..5000"),
            ("--bars", "0", "1..5000"),
            ("--tempo", "1e9", "<= 400"),
            ("--tempo", "nan", ">= 20"),
            ("--temperature", "0", "> 0"),
            ("--temperature", "inf", "<= 100"),
        ],
    )
    def test_refused_before_reading_the_audio(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        flag: str,
        value: str,
        range_text: str,
    ) -> None:
        """A number out of range is one line naming the flag and the range, and no audio
        is read (the input does not even exist)."""
        import kelly_runtime.generate.command as command

        def never(*args: object, **kwargs: object) -> None:
            raise AssertionError("the audio was read before the arguments were checked")

        monkeypatch.setattr(command, "read_audio", never)
        argv = ["generate", str(tmp_path / "x.wav"), "-o", str(tmp_path / "o.mid")]
        assert main([*argv, f"{flag}={value}"]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert flag in line
        assert range_text in line


class TestBenchArguments:
    @pytest.mark.parametrize(
        ("flag", "value"),
        [
            ("--steps", "1000000000000"),
            ("--steps", "0"),
            ("--warmup", "-1"),
            ("--block", "0"),
            ("--run-frames", "10000000000"),
            ("--blas-threads", "100000"),
        ],
    )
    def test_counts_have_an_upper_bound(
        self,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        flag: str,
        value: str,
    ) -> None:
        """Every count is refused outside its range at parse time, before any timing."""
        import kelly_runtime.commands as commands

        def never(*args: object, **kwargs: object) -> None:
            raise AssertionError("the benchmark started before the arguments were checked")

        monkeypatch.setattr(commands, "bench_all", never)
        monkeypatch.setattr(commands, "fresh_models", never)
        assert main(["bench", f"{flag}={value}"]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert flag in line
        assert "expected an integer in" in line


class TestOtherCommands:
    @pytest.mark.parametrize(
        ("argv", "flag", "range_text"),
        [
            (["init", "--seed=-1", "-o", "{out}"], "--seed", f"0..{MAX_SEED}"),
            (["evaluate", "{out}", "--dataset", "lakh", "--max-items=-5"], "--max-items", "0.."),
            (["evaluate", "{out}", "--dataset", "lakh", "--seed=-2"], "--seed", f"0..{MAX_SEED}"),
        ],
    )
    def test_init_and_evaluate(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        argv: list[str],
        flag: str,
        range_text: str,
    ) -> None:
        """init and evaluate check their numbers at parse time too: nothing is written."""
        pytest.importorskip("torch")
        out = tmp_path / "out"
        assert main([arg.format(out=out) for arg in argv]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert f"{flag}: expected an integer in {range_text}" in line
        assert not out.exists()


class TestInferInput:
    @pytest.mark.parametrize(
        ("content", "match"),
        [
            (b"", "empty file"),
            (b"\x93NUMPY\x01\x00", "not a .npy array file"),
            (b"not an array at all" * 10, "not a .npy array file"),
        ],
    )
    def test_empty_or_malformed(
        self,
        tmp_path: Path,
        groove: Path,
        capsys: pytest.CaptureFixture[str],
        content: bytes,
        match: str,
    ) -> None:
        """An empty file or a broken header: one line naming the file."""
        frames = tmp_path / "x.npy"
        frames.write_bytes(content)
        argv = ["infer", str(groove), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert str(frames) in line
        assert match in line
        assert not (tmp_path / "y.npy").exists()

    def test_header_claims_more_than_the_file_holds(
        self, tmp_path: Path, groove: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A header of 10**12 frames over a few bytes of data is refused from the header and
        the file size, before any data is read."""
        frames = tmp_path / "x.npy"
        with frames.open("wb") as handle:
            np.lib.format.write_array_header_1_0(
                handle, {"descr": "<f4", "fortran_order": False, "shape": (10**12, 64)}
            )
            handle.write(np.zeros((3, 64), np.float32).tobytes())
        argv = ["infer", str(groove), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert "1000000000000 frames" in line
        assert "truncated" in line

    def test_object_dtype_is_refused_from_the_header(
        self, tmp_path: Path, groove: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """An object array (a pickle) is refused from its header's dtype."""
        frames = tmp_path / "x.npy"
        np.save(frames, np.array([[None] * 64], dtype=object), allow_pickle=True)
        argv = ["infer", str(groove), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        assert "expected dtype float32" in _one_error_line(capsys.readouterr().err)


class TestSpecialFiles:
    def test_fifo_as_model_file(
        self, tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """infer with a FIFO for the model: one line saying what the path is."""
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((2, 64), np.float32))
        argv = ["infer", str(fifo), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert f"{fifo}: is a FIFO (named pipe); expected a model file" in line

    def test_fifo_as_input_frames(
        self, tmp_path: Path, groove: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """infer --input a FIFO: one line, nothing read."""
        argv = ["infer", str(groove), "--input", str(fifo), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        assert "is a FIFO (named pipe)" in _one_error_line(capsys.readouterr().err)

    @pytest.mark.parametrize("command", ["validate", "convert"])
    def test_fifo_in_validate_and_convert(
        self, tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str], command: str
    ) -> None:
        """validate lists the FIFO as a problem; convert refuses it in one line."""
        if command == "validate":
            assert main(["validate", str(fifo)]) == 1
            assert "is a FIFO (named pipe); expected a model file" in capsys.readouterr().out
        else:
            assert main(["convert", str(fifo), "-o", str(tmp_path / "o.json")]) == 2
            line = _one_error_line(capsys.readouterr().err)
            assert "is a FIFO (named pipe)" in line

    def test_character_device_as_model_file(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """/dev/zero where a model file is expected: refused by kind, not read to a limit."""
        if not Path("/dev/zero").exists():
            pytest.skip("no /dev/zero on this system")
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((2, 64), np.float32))
        argv = ["infer", "/dev/zero", "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        assert "is a character device; expected a model file" in _one_error_line(
            capsys.readouterr().err
        )

    def test_fifo_as_audio(
        self, tmp_path: Path, fifo: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """generate with a FIFO for the audio: one line naming the kind."""
        pytest.importorskip("soundfile")
        assert main(["generate", str(fifo), "-o", str(tmp_path / "o.mid")]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert "is a FIFO (named pipe); expected an audio file" in line


class TestInferLog:
    def test_names_the_backend_it_chose(
        self, tmp_path: Path, groove: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """Without --backend the log line names the backend chosen, never None."""
        from kelly_runtime.select import select_backend_name

        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((2, 64), np.float32))
        argv = ["infer", str(groove), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        with caplog.at_level("INFO"):
            assert main(argv) == 0
        lines = [m for m in caplog.messages if "frames (64 -> 32)" in m]
        assert len(lines) == 1
        assert "on None" not in lines[0]
        assert f"on {select_backend_name(None)} -> " in lines[0]


def test_fifo_as_checkpoint_is_refused_unopened(fifo: Path) -> None:
    """verify_checkpoint_file (before every torch.load) refuses a FIFO by its kind."""
    pytest.importorskip("torch")
    from kelly_core.errors import ExportError
    from kelly_models.checkpoint_format import verify_checkpoint_file

    with pytest.raises(ExportError, match=r"is a FIFO \(named pipe\); expected a \.pt checkpoint"):
        verify_checkpoint_file(fifo)
