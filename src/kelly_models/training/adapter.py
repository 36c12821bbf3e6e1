"""How training calls a model: a sequence forward with explicit recurrent state.

The loop needs ``outputs, state = forward(inputs (B, T, in), state)`` so that it can
carry the LSTM state from one truncated-BPTT window to the next and cut the gradient
between them (:func:`detach_state`). ``state=None`` means "start of the sequence" (zeros).
"""

from __future__ import annotations

from typing import TypeAlias

import torch

__all__ = ["State", "as_module", "detach_state", "forward_sequence"]

State: TypeAlias = object
"""Whatever the model returns as its recurrent state: tensors nested in tuples, lists or
dicts, or None for a model without memory."""


def as_module(model: object) -> torch.nn.Module:
    """Return ``model`` as a ``torch.nn.Module``, or raise ``TypeError``."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"training needs a torch.nn.Module, got {type(model).__name__}")
    return model


def forward_sequence(
    module: torch.nn.Module, inputs: torch.Tensor, state: State
) -> tuple[torch.Tensor, State]:
    """Run ``module`` over ``inputs`` ``(B, T, in)`` from ``state``; return outputs and state.

    :returns: ``(outputs (B, T, out), state after the last step)``.
    """
    result = module(inputs, state)
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(
            f"{type(module).__name__}.forward(inputs, state) must return (outputs, state)"
        )
    outputs, new_state = result
    if not isinstance(outputs, torch.Tensor):
        raise TypeError(f"{type(module).__name__} returned {type(outputs).__name__}, not a tensor")
    return outputs, new_state


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
