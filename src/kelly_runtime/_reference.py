"""The "straightforward NumPy" step: the in-process baseline of ``kelly bench``.

Written plainly on purpose, the way one would first write it: the PyTorch-layout arrays
as they are, ``W @ x + b`` per dense layer, each LSTM's gates as
``W_ih @ x + W_hh @ h + b_ih + b_hh`` split into ``i, f, g, o``, ``1 / (1 + exp(-x))``
for the sigmoid, and new arrays on every step. It is not used to run models; it gives
``kelly bench`` a yardstick measured in the same process as the backends, so their
timings can be quoted as ratios that survive a loaded machine. On a quiet reference
machine this version takes about :data:`REFERENCE_MACHINE_US` per five-model step.

It checks nothing (no frame or array validation): callers pass float32 frames of the
right size and arrays already checked by a backend or the registry. For ``x < -88``,
``exp(-x)`` overflows to ``inf`` and the sigmoid is the right limit, 0, but NumPy warns:
run it under ``np.errstate(over="ignore")`` (``kelly bench`` does, outside the timing).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast, final

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.specs import ModelSpec

__all__ = ["REFERENCE_MACHINE_US", "ReferenceNet"]

REFERENCE_MACHINE_US: Final = 128.0
"""The straightforward NumPy five-model step on the reference (quiet) machine, in µs."""
_ONE: Final = np.float32(1.0)


def _sigmoid(x: FloatArray) -> FloatArray:
    return _ONE / (_ONE + np.exp(-x))


def _activate(name: str, x: FloatArray) -> FloatArray:
    if name == "tanh":
        return np.tanh(x)
    if name == "relu":
        return np.maximum(x, 0.0)
    if name == "sigmoid":
        return _sigmoid(x)
    if name == "softmax":
        e = np.exp(x - x.max())
        return cast(FloatArray, e / e.sum())
    if name == "elu":
        return np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    return x


@final
class ReferenceNet:
    """One model stepped the straightforward way; ``(h, c)`` per LSTM carried between steps.

    :param spec: The architecture.
    :param arrays: State arrays in PyTorch layout (``ModelSpec.array_shapes()`` names).
    """

    def __init__(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        self.spec = spec
        self._arrays = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        self._state: dict[int, tuple[FloatArray, FloatArray]] = {}
        self.reset()

    def reset(self) -> None:
        """Zero every LSTM's ``h`` and ``c``."""
        self._state = {
            index: (np.zeros(layer.size, np.float32), np.zeros(layer.size, np.float32))
            for index, layer in enumerate(self.spec.layers)
            if layer.kind == "lstm"
        }

    def step(self, frame: FloatArray) -> FloatArray:
        """Map one float32 frame ``(in,)`` to a new ``(out,)`` array."""
        a = self._arrays
        x = frame
        for index, layer in enumerate(self.spec.layers):
            p = f"layers.{index}."
            if layer.kind == "dense":
                x = _activate(layer.activation, a[p + "weight"] @ x + a[p + "bias"])
                continue
            h, c = self._state[index]
            gates = a[p + "weight_ih"] @ x + a[p + "weight_hh"] @ h + a[p + "bias_ih"]
            gates = gates + a[p + "bias_hh"]
            i, f, g, o = np.split(gates, 4)
            c = _sigmoid(f) * c + _sigmoid(i) * np.tanh(g)
            h = _sigmoid(o) * np.tanh(c)
            self._state[index] = (h, c)
            x = h
        return x
