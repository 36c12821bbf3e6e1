"""Tests for kelly_export.check and validate: each malformed file gets its own message."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_export.check import check_document, infer_spec, numeric_array
from kelly_export.problems import Problem
from kelly_export.validate import validate_document, validate_file
from tests.unit.kelly_export.helpers import small_document, write_json


def _layer(document: dict[str, object], index: int) -> dict[str, object]:
    layers = document["layers"]
    assert isinstance(layers, list)
    layer = layers[index]
    assert isinstance(layer, dict)
    return layer


def _weights(document: dict[str, object], index: int) -> list[object]:
    weights = _layer(document, index)["weights"]
    assert isinstance(weights, list)
    return weights


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, [str(p) for p in problems]
    return problems[0]


class TestValid:
    @pytest.mark.parametrize("name", list(MODEL_SPECS))
    def test_valid_document_has_no_problems(self, name: str) -> None:
        """A freshly exported document passes schema and checks."""
        assert validate_document(small_document(name)) == []


class TestRejections:
    def test_unknown_activation(self) -> None:
        """'linear' (which crashes RTNeural) is rejected at the layer's activation."""
        document = small_document("GroovePredictor")
        _layer(document, 0)["activation"] = "linear"
        problems = validate_document(document)
        assert [p.field for p in problems] == ["layers[0].activation"]
        assert problems[0].reason == (
            "expected one of '', 'tanh', 'relu', 'sigmoid', 'softmax', 'elu', got 'linear'"
        )

    def test_transposed_kernel(self) -> None:
        """A PyTorch-layout (OUT×IN) kernel is reported as transposed."""
        document = small_document("DynamicsEngine")
        weights = _weights(document, 0)
        kernel = weights[0]
        assert isinstance(kernel, list)
        weights[0] = [list(column) for column in zip(*kernel, strict=True)]
        problem = _only(validate_document(document))
        assert problem.field == "layers[0].weights[0]"
        assert "kernel is transposed" in problem.reason
        assert problem.expected == (32, 128)
        assert problem.got == (128, 32)

    def test_wrong_in_shape(self) -> None:
        """An in_shape that is not the model's input size is rejected at in_shape."""
        document = small_document("HarmonyPredictor")
        document["in_shape"] = [None, None, 64]
        problems = validate_document(document)
        assert "in_shape" in [p.field for p in problems]
        in_shape = next(p for p in problems if p.field == "in_shape")
        assert "expected [null, null, 128]" in in_shape.reason

    def test_short_bias(self) -> None:
        """A bias one value short is rejected with the expected length."""
        document = small_document("DynamicsEngine")
        bias = _weights(document, 1)[1]
        assert isinstance(bias, list)
        bias.pop()
        problem = _only(validate_document(document))
        assert problem.field == "layers[1].weights[1]"
        assert problem.reason == "expected 64 values (dense bias), got 63"

    def test_three_gate_lstm(self) -> None:
        """An LSTM with 3 gate blocks is rejected as such."""
        document = small_document("EmotionRecognizer")
        weights = _weights(document, 2)
        hidden = 128
        weights[0] = [row[: 3 * hidden] for row in weights[0]]  # type: ignore[attr-defined]
        weights[1] = [row[: 3 * hidden] for row in weights[1]]  # type: ignore[attr-defined]
        weights[2] = weights[2][: 3 * hidden]  # type: ignore[index]
        problems = validate_document(document)
        fields = {p.field: p.reason for p in problems}
        assert "expected 4 gate blocks (i, f, c, o)" in fields["layers[2].weights[0]"]
        assert "(3 gates)" in fields["layers[2].weights[1]"]

    def test_missing_shape(self) -> None:
        """A layer without shape is a schema error at that layer."""
        document = small_document("GroovePredictor")
        del _layer(document, 1)["shape"]
        problems = validate_document(document)
        assert [(p.field, p.reason) for p in problems] == [
            ("layers[1]", "'shape' is a required property")
        ]

    def test_nan_token(self, tmp_path: Path) -> None:
        """Python's default json writes NaN as a bare token; the value's path is reported."""
        document = small_document("DynamicsEngine")
        _weights(document, 2)[1][3] = float("nan")  # type: ignore[index]
        path = write_json(tmp_path / "nan.json", document)
        assert "NaN" in path.read_text()
        problem = _only(validate_file(path))
        assert problem.path == path
        assert problem.field == "layers[2].weights[1][3]"
        assert "expected a finite number, got nan" in problem.reason

    def test_huge_number_overflows_to_inf(self, tmp_path: Path) -> None:
        """A number too large for a double parses as inf and is reported."""
        document = small_document("DynamicsEngine")
        path = write_json(tmp_path / "huge.json", document)
        text = path.read_text()
        first = str(_weights(document, 0)[0][0][0])  # type: ignore[index]
        path.write_text(text.replace(first, "1e999", 1))
        problem = _only(validate_file(path))
        assert problem.field == "layers[0].weights[0][0][0]"
        assert "got inf" in problem.reason

    def test_sizes_do_not_chain(self) -> None:
        """A layer whose kernel rows differ from the previous layer's size is reported."""
        document = small_document("GroovePredictor")
        spec_free = {"in_shape": document["in_shape"], "layers": document["layers"]}
        _layer(spec_free, 0)["shape"] = [None, None, 100]
        _weights(spec_free, 0)[0] = [row[:100] for row in _weights(spec_free, 0)[0]]  # type: ignore[attr-defined]
        _weights(spec_free, 0)[1] = _weights(spec_free, 0)[1][:100]  # type: ignore[index]
        problems = check_document(spec_free)
        fields = {p.field: p.reason for p in problems}
        assert "the layer sizes do not chain" in fields["layers[1].weights[0]"]
        assert "matches no known model" in fields["metadata.spec"]

    def test_metadata_count_mismatch(self) -> None:
        """A metadata parameter count that disagrees with the spec is reported."""
        document = small_document("DynamicsEngine")
        meta = document["metadata"]
        assert isinstance(meta, dict)
        meta["parameter_count"] = 1
        problem = _only(validate_document(document))
        assert problem.field == "metadata.parameter_count"
        assert problem.expected == 13520

    def test_not_json(self, tmp_path: Path) -> None:
        """A file that is not JSON gives one problem with line and column."""
        path = tmp_path / "broken.json"
        path.write_text('{"in_shape": [')
        problem = _only(validate_file(path))
        assert "not JSON" in problem.reason
        assert "line 1" in problem.reason


class TestHelpers:
    def test_numeric_array_refuses_bools_and_strings(self) -> None:
        """Only JSON numbers count: booleans and numeric strings do not."""
        assert numeric_array([1, 2.5]) is not None
        assert numeric_array([True, 1.0]) is None
        assert numeric_array(["1.0"]) is None
        assert numeric_array([[1.0], [1.0, 2.0]]) is None

    def test_infer_spec(self) -> None:
        """A catalog model's document without metadata is matched to it."""
        document = small_document("MelodyTransformer")
        del document["metadata"]
        assert infer_spec(document) == MODEL_SPECS["MelodyTransformer"]


class TestDenseColumns:
    """A dense kernel with the right rows and a wrong column count: RTNeural would zero-fill
    the missing columns, so it is invalid (each dense layer of each catalog model)."""

    @pytest.mark.parametrize(
        ("name", "index"),
        [
            (name, index)
            for name, spec in MODEL_SPECS.items()
            for index, layer in enumerate(spec.layers)
            if layer.kind == "dense"
        ],
    )
    @pytest.mark.parametrize("delta", [-1, 1])
    def test_wrong_column_count(self, name: str, index: int, delta: int) -> None:
        document = small_document(name)
        weights = _weights(document, index)
        kernel = weights[0]
        assert isinstance(kernel, list)
        rows, cols = len(kernel), len(kernel[0])
        weights[0] = [row[:-1] if delta < 0 else [*row, 0.5] for row in kernel]
        problem = _only(validate_document(document))
        assert problem.field == f"layers[{index}].weights[0]"
        assert problem.expected == (rows, cols)
        assert problem.got == (rows, cols + delta)
        assert f"{cols} columns (the layer's size) expected, got {cols + delta}" in problem.reason

    def test_one_short_row(self) -> None:
        """Only one row cut: the array is ragged; the row is named."""
        document = small_document("DynamicsEngine")
        kernel = _weights(document, 1)[0]
        assert isinstance(kernel, list)
        kernel[7] = kernel[7][:-1]
        problem = _only(validate_document(document))
        assert problem.field == "layers[1].weights[0][7]"
        assert problem.reason == "expected 64 values (dense kernel columns), got 63"


class TestElementTypes:
    def test_bool_among_numbers_is_found_on_the_array(self) -> None:
        """A boolean can hide only where the array is exactly 0 or 1; both are looked at."""
        assert numeric_array([[0.5, True], [1.0, 0.0]]) is None
        assert numeric_array([0.0, False]) is None
        array = numeric_array([[0.5, 1], [1.0, 0.0]])
        assert array is not None
        assert array.tolist() == [[0.5, 1.0], [1.0, 0.0]]
        assert numeric_array([10**400]) is None
        assert numeric_array([[1.0], [1.0, 2.0]]) is None
        assert numeric_array([[[1.0]]]) is None


class TestHugeIntegers:
    def test_python_caller_integers_beyond_float32(self) -> None:
        """A document built in Python may hold ``10**4500``: a problem, not a traceback."""
        document = small_document("DynamicsEngine")
        _weights(document, 0)[1][4] = 10**4500  # type: ignore[index]  # test data
        problem = _only(validate_document(document))
        assert problem.field == "layers[0].weights[1][4]"
        assert problem.reason == (
            "expected a finite float32 number, got an integer of about 4501 digits"
        )
