"""Compact model files: weights rounded to a few decimals, parity vectors of the rounded
weights, a valid RTNeural file that the runtime loads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError
from kelly_export.compact import compact_model_file, round_weights
from kelly_export.parity import parity_inputs, reference_outputs
from kelly_export.rtneural import RTNeuralExporter
from kelly_export.validate import validate_file
from kelly_runtime.loading import load_backend
from tests.unit.kelly_export.helpers import random_arrays

_NUMBER = re.compile(r"-?\d+\.?\d*(?:[eE][-+]?\d+)?")


@pytest.fixture
def groove(tmp_path: Path) -> Path:
    spec = MODEL_SPECS["GroovePredictor"]
    return RTNeuralExporter().export(spec, random_arrays(spec, 3), tmp_path / "full")


def _weights(path: Path) -> list[list[np.ndarray]]:
    doc = json.loads(path.read_text())
    return [[np.asarray(w, dtype=np.float32) for w in layer["weights"]] for layer in doc["layers"]]


@given(
    arrays(np.float32, st.integers(1, 40), elements=st.floats(-4, 4, width=32)),
    st.integers(1, 6),
)
def test_round_weights_is_the_nearest_value_with_that_many_decimals(
    values: np.ndarray, decimals: int
) -> None:
    rounded = round_weights(values, decimals)
    assert rounded.dtype == np.float32
    step = 10.0**-decimals
    assert np.all(np.abs(rounded.astype(np.float64) - values) <= step / 2 + 1e-6)
    assert not np.any(np.signbit(rounded) & (rounded == 0))  # no "-0.0"
    for text in rounded.astype(str):  # the shortest float32 text has <= decimals places
        assert len(text.split(".")[1]) <= decimals if "e" not in text else True


def test_compact_file_is_smaller_valid_and_its_parity_is_its_own(
    groove: Path, tmp_path: Path
) -> None:
    target = tmp_path / "small" / "groovepredictor.json"
    report = compact_model_file(groove, target, decimals=3)
    assert report.path == target
    assert report.model_name == "GroovePredictor"
    assert report.bytes_after == target.stat().st_size < 0.7 * report.bytes_before
    assert validate_file(target) == []
    spec = MODEL_SPECS["GroovePredictor"]
    full, small = _weights(groove), _weights(target)
    pairs = [
        (a, b) for la, lb in zip(full, small, strict=True) for a, b in zip(la, lb, strict=True)
    ]
    assert max(float(np.abs(a - b).max()) for a, b in pairs) <= 5e-4
    assert all(np.allclose(np.round(w, 3), w, atol=1e-7) for layer in small for w in layer)
    parity = json.loads((tmp_path / "small" / "groovepredictor.parity.json").read_text())
    want = reference_outputs(spec, small, parity_inputs(spec))
    np.testing.assert_array_equal(np.asarray(parity["outputs"], dtype=np.float32), want)
    moved = np.abs(want - reference_outputs(spec, full, parity_inputs(spec))).max()
    assert report.max_output_change == pytest.approx(float(moved), abs=1e-6)
    assert 0.0 < report.max_output_change < 0.05  # random weights; trained ones move less
    backend = load_backend(target, "numpy")  # the runtime reads it like any exported file
    got = np.asarray(backend.run(parity_inputs(spec)), dtype=np.float64)
    np.testing.assert_allclose(got, want, atol=1e-4, rtol=0)


def test_compact_text_has_no_long_numbers(groove: Path, tmp_path: Path) -> None:
    target = tmp_path / "groovepredictor.json"
    compact_model_file(groove, target, decimals=2)
    weights = target.read_text().split('"weights":', 1)[1]
    numbers = _NUMBER.findall(weights.split('"metadata"', 1)[0])
    assert len(numbers) > 1000
    assert max(len(n.lstrip("-")) for n in numbers) <= len("0.00")


@pytest.mark.parametrize("decimals", [0, 10])
def test_decimals_out_of_range_are_refused(groove: Path, tmp_path: Path, decimals: int) -> None:
    with pytest.raises(ExportError, match=r"decimals must be within 1\.\.9"):
        compact_model_file(groove, tmp_path / "x.json", decimals=decimals)
    assert not (tmp_path / "x.json").exists()


def test_an_invalid_file_is_refused_naming_it(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"in_shape": [null, 64], "layers": []}')
    with pytest.raises(ExportError) as caught:
        compact_model_file(bad, tmp_path / "x.json")
    assert "bad.json" in str(caught.value)
    assert not (tmp_path / "x.json").exists()
