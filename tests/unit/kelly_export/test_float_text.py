"""Shortest float32 text: bit-identical round trips, smaller files, parity vectors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_export.float_text import float32_json, float32_strings
from kelly_export.parity import PARITY_FRAMES, parity_inputs, parity_path, reference_outputs
from kelly_export.rtneural import RTNeuralExporter, rtneural_weights
from kelly_models.build import build_model

FINITE32 = st.floats(width=32, allow_nan=False, allow_infinity=False)


def _bits(values: object) -> np.ndarray:
    return np.asarray(values, dtype=np.float32).view(np.uint32)


@given(st.lists(FINITE32, min_size=1, max_size=50))
def test_every_finite_float32_reads_back_bit_for_bit(values: list[float]) -> None:
    array = np.array(values, dtype=np.float32)
    back = np.array(json.loads(float32_json(array)), dtype=np.float32)
    np.testing.assert_array_equal(_bits(back), _bits(array))  # -0.0 and subnormals too


def test_extremes_and_random_bit_patterns_round_trip() -> None:
    rng = np.random.default_rng(0)
    bits = rng.integers(0, 2**32, size=200_000, dtype=np.uint64).astype(np.uint32)
    array = bits.view(np.float32)
    array = array[np.isfinite(array)]
    edges = np.array(
        [0.0, -0.0, 1.0, 0.1, np.finfo(np.float32).max, np.finfo(np.float32).tiny, 1e-45],
        dtype=np.float32,
    )
    array = np.concatenate([array, edges, -edges])
    back = np.array([float(s) for s in float32_strings(array)], dtype=np.float32)
    np.testing.assert_array_equal(_bits(back), _bits(array))


def test_text_is_shortest_and_shorter_than_float64_text() -> None:
    assert float32_strings(np.array([0.1, 1.0, 1e-5, -2.5], dtype=np.float32)) == [
        "0.1",
        "1.0",
        "1e-05",
        "-2.5",
    ]
    array = np.random.default_rng(1).standard_normal(10_000).astype(np.float32) * 0.05
    assert len(float32_json(array)) < 0.65 * len(json.dumps(array.tolist()))


def test_nan_is_refused() -> None:
    with pytest.raises(ValueError, match="finite"):
        float32_strings(np.array([1.0, np.nan], dtype=np.float32))


def test_2d_layout_is_nested_rows() -> None:
    array = (np.arange(6, dtype=np.float32).reshape(2, 3) / 4).astype(np.float32)
    assert float32_json(array) == "[[0.0,0.25,0.5],[0.75,1.0,1.25]]"


def test_export_round_trips_every_array_bit_for_bit(tmp_path: Path) -> None:
    model = build_model("EmotionRecognizer", seed=3)
    spec = model.spec
    exporter = RTNeuralExporter()
    path = exporter.export(spec, model.state_arrays(), tmp_path)
    written = rtneural_weights(spec, model.state_arrays())
    document = json.loads(path.read_text())
    for layer, arrays in zip(document["layers"], written, strict=True):
        for raw, array in zip(layer["weights"], arrays, strict=True):
            np.testing.assert_array_equal(_bits(raw), _bits(array))
    loaded = exporter.read(path)  # and the reading side agrees
    for name, array in model.state_arrays().items():
        if not name.endswith("bias_hh") and not name.endswith("bias_ih"):
            np.testing.assert_array_equal(_bits(loaded.arrays[name]), _bits(array))


def test_parity_file_beside_export_matches_an_independent_forward(tmp_path: Path) -> None:
    model = build_model("MelodyTransformer", seed=5)
    path = RTNeuralExporter().export(model.spec, model.state_arrays(), tmp_path / "m.json")
    parity = json.loads(parity_path(path).read_text())
    assert parity_path(path).name == "m.parity.json"
    assert parity["model_name"] == "MelodyTransformer"
    assert parity["spec_hash"] == json.loads(path.read_text())["metadata"]["spec_hash"]
    inputs = np.array(parity["inputs"], dtype=np.float32)
    outputs = np.array(parity["outputs"], dtype=np.float32)
    assert inputs.shape == (PARITY_FRAMES, 64)
    assert outputs.shape == (PARITY_FRAMES, 128)
    np.testing.assert_array_equal(inputs, parity_inputs(model.spec))
    torch = pytest.importorskip("torch")
    with torch.no_grad():  # the trained torch model stepped from a reset state
        expected = model(torch.from_numpy(inputs).unsqueeze(0))[0].numpy()
    assert float(np.abs(outputs - expected).max()) < 1e-5
    # the LSTM state is carried: frame 1 stepped alone from reset gives another answer
    alone = reference_outputs(
        model.spec, rtneural_weights(model.spec, model.state_arrays()), inputs[1:2]
    )
    assert float(np.abs(alone[0] - outputs[1]).max()) > 1e-4


def test_parity_can_be_disabled(tmp_path: Path) -> None:
    spec = MODEL_SPECS["DynamicsEngine"]
    model = build_model(spec.name, seed=0)
    RTNeuralExporter(parity_frames=0).export(spec, model.state_arrays(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dynamicsengine.json"]
