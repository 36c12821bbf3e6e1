"""Array aliases and shape checks shared by every package."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TypeAlias

import numpy as np
import numpy.typing as npt

from kelly_core.errors import BackendError, SpecError
from kelly_core.specs import ModelSpec

__all__ = ["FloatArray", "as_float32", "check_frame", "check_shape", "check_state_arrays"]

FloatArray: TypeAlias = npt.NDArray[np.float32]
"""A float32 array; its shape is given in the docstring of whatever takes or returns it."""


def check_shape(
    array: np.ndarray,
    shape: tuple[int | None, ...],
    *,
    name: str,
    path: str | Path | None = None,
) -> None:
    """Raise ``BackendError`` unless ``array`` has ``shape`` (``None`` matches any size).

    :param array: The array to check.
    :param shape: Expected shape; ``None`` entries are wildcards.
    :param name: What the array is, for the message (``"frame"``, ``"frames"``).
    :raises BackendError: On a wrong number of axes or a wrong size.
    """
    got = tuple(array.shape)
    ok = len(got) == len(shape) and all(
        e is None or e == g for e, g in zip(shape, got, strict=True)
    )
    if not ok:
        want = "(" + ", ".join("*" if e is None else str(e) for e in shape) + ")"
        raise BackendError(
            f"expected shape {want}, got {got}", path=path, field=name, expected=shape, got=got
        )


def check_frame(frame: object, size: int, *, name: str = "frame") -> FloatArray:
    """Return ``frame`` as a float32 vector of ``size`` values, or raise ``BackendError``.

    Accepts float32 and float64 arrays (float64 is converted); rejects other dtypes,
    wrong shapes and non-finite values, so a bad frame never reaches model state.

    :param frame: One input frame, shape ``(size,)``.
    :raises BackendError: On a wrong type, dtype, shape or a NaN/Inf value.
    """
    if not isinstance(frame, np.ndarray):
        raise BackendError(
            f"expected a numpy array, got {type(frame).__name__}",
            field=name,
            expected="numpy.ndarray",
            got=type(frame).__name__,
        )
    if frame.dtype not in (np.float32, np.float64):
        raise BackendError(
            f"expected dtype float32, got {frame.dtype}",
            field=name,
            expected="float32",
            got=str(frame.dtype),
        )
    check_shape(frame, (size,), name=name)
    if not np.isfinite(frame).all():
        raise BackendError(
            "expected finite values, got NaN or Inf", field=name, expected="finite", got="NaN/Inf"
        )
    return frame.astype(np.float32, copy=False)


def as_float32(values: object) -> FloatArray:
    """Return ``values`` as a C-contiguous float32 array (copying only if needed)."""
    return np.ascontiguousarray(values, dtype=np.float32)


def check_state_arrays(
    spec: ModelSpec, arrays: Mapping[str, object], *, require_finite: bool = True
) -> dict[str, FloatArray]:
    """Return ``arrays`` as float32 copies, in ``spec`` order, after checking them.

    The one check of state arrays (names and shapes from :meth:`ModelSpec.array_shapes`)
    that the exporters, the torch models and the backends share.

    :param arrays: State arrays (anything ``numpy.asarray`` accepts, e.g. CPU tensors).
    :param require_finite: Also refuse NaN and Inf.
    :raises SpecError: On a missing or extra name (both listed), a wrong shape, or a
        non-finite value; ``field`` names the array.
    """
    shapes = spec.array_shapes()
    missing = [name for name in shapes if name not in arrays]
    extra = [name for name in arrays if name not in shapes]
    if missing or extra:
        raise SpecError(
            f"state arrays do not fit {spec.name!r}; missing {missing or 'none'}, "
            f"unexpected {extra or 'none'}",
            field="arrays",
            expected=tuple(shapes),
            got=tuple(arrays),
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
        if require_finite and not np.isfinite(array).all():
            raise SpecError(
                "expected finite values, got NaN or Inf",
                field=name,
                expected="finite",
                got="NaN/Inf",
            )
        checked[name] = np.array(array, dtype=np.float32, copy=True)
    return checked
