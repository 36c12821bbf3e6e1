"""Builds torch layers from :class:`~kelly_core.specs.LayerSpec`: the one kind -> nn map.

Every layer takes and returns ``(batch, time, features)`` tensors plus a recurrent state
(``None`` for a dense layer, ``(h, c)`` of shape ``(1, batch, H)`` each for an LSTM), so
the network can treat all layers alike. Parameter names follow PyTorch: a dense layer
has ``weight``/``bias``, an LSTM ``weight_ih_l0``/``weight_hh_l0``/``bias_ih_l0``/
``bias_hh_l0`` (:mod:`kelly_models.weights` maps them to state-array names).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Final, TypeAlias

import torch
from torch import Tensor, nn
from torch.nn import functional

from kelly_core.errors import SpecError
from kelly_core.specs import Activation, LayerKind, LayerSpec

__all__ = [
    "ACTIVATION_FUNCTIONS",
    "LAYER_BUILDERS",
    "DenseLayer",
    "LSTMLayer",
    "LayerState",
    "build_layer",
]

LayerState: TypeAlias = tuple[Tensor, Tensor] | None
"""``(h, c)`` of an LSTM layer, each ``(1, batch, H)``; ``None`` for a dense layer."""


def _identity(x: Tensor) -> Tensor:
    return x


def _softmax(x: Tensor) -> Tensor:
    return torch.softmax(x, dim=-1)


ACTIVATION_FUNCTIONS: Final[Mapping[Activation, Callable[[Tensor], Tensor]]] = MappingProxyType(
    {
        "": _identity,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "sigmoid": torch.sigmoid,
        "softmax": _softmax,
        "elu": functional.elu,
    }
)
"""Each RTNeural activation name mapped to the torch function (softmax over features)."""


class DenseLayer(nn.Linear):
    """``nn.Linear`` followed by the spec's activation; stateless."""

    def __init__(self, in_size: int, spec: LayerSpec) -> None:
        super().__init__(in_size, spec.size)
        self.activation_name: Activation = spec.activation
        self._activation = ACTIVATION_FUNCTIONS[spec.activation]

    def forward_state(self, x: Tensor, state: LayerState) -> tuple[Tensor, LayerState]:
        """Map ``(batch, time, in)`` to ``(batch, time, out)``; the state stays ``None``."""
        return self._activation(super().forward(x)), None

    def zero_state(self, batch: int, like: Tensor) -> LayerState:
        """A dense layer carries no state."""
        return None


class LSTMLayer(nn.LSTM):
    """One batch-first ``nn.LSTM`` layer over the time axis (gates i, f, g, o)."""

    def __init__(self, in_size: int, spec: LayerSpec) -> None:
        super().__init__(in_size, spec.size, num_layers=1, batch_first=True)

    def forward_state(self, x: Tensor, state: LayerState) -> tuple[Tensor, LayerState]:
        """Run ``(batch, time, in)`` from ``state`` (zeros if ``None``); return output and state."""
        output, (h, c) = super().forward(x, state)
        return output, (h, c)

    def zero_state(self, batch: int, like: Tensor) -> LayerState:
        """Zero ``(h, c)`` for ``batch`` sequences, on ``like``'s device and dtype."""
        zeros = like.new_zeros((1, batch, self.hidden_size))
        return zeros, zeros.clone()


KellyLayer: TypeAlias = DenseLayer | LSTMLayer

LAYER_BUILDERS: Final[Mapping[LayerKind, Callable[[int, LayerSpec], KellyLayer]]] = (
    MappingProxyType({"dense": DenseLayer, "lstm": LSTMLayer})
)
"""The one map from a layer kind to the torch layer class that implements it."""


def build_layer(spec: LayerSpec, in_size: int) -> KellyLayer:
    """Return a freshly initialised torch layer for ``spec`` fed ``in_size`` values.

    :raises SpecError: If the kind has no torch implementation.
    """
    try:
        builder = LAYER_BUILDERS[spec.kind]
    except KeyError as exc:
        raise SpecError(
            f"no torch layer for kind {spec.kind!r}",
            field="kind",
            expected=tuple(LAYER_BUILDERS),
            got=spec.kind,
        ) from exc
    return builder(in_size, spec)
