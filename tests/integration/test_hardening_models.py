"""Hostile model files, checkpoints and output paths through the ``kelly`` commands.

Every case ends in one ``kelly: error:`` line (or a listed problem) and a non-zero exit,
never a traceback; the legacy layout of the original design converts exactly.
"""

from __future__ import annotations

import argparse
import json
import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.cli import main
from kelly_core.entries import BackendEntry
from kelly_core.errors import ExportError
from kelly_core.fileio import TEMP_SUFFIX
from kelly_core.hookspecs import hookimpl
from kelly_core.specs import ModelSpec
from kelly_export.rtneural import RTNeuralExporter
from kelly_export.validate import MAX_BYTES_ENV
from kelly_models.build import build_model
from kelly_models.checkpoint_format import read_checkpoint, save_checkpoint
from kelly_runtime.loading import load_backend
from tests.unit.kelly_export.helpers import small_document


def _one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("kelly: error: ")
    assert "Traceback" not in err
    return lines[0]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


class TestModelFiles:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("[" * 100_000, "nested too deeply"),
            ('{"a":' * 100_000, "nested too deeply"),
        ],
    )
    def test_deep_nesting(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
    ) -> None:
        path = _write(tmp_path / "deep.json", text)
        assert main(["validate", str(path)]) == 1
        assert message in capsys.readouterr().out
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((2, 32), np.float32))
        argv = ["infer", str(path), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        assert message in _one_error_line(capsys.readouterr().err)

    def test_deep_kernel_is_named(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        document = small_document("DynamicsEngine")
        document["layers"][0]["weights"][0] = "KERNEL"  # type: ignore[index]  # test data
        text = json.dumps(document).replace('"KERNEL"', "[" * 5000 + "1.0" + "]" * 5000)
        path = _write(tmp_path / "k.json", text)
        assert main(["validate", str(path)]) == 1
        assert f"{path}: $: arrays or objects nested too deeply" in capsys.readouterr().out

    @pytest.mark.parametrize("digits", [400, 5000])
    def test_huge_integer(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], digits: int
    ) -> None:
        document = small_document("DynamicsEngine")
        document["layers"][0]["weights"][0][0][0] = 123.25  # type: ignore[index]  # test data
        text = json.dumps(document).replace("123.25", "9" * digits)
        path = _write(tmp_path / "big.json", text)
        assert main(["validate", str(path)]) == 1
        out = capsys.readouterr().out
        assert f"{path}: layers[0].weights[0][0][0]: expected a finite number, got inf" in out

    @pytest.mark.parametrize(
        ("where", "value"),
        [((0, 0, 3, 5), "1e39"), ((0, 1, 7), "3.5e38"), ((2, 1, 3), "-3.5e38")],
    )
    def test_beyond_float32_is_invalid(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], where: tuple[int, ...],
        value: str,
    ) -> None:  # fmt: skip
        document = small_document("DynamicsEngine")
        marker = 123.25
        target: list[object] = document["layers"][where[0]]["weights"]  # type: ignore[index]
        for index in where[1:-1]:
            target = target[index]  # type: ignore[assignment]  # nested lists
        target[where[-1]] = marker
        path = _write(tmp_path / "inf.json", json.dumps(document).replace("123.25", value))
        assert main(["validate", str(path)]) == 1
        field = f"layers[{where[0]}].weights" + "".join(f"[{i}]" for i in where[1:])
        out = capsys.readouterr().out
        assert f"{path}: {field}: expected a finite float32 number" in out
        assert "RTNeural reads as inf" in out
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((2, 32), np.float32))
        with _no_warnings():
            argv = ["infer", str(path), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
            assert main(argv) == 2
        assert "expected a finite float32 number" in _one_error_line(capsys.readouterr().err)

    def test_float_sizes_do_not_skip_the_weight_checks(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        document = small_document("DynamicsEngine")
        document["in_shape"] = [None, None, 32.0]
        layer = document["layers"][0]  # type: ignore[index]  # test data
        layer["weights"][0] = layer["weights"][0][:16]
        path = _write(tmp_path / "f.json", json.dumps(document))
        assert main(["validate", str(path)]) == 1
        out = capsys.readouterr().out
        assert f"{path}: in_shape[2]: expected an integer, got 32.0 (write 32)" in out
        assert f"{path}: layers[0].weights[0]: expected 32 rows" in out

    @pytest.mark.parametrize("name", ["DynamicsEngine", "MelodyTransformer"])
    def test_wrong_top_level_prints_no_document(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
    ) -> None:
        as_list = _write(tmp_path / "list.json", json.dumps([small_document(name)]))
        document = small_document(name)
        document["layers"] = {"all": document["layers"]}
        as_object = _write(tmp_path / "object.json", json.dumps(document))
        assert main(["validate", str(as_list), str(as_object)]) == 1
        out = capsys.readouterr().out
        assert len(out) < 1000
        assert f"{as_list}: $: expected object, got an array" in out
        assert f"{as_object}: layers: expected array, got an object" in out

    def test_size_limit_is_checked_before_parsing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        path = _write(tmp_path / "big.json", json.dumps(small_document("GroovePredictor")))
        monkeypatch.setenv(MAX_BYTES_ENV, "1000")
        assert main(["validate", str(path)]) == 1
        out = capsys.readouterr().out
        assert f"over the 1,000-byte limit for a model file; set {MAX_BYTES_ENV}" in out
        assert main(["convert", str(path), "-o", str(tmp_path / "out.json")]) == 2
        assert "1,000-byte limit" in _one_error_line(capsys.readouterr().err)
        monkeypatch.setenv(MAX_BYTES_ENV, "0x10")
        assert main(["validate", str(path)]) == 2
        assert "must be a positive number of bytes" in _one_error_line(capsys.readouterr().err)

    def test_convert_refuses_rtneural_from_the_first_bytes(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        # not JSON after the first bytes: the answer comes before any parsing
        path = _write(
            tmp_path / "r.json", '{"in_shape": [null, null, 32], "layers": [' + "x" * 10**6
        )
        assert main(["convert", str(path), "-o", str(tmp_path / "o.json")]) == 2
        assert "already an RTNeural file" in _one_error_line(capsys.readouterr().err)

    def test_legacy_file_given_to_validate(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        spec = MODEL_SPECS["DynamicsEngine"]
        path = _write(tmp_path / "old.json", json.dumps(original_layout(spec, _arrays(spec))))
        assert main(["validate", str(path)]) == 1
        out = capsys.readouterr().out
        assert f"kelly convert {path} --output NEW.json" in out
        assert "Expected at most" not in out
        assert "checking the file against itself only" not in out
        assert len(out) < 600


class _no_warnings:  # noqa: N801  # reads as a context manager name
    """Fail if any warning (a leaked numpy RuntimeWarning, say) is raised inside."""

    def __enter__(self) -> None:
        import warnings

        self._catch = warnings.catch_warnings(record=True)
        self._seen = self._catch.__enter__()
        warnings.simplefilter("always")

    def __exit__(self, *exc: object) -> None:
        self._catch.__exit__(None, None, None)
        assert [str(w.message) for w in self._seen] == []


def _arrays(spec: ModelSpec, seed: int = 1) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    return {
        name: (rng.standard_normal(shape) * 0.2).astype(np.float32)
        for name, shape in spec.array_shapes().items()
    }


def original_layout(spec: ModelSpec, arrays: Mapping[str, np.ndarray]) -> dict[str, object]:
    """The export layout the original design documents, exactly (no top-level sizes)."""
    layers: list[dict[str, object]] = []
    for index, (layer, in_size) in enumerate(zip(spec.layers, spec.layer_input_sizes, strict=True)):
        prefix = f"layers.{index}"
        if layer.kind == "dense":
            layers.append(
                {"type": "dense", "in_size": in_size, "out_size": layer.size,
                 "activation": layer.activation or "linear",
                 "weights": arrays[f"{prefix}.weight"].tolist(),
                 "bias": arrays[f"{prefix}.bias"].tolist()}
            )  # fmt: skip
        else:
            gates = {
                key: [g.tolist() for g in np.split(arrays[f"{prefix}.{key}"], 4)]
                for key in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")
            }
            layers.append(
                {"type": "lstm", "in_size": in_size, "out_size": layer.size,
                 "weights_ih": gates["weight_ih"], "weights_hh": gates["weight_hh"],
                 "bias_ih": gates["bias_ih"], "bias_hh": gates["bias_hh"]}
            )  # fmt: skip
    metadata = {
        "model_name": spec.name, "framework": "pytorch", "export_version": 1,
        "parameter_count": spec.parameter_count, "memory_bytes": spec.memory_bytes,
        "input_size": spec.input_size, "output_size": spec.output_size,
    }  # fmt: skip
    return {"layers": layers, "metadata": metadata}


class TestOriginalLayout:
    @pytest.mark.parametrize("name", MODEL_NAMES)
    def test_converts_with_outputs_equal_to_the_checkpoint(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], name: str
    ) -> None:
        model = build_model(name, seed=3)
        checkpoint = save_checkpoint(model, tmp_path / "model.pt")
        loaded = read_checkpoint(checkpoint)
        legacy = _write(
            tmp_path / "legacy.json", json.dumps(original_layout(loaded.spec, loaded.arrays))
        )
        converted = tmp_path / "converted.json"
        assert main(["convert", str(legacy), "-o", str(converted)]) == 0
        assert main(["validate", str(converted)]) == 0
        capsys.readouterr()
        rng = np.random.default_rng(0)
        frames = rng.uniform(-1, 1, (12, loaded.spec.input_size)).astype(np.float32)
        expected = load_backend(checkpoint, "torch").run(frames)
        got = load_backend(converted, "numpy").run(frames)
        np.testing.assert_allclose(got, expected, atol=2e-5, rtol=1e-5)
        assert not np.allclose(expected, 0.0)

    def test_inconsistent_metadata_names_the_source(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        spec = MODEL_SPECS["GroovePredictor"]
        document = original_layout(spec, _arrays(spec))
        document["metadata"]["parameter_count"] = 5  # type: ignore[index]  # test data
        legacy = _write(tmp_path / "legacy.json", json.dumps(document))
        assert main(["convert", str(legacy), "-o", str(tmp_path / "o.json")]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert f"{legacy}: metadata.parameter_count: expected 18656" in line
        assert not (tmp_path / "o.json").exists()

    def test_float32_overflow_after_conversion_names_the_source(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        spec = MODEL_SPECS["MelodyTransformer"]
        arrays = _arrays(spec)
        document = original_layout(spec, arrays)
        lstm = document["layers"][1]  # type: ignore[index]  # test data
        lstm["bias_ih"][0][0] = 3.0e38
        lstm["bias_hh"][0][0] = 3.0e38  # the sum overflows float32
        legacy = _write(tmp_path / "legacy.json", json.dumps(document))
        assert main(["convert", str(legacy), "-o", str(tmp_path / "o.json")]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert line.startswith(f"kelly: error: {legacy}: layers[1]")
        assert not (tmp_path / "o.json").exists()


class TestCheckpoints:
    def _damaged(self, tmp_path: Path) -> Path:
        path = save_checkpoint(build_model("GroovePredictor", seed=0), tmp_path / "ckpt" / "g.pt")
        data = bytearray(path.read_bytes())
        middle = len(data) // 2
        data[middle : middle + 100] = bytes(b ^ 0x5A for b in data[middle : middle + 100])
        path.write_bytes(bytes(data))
        return path

    def test_flipped_bytes_fail_export_and_infer(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = self._damaged(tmp_path)
        with pytest.raises(ExportError, match=r"damaged checkpoint: .*CRC-32"):
            read_checkpoint(path)
        assert main(["export", str(path.parent), "-o", str(tmp_path / "out")]) == 2
        assert "damaged checkpoint" in _one_error_line(capsys.readouterr().err)
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((2, 64), np.float32))
        argv = ["infer", str(path), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main(argv) == 2
        assert "CRC-32" in _one_error_line(capsys.readouterr().err)

    def test_export_ignores_temp_files_of_a_killed_write(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        folder = tmp_path / "ckpt"
        real = save_checkpoint(
            build_model("GroovePredictor", seed=0), folder / "groovepredictor.pt"
        )
        other = save_checkpoint(build_model("GroovePredictor", seed=9), tmp_path / "other.pt")
        # a complete temp file of another model, and a truncated one, as kill -9 leaves them
        dead_pid = 2**22 + 4321
        (folder / f".groovepredictor.pt.{dead_pid}-x1{TEMP_SUFFIX}").write_bytes(other.read_bytes())
        (folder / f".dynamicsengine.pt.{dead_pid}-x2{TEMP_SUFFIX}").write_bytes(b"PK\x03")
        (folder / ".old.pt.abcd1234.tmp.pt").write_bytes(other.read_bytes())  # older Kelly
        assert main(["export", str(folder), "-o", str(tmp_path / "out")]) == 0
        exported = RTNeuralExporter().read(tmp_path / "out" / "groovepredictor.json")
        original = read_checkpoint(real).arrays
        assert all(
            np.array_equal(exported.arrays[k], original[k]) for k in original if "weight" in k
        )
        assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
            "groovepredictor.json",
            "groovepredictor.parity.json",
        ]
        assert not any(p.name.endswith(TEMP_SUFFIX) for p in folder.iterdir())  # stale: removed


class TestOutputPaths:
    @pytest.mark.parametrize(
        "command",
        [
            ["init", "-o", "{file}/sub"],
            ["init", "-o", "{file}"],
            ["export", "{ckpt}", "-o", "{file}"],
            ["convert", "{legacy}", "-o", "{folder}"],
            ["convert", "{legacy}", "-o", "{file}/x.json"],
            ["infer", "{model}", "--input", "{frames}", "-o", "{folder}"],
            ["infer", "{model}", "--input", "{frames}", "-o", "{file}/y.npy"],
            ["train", "--synthetic", "-m", "GroovePredictor", "-e", "1", "-o", "{file}"],
            ["generate", "{frames}", "-o", "{file}/x.mid"],
        ],
    )
    def test_unwritable_output_is_one_line_before_work(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]
    ) -> None:
        plain = _write(tmp_path / "plain.txt", "x")
        folder = tmp_path / "folder"
        folder.mkdir()
        ckpt = tmp_path / "ckpt"
        save_checkpoint(build_model("GroovePredictor", seed=0), ckpt / "groovepredictor.pt")
        spec = MODEL_SPECS["GroovePredictor"]
        legacy = _write(tmp_path / "legacy.json", json.dumps(original_layout(spec, _arrays(spec))))
        model = RTNeuralExporter().export(spec, _arrays(spec), tmp_path / "groovepredictor.json")
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((2, 64), np.float32))
        values = {"file": plain, "folder": folder, "ckpt": ckpt, "legacy": legacy,
                  "model": model, "frames": frames}  # fmt: skip
        argv = [part.format(**values) for part in command]
        before = sorted(p.name for p in tmp_path.rglob("*"))
        assert main(argv) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert str(plain) in line or str(folder) in line
        assert sorted(p.name for p in tmp_path.rglob("*")) == before

    def test_infer_creates_missing_parent_folders(self, tmp_path: Path) -> None:
        spec = MODEL_SPECS["GroovePredictor"]
        model = RTNeuralExporter().export(spec, _arrays(spec), tmp_path / "groovepredictor.json")
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((3, 64), np.float32))
        out = tmp_path / "new" / "dir" / "y.npy"
        assert main(["infer", str(model), "--input", str(frames), "-o", str(out)]) == 0
        assert np.load(out).shape == (3, 32)


class TestCommandLine:
    def test_device_on_a_cpu_backend(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        spec = MODEL_SPECS["GroovePredictor"]
        model = RTNeuralExporter().export(spec, _arrays(spec), tmp_path / "groovepredictor.json")
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((3, 64), np.float32))
        base = ["infer", str(model), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main([*base, "--backend", "numpy", "--device", "cuda"]) == 2
        line = _one_error_line(capsys.readouterr().err)
        assert "backend 'numpy' declares no 'device' option and takes no --device" in line

    @pytest.mark.skipif(
        os.environ.get("CUDA_VISIBLE_DEVICES", "x") != "x", reason="only on CPU-only torch"
    )
    def test_cuda_on_cpu_only_torch(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        import torch

        if torch.cuda.is_available():
            pytest.skip("this torch has CUDA")
        spec = MODEL_SPECS["GroovePredictor"]
        model = RTNeuralExporter().export(spec, _arrays(spec), tmp_path / "groovepredictor.json")
        frames = tmp_path / "x.npy"
        np.save(frames, np.zeros((3, 64), np.float32))
        base = ["infer", str(model), "--input", str(frames), "-o", str(tmp_path / "y.npy")]
        assert main([*base, "--backend", "torch", "--device", "cuda"]) == 2
        assert "backend 'torch' cannot run on --device 'cuda'" in _one_error_line(
            capsys.readouterr().err
        )

    def test_flag_names_in_messages(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        argv = ["train", "--synthetic", "-o", str(tmp_path / "o"), "--epochs", "0"]
        assert main(argv) == 2
        assert "--epochs: expected an integer in 1..10000, got '0'" in _one_error_line(
            capsys.readouterr().err
        )
        assert main(["infer", str(tmp_path), "--input", "x", "-o", str(tmp_path / "y.npy")]) == 2
        assert "is a folder; expected a model file" in _one_error_line(capsys.readouterr().err)
        assert main(["bench", "--models", str(tmp_path / "nope")]) == 2
        assert "no such folder of model files" in _one_error_line(capsys.readouterr().err)

    def test_help_shows_defaults(self, capsys: pytest.CaptureFixture[str]) -> None:
        with pytest.raises(SystemExit):
            main(["init", "--help"])
        out = " ".join(capsys.readouterr().out.split())
        assert "weight initialisation seed, 0..2**64-1 (default 0)" in out
        assert "default None" not in out
        assert "default:" not in out


class TestResumeFallback:
    def test_damaged_newest_step_falls_back_to_the_previous_one(self, tmp_path: Path) -> None:
        import torch

        from kelly_core.errors import KellyWarning
        from kelly_models.training.checkpoint import CheckpointManager

        manager = CheckpointManager(tmp_path, keep_last=3)
        for step in (1, 2):
            manager.save(
                {"module": {"w": torch.full((64, 64), float(step))}, "step": step}, step=step
            )
        newest = manager.checkpoints()[-1]
        data = bytearray(newest.read_bytes())
        middle = len(data) // 2
        data[middle : middle + 100] = bytes(b ^ 0x5A for b in data[middle : middle + 100])
        newest.write_bytes(bytes(data))
        with pytest.warns(KellyWarning, match=r"skipping damaged checkpoint.*step-00000002\.pt"):
            found = manager.load_latest()
        assert found is not None
        path, state = found
        assert path.name == "step-00000001.pt"
        assert state["step"] == 1

    def test_stale_temp_files_are_removed_when_a_run_starts(self, tmp_path: Path) -> None:
        from kelly_models.training.checkpoint import CheckpointManager

        stale = tmp_path / f".step-00000003.pt.{2**22 + 99}-zz{TEMP_SUFFIX}"
        stale.write_bytes(b"")
        manager = CheckpointManager(tmp_path)
        assert not stale.exists()
        assert manager.checkpoints() == []


class EinsumBackend:
    """A third party's backend: exactly the ``Backend`` protocol, no ``spec`` attribute."""

    def __init__(self) -> None:
        self._layers: list[tuple[np.ndarray, np.ndarray, str]] = []

    def load(self, spec: ModelSpec, arrays: Mapping[str, np.ndarray]) -> None:
        self._layers = [
            (arrays[f"layers.{i}.weight"], arrays[f"layers.{i}.bias"], layer.activation)
            for i, layer in enumerate(spec.layers)
        ]

    def step(self, frame: np.ndarray) -> np.ndarray:
        x = frame
        for weight, bias, activation in self._layers:
            x = np.einsum("oi,i->o", weight, x) + bias
            x = np.tanh(x) if activation == "tanh" else x
        return x.astype(np.float32)

    def run(self, frames: np.ndarray) -> np.ndarray:
        return np.stack([self.step(f) for f in frames])

    def reset(self) -> None:
        return None


class _EinsumPlugin:
    """Registers :class:`EinsumBackend` as backend ``einsum``."""

    @staticmethod
    @hookimpl
    def kelly_backends() -> list[BackendEntry]:
        return [
            BackendEntry(
                name="einsum", factory="tests.integration.test_hardening_models:EinsumBackend"
            )
        ]


def test_third_party_backend_with_only_the_protocol_runs_in_infer(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib

    from kelly_core.registry import Registry
    from kelly_runtime import commands

    own = [importlib.import_module(m) for m in ("kelly_export.plugin", "kelly_runtime.plugin")]
    registry = Registry(plugins=[*own, _EinsumPlugin()])
    monkeypatch.setattr(commands, "default_registry", lambda: registry)
    spec = MODEL_SPECS["GroovePredictor"]
    arrays = _arrays(spec)
    model = RTNeuralExporter().export(spec, arrays, tmp_path / "groovepredictor.json")
    frames = np.random.default_rng(2).uniform(-1, 1, (4, 64)).astype(np.float32)
    np.save(tmp_path / "x.npy", frames)
    out = tmp_path / "y.npy"
    argv = ["--backend", "einsum", "--input", str(tmp_path / "x.npy"), "-o", str(out)]
    parser = argparse.ArgumentParser()
    commands.InferCommand().configure(parser)
    assert commands.InferCommand().run(parser.parse_args([str(model), *argv])) == 0
    expected = load_backend(model, "numpy").run(frames)
    np.testing.assert_allclose(np.load(out), expected, atol=1e-5)


def test_bench_times_a_stage_whose_file_is_broken_with_fresh_weights(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    """bench --models: a malformed file is one warning line; the other stages keep theirs."""
    folder = tmp_path / "models"
    exporter = RTNeuralExporter()
    for name in MODEL_NAMES:
        spec = MODEL_SPECS[name]
        exporter.export(spec, _arrays(spec), folder / f"{spec.file_stem}.json")
    broken = _write(folder / "harmonypredictor.json", "[" * 100_000)
    argv = ["bench", "--models", str(folder), "--backend", "numpy", "--steps", "20"]
    assert main([*argv, "--warmup", "2", "--no-baseline", "--no-async"]) == 0
    captured = capsys.readouterr()
    warning = [r.getMessage() for r in caplog.records if "HarmonyPredictor" in r.getMessage()]
    assert len(warning) == 1
    assert str(broken) in warning[0]
    assert "freshly initialised" in warning[0]
    assert "freshly initialised for HarmonyPredictor" in captured.out
