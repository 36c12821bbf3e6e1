"""Pure numpy layout conversions between PyTorch state arrays and RTNeural weights.

One function per layer kind and direction, picked from the :data:`TO_RTNEURAL` and
:data:`FROM_RTNEURAL` tables (docs/rtneural-format.md):

- dense: torch ``weight (OUT, IN)``, ``bias (OUT,)`` <-> RTNeural
  ``[kernel (IN, OUT), bias (OUT,)]``: the kernel is the weight transposed.
- lstm: torch ``weight_ih (4H, IN)``, ``weight_hh (4H, H)``, ``bias_ih``, ``bias_hh``
  ``(4H,)`` <-> RTNeural ``[kernel (IN, 4H), recurrent (H, 4H), bias (4H,)]``. Both use the
  gate order i, f, g(c), o, so the gate blocks only transpose; RTNeural keeps one bias,
  ``bias_ih + bias_hh``. Reading back gives ``bias_ih`` = the stored bias and
  ``bias_hh`` = zeros, which computes the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from types import MappingProxyType
from typing import Final, TypeAlias

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.specs import LayerKind

__all__ = [
    "FROM_RTNEURAL",
    "TO_RTNEURAL",
    "dense_from_rtneural",
    "dense_to_rtneural",
    "lstm_from_rtneural",
    "lstm_to_rtneural",
]

ToRTNeural: TypeAlias = Callable[[Sequence[FloatArray]], list[FloatArray]]
"""State arrays of one layer, in ``LayerSpec.array_shapes`` order -> RTNeural weights."""
FromRTNeural: TypeAlias = Callable[[Sequence[FloatArray]], list[FloatArray]]
"""RTNeural weights of one layer -> state arrays in ``LayerSpec.array_shapes`` order."""


def _f32(array: object) -> FloatArray:
    with np.errstate(over="ignore"):  # callers check finiteness and name the layer
        return np.ascontiguousarray(array, dtype=np.float32)


def dense_to_rtneural(weight: FloatArray, bias: FloatArray) -> list[FloatArray]:
    """Return ``[kernel (IN, OUT), bias (OUT,)]`` from torch ``weight (OUT, IN)`` and ``bias``."""
    return [_f32(np.asarray(weight).T), _f32(bias)]


def dense_from_rtneural(kernel: FloatArray, bias: FloatArray) -> list[FloatArray]:
    """Return torch ``[weight (OUT, IN), bias (OUT,)]`` from ``kernel (IN, OUT)`` and ``bias``."""
    return [_f32(np.asarray(kernel).T), _f32(bias)]


def lstm_to_rtneural(
    weight_ih: FloatArray, weight_hh: FloatArray, bias_ih: FloatArray, bias_hh: FloatArray
) -> list[FloatArray]:
    """Return ``[kernel (IN, 4H), recurrent (H, 4H), bias (4H,)]`` from torch's LSTM arrays.

    Torch's ``(4H, IN)`` and ``(4H, H)`` row blocks i, f, g, o become column blocks i, f, c,
    o; the bias is ``bias_ih + bias_hh`` (summed in float64, stored as float32).
    """
    summed = np.asarray(bias_ih, dtype=np.float64) + np.asarray(bias_hh, dtype=np.float64)
    return [_f32(np.asarray(weight_ih).T), _f32(np.asarray(weight_hh).T), _f32(summed)]


def lstm_from_rtneural(
    kernel: FloatArray, recurrent: FloatArray, bias: FloatArray
) -> list[FloatArray]:
    """Return torch ``[weight_ih, weight_hh, bias_ih, bias_hh]``; ``bias_hh`` is zeros."""
    stored = _f32(bias)
    return [
        _f32(np.asarray(kernel).T),
        _f32(np.asarray(recurrent).T),
        stored,
        np.zeros_like(stored),
    ]


def _dense_to(arrays: Sequence[FloatArray]) -> list[FloatArray]:
    weight, bias = arrays
    return dense_to_rtneural(weight, bias)


def _dense_from(arrays: Sequence[FloatArray]) -> list[FloatArray]:
    kernel, bias = arrays
    return dense_from_rtneural(kernel, bias)


def _lstm_to(arrays: Sequence[FloatArray]) -> list[FloatArray]:
    weight_ih, weight_hh, bias_ih, bias_hh = arrays
    return lstm_to_rtneural(weight_ih, weight_hh, bias_ih, bias_hh)


def _lstm_from(arrays: Sequence[FloatArray]) -> list[FloatArray]:
    kernel, recurrent, bias = arrays
    return lstm_from_rtneural(kernel, recurrent, bias)


TO_RTNEURAL: Final[Mapping[LayerKind, ToRTNeural]] = MappingProxyType(
    {"dense": _dense_to, "lstm": _lstm_to}
)
"""Layer kind -> conversion from state arrays (``array_shapes`` order) to RTNeural weights."""

FROM_RTNEURAL: Final[Mapping[LayerKind, FromRTNeural]] = MappingProxyType(
    {"dense": _dense_from, "lstm": _lstm_from}
)
"""Layer kind -> conversion from RTNeural weights back to state arrays."""

RTNEURAL_WEIGHT_COUNT: Final[Mapping[LayerKind, int]] = MappingProxyType({"dense": 2, "lstm": 3})
"""How many entries a layer's ``weights`` list has in an RTNeural file."""
