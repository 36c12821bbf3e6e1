"""How training calls a model: a sequence run with explicit recurrent state, plus logits.

The loop needs ``outputs, state = run(inputs (B, T, in), state)`` so that it can carry
the LSTM state from one truncated-BPTT window to the next and cut the gradient between
them (:func:`detach_state`); ``state=None`` means "start of the sequence" (zeros). Kelly's
:class:`~kelly_models.network.SpecNetwork` provides ``run``; any other module may instead
return ``(outputs, state)`` from ``forward(inputs, state)``.

For a :class:`SpecNetwork` whose last layer is a dense softmax or sigmoid, the
pre-activation values (logits) come out too, so the loss can use ``log_softmax`` or
``binary_cross_entropy_with_logits``: exact where ``log(softmax(z))`` would underflow.
"""

from __future__ import annotations

from typing import TypeAlias, cast

import attrs
import torch

__all__ = ["Outputs", "State", "as_module", "detach_state", "forward_sequence"]

State: TypeAlias = object
"""Whatever the model returns as its recurrent state: tensors nested in tuples, lists or
dicts, or None for a model without memory."""


@attrs.frozen
class Outputs:
    """A model's outputs ``(B, T, out)`` and, when available, the logits they come from."""

    values: torch.Tensor
    """After the last activation, as the exported model computes them."""
    logits: torch.Tensor | None = None
    """Before a final softmax/sigmoid; None when the model does not expose them."""


def as_module(model: object) -> torch.nn.Module:
    """Return ``model`` as a ``torch.nn.Module``, or raise ``TypeError``."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"training needs a torch.nn.Module, got {type(model).__name__}")
    return model


def forward_sequence(
    module: torch.nn.Module, inputs: torch.Tensor, state: State
) -> tuple[Outputs, State]:
    """Run ``module`` over ``inputs`` ``(B, T, in)`` from ``state``.

    :returns: ``(outputs, state after the last step)``.
    """
    logits = _run_with_logits(module, inputs, state)
    if logits is not None:
        return logits
    runner = getattr(module, "run", None)
    result = runner(inputs, state) if callable(runner) else module(inputs, state)
    if not isinstance(result, tuple) or len(result) != 2 or not isinstance(result[0], torch.Tensor):
        raise TypeError(
            f"{type(module).__name__}.run(inputs, state) (or forward) must return (outputs, state)"
        )
    return Outputs(result[0]), result[1]


def _run_with_logits(
    module: torch.nn.Module, inputs: torch.Tensor, state: State
) -> tuple[Outputs, State] | None:
    """Run a SpecNetwork layer by layer, keeping the last layer's pre-activation."""
    from kelly_models.layers import DenseLayer, KellyLayer, LayerState
    from kelly_models.network import SpecNetwork

    if not isinstance(module, SpecNetwork):
        return None
    layers = cast(list[KellyLayer], list(module.layers))
    last = layers[-1]
    if not isinstance(last, DenseLayer) or last.activation_name not in ("softmax", "sigmoid"):
        return None
    body_state = None if state is None else cast(tuple[LayerState, ...], state)[:-1]
    hidden = inputs
    states: list[LayerState] = []
    for index, layer in enumerate(layers[:-1]):
        previous = None if body_state is None else body_state[index]
        hidden, new = layer.forward_state(hidden, previous)
        states.append(new)
    logits = torch.nn.functional.linear(hidden, last.weight, last.bias)
    values = (
        torch.softmax(logits, dim=-1)
        if last.activation_name == "softmax"
        else torch.sigmoid(logits)
    )
    return Outputs(values, logits), (*states, None)


def detach_state(state: State) -> State:
    """Return ``state`` with every tensor detached from the graph (truncates BPTT)."""
    if isinstance(state, torch.Tensor):
        return state.detach()
    if isinstance(state, tuple):
        return tuple(detach_state(s) for s in state)
    if isinstance(state, list):
        return [detach_state(s) for s in state]
    if isinstance(state, dict):
        return {k: detach_state(v) for k, v in state.items()}
    return state
