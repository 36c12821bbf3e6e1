"""Tests for kelly_models.layers: the kind -> torch layer map and parameter counts."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.specs import ACTIVATIONS, LayerSpec, ModelSpec
from kelly_models.layers import ACTIVATION_FUNCTIONS, LAYER_BUILDERS, DenseLayer, build_layer
from kelly_models.network import SpecNetwork
from tests.strategies import model_specs


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))  # type: ignore[no-any-return]  # numpy stub


class TestBuildLayer:
    def test_every_kind_and_activation_has_an_implementation(self) -> None:
        """The tables cover every layer kind and every accepted activation."""
        assert set(LAYER_BUILDERS) == {"dense", "lstm"}
        assert set(ACTIVATION_FUNCTIONS) == set(ACTIVATIONS)

    def test_dense_applies_its_activation(self) -> None:
        """A softmax dense layer outputs a distribution over its features."""
        layer = build_layer(LayerSpec(kind="dense", size=5, activation="softmax"), 3)
        assert isinstance(layer, DenseLayer)
        out, state = layer.forward_state(torch.randn(2, 4, 3), None)
        assert state is None
        torch.testing.assert_close(out.sum(-1), torch.ones(2, 4))

    def test_lstm_returns_its_state(self) -> None:
        """An LSTM layer returns (h, c) shaped (1, batch, H): the last step's h and c of
        torch's equations (gates i, f, g, o), computed here in float64 numpy."""
        layer = build_layer(LayerSpec(kind="lstm", size=6), 3)
        x = torch.randn(2, 4, 3, generator=torch.Generator().manual_seed(0))
        with torch.no_grad():
            out, state = layer.forward_state(x, None)
        assert out.shape == (2, 4, 6)
        assert state is not None
        assert state[0].shape == (1, 2, 6)
        assert state[1].shape == (1, 2, 6)
        p = {k: v.double().numpy() for k, v in layer.state_dict().items()}
        h, c = np.zeros((2, 6)), np.zeros((2, 6))
        outs = []
        for t in range(4):
            z = x[:, t].double().numpy() @ p["weight_ih_l0"].T + h @ p["weight_hh_l0"].T
            i, f, g, o = np.split(z + p["bias_ih_l0"] + p["bias_hh_l0"], 4, axis=1)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            outs.append(h)
        np.testing.assert_allclose(out.numpy(), np.stack(outs, axis=1), atol=1e-6)
        np.testing.assert_allclose(state[0][0].numpy(), h, atol=1e-6)
        np.testing.assert_allclose(state[1][0].numpy(), c, atol=1e-6)

    @given(model_specs(max_size=32))
    def test_spec_parameter_count_equals_torch(self, spec: ModelSpec) -> None:
        """Any valid layer table: ModelSpec.parameter_count == sum of torch numel."""
        network = SpecNetwork(spec)
        assert spec.parameter_count == sum(p.numel() for p in network.parameters())

    @given(st.integers(1, 32), st.integers(1, 32))
    def test_lstm_parameter_names_and_shapes(self, in_size: int, hidden: int) -> None:
        """An LSTM layer has torch's four _l0 parameters of the spec's shapes."""
        layer = build_layer(LayerSpec(kind="lstm", size=hidden), in_size)
        shapes = {k: tuple(v.shape) for k, v in layer.state_dict().items()}
        assert shapes == {
            "weight_ih_l0": (4 * hidden, in_size),
            "weight_hh_l0": (4 * hidden, hidden),
            "bias_ih_l0": (4 * hidden,),
            "bias_hh_l0": (4 * hidden,),
        }
