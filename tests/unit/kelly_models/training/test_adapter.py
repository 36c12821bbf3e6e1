"""Tests for kelly_models.training.adapter: windows with carried state equal a whole run."""

from __future__ import annotations

import pytest
import torch

from kelly_models.training.adapter import detach_state, forward_sequence
from tests.unit.kelly_models.training.helpers import tiny_network, tiny_spec


class TestForwardSequence:
    @pytest.mark.parametrize("last", ["tanh", "softmax", "sigmoid"])
    def test_windows_with_carried_state_equal_whole(self, last: str) -> None:
        """Running windows and carrying the state gives the whole-sequence outputs."""
        network = tiny_network(tiny_spec(last=last), seed=0)
        x = torch.randn(2, 9, 6, generator=torch.Generator().manual_seed(0))
        whole, _ = forward_sequence(network, x, None)
        state: object = None
        pieces = []
        for start in range(0, 9, 4):
            out, state = forward_sequence(network, x[:, start : start + 4], state)
            state = detach_state(state)
            pieces.append(out.values)
        torch.testing.assert_close(torch.cat(pieces, dim=1), whole.values)
        torch.testing.assert_close(whole.values, network(x))

    def test_logits_exposed_for_softmax(self) -> None:
        """A final softmax exposes its logits; softmax(logits) equals the outputs."""
        network = tiny_network(tiny_spec(last="softmax"), seed=0)
        out, _ = forward_sequence(network, torch.randn(1, 3, 6), None)
        assert out.logits is not None
        torch.testing.assert_close(torch.softmax(out.logits, dim=-1), out.values)

    def test_no_logits_for_tanh(self) -> None:
        """A final tanh has no logits to expose."""
        network = tiny_network(tiny_spec(last="tanh"), seed=0)
        out, _ = forward_sequence(network, torch.randn(1, 3, 6), None)
        assert out.logits is None

    def test_plain_module_returning_tuple(self) -> None:
        """Any module whose forward returns (outputs, state) works."""

        class Plain(torch.nn.Module):
            def forward(self, x: torch.Tensor, state: object) -> tuple[torch.Tensor, object]:
                return x * 2, "state"

        out, state = forward_sequence(Plain(), torch.ones(1, 2, 3), None)
        assert torch.equal(out.values, torch.full((1, 2, 3), 2.0))
        assert state == "state"

    def test_bad_module(self) -> None:
        """A module returning only a tensor is refused with a TypeError."""

        class Bare(torch.nn.Module):
            def forward(self, x: torch.Tensor, state: object) -> torch.Tensor:
                return x

        with pytest.raises(TypeError, match="must return"):
            forward_sequence(Bare(), torch.ones(1, 2, 3), None)

    def test_detach(self) -> None:
        """detach_state cuts every tensor in nested containers from the graph."""
        t = torch.ones(2, requires_grad=True) * 2
        out = detach_state((t, [t], {"a": t}, None))
        assert isinstance(out, tuple)
        assert not out[0].requires_grad
        assert not out[1][0].requires_grad
        assert not out[2]["a"].requires_grad
        assert out[3] is None
