"""The compiled step: every layer of one model in one ``numba.njit`` call.

Imported only by :mod:`kelly_runtime.backends.numba_backend` (it imports numba, whose
import and first compilation are not free). Three arrays describe a loaded model:

- ``weights`` (float32): every layer's kernel and bias, one after the other. A dense
  kernel is ``W`` ``(out, in)`` row-major (each output a contiguous dot product); an
  LSTM's is ``[W_ih | W_hh]`` ``(4H, in + H)`` with the summed bias ``b_ih + b_hh``.
- ``table`` (int64, one row per layer): ``kind, activation, n_in, n_out, weight offset,
  bias offset, input offset, cell offset`` (columns named by the ``COL_*`` constants).
- ``buffer`` (float32): the activations and the recurrent state. Layer ``l`` reads its
  input at ``table[l, COL_X]`` and writes its output right after it, where layer
  ``l + 1`` reads it: the frame, then every layer's output in order. An LSTM's input and
  its ``h`` are therefore adjacent, ``[x | h]``, the vector its stacked kernel takes.
  After the activations come each LSTM's cell state and gate scratch, ``[c | 4H gates]``.

The functions are compiled with ``cache=True`` (the machine code is kept in numba's cache
next to this file, or in ``NUMBA_CACHE_DIR``), with fast-math flags that allow reordering
sums (so LLVM vectorises the dot products) but not assuming finite values, so the NaN/Inf
check on the frame is kept, and with ``error_model="numpy"``: numba's default (Python's)
tests every float division for zero so that it can raise ``ZeroDivisionError``, and that
branch stops LLVM from vectorising any loop that divides (``tanh``, the sigmoid, the
LSTM's gates ran scalar: 2.0 µs instead of 0.16 µs per 1,024 values). ``tanh`` is a
rational approximation (the one Eigen, and so RTNeural, uses): within 3.5e-7 of ``tanh``
(measured over [-12, 12]) and vectorisable, where ``math.tanh`` is a scalar libm call per
value.
"""

from __future__ import annotations

from typing import Final

import numba
import numpy as np

__all__ = [
    "ACTIVATION_CODES",
    "COLUMNS",
    "KIND_DENSE",
    "KIND_LSTM",
    "activate_rows",
    "lstm_sequence",
    "step_frame",
]

KIND_DENSE: Final = 0
KIND_LSTM: Final = 1
ACTIVATION_CODES: Final = {"": 0, "tanh": 1, "relu": 2, "sigmoid": 3, "softmax": 4, "elu": 5}
"""Activation name -> the code in the table's activation column."""
COLUMNS: Final = 8
COL_KIND, COL_ACT, COL_IN, COL_OUT, COL_W, COL_B, COL_X, COL_C = range(COLUMNS)

_FLAGS: Final[set[str]] = {"reassoc", "contract", "nsz", "arcp"}
"""Fast-math flags without ``nnan``/``ninf``: the finite check must survive."""

# Eigen's generic_fast_tanh_float coefficients (a 13/6 rational on [-7.9988, 7.9988]).
_CLAMP = np.float32(7.99881172180175781)
_A1 = np.float32(4.89352455891786e-03)
_A3 = np.float32(6.37261928875436e-04)
_A5 = np.float32(1.48572235717979e-05)
_A7 = np.float32(5.12229709037114e-08)
_A9 = np.float32(-8.60467152213735e-11)
_A11 = np.float32(2.00018790482477e-13)
_A13 = np.float32(-2.76076847742355e-16)
_B0 = np.float32(4.89352518554385e-03)
_B2 = np.float32(2.26843463243900e-03)
_B4 = np.float32(1.18534705686654e-04)
_B6 = np.float32(1.19825839466702e-06)
_TINY = np.float32(0.0004)
_HALF = np.float32(0.5)
_ZERO = np.float32(0.0)
_ONE = np.float32(1.0)


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _tanh(v: np.float32) -> np.float32:
    x = min(max(v, -_CLAMP), _CLAMP)
    x2 = x * x
    p = x2 * _A13 + _A11
    p = x2 * p + _A9
    p = x2 * p + _A7
    p = x2 * p + _A5
    p = x2 * p + _A3
    p = x2 * p + _A1
    p = x * p
    q = x2 * _B6 + _B4
    q = x2 * q + _B2
    q = x2 * q + _B0
    return v if abs(v) < _TINY else p / q


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _sigmoid(v: np.float32) -> np.float32:
    return _HALF + _HALF * _tanh(_HALF * v)


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _matvec(
    weights: np.ndarray, w: int, b: int, x: np.ndarray, y: np.ndarray
) -> None:  # pragma: no cover - compiled
    # Views, not offsets into the arenas: with an offset LLVM cannot prove an index is
    # non-negative (numba wraps negative indices) and does not vectorise (14x slower).
    n_out, n_in = y.shape[0], x.shape[0]
    kernel = weights[w : w + n_out * n_in].reshape((n_out, n_in))
    bias = weights[b : b + n_out]
    for o in range(n_out):
        row = kernel[o]
        acc = _ZERO
        for i in range(n_in):
            acc += row[i] * x[i]
        y[o] = acc + bias[o]


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _matvec_add(
    weights: np.ndarray, w: int, x: np.ndarray, y: np.ndarray
) -> None:  # pragma: no cover - compiled
    """``y += W @ x`` for the row-major ``W`` ``(len(y), len(x))`` at offset ``w``."""
    n_out, n_in = y.shape[0], x.shape[0]
    kernel = weights[w : w + n_out * n_in].reshape((n_out, n_in))
    for o in range(n_out):
        row = kernel[o]
        acc = _ZERO
        for i in range(n_in):
            acc += row[i] * x[i]
        y[o] += acc


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _activate(y: np.ndarray, act: int) -> None:  # pragma: no cover - compiled
    n_out = y.shape[0]
    if act == 1:
        for o in range(n_out):
            y[o] = _tanh(y[o])
    elif act == 2:
        for o in range(n_out):
            y[o] = max(y[o], _ZERO)
    elif act == 3:
        for o in range(n_out):
            y[o] = _sigmoid(y[o])
    elif act == 4:
        top = y[0]
        for o in range(1, n_out):
            top = max(top, y[o])
        total = _ZERO
        for o in range(n_out):
            e = np.float32(np.exp(y[o] - top))
            y[o] = e
            total += e
        for o in range(n_out):
            y[o] = y[o] / total
    elif act == 5:
        for o in range(n_out):
            if y[o] < _ZERO:
                y[o] = np.float32(np.expm1(y[o]))


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _dense(
    weights: np.ndarray, buffer: np.ndarray, row: np.ndarray
) -> None:  # pragma: no cover - compiled
    n_in, n_out, x0 = row[COL_IN], row[COL_OUT], row[COL_X]
    x = buffer[x0 : x0 + n_in]
    y = buffer[x0 + n_in : x0 + n_in + n_out]
    _matvec(weights, row[COL_W], row[COL_B], x, y)
    _activate(y, row[COL_ACT])


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _cell_update(
    gates: np.ndarray, c: np.ndarray, h: np.ndarray
) -> None:  # pragma: no cover - compiled
    hid = c.shape[0]
    i_gates = gates[:hid]
    f_gates = gates[hid : 2 * hid]
    g_gates = gates[2 * hid : 3 * hid]
    o_gates = gates[3 * hid :]
    for k in range(hid):
        cell = _sigmoid(f_gates[k]) * c[k] + _sigmoid(i_gates[k]) * _tanh(g_gates[k])
        c[k] = cell
        h[k] = _sigmoid(o_gates[k]) * _tanh(cell)


@numba.njit(inline="always", cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _lstm(
    weights: np.ndarray, buffer: np.ndarray, row: np.ndarray
) -> None:  # pragma: no cover - compiled
    n_in, hid, x0, c0 = row[COL_IN], row[COL_OUT], row[COL_X], row[COL_C]
    xh = buffer[x0 : x0 + n_in + hid]
    h = buffer[x0 + n_in : x0 + n_in + hid]
    c = buffer[c0 : c0 + hid]
    gates = buffer[c0 + hid : c0 + 5 * hid]
    _matvec(weights, row[COL_W], row[COL_B], xh, gates)  # [W_ih | W_hh] @ [x | h] + b
    _cell_update(gates, c, h)


@numba.njit(cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def _layers(
    weights: np.ndarray, table: np.ndarray, buffer: np.ndarray
) -> None:  # pragma: no cover - compiled
    for layer in range(table.shape[0]):
        row = table[layer]
        if row[COL_KIND] == KIND_LSTM:
            _lstm(weights, buffer, row)
        else:
            _dense(weights, buffer, row)


@numba.njit(cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def step_frame(
    weights: np.ndarray, table: np.ndarray, buffer: np.ndarray, frame: np.ndarray, out: np.ndarray
) -> bool:  # pragma: no cover - compiled
    """One frame through every layer, the result written to ``out``; ``False`` (state and
    ``out`` untouched) if the frame holds a NaN or Inf.

    The caller makes ``out`` (``np.empty`` from Python): an array allocated here and boxed
    for Python costs about twice as much (1.1 against 0.6 µs a call, measured).
    """
    n_in = table[0, COL_IN]
    last = table.shape[0] - 1
    y = table[last, COL_X] + table[last, COL_IN]
    n_out = table[last, COL_OUT]
    for i in range(n_in):
        if not np.isfinite(frame[i]):
            return False
    buffer[:n_in] = frame
    _layers(weights, table, buffer)
    out[:] = buffer[y : y + n_out]
    return True


@numba.njit(cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def activate_rows(y: np.ndarray, act: int) -> None:  # pragma: no cover - compiled
    """Apply activation code ``act`` to every row of ``y`` ``(T, out)`` in place (the
    step's own functions: the rational ``tanh``, the same softmax)."""
    for t in range(y.shape[0]):
        _activate(y[t], act)


@numba.njit(cache=True, fastmath=_FLAGS, nogil=True, error_model="numpy")
def lstm_sequence(
    recurrent: np.ndarray, row: np.ndarray, buffer: np.ndarray, pre: np.ndarray, out: np.ndarray
) -> None:  # pragma: no cover - compiled
    """Run table row ``row``'s LSTM over ``T`` frames whose input part of the gates,
    ``W_ih @ x + b`` ``(T, 4H)``, the caller computed for all frames at once (``pre``);
    write each frame's ``h`` to ``out`` ``(T, H)``. Only ``W_hh @ h`` is a product per
    frame, over ``recurrent``: a contiguous copy of ``W_hh`` ``(4H, H)`` (the stacked
    kernel's right part, which strided rows would stream at about half the speed). The
    state is read from and left in ``buffer``, as stepping would."""
    n_in, hid, x0, c0 = row[COL_IN], row[COL_OUT], row[COL_X], row[COL_C]
    h = buffer[x0 + n_in : x0 + n_in + hid]
    c = buffer[c0 : c0 + hid]
    gates = buffer[c0 + hid : c0 + 5 * hid]
    flat = recurrent.ravel()
    for t in range(pre.shape[0]):
        gates[:] = pre[t]
        _matvec_add(flat, 0, h, gates)
        _cell_update(gates, c, h)
        out[t] = h
