"""A compiled backend: one model step is one native call (numba, ``cache=True``).

:meth:`NumbaBackend.load` packs the state arrays into one float32 weight arena, a layer
table and one float32 buffer for activations and recurrent state (layout:
:mod:`kelly_runtime.backends._numba_kernels`). :meth:`NumbaBackend.step` checks the frame
cheaply in Python (type, dtype, shape: three comparisons) and makes one call into machine
code, which checks the values are finite, runs every layer with fused activations and
fills the new output array ``step`` made. The numpy backend makes about 13 native calls
for the same step, each with its dispatch cost.

Outputs agree with :class:`~kelly_runtime.backends.numpy_backend.NumpyBackend` within
1e-6 on the five models (both compute in float32; the sums are ordered differently and
``tanh`` is a rational approximation within 3.5e-7).

:meth:`NumbaBackend.load` warms ``step`` and ``run`` up on a scratch buffer, so the
compile (first use in a fresh environment: seconds) or the load from numba's cache
(``cache=True``, later processes: numba's fixed start-up cost, about a second) happens
there, never in the first :meth:`step` or :meth:`run` (measured: docs/benchmarks.md,
"First-call cost").
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, final

import numpy as np

from kelly_core.arrays import FloatArray, check_frame, check_state_arrays
from kelly_core.errors import BackendError
from kelly_core.specs import ModelSpec
from kelly_runtime.backends import _numba_kernels as kernels
from kelly_runtime.backends._checks import check_frames

__all__ = ["NumbaBackend", "pack"]

_FLOAT32: Final = np.dtype(np.float32)


def pack(spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> tuple[FloatArray, np.ndarray, int]:
    """Return ``(weights, table, buffer size)`` for checked ``arrays`` of ``spec``."""
    parts: list[FloatArray] = []
    rows: list[list[int]] = []
    offset = 0
    x = 0
    cells = spec.input_size + sum(layer.size for layer in spec.layers)  # after activations
    for index, (layer, in_size) in enumerate(zip(spec.layers, spec.layer_input_sizes, strict=True)):
        prefix = f"layers.{index}."
        if layer.kind == "dense":
            kernel = arrays[prefix + "weight"]
            bias = arrays[prefix + "bias"]
            kind, cell = kernels.KIND_DENSE, 0
        else:
            kernel = np.concatenate([arrays[prefix + "weight_ih"], arrays[prefix + "weight_hh"]], 1)
            summed = arrays[prefix + "bias_ih"].astype(np.float64) + arrays[prefix + "bias_hh"]
            bias = summed.astype(np.float32)
            kind, cell = kernels.KIND_LSTM, cells
            cells += 5 * layer.size
        rows.append(
            [
                kind,
                kernels.ACTIVATION_CODES[layer.activation],
                in_size,
                layer.size,
                offset,
                offset + kernel.size,
                x,
                cell,
            ]
        )
        parts += [kernel.ravel(), bias]
        offset += kernel.size + bias.size
        x += in_size
    weights = np.ascontiguousarray(np.concatenate(parts), dtype=np.float32)
    return weights, np.array(rows, dtype=np.int64), cells


_NO_RECURRENT: Final = np.zeros((0, 0), dtype=np.float32)


def _batch_kernels(
    weights: FloatArray, table: np.ndarray
) -> list[tuple[FloatArray, FloatArray, FloatArray]]:
    """Per layer, what :meth:`NumbaBackend.run` multiplies by: the kernel all frames are
    multiplied by at once (a dense layer's ``W`` ``(out, in)``, a view of the arena; an
    LSTM's ``W_ih`` ``(4H, in)``, a contiguous copy), the bias, and an LSTM's ``W_hh``
    ``(4H, H)`` (a contiguous copy; empty for a dense layer)."""
    batch: list[tuple[FloatArray, FloatArray, FloatArray]] = []
    for row in table:
        n_in, n_out = int(row[kernels.COL_IN]), int(row[kernels.COL_OUT])
        w, b = int(row[kernels.COL_W]), int(row[kernels.COL_B])
        if row[kernels.COL_KIND] == kernels.KIND_LSTM:
            stacked = weights[w : w + 4 * n_out * (n_in + n_out)].reshape(4 * n_out, -1)
            batch.append(
                (
                    np.ascontiguousarray(stacked[:, :n_in]),
                    weights[b : b + 4 * n_out],
                    np.ascontiguousarray(stacked[:, n_in:]),
                )
            )
        else:
            kernel = weights[w : w + n_out * n_in].reshape(n_out, n_in)
            batch.append((kernel, weights[b : b + n_out], _NO_RECURRENT))
    return batch


@final
class NumbaBackend:
    """Runs one model as compiled code: one native call per step, no allocation but the
    result. Needs ``numba`` (the ``fast`` extra)."""

    def __init__(self) -> None:
        self._spec: ModelSpec | None = None
        self._in_shape: tuple[int, ...] = ()
        self._out_size = 0
        self._weights: FloatArray = np.zeros(0, dtype=np.float32)
        self._table: np.ndarray = np.zeros((0, kernels.COLUMNS), dtype=np.int64)
        self._buffer: FloatArray = np.zeros(0, dtype=np.float32)
        self._batch: list[tuple[FloatArray, FloatArray, FloatArray]] = []

    @property
    def spec(self) -> ModelSpec:
        """The loaded model's spec.

        :raises BackendError: If nothing is loaded.
        """
        if self._spec is None:
            raise BackendError("no model loaded; call load(spec, arrays) first")
        return self._spec

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        """Load state arrays (PyTorch layout, see :mod:`kelly_core.specs`); resets the state.

        :raises SpecError: If names or shapes do not match ``spec`` or a value is not finite.
        """
        checked = check_state_arrays(spec, arrays)
        weights, table, size = pack(spec, checked)
        self._weights, self._table = weights, table
        self._buffer = np.zeros(size, dtype=np.float32)
        self._in_shape = (spec.input_size,)
        self._out_size = spec.output_size
        # run()'s copies of each LSTM's W_ih and W_hh: the arena's size again for an LSTM
        # (0.8 MB for the EmotionRecognizer, 2.1 MB for the MelodyTransformer), no more.
        self._batch = _batch_kernels(weights, table)
        self._spec = spec
        # Warm-up on a scratch buffer: compiles (or loads from numba's cache) here, so the
        # first real step does not stall; the state stays zero.
        scratch = np.zeros_like(self._buffer)
        out = np.empty(spec.output_size, np.float32)
        kernels.step_frame(weights, table, scratch, np.zeros(spec.input_size, np.float32), out)
        self._run(np.zeros((1, spec.input_size), np.float32), scratch)

    def step(self, frame: FloatArray) -> FloatArray:
        """Map one frame ``(in_size,)`` to a new output array ``(out_size,)``.

        :raises BackendError: On a wrong type, dtype, shape or a NaN/Inf value; the state
            is then unchanged.
        """
        if not (
            type(frame) is np.ndarray
            and frame.dtype is _FLOAT32
            and frame.shape == self._in_shape
            and frame.flags.c_contiguous
        ):
            frame = np.ascontiguousarray(check_frame(frame, self.spec.input_size))
        out: FloatArray = np.empty(self._out_size, _FLOAT32)
        if not kernels.step_frame(self._weights, self._table, self._buffer, frame, out):
            check_frame(frame, self.spec.input_size)  # raises the precise error
        return out

    def step_unchecked(self, frame: FloatArray) -> FloatArray:
        """:meth:`step` for a frame the caller made: float32, ``(in_size,)``, contiguous.

        Only the finite check (done in the compiled code, free) remains.
        """
        out: FloatArray = np.empty(self._out_size, _FLOAT32)
        if not kernels.step_frame(self._weights, self._table, self._buffer, frame, out):
            check_frame(frame, self.spec.input_size)
        return out

    def run(self, frames: FloatArray) -> FloatArray:
        """Step through ``frames`` ``(T, in_size)``; return ``(T, out_size)``, state carried.

        Each dense layer, and each LSTM's input part ``W_ih @ x + b``, is one matrix
        product over all frames (NumPy's BLAS); the activations and each LSTM's recurrence
        (``W_hh @ h`` and the gates, frame after frame) are one compiled call per layer.
        Equal to stepping within 1e-6 (the sums are ordered differently).

        :raises BackendError: On a wrong shape, dtype or a non-finite value (state unchanged).
        """
        return self._run(check_frames(frames, self.spec.input_size), self._buffer)

    def _run(self, frames: FloatArray, buffer: FloatArray) -> FloatArray:
        x = frames
        for row, (kernel, bias, recurrent) in zip(self._table, self._batch, strict=True):
            y: FloatArray = x @ kernel.T
            y += bias
            if row[kernels.COL_KIND] == kernels.KIND_LSTM:
                h: FloatArray = np.empty((x.shape[0], row[kernels.COL_OUT]), _FLOAT32)
                kernels.lstm_sequence(recurrent, row, buffer, y, h)
                y = h
            else:
                kernels.activate_rows(y, row[kernels.COL_ACT])
            x = y
        return x

    def reset(self) -> None:
        """Zero every LSTM's ``h`` and ``c`` (and the scratch buffers)."""
        self._buffer.fill(0.0)
