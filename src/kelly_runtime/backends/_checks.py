"""Checks shared by the backends: state arrays against a spec, frame batches."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from kelly_core.arrays import FloatArray, check_shape
from kelly_core.errors import BackendError, SpecError
from kelly_core.specs import ModelSpec

__all__ = ["check_frames", "check_state_arrays"]


def check_state_arrays(spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> dict[str, FloatArray]:
    """Return ``arrays`` as float32 copies after checking names, shapes and finiteness.

    :raises SpecError: On a missing or extra name, a wrong shape or a non-finite value.
    """
    shapes = spec.array_shapes()
    missing = [name for name in shapes if name not in arrays]
    extra = [name for name in arrays if name not in shapes]
    if missing or extra:
        raise SpecError(
            f"state arrays do not match {spec.name!r}: missing {missing}, unexpected {extra}",
            field="arrays",
            expected=sorted(shapes),
            got=sorted(arrays),
        )
    checked: dict[str, FloatArray] = {}
    for name, shape in shapes.items():
        array = np.asarray(arrays[name])
        if tuple(array.shape) != shape:
            raise SpecError(
                f"expected shape {shape}, got {tuple(array.shape)}",
                field=name,
                expected=shape,
                got=tuple(array.shape),
            )
        if not np.isfinite(array).all():
            raise SpecError("expected finite values, got NaN or Inf", field=name, got="NaN/Inf")
        checked[name] = np.array(array, dtype=np.float32, copy=True)
    return checked


def check_frames(frames: object, size: int) -> FloatArray:
    """Return ``frames`` ``(T, size)`` as C-contiguous float32, or raise ``BackendError``."""
    if not isinstance(frames, np.ndarray):
        raise BackendError(
            f"expected a numpy array, got {type(frames).__name__}",
            field="frames",
            expected="numpy.ndarray",
            got=type(frames).__name__,
        )
    if frames.dtype not in (np.float32, np.float64):
        raise BackendError(
            f"expected dtype float32, got {frames.dtype}",
            field="frames",
            expected="float32",
            got=str(frames.dtype),
        )
    check_shape(frames, (None, size), name="frames")
    if not np.isfinite(frames).all():
        raise BackendError(
            "expected finite values, got NaN or Inf",
            field="frames",
            expected="finite",
            got="NaN/Inf",
        )
    return np.ascontiguousarray(frames, dtype=np.float32)
