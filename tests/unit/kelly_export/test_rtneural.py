"""Tests for kelly_export.rtneural: documents, files, metadata and read-back."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.encodings.tonal import KEY_RELATIVE_MODELS
from kelly_core.errors import ExportError
from kelly_core.interfaces import Exporter
from kelly_core.registry import Registry
from kelly_core.specs import ModelSpec
from kelly_export import plugin
from kelly_export.metadata import METADATA_KEYS
from kelly_export.rtneural import RTNeuralExporter, to_document
from tests.strategies import model_specs
from tests.unit.kelly_export.helpers import random_arrays


def _stored(document: dict[str, object]) -> int:
    layers = document["layers"]
    assert isinstance(layers, list)
    return sum(int(np.asarray(w).size) for layer in layers for w in layer["weights"])


class TestExportRead:
    @settings(suppress_health_check=[HealthCheck.function_scoped_fixture])
    @given(model_specs(max_size=32))
    def test_round_trip_same_arrays(self, tmp_path: Path, spec: ModelSpec) -> None:
        """Export then read gives the same arrays (transposes exact, LSTM bias summed)."""
        arrays = random_arrays(spec, seed=spec.input_size)
        exporter = RTNeuralExporter()
        path = exporter.export(spec, arrays, tmp_path / f"{spec.file_stem}.json")
        loaded = exporter.read(path)
        assert loaded.spec == spec
        assert list(loaded.arrays) == list(spec.array_shapes())
        for name, array in arrays.items():
            if name.endswith("bias_ih"):
                summed = array + arrays[name.replace("bias_ih", "bias_hh")]
                np.testing.assert_allclose(loaded.arrays[name], summed, rtol=1e-6, atol=1e-7)
            elif name.endswith("bias_hh"):
                assert not loaded.arrays[name].any()
            else:
                np.testing.assert_array_equal(loaded.arrays[name], array)
        document = json.loads(path.read_text())
        assert _stored(document) == spec.stored_parameter_count
        assert ModelSpec.from_dict(document["metadata"]["spec"]) == spec
        assert exporter.check(path) == []

    @pytest.mark.parametrize("name", MODEL_NAMES)
    def test_catalog_file_layout(self, name: str, tmp_path: Path) -> None:
        """A catalog model's file has §6's keys, shapes and metadata."""
        spec = MODEL_SPECS[name]
        path = RTNeuralExporter().export(spec, random_arrays(spec), tmp_path)
        assert path.name == f"{name.lower()}.json"
        document = json.loads(path.read_text())
        assert document["in_shape"] == [None, None, spec.input_size]
        for raw, layer in zip(document["layers"], spec.layers, strict=True):
            assert raw["type"] == layer.kind
            assert raw["shape"] == [None, None, layer.size]
            assert raw["activation"] == layer.activation
        meta = document["metadata"]
        assert set(METADATA_KEYS) <= set(meta)
        assert meta["parameter_count"] == spec.parameter_count
        assert meta["stored_parameter_count"] == spec.stored_parameter_count == _stored(document)
        assert meta["memory_bytes"] == 4 * spec.parameter_count
        assert meta["spec_hash"] == spec.spec_hash

    def test_refuses_non_finite_and_writes_nothing(self, tmp_path: Path) -> None:
        """A NaN weight is an ExportError naming the array; no file appears."""
        spec = MODEL_SPECS["DynamicsEngine"]
        arrays = random_arrays(spec)
        arrays["layers.2.weight"][1, 1] = np.inf
        with pytest.raises(ExportError) as info:
            RTNeuralExporter().export(spec, arrays, tmp_path / "d.json")
        assert info.value.field == "layers.2.weight"
        assert list(tmp_path.iterdir()) == []

    def test_refuses_wrong_shape(self) -> None:
        """Arrays of the wrong shape are refused before conversion."""
        spec = MODEL_SPECS["GroovePredictor"]
        arrays = random_arrays(spec)
        arrays["layers.0.weight"] = arrays["layers.0.weight"].T
        with pytest.raises(ExportError, match="expected shape"):
            to_document(spec, arrays)

    def test_metadata_extras_kept_and_contradictions_refused(self) -> None:
        """Extra metadata is kept; a contradicting core key is refused."""
        spec = MODEL_SPECS["DynamicsEngine"]
        document = to_document(spec, random_arrays(spec), metadata={"seed": 3})
        assert document["metadata"]["seed"] == 3  # type: ignore[index]
        with pytest.raises(ExportError) as info:
            to_document(spec, random_arrays(spec), metadata={"parameter_count": 1})
        assert info.value.field == "metadata.parameter_count"

    def test_tonal_reference_written(self) -> None:
        """Key-relative models say "tonic", others "absolute"; a caller's value is kept."""
        for name in MODEL_NAMES:
            spec = MODEL_SPECS[name]
            meta = to_document(spec, random_arrays(spec))["metadata"]
            expected = "tonic" if name in KEY_RELATIVE_MODELS else "absolute"
            assert meta["tonal_reference"] == expected  # type: ignore[index]
        spec = MODEL_SPECS["HarmonyPredictor"]
        absolute = to_document(spec, random_arrays(spec), metadata={"tonal_reference": "absolute"})
        assert absolute["metadata"]["tonal_reference"] == "absolute"  # type: ignore[index]
        with pytest.raises(ExportError) as info:
            to_document(spec, random_arrays(spec), metadata={"tonal_reference": "C"})
        assert info.value.field == "metadata.tonal_reference"

    def test_read_without_metadata_infers_the_spec(self, tmp_path: Path) -> None:
        """A file without metadata is matched to a catalog model by its layer table."""
        spec = MODEL_SPECS["HarmonyPredictor"]
        document = to_document(spec, random_arrays(spec))
        del document["metadata"]
        path = tmp_path / "h.json"
        path.write_text(json.dumps(document))
        assert RTNeuralExporter().read(path).spec == spec

    def test_read_refuses_invalid_file(self, tmp_path: Path) -> None:
        """Reading an invalid file raises ExportError naming the JSON path."""
        spec = MODEL_SPECS["DynamicsEngine"]
        document = to_document(spec, random_arrays(spec))
        document["layers"][1]["weights"][1] = [0.0]  # type: ignore[index]
        path = tmp_path / "d.json"
        path.write_text(json.dumps(document))
        with pytest.raises(ExportError) as info:
            RTNeuralExporter().read(path)
        assert info.value.field == "layers[1].weights[1]"


class TestPlugin:
    def test_registered(self) -> None:
        """The plugin registers 'rtneural' for *.json and the two commands."""
        registry = Registry(plugins=[plugin])
        assert isinstance(registry.exporter("rtneural"), Exporter)
        assert isinstance(registry.exporter_for(Path("m.json")), RTNeuralExporter)
        assert set(registry.names("command")) == {"validate", "convert", "cpp"}
