"""RTNeural files against torch: a numpy forward written from the JSON alone matches."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.specs import ModelSpec
from kelly_export.legacy import read_legacy
from kelly_export.rtneural import RTNeuralExporter
from kelly_models.build import build_model, build_network
from tests.strategies import model_specs
from tests.unit.kelly_export.helpers import legacy_document, write_json

STEPS = 50


Vector = npt.NDArray[np.float64]


def _sigmoid(x: Vector) -> Vector:
    return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


def _activation(name: str, x: Vector) -> Vector:
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "softmax":
        e = np.exp(x - x.max())
        return np.asarray(e / e.sum(), dtype=np.float64)
    if name == "elu":
        return np.where(x > 0, x, np.expm1(x))
    assert name == ""
    return x


def reference_forward(document: dict[str, object], frames: Vector) -> Vector:
    """Run ``frames`` (T, in) through the file the way RTNeural does, reading only the keys
    its C++ parser reads: in_shape, layers[].type/shape/activation/weights (float64)."""
    in_shape = document["in_shape"]
    assert isinstance(in_shape, list)
    assert frames.shape[1] == in_shape[-1]
    layers = document["layers"]
    assert isinstance(layers, list)
    state: dict[int, tuple[np.ndarray, np.ndarray]] = {}
    outputs = []
    for frame in frames.astype(np.float64):
        x = frame
        for index, layer in enumerate(layers):
            size = layer["shape"][-1]
            weights = [np.asarray(w, dtype=np.float64) for w in layer["weights"]]
            if layer["type"] == "dense":
                kernel, bias = weights
                x = _activation(layer["activation"], x @ kernel + bias)
            else:
                kernel, recurrent, bias = weights
                h, c = state.get(index, (np.zeros(size), np.zeros(size)))
                z = x @ kernel + h @ recurrent + bias
                i, f, g, o = (z[k * size : (k + 1) * size] for k in range(4))
                c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
                h = _sigmoid(o) * np.tanh(c)
                state[index] = (h, c)
                x = h
            assert x.shape == (size,)
        outputs.append(x)
    return np.stack(outputs)


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_numpy_reference_matches_torch(name: str, tmp_path: Path) -> None:
    """For every model, the JSON-only numpy forward equals torch stepping over 50 frames."""
    model = build_model(name, seed=11)
    # non-zero LSTM biases on both sides, so the summed bias is exercised
    path = RTNeuralExporter().export(model.spec, model.state_arrays(), tmp_path)
    document = json.loads(path.read_text())
    frames = np.random.default_rng(0).standard_normal((STEPS, model.spec.input_size))
    expected = reference_forward(document, frames)
    with torch.no_grad():
        got = torch.stack([model.step(torch.from_numpy(f).float()) for f in frames]).numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    # also equal to the sequence forward (DESIGN.md §3)
    with torch.no_grad():
        sequence = model(torch.from_numpy(frames).float().unsqueeze(0))[0].numpy()
    np.testing.assert_allclose(sequence, expected, atol=1e-5, rtol=0)


@settings(max_examples=25)
@given(spec=model_specs(), seed=st.integers(0, 2**16), steps=st.integers(1, 8))
def test_random_layer_tables_match_torch(spec: ModelSpec, seed: int, steps: int) -> None:
    """Property: for any layer table (sizes, activations, LSTMs anywhere, stacked), the
    exported file run the way RTNeural does (kernel IN x OUT, gates i, f, c, o, one
    bias) equals torch stepping and torch's sequence forward."""
    network = build_network(spec, seed=seed)
    generator = torch.Generator().manual_seed(seed)
    with torch.no_grad():  # non-zero biases everywhere, so the LSTM bias sum is exercised
        for parameter in network.parameters():
            parameter.uniform_(-0.5, 0.5, generator=generator)
    with tempfile.TemporaryDirectory() as folder:
        path = RTNeuralExporter().export(spec, network.state_arrays(), Path(folder))
        document = json.loads(path.read_text())
    frames = np.random.default_rng(seed).standard_normal((steps, spec.input_size))
    expected = reference_forward(document, frames)
    x = torch.from_numpy(frames).float()
    with torch.no_grad():
        stepped = torch.stack([network.step(f) for f in x]).numpy()
        sequence = network(x.unsqueeze(0))[0].numpy()
    np.testing.assert_allclose(stepped, expected, atol=1e-5, rtol=0)
    np.testing.assert_allclose(sequence, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize("name", ["EmotionRecognizer", "MelodyTransformer"])
def test_legacy_file_converts_to_same_outputs(name: str, tmp_path: Path) -> None:
    """A legacy-layout file of a torch model converts to an RTNeural file with its outputs."""
    model = build_model(name, seed=4)
    spec = MODEL_SPECS[name]
    legacy = legacy_document(spec, model.state_arrays())
    legacy["weights_layout"] = "out_in"
    loaded = read_legacy(write_json(tmp_path / "legacy.json", legacy))
    path = RTNeuralExporter().export(loaded.spec, loaded.arrays, tmp_path / "new.json")
    frames = np.random.default_rng(1).standard_normal((20, spec.input_size))
    expected = reference_forward(json.loads(path.read_text()), frames)
    with torch.no_grad():
        got = model(torch.from_numpy(frames).float().unsqueeze(0))[0].numpy()
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
