"""Inference backends: numba (compiled), numpy, torch and the rule-based fallback.

Besides the :class:`kelly_core.interfaces.Backend` protocol (``load``, ``step``, ``run``,
``reset``), a backend may offer one optional method:

``step_unchecked(frame) -> FloatArray``
    :meth:`step` for a frame the caller produced itself and guarantees is a float32,
    C-contiguous ``(in_size,)`` array of finite values: the frame check (type, dtype,
    shape, a finite test) and any conversion are skipped. The pipeline uses it for the
    window it has already checked and for the contexts it builds from other stages'
    outputs, so no frame is checked twice. Call it through :func:`step_unchecked`, which
    falls back to ``step`` for backends without it (third-party ones, the fallback).

The built-in numpy, numba and torch backends have it; the numba backend still rejects a
non-finite frame there (the test is free in compiled code).
"""

from __future__ import annotations

from kelly_core.arrays import FloatArray
from kelly_core.interfaces import Backend

__all__ = ["step_unchecked"]


def step_unchecked(backend: Backend, frame: FloatArray) -> FloatArray:
    """``backend.step_unchecked(frame)`` if the backend has it, else ``backend.step(frame)``.

    :param frame: float32, C-contiguous, ``(in_size,)``, finite: made by the caller.
    """
    method = getattr(backend, "step_unchecked", None)
    if method is None:
        return backend.step(frame)
    result: FloatArray = method(frame)
    return result
