"""Parity vectors: inputs and the outputs an exported model must give for them.

Beside every exported ``<stem>.json`` the exporter writes ``<stem>.parity.json``, so any
consumer (a C++ plugin, another runtime) can check that it loaded the file right:

- ``inputs``: :data:`PARITY_FRAMES` float32 frames ``(N, input_size)``, uniform in
  [-1, 1] from a fixed seed (the range of every model input);
- ``outputs``: ``(N, output_size)``, the model stepped over ``inputs`` in order from a
  reset state (LSTM ``h`` and ``c`` zero), the LSTM state carried from frame to frame,
  computed in float64 from the file's float32 weights and stored as float32;
- ``model_name``, ``spec_hash`` (as in the model's metadata), ``model_file``, ``frames``,
  ``tolerance``: the largest absolute difference a float32 runtime should stay within.

Numbers are the shortest text that reads back to the same float32.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.specs import ModelSpec
from kelly_export.float_text import float32_json

__all__ = [
    "PARITY_FORMAT",
    "PARITY_FRAMES",
    "PARITY_TOLERANCE",
    "parity_inputs",
    "parity_path",
    "parity_text",
    "reference_outputs",
]

PARITY_FORMAT: Final = "kelly-parity"
PARITY_FRAMES: Final = 64
PARITY_TOLERANCE: Final = 1e-4
"""Max abs difference expected from a float32 runtime (measured: about 1e-6)."""
_SEED: Final = 20240611


def parity_path(model_path: Path) -> Path:
    """Return ``<folder>/<stem>.parity.json`` for ``<folder>/<stem>.json``."""
    return model_path.with_name(f"{model_path.stem}.parity.json")


def parity_inputs(spec: ModelSpec, frames: int = PARITY_FRAMES) -> FloatArray:
    """Return the ``(frames, input_size)`` float32 inputs (fixed seed, uniform in [-1, 1])."""
    rng = np.random.default_rng(_SEED)
    return rng.uniform(-1.0, 1.0, size=(frames, spec.input_size)).astype(np.float32)


def _activate(name: str, x: np.ndarray) -> np.ndarray:
    if name == "tanh":
        y = np.tanh(x)
    elif name == "relu":
        y = np.maximum(x, 0.0)
    elif name == "sigmoid":
        with np.errstate(over="ignore"):  # exp(-x) = inf for x < -709: sigmoid 0, right
            y = 1.0 / (1.0 + np.exp(-x))
    elif name == "softmax":
        e = np.exp(x - x.max())
        y = e / e.sum()
    elif name == "elu":
        y = np.where(x > 0, x, np.expm1(np.minimum(x, 0.0)))
    else:
        y = x
    return np.asarray(y, dtype=np.float64)


def reference_outputs(
    spec: ModelSpec, layers: Sequence[Sequence[FloatArray]], inputs: FloatArray
) -> FloatArray:
    """Step RTNeural-layout weights over ``inputs`` ``(N, in)`` in float64 from a reset state.

    :param layers: Per layer of ``spec``, its RTNeural weights: dense ``[kernel (IN, OUT),
        bias]``, lstm ``[kernel (IN, 4H), recurrent (H, 4H), bias (4H,)]``.
    :returns: ``(N, output_size)`` float32.
    """
    weights = [[np.asarray(w, dtype=np.float64) for w in layer] for layer in layers]
    state = {
        i: (np.zeros(layer.size), np.zeros(layer.size))
        for i, layer in enumerate(spec.layers)
        if layer.kind == "lstm"
    }
    out = np.empty((len(inputs), spec.output_size), dtype=np.float32)
    for t, frame in enumerate(np.asarray(inputs, dtype=np.float64)):
        x = frame
        for i, (layer, w) in enumerate(zip(spec.layers, weights, strict=True)):
            if layer.kind == "dense":
                x = _activate(layer.activation, x @ w[0] + w[1])
                continue
            h, c = state[i]
            z = x @ w[0] + h @ w[1] + w[2]
            n = layer.size
            gi, gf, gg, go = (z[k * n : (k + 1) * n] for k in range(4))
            c = _activate("sigmoid", gf) * c + _activate("sigmoid", gi) * np.tanh(gg)
            h = _activate("sigmoid", go) * np.tanh(c)
            state[i] = (h, c)
            x = _activate(layer.activation, h) if layer.activation else h
        out[t] = x
    return out


def parity_text(
    spec: ModelSpec,
    layers: Sequence[Sequence[FloatArray]],
    *,
    model_file: str,
    frames: int = PARITY_FRAMES,
) -> str:
    """Return the parity file's JSON text for a model with RTNeural-layout ``layers``."""
    inputs = parity_inputs(spec, frames)
    outputs = reference_outputs(spec, layers, inputs)
    head = (
        f'{{"format":"{PARITY_FORMAT}","version":1,"model_name":"{spec.name}",'
        f'"spec_hash":"{spec.spec_hash}","model_file":"{model_file}","frames":{frames},'
        f'"input_size":{spec.input_size},"output_size":{spec.output_size},'
        f'"tolerance":{PARITY_TOLERANCE},'
        '"note":"outputs of the model stepped over inputs in order from a reset state, '
        'LSTM state carried; float64 reference of the float32 weights",'
    )
    return f'{head}"inputs":{float32_json(inputs)},"outputs":{float32_json(outputs)}}}\n'
