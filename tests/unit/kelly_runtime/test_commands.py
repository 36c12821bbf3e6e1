"""``kelly infer`` and ``kelly bench`` through the real CLI entry (explicit registry)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import ClassVar

import numpy as np
import pytest

import kelly_export.plugin
import kelly_models.plugin
import kelly_runtime.plugin
from kelly_core.catalog import MODEL_SPECS
from kelly_core.entries import BackendEntry
from kelly_core.errors import BackendError
from kelly_core.hookspecs import hookimpl
from kelly_core.registry import Registry
from kelly_runtime.backends.numpy_backend import NumpyBackend
from kelly_runtime.commands import BenchCommand, InferCommand, backend_with_options
from kelly_runtime.loading import read_model
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


class _Recording:
    """A plugin backend (numpy underneath) taking any keyword option; records what its
    factory was given."""

    given: ClassVar[list[dict[str, object]]] = []

    def __init__(self, **options: object) -> None:
        self.inner = NumpyBackend()
        type(self).given.append(dict(options))

    def load(self, spec: object, arrays: object) -> None:
        self.inner.load(spec, arrays)  # type: ignore[arg-type]

    def step(self, frame: np.ndarray) -> np.ndarray:
        return self.inner.step(frame)

    def run(self, frames: np.ndarray) -> np.ndarray:
        return self.inner.run(frames)

    def reset(self) -> None:
        self.inner.reset()


def _plugin_registry(options: dict[str, type]) -> Registry:
    class Plugin:
        @hookimpl
        def kelly_backends(self) -> list[BackendEntry]:
            factory = "tests.unit.kelly_runtime.test_commands:_Recording"
            return [BackendEntry(name="recording", factory=factory, options=options)]

    own = (kelly_models.plugin, kelly_export.plugin, kelly_runtime.plugin)
    return Registry(plugins=[*own, Plugin()])


class TestDeclaredOptions:
    """``--device`` and bench's one thread follow the entry's declared options, not the
    factory's signature nor the backend's name."""

    def test_device_refused_when_not_declared(self, groove_file: Path) -> None:
        """A factory taking ``**options`` whose entry declares no device: the flag is
        refused naming --device and the backends that declare it (torch)."""
        registry = _plugin_registry({})
        loaded = read_model(groove_file, registry=registry)
        with pytest.raises(BackendError, match="declares no 'device' option") as info:
            backend_with_options(loaded, "recording", registry, device="cpu")
        assert info.value.field == "--device"
        assert "--device is for 'torch'" in str(info.value)

    def test_device_passed_when_declared(self, groove_file: Path) -> None:
        registry = _plugin_registry({"device": str})
        loaded = read_model(groove_file, registry=registry)
        _Recording.given.clear()
        backend_with_options(loaded, "recording", registry, device="npu:0")
        assert _Recording.given == [{"device": "npu:0"}]

    def test_bench_gives_one_thread_to_a_plugin_declaring_threads(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        registry = _plugin_registry({"threads": int})
        monkeypatch.setattr("kelly_runtime.commands.default_registry", lambda: registry)
        _Recording.given.clear()
        command = BenchCommand()
        argv = ["--backend", "recording", "--steps", "2", "--warmup", "0", "--run-frames", "0"]
        assert command.run(_args(command, [*argv, "--no-baseline", "--json"])) == 0
        assert json.loads(capsys.readouterr().out)["backend"] == "recording"
        assert _Recording.given
        assert all(given == {"threads": 1} for given in _Recording.given)
