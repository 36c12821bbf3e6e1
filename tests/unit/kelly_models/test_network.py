"""Tests for kelly_models.network: sequence forward, stepping, state and the Model protocol."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_NAMES
from kelly_core.errors import BackendError, SpecError
from kelly_core.interfaces import Model
from kelly_core.specs import ModelSpec
from kelly_models.build import build_model, build_network
from tests.strategies import model_specs


class TestSequenceAndStep:
    @settings(max_examples=15)
    @given(model_specs(max_size=16), st.integers(1, 6), st.integers(1, 3), st.integers(0, 2**16))
    def test_stepping_equals_sequence_forward(
        self, spec: ModelSpec, steps: int, batch: int, seed: int
    ) -> None:
        """Stepping frame by frame (internal or explicit state) equals the sequence forward."""
        network = build_network(spec, seed=seed)
        x = torch.randn(
            batch, steps, spec.input_size, generator=torch.Generator().manual_seed(seed)
        )
        with torch.no_grad():
            expected = network(x)
            stepped = torch.stack([network.step(x[:, t]) for t in range(steps)], dim=1)
            state = None
            explicit = []
            for t in range(steps):
                out, state = network.step_with(x[:, t], state)
                explicit.append(out)
        torch.testing.assert_close(stepped, expected, atol=1e-5, rtol=1e-5)
        torch.testing.assert_close(torch.stack(explicit, dim=1), expected, atol=1e-5, rtol=1e-5)

    def test_reset_zeroes_the_state(self) -> None:
        """After reset, the first step gives the same output as a fresh stream."""
        network = build_model("EmotionRecognizer", seed=0)
        frame = torch.randn(128)
        first = network.step(frame)
        second = network.step(frame)
        assert not torch.allclose(first, second)
        network.reset()
        torch.testing.assert_close(network.step(frame), first)

    def test_unbatched_frame_gives_unbatched_output(self) -> None:
        """A (in,) frame maps to a (out,) output: relu, relu, sigmoid of its state arrays,
        computed here in float64 numpy."""
        network = build_model("DynamicsEngine", seed=0)
        frame = torch.linspace(-1.0, 1.0, 32)
        out = network.step(frame)
        assert out.shape == (16,)
        a = {k: v.astype(np.float64) for k, v in network.state_arrays().items()}
        h = np.maximum(a["layers.0.weight"] @ frame.numpy() + a["layers.0.bias"], 0.0)
        h = np.maximum(a["layers.1.weight"] @ h + a["layers.1.bias"], 0.0)
        expected = 1.0 / (1.0 + np.exp(-(a["layers.2.weight"] @ h + a["layers.2.bias"])))
        np.testing.assert_allclose(out.detach().numpy(), expected, atol=1e-6)

    def test_run_returns_state_for_truncated_bptt(self) -> None:
        """Two chunks run with the carried state equal one run over the whole sequence."""
        network = build_model("MelodyTransformer", seed=0)
        x = torch.randn(2, 10, 64)
        with torch.no_grad():
            whole = network(x)
            a, state = network.run(x[:, :4])
            b, _ = network.run(x[:, 4:], state)
        torch.testing.assert_close(torch.cat([a, b], dim=1), whole, atol=1e-6, rtol=1e-5)

    def test_wrong_input_width_is_refused(self) -> None:
        """A sequence of the wrong width raises BackendError naming the input."""
        network = build_model("HarmonyPredictor", seed=0)
        with pytest.raises(BackendError, match="expected input") as info:
            network(torch.zeros(1, 2, 3))
        assert info.value.field == "x"


class TestModelProtocol:
    @pytest.mark.parametrize("name", MODEL_NAMES)
    def test_is_a_model_with_spec_named_arrays(self, name: str) -> None:
        """Each model implements Model, with state arrays named and shaped as the spec says."""
        network = build_model(name, seed=0)
        assert isinstance(network, Model)
        arrays = network.state_arrays()
        assert {k: v.shape for k, v in arrays.items()} == network.spec.array_shapes()
        assert all(v.dtype == np.float32 for v in arrays.values())

    @pytest.mark.parametrize("name", MODEL_NAMES)
    def test_load_state_arrays_round_trip(self, name: str) -> None:
        """Arrays loaded into another model reproduce the same outputs."""
        source, target = build_model(name, seed=1), build_model(name, seed=2)
        target.load_state_arrays(source.state_arrays())
        x = torch.randn(1, 3, source.spec.input_size)
        with torch.no_grad():
            torch.testing.assert_close(target(x), source(x))

    def test_load_refuses_wrong_shape(self) -> None:
        """A wrongly shaped array raises SpecError naming it."""
        network = build_model("GroovePredictor", seed=0)
        arrays = network.state_arrays()
        arrays["layers.0.weight"] = arrays["layers.0.weight"].T.copy()
        with pytest.raises(SpecError) as info:
            network.load_state_arrays(arrays)
        assert info.value.field == "layers.0.weight"
