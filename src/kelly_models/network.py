"""One torch module for any :class:`~kelly_core.specs.ModelSpec`: sequences and streams.

``forward`` runs whole sequences ``(batch, time, in) -> (batch, time, out)`` with every
LSTM over the time axis (batch first). ``step`` runs one frame at a time, carrying the
LSTM state between calls, either inside the module (``step``, ``reset``) or explicitly
(``step_with``). Stepping a sequence frame by frame equals the sequence forward
(docs/training.md).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeAlias

import torch
from torch import Tensor, nn

from kelly_core.arrays import FloatArray
from kelly_core.errors import BackendError
from kelly_core.specs import ModelSpec
from kelly_models import weights
from kelly_models.layers import KellyLayer, LayerState, build_layer

__all__ = ["NetworkState", "SpecNetwork"]

NetworkState: TypeAlias = tuple[LayerState, ...]
"""One entry per layer: ``(h, c)`` each ``(1, batch, H)`` for an LSTM, ``None`` for dense."""


class SpecNetwork(nn.Module):
    """A stack of dense and LSTM layers built from ``spec``; implements ``kelly_core.Model``.

    :param spec: The architecture; parameters are initialised by torch's defaults from
        the global torch RNG (use :func:`kelly_models.build.build_network` to seed).
    """

    def __init__(self, spec: ModelSpec) -> None:
        super().__init__()
        self._spec = spec
        self.layers = nn.ModuleList(
            build_layer(layer, in_size)
            for layer, in_size in zip(spec.layers, spec.layer_input_sizes, strict=True)
        )
        self._state: NetworkState | None = None

    # ----------------------------------------------------------------- Model protocol
    @property
    def spec(self) -> ModelSpec:
        """The architecture this network was built from."""
        return self._spec

    def state_arrays(self) -> dict[str, FloatArray]:
        """Return the weights as float32 numpy copies named as in ``spec.array_shapes()``."""
        return weights.state_arrays(self, self._spec)

    def load_state_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        """Replace the weights with ``arrays``; raises ``SpecError`` on a name or shape mismatch."""
        weights.load_state_arrays(self, arrays, self._spec)
        self.reset()

    def reset(self) -> None:
        """Zero the recurrent state carried between :meth:`step` calls."""
        self._state = None

    # ----------------------------------------------------------------- sequences
    def _layers(self) -> list[KellyLayer]:
        return list(self.layers)  # type: ignore[arg-type]  # ModuleList of our layers

    def initial_state(self, batch: int = 1) -> NetworkState:
        """Zero state for ``batch`` sequences, on this module's device and dtype."""
        like = next(self.parameters())
        return tuple(layer.zero_state(batch, like) for layer in self._layers())

    def run(self, x: Tensor, state: NetworkState | None = None) -> tuple[Tensor, NetworkState]:
        """Run sequences ``(batch, time, in)`` from ``state``; return ``(batch, time, out)``
        and the state after the last frame (for truncated BPTT: detach it between chunks).

        :param state: From :meth:`initial_state` or a previous :meth:`run`; ``None`` is zeros.
        """
        if x.dim() != 3 or x.shape[-1] != self._spec.input_size:
            raise BackendError(
                f"expected input (batch, time, {self._spec.input_size}), got {tuple(x.shape)}",
                field="x",
                expected=("batch", "time", self._spec.input_size),
                got=tuple(x.shape),
            )
        layers = self._layers()
        states: list[LayerState] = [None] * len(layers) if state is None else list(state)
        if len(states) != len(layers):
            raise BackendError(
                f"expected a state of {len(layers)} entries, got {len(states)}",
                field="state",
                expected=len(layers),
                got=len(states),
            )
        for index, layer in enumerate(layers):
            x, states[index] = layer.forward_state(x, states[index])
        return x, tuple(states)

    def forward(self, x: Tensor, state: NetworkState | None = None) -> Tensor:
        """Map sequences ``(batch, time, in)`` to ``(batch, time, out)`` from ``state`` (zeros)."""
        return self.run(x, state)[0]

    # ----------------------------------------------------------------- streaming
    def step_with(self, frame: Tensor, state: NetworkState | None) -> tuple[Tensor, NetworkState]:
        """Map one frame ``(in,)`` or ``(batch, in)`` to ``(out,)`` or ``(batch, out)``.

        Pure: the module's own state is neither read nor changed. Gradients flow.

        :param state: The state returned by the previous call; ``None`` is zeros.
        :returns: The output frame and the new state.
        """
        if frame.dim() not in (1, 2):
            raise BackendError(
                f"expected a frame (in,) or (batch, in), got {tuple(frame.shape)}",
                field="frame",
                got=tuple(frame.shape),
            )
        batched = frame if frame.dim() == 2 else frame.unsqueeze(0)
        output, new_state = self.run(batched.unsqueeze(1), state)
        output = output.squeeze(1)
        return (output if frame.dim() == 2 else output.squeeze(0)), new_state

    def step(self, frame: Tensor) -> Tensor:
        """Map one frame ``(in,)`` or ``(batch, in)`` to its output, carrying the state inside.

        Runs without gradients; :meth:`reset` zeroes the state. The batch size must stay the
        same between resets.
        """
        with torch.no_grad():
            output, self._state = self.step_with(frame, self._state)
        return output
