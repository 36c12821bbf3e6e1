"""Checks shared by the backends: frame batches (state arrays: ``kelly_core.arrays``)."""

from __future__ import annotations

import numpy as np

from kelly_core.arrays import FloatArray, check_shape
from kelly_core.errors import BackendError

__all__ = ["check_frames"]


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
