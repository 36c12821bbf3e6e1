"""Tests for kelly_models.checkpoint_format: the ``checkpoint`` (.pt) model-file format."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from kelly_core.errors import ExportError
from kelly_core.interfaces import Exporter
from kelly_core.registry import Registry
from kelly_models import plugin
from kelly_models.build import build_model
from kelly_models.checkpoint_format import (
    CheckpointExporter,
    load_checkpoint,
    read_checkpoint,
    save_checkpoint,
)


class TestCheckpoint:
    def test_registered_under_checkpoint(self) -> None:
        """The plugin registers the format by name and by suffix."""
        registry = Registry(plugins=[plugin])
        assert isinstance(registry.exporter("checkpoint"), Exporter)
        assert isinstance(registry.exporter_for(Path("x.pt")), CheckpointExporter)

    def test_file_layout_loads_with_weights_only(self, tmp_path: Path) -> None:
        """The file is a plain dict torch.load(weights_only=True) reads."""
        model = build_model("DynamicsEngine", seed=0)
        path = save_checkpoint(model, tmp_path / "d.pt", metadata={"seed": 0})
        raw = torch.load(path, weights_only=True)
        assert raw["model"] == "DynamicsEngine"
        assert raw["spec"] == model.spec.to_dict()
        assert set(raw["state_dict"]) == set(model.state_dict())
        assert raw["metadata"] == {"seed": 0}
        assert isinstance(raw["kelly_version"], str)

    def test_export_read_round_trip(self, tmp_path: Path) -> None:
        """Exported arrays read back identical, in state-array layout."""
        model = build_model("EmotionRecognizer", seed=3)
        arrays = model.state_arrays()
        exporter = CheckpointExporter()
        path = exporter.export(model.spec, arrays, tmp_path / "e.pt")
        loaded = exporter.read(path)
        assert loaded.spec == model.spec
        assert list(loaded.arrays) == list(model.spec.array_shapes())
        assert all(np.array_equal(loaded.arrays[k], arrays[k]) for k in arrays)
        assert exporter.check(path) == []
        reloaded = load_checkpoint(path)
        x = torch.randn(1, 4, 128)
        with torch.no_grad():
            torch.testing.assert_close(reloaded(x), model(x))

    def test_export_refuses_non_finite(self, tmp_path: Path) -> None:
        """A NaN weight is refused and nothing is written."""
        model = build_model("GroovePredictor", seed=0)
        arrays = model.state_arrays()
        arrays["layers.1.bias"][0] = np.nan
        with pytest.raises(ExportError, match="finite"):
            CheckpointExporter().export(model.spec, arrays, tmp_path / "g.pt")
        assert not (tmp_path / "g.pt").exists()

    def test_check_reports_a_foreign_file(self, tmp_path: Path) -> None:
        """A file that is not a checkpoint gives one problem naming the file."""
        path = tmp_path / "junk.pt"
        path.write_bytes(b"not a checkpoint")
        problems = CheckpointExporter().check(path)
        assert len(problems) == 1
        assert str(path) in problems[0]

    def test_read_refuses_a_wrong_shape(self, tmp_path: Path) -> None:
        """A state_dict entry of the wrong shape is an ExportError naming the key."""
        model = build_model("DynamicsEngine", seed=0)
        state = model.state_dict()
        state["layers.0.weight"] = state["layers.0.weight"].T.contiguous()
        path = tmp_path / "bad.pt"
        torch.save(
            {
                "model": "DynamicsEngine",
                "spec": model.spec.to_dict(),
                "state_dict": state,
                "kelly_version": "0",
            },
            path,
        )
        with pytest.raises(ExportError) as info:
            read_checkpoint(path)
        assert info.value.field == "state_dict.layers.0.weight"

    def test_read_names_a_bad_spec_field_once_with_expected(self, tmp_path: Path) -> None:
        """A layer size written as a string: ``spec.layers[0].size``, expected ``int``;
        a spec without ``layers``: the field is ``spec``, never ``spec.`` or ``spec.None``."""
        model = build_model("DynamicsEngine", seed=0)
        spec = model.spec.to_dict()
        layers = [dict(layer) for layer in spec["layers"]]  # type: ignore[attr-defined]
        layers[0]["size"] = str(layers[0]["size"])
        path = tmp_path / "bad.pt"
        torch.save({"model": "DynamicsEngine", "spec": {**spec, "layers": layers},
                    "state_dict": model.state_dict(), "kelly_version": "0"}, path)  # fmt: skip
        with pytest.raises(ExportError) as info:
            read_checkpoint(path)
        assert (info.value.field, info.value.expected) == ("spec.layers[0].size", "int")
        assert info.value.path == path
        del spec["layers"]
        torch.save({"model": "DynamicsEngine", "spec": spec,
                    "state_dict": model.state_dict(), "kelly_version": "0"}, path)  # fmt: skip
        with pytest.raises(ExportError) as info:
            read_checkpoint(path)
        assert (info.value.field, info.value.expected) == ("spec", "layers")


class TestTrainingCheckpoint:
    """A training checkpoint (``checkpoints/<stem>/*.pt``) is refused in one line that
    names the model file to use instead."""

    @staticmethod
    def _training_file(folder: Path, name: str) -> Path:
        folder.mkdir(parents=True)
        path = folder / name
        module = build_model("DynamicsEngine", seed=0).state_dict()
        torch.save({"module": module, "epoch": 3}, path)
        return path

    def test_names_the_exported_file_of_the_run(self, tmp_path: Path) -> None:
        run = tmp_path / "run"
        path = self._training_file(run / "checkpoints" / "dynamicsengine", "best.pt")
        (run / "dynamicsengine.parity.json").write_text("{}")
        (run / "dynamicsengine.json").write_text("{}")
        with pytest.raises(ExportError) as caught:
            read_checkpoint(path)
        assert caught.value.field == "module"
        message = str(caught.value)
        assert "a training checkpoint" in message
        assert message.endswith(str(run / "dynamicsengine.json"))
        assert "\n" not in message

    def test_names_the_run_when_nothing_was_exported(self, tmp_path: Path) -> None:
        run = tmp_path / "run"
        path = self._training_file(run / "checkpoints" / "dynamicsengine", "step-00000010.pt")
        with pytest.raises(ExportError, match=r"into .*run$"):
            read_checkpoint(path)

    def test_elsewhere_it_says_what_it_is(self, tmp_path: Path) -> None:
        path = self._training_file(tmp_path / "loose", "weights.pt")
        with pytest.raises(ExportError, match=r"use the model file kelly train exported$"):
            read_checkpoint(path)
        assert CheckpointExporter().check(path) == [
            f"{path}: module: a training checkpoint (the state kelly train resumes from), "
            "not a model file; use the model file kelly train exported"
        ]
