"""The torch -> numpy boundary: a module's parameters as state arrays, and back.

State-array names are those of :meth:`ModelSpec.array_shapes` (``layers.{i}.weight``,
``layers.{i}.weight_ih`` ...). Torch's own names differ only for the LSTM, which
suffixes its parameters with the layer number (``weight_ih_l0``).
"""

from __future__ import annotations

from collections.abc import Mapping

import torch
from torch import nn

from kelly_core.arrays import FloatArray, check_state_arrays
from kelly_core.specs import ModelSpec

__all__ = [
    "array_name",
    "arrays_to_state_dict",
    "load_state_arrays",
    "state_arrays",
    "state_dict_to_arrays",
    "torch_name",
]

_LSTM_SUFFIX = "_l0"
_LSTM_PARAMETERS = ("weight_ih", "weight_hh", "bias_ih", "bias_hh")


def array_name(torch_key: str) -> str:
    """Return the state-array name of torch parameter ``torch_key`` (drops ``_l0``)."""
    head, _, last = torch_key.rpartition(".")
    if last.endswith(_LSTM_SUFFIX) and last[: -len(_LSTM_SUFFIX)] in _LSTM_PARAMETERS:
        return f"{head}.{last[: -len(_LSTM_SUFFIX)]}"
    return torch_key


def torch_name(array_key: str) -> str:
    """Return the torch parameter name of state array ``array_key`` (adds ``_l0``)."""
    head, _, last = array_key.rpartition(".")
    if last in _LSTM_PARAMETERS:
        return f"{head}.{last}{_LSTM_SUFFIX}"
    return array_key


def state_dict_to_arrays(
    state_dict: Mapping[str, torch.Tensor], spec: ModelSpec
) -> dict[str, FloatArray]:
    """Convert a torch state dict of a network built from ``spec`` to state arrays.

    :raises SpecError: If a name is missing or extra, or a shape differs from ``spec``.
    """
    views = {
        array_name(key): value.detach().to(device="cpu", dtype=torch.float32).numpy()
        for key, value in state_dict.items()
    }
    return check_state_arrays(spec, views, require_finite=False)  # float32 copies, spec order


def arrays_to_state_dict(
    arrays: Mapping[str, FloatArray], spec: ModelSpec
) -> dict[str, torch.Tensor]:
    """Convert state arrays to a torch state dict (float32 CPU tensors, torch names).

    :raises SpecError: If a name is missing or extra, or a shape differs from ``spec``.
    """
    checked = check_state_arrays(spec, arrays, require_finite=False)  # float32 copies
    return {torch_name(name): torch.from_numpy(array) for name, array in checked.items()}


def state_arrays(module: nn.Module, spec: ModelSpec) -> dict[str, FloatArray]:
    """Return ``module``'s parameters as float32 numpy copies named as in ``spec``."""
    return state_dict_to_arrays(module.state_dict(), spec)


def load_state_arrays(module: nn.Module, arrays: Mapping[str, FloatArray], spec: ModelSpec) -> None:
    """Copy ``arrays`` into ``module``'s parameters.

    :raises SpecError: If names or shapes do not match ``spec`` (nothing is changed).
    """
    state = arrays_to_state_dict(arrays, spec)
    module.load_state_dict(state, strict=True)
