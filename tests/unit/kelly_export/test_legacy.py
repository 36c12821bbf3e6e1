"""Tests for kelly_export.legacy: reading the original design's layout, refusing ambiguity."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.cli import main
from kelly_core.errors import ExportError
from kelly_export.legacy import read_legacy
from kelly_export.rtneural import RTNeuralExporter
from tests.unit.kelly_export.helpers import legacy_document, random_arrays, write_json


def _layers(document: dict[str, object]) -> list[dict[str, object]]:
    layers = document["layers"]
    assert isinstance(layers, list)
    return layers


class TestReadLegacy:
    @pytest.mark.parametrize("name", MODEL_NAMES)
    def test_reads_back_the_torch_arrays(self, name: str) -> None:
        """Every model in the legacy layout reads back to its exact state arrays."""
        spec = MODEL_SPECS[name]
        arrays = random_arrays(spec, seed=5)
        loaded = read_legacy(legacy_document(spec, arrays), weights_layout="out_in")
        assert loaded.spec == spec
        for key, array in arrays.items():
            np.testing.assert_array_equal(loaded.arrays[key], array)

    def test_convert_round_trip_keeps_arrays(self, tmp_path: Path) -> None:
        """Legacy -> RTNeural file -> read gives the same weights (LSTM bias summed)."""
        spec = MODEL_SPECS["EmotionRecognizer"]
        arrays = random_arrays(spec, seed=2)
        loaded = read_legacy(write_json(tmp_path / "l.json", legacy_document(spec, arrays)))
        exporter = RTNeuralExporter()
        back = exporter.read(exporter.export(loaded.spec, loaded.arrays, tmp_path / "n.json"))
        np.testing.assert_array_equal(back.arrays["layers.0.weight"], arrays["layers.0.weight"])
        np.testing.assert_allclose(
            back.arrays["layers.2.bias_ih"],
            arrays["layers.2.bias_ih"] + arrays["layers.2.bias_hh"],
            rtol=1e-6,
        )

    def test_in_out_dense_weights_by_shape(self) -> None:
        """A non-square dense weight written IN×OUT is recognised by its shape."""
        spec = MODEL_SPECS["DynamicsEngine"]
        arrays = random_arrays(spec)
        document = legacy_document(spec, arrays)
        _layers(document)[0]["weights"] = arrays["layers.0.weight"].T.tolist()
        loaded = read_legacy(document)
        np.testing.assert_array_equal(loaded.arrays["layers.0.weight"], arrays["layers.0.weight"])

    def test_linear_activation_becomes_empty(self) -> None:
        """The legacy 'linear' activation (which crashes RTNeural) is converted to ''."""
        spec = MODEL_SPECS["DynamicsEngine"]
        document = legacy_document(spec, random_arrays(spec), model_name=False)
        _layers(document)[2]["activation"] = "linear"
        loaded = read_legacy(document, name="Dynamics")
        assert loaded.spec.layers[2].activation == ""
        assert loaded.spec.name == "Dynamics"


class TestRefusals:
    def _melody(self) -> dict[str, object]:
        spec = MODEL_SPECS["MelodyTransformer"]
        return legacy_document(spec, random_arrays(spec))

    def test_square_dense_without_claim(self) -> None:
        """MelodyTransformer's 256×256 dense weight needs a stated orientation."""
        with pytest.raises(ExportError, match="square 256×256 weight") as info:
            read_legacy(self._melody())
        assert info.value.field == "layers[2].weights"

    def test_square_dense_with_file_claim(self) -> None:
        """A weights_layout key in the file settles the orientation."""
        document = self._melody()
        document["weights_layout"] = "out_in"
        assert read_legacy(document).spec == MODEL_SPECS["MelodyTransformer"]

    def test_claim_contradicting_shape(self) -> None:
        """A claim that contradicts a non-square shape is refused."""
        document = self._melody()
        _layers(document)[0]["weights_layout"] = "in_out"
        with pytest.raises(ExportError, match="weights_layout says 'in_out'"):
            read_legacy(document, weights_layout="out_in")

    def test_mismatched_sizes(self) -> None:
        """A layer whose in_size does not chain is refused."""
        document = self._melody()
        _layers(document)[3]["in_size"] = 128
        with pytest.raises(ExportError, match="do not chain") as info:
            read_legacy(document, weights_layout="out_in")
        assert info.value.field == "layers[3].in_size"

    def test_unknown_keys(self) -> None:
        """Unknown keys are refused, with the accepted ones listed."""
        document = self._melody()
        _layers(document)[1]["peephole"] = True
        with pytest.raises(ExportError, match=r"unknown keys \['peephole'\]"):
            read_legacy(document, weights_layout="out_in")

    def test_three_gate_arrays(self) -> None:
        """An LSTM with three gate arrays is refused."""
        document = self._melody()
        gates = _layers(document)[1]["weights_ih"]
        assert isinstance(gates, list)
        gates.pop()
        with pytest.raises(ExportError, match="expected four gate arrays"):
            read_legacy(document, weights_layout="out_in")

    def test_transposed_gate(self) -> None:
        """A gate weight given IN×H instead of H×IN is refused with a hint."""
        spec = MODEL_SPECS["EmotionRecognizer"]
        document = legacy_document(spec, random_arrays(spec))
        gates = copy.deepcopy(_layers(document)[2]["weights_ih"])
        assert isinstance(gates, list)
        gates[1] = np.asarray(gates[1]).T.tolist()
        _layers(document)[2]["weights_ih"] = gates
        with pytest.raises(ExportError, match="transposed"):
            read_legacy(document)

    def test_rtneural_file_is_not_legacy(self) -> None:
        """An RTNeural file is refused with a pointer to validate."""
        with pytest.raises(ExportError, match="already an RTNeural file"):
            read_legacy({"in_shape": [None, None, 3], "layers": []})

    def test_unknown_model_without_name(self) -> None:
        """A layer table matching no model and no name is refused."""
        spec = MODEL_SPECS["DynamicsEngine"]
        document = legacy_document(spec, random_arrays(spec), model_name=False)
        _layers(document)[2]["activation"] = "tanh"
        with pytest.raises(ExportError, match="pass --name"):
            read_legacy(document)


ORIGINAL = Path(__file__).parent / "data" / "original_layout.json"
"""A small model written in the original design text's layout as that text shows it:
``"framework": "PyTorch"``, ``"export_version": "2.0"`` (a string), OUT×IN dense weights,
four gate arrays per LSTM matrix and bias, sizes only in the layers and the metadata."""


def _original() -> dict[str, object]:
    document = json.loads(ORIGINAL.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


class TestOriginalDesignText:
    def test_converts_as_written(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """kelly convert reads the layout verbatim (version string included); the RTNeural
        file it writes validates and holds the same weights, the LSTM biases summed."""
        out = tmp_path / "tiny.json"
        assert main(["convert", str(ORIGINAL), "-o", str(out)]) == 0
        assert main(["validate", str(out)]) == 0
        assert "ok  " in capsys.readouterr().out
        loaded = RTNeuralExporter().read(out)
        assert loaded.spec.name == "TinyDesign"
        assert loaded.spec.parameter_count == 71
        layers = _layers(_original())
        dense, lstm = layers[0], layers[1]
        np.testing.assert_array_equal(
            loaded.arrays["layers.0.weight"], np.asarray(dense["weights"], np.float32)
        )
        np.testing.assert_array_equal(
            loaded.arrays["layers.1.weight_ih"],
            np.concatenate(np.asarray(lstm["weights_ih"], np.float32)),
        )
        summed = np.concatenate(np.asarray(lstm["bias_ih"], np.float32)) + np.concatenate(
            np.asarray(lstm["bias_hh"], np.float32)
        )
        np.testing.assert_allclose(loaded.arrays["layers.1.bias_ih"], summed, rtol=1e-6)

    @pytest.mark.parametrize("version", ["2.0", "1", "v1.2.3", 2, 2.0, 1.5])
    def test_version_forms(self, version: object) -> None:
        """A version is a number or a version string, as design texts write it."""
        document = _original()
        document["metadata"]["export_version"] = version  # type: ignore[index]  # test data
        assert read_legacy(document).spec.name == "TinyDesign"

    @pytest.mark.parametrize("version", ["two", "", -1, True, [2], float("nan")])
    def test_version_that_is_no_version(self, version: object) -> None:
        """Anything else is refused naming the field."""
        document = _original()
        document["metadata"]["export_version"] = version  # type: ignore[index]  # test data
        with pytest.raises(ExportError, match="expected a version") as info:
            read_legacy(document)
        assert info.value.field == "metadata.export_version"

    def test_whole_float_counts(self) -> None:
        """parameter_count written as 71.0 is the count 71; 70.5 is refused."""
        document = _original()
        document["metadata"]["parameter_count"] = 71.0  # type: ignore[index]  # test data
        assert read_legacy(document).spec.parameter_count == 71
        document["metadata"]["parameter_count"] = 70.5  # type: ignore[index]  # test data
        with pytest.raises(ExportError, match="non-negative integer"):
            read_legacy(document)
