"""A plain torch forward over a whole sequence, independent of every backend: the
reference the numpy and torch backend tests compare their stepping with."""

from __future__ import annotations

import numpy as np
import torch

from kelly_core.specs import ModelSpec

__all__ = ["torch_sequence_reference"]


def torch_sequence_reference(
    spec: ModelSpec, arrays: dict[str, np.ndarray], frames: np.ndarray
) -> np.ndarray:
    """A plain torch forward over the whole sequence (independent of both backends)."""
    x = torch.from_numpy(frames)[None]
    for index, layer in enumerate(spec.layers):
        prefix = f"layers.{index}"
        if layer.kind == "dense":
            w = torch.from_numpy(arrays[f"{prefix}.weight"])
            b = torch.from_numpy(arrays[f"{prefix}.bias"])
            x = torch.nn.functional.linear(x, w, b)
            if layer.activation == "tanh":
                x = torch.tanh(x)
            elif layer.activation == "relu":
                x = torch.relu(x)
            elif layer.activation == "sigmoid":
                x = torch.sigmoid(x)
            elif layer.activation == "softmax":
                x = torch.softmax(x, dim=-1)
            elif layer.activation == "elu":
                x = torch.nn.functional.elu(x)
        else:
            lstm = torch.nn.LSTM(x.shape[-1], layer.size, batch_first=True)
            with torch.no_grad():
                for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh"):
                    getattr(lstm, f"{name}_l0").copy_(torch.from_numpy(arrays[f"{prefix}.{name}"]))
            x, _ = lstm(x)
    return x[0].detach().numpy()
