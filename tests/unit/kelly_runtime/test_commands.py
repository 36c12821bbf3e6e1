"""``kelly infer`` and ``kelly bench`` through the real CLI entry (explicit registry)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import BackendError
from kelly_runtime.backends.numpy_backend import NumpyBackend
from kelly_runtime.commands import BenchCommand, InferCommand
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames, runtime_registry


def _args(command: InferCommand | BenchCommand, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return parser.parse_args(argv)


@pytest.fixture
def groove_file(tmp_path: Path) -> Path:
    """An RTNeural export of seeded GroovePredictor weights."""
    spec = MODEL_SPECS["GroovePredictor"]
    exporter = runtime_registry().exporter("rtneural")
    return exporter.export(spec, random_arrays(spec, 0), tmp_path / "groovepredictor.json")


class TestInfer:
    def test_writes_outputs(self, tmp_path: Path, groove_file: Path) -> None:
        """Frames in, one output per frame out, equal to stepping the numpy backend."""
        frames = random_frames(64, 5, 0)
        np.save(tmp_path / "x.npy", frames)
        command = InferCommand()
        argv = [str(groove_file), "--input", str(tmp_path / "x.npy")]
        args = _args(command, [*argv, "--output", str(tmp_path / "y.npy")])
        assert command.run(args) == 0
        outputs = np.load(tmp_path / "y.npy")
        reference = NumpyBackend()
        spec = MODEL_SPECS["GroovePredictor"]
        reference.load(spec, random_arrays(spec, 0))
        np.testing.assert_allclose(outputs, reference.run(frames), atol=1e-6)

    @pytest.mark.parametrize(
        ("frames", "match"),
        [
            (np.zeros((4, 63), dtype=np.float32), r"expected frames of shape \(T, 64\)"),
            (np.zeros((4, 64), dtype=np.int16), "expected dtype float32"),
            (np.full((2, 64), np.nan, dtype=np.float32), "frame 0"),
        ],
    )
    def test_bad_input(
        self, tmp_path: Path, groove_file: Path, frames: np.ndarray, match: str
    ) -> None:
        """Wrong shape, dtype or NaN input is a BackendError naming the file."""
        np.save(tmp_path / "bad.npy", frames)
        command = InferCommand()
        argv = [str(groove_file), "--input", str(tmp_path / "bad.npy")]
        args = _args(command, [*argv, "--output", str(tmp_path / "y.npy")])
        with pytest.raises(BackendError, match=match) as info:
            command.run(args)
        assert info.value.path == tmp_path / "bad.npy"
        assert not (tmp_path / "y.npy").exists()


class TestBench:
    def test_json(self, capsys: pytest.CaptureFixture[str]) -> None:
        """--json prints one object per backend with median and p99 for each model."""
        command = BenchCommand()
        args = _args(
            command,
            ["--backend", "numpy", "--steps", "20", "--warmup", "2", "--run-frames", "0", "--json"],
        )
        assert command.run(args) == 0
        document = json.loads(capsys.readouterr().out)
        assert document["backend"] == "numpy"
        assert set(document["models"]) == set(MODEL_SPECS)
        for latency in [*document["models"].values(), document["pipeline"]]:
            assert 0 < latency["median_us"] <= latency["p99_us"]
        assert document["async_submit"]["p999_us"] > 0

    def test_text_two_backends(self, capsys: pytest.CaptureFixture[str]) -> None:
        """The table names both backends and the ratio to the first."""
        command = BenchCommand()
        argv = ["--backend", "numpy", "--backend", "fallback", "--steps", "10", "--no-async"]
        argv += ["--run-frames", "0"]
        assert command.run(_args(command, argv)) == 0
        text = capsys.readouterr().out
        assert "pipeline median relative to numpy" in text
        assert "fallback" in text
