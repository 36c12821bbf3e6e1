"""The numbers of an RTNeural file: JSON number arrays, integer sizes, and the problem list.

Shared by :mod:`kelly_export.check` (weights) and :mod:`kelly_export.spec_match`
(the spec a file is checked against).
"""

from __future__ import annotations

from pathlib import Path
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from kelly_export.problems import Problem

__all__ = ["FLOAT32_MAX", "Checker", "integral", "numeric_array", "size_of"]

FLOAT32_MAX: Final = float(np.finfo(np.float32).max)
"""The largest finite float32; RTNeural reads anything beyond it as inf."""


def numeric_array(value: object) -> npt.NDArray[np.float64] | None:
    """Return ``value`` as a float64 array if it is a list of JSON numbers, or a
    rectangular list of such lists; else ``None``. Booleans and strings are not numbers.

    The element types are checked on the array numpy builds (one C pass), not per Python
    element: numpy infers a float or integer dtype only when every element is a number
    or a boolean, and a boolean can hide only where the array holds exactly 0 or 1, so
    only those positions are looked at in Python.
    """
    if not isinstance(value, list):
        return None
    if not value:
        return np.zeros(0, dtype=np.float64)
    try:
        array = np.array(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None  # ragged rows, deep nesting, or an integer beyond int64 and float64
    if array.dtype.kind not in "fi" or array.ndim not in (1, 2):
        return None
    if array.ndim == 2 and not all(type(row) is list for row in value):
        return None  # a tuple or array row from a Python caller is not JSON
    if _hides_bool(value, array):
        return None
    return array.astype(np.float64, copy=False)


def _hides_bool(value: list[object], array: npt.NDArray[np.generic]) -> bool:
    candidates = np.flatnonzero((array == 0) | (array == 1))
    if array.ndim == 1:
        return any(type(value[i]) is bool for i in candidates.tolist())
    width = array.shape[1]
    rows = cast(list[list[object]], value)
    return any(type(rows[i // width][i % width]) is bool for i in candidates.tolist())


def integral(value: object) -> int | None:
    """Return a JSON integer as an int; ``32.0`` counts as 32 (RTNeural reads it so)."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return None


def size_of(shape: object) -> int | None:
    """Return the last entry of a ``shape`` list if it is a positive integer, else None."""
    if isinstance(shape, list) and shape:
        last = integral(shape[-1])
        if last is not None and last > 0:
            return last
    return None


class Checker:
    """Collects the problems found in one file, each placed at its JSON field."""

    def __init__(self, source: Path | None) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, field: str, message: str, expected: object = None, got: object = None) -> None:
        self.problems.append(
            Problem(reason=message, path=self.source, field=field, expected=expected, got=got)
        )
