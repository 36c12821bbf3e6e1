"""Inference backends: numba (compiled), numpy, torch and the rule-based fallback.

Besides the :class:`kelly_core.interfaces.Backend` protocol (``load``, ``step``, ``run``,
``reset``), the built-in numpy, numba and torch backends have the optional members
declared in :mod:`kelly_core.interfaces`: ``spec`` (:class:`~kelly_core.interfaces.SpecBackend`)
and ``step_unchecked(frame)`` (:class:`~kelly_core.interfaces.FastBackend`): :meth:`step`
for a frame the caller produced itself and guarantees is a float32, C-contiguous
``(in_size,)`` array of finite values, so the frame check (type, dtype, shape, a finite
test) and any conversion are skipped. The pipeline looks it up once per stage with
:func:`kelly_core.interfaces.unchecked_step` (``step`` for backends without it:
third-party ones, the fallback) and uses it for the window it has already checked and for
the contexts it builds from other stages' outputs, so no frame is checked twice. The
numba backend still rejects a non-finite frame there (the test is free in compiled code).
"""

from __future__ import annotations

from kelly_core.arrays import FloatArray
from kelly_core.interfaces import Backend, unchecked_step

__all__ = ["step_unchecked"]


def step_unchecked(backend: Backend, frame: FloatArray) -> FloatArray:
    """``backend.step_unchecked(frame)`` if the backend has it, else ``backend.step(frame)``.

    One call; a loop looks the method up once with
    :func:`kelly_core.interfaces.unchecked_step` instead.

    :param frame: float32, C-contiguous, ``(in_size,)``, finite: made by the caller.
    """
    return unchecked_step(backend)(frame)
