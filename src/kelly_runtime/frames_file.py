"""Reading ``kelly infer --input`` frames: a ``.npy`` file checked from its header first.

The file's kind (a regular file, not a FIFO or a device), the magic string, the header's
dtype, shape and order and the data size implied against the file's size are checked
before a byte of data is read, so an empty file, a broken header, a pickled object array
or a header claiming 10**12 frames over a few bytes each give one line naming the file.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import BinaryIO

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.errors import BackendError
from kelly_core.fileio import regular_file_problem

__all__ = ["read_frames"]

_FLOAT_SIZES = (4, 8)


def _header(handle: BinaryIO, path: Path) -> tuple[tuple[int, ...], bool, np.dtype[np.generic]]:
    """Read the magic string and the header: ``(shape, fortran_order, dtype)``."""
    fmt = np.lib.format
    try:
        version = fmt.read_magic(handle)
        if version == (1, 0):
            shape, fortran, dtype = fmt.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, fortran, dtype = fmt.read_array_header_2_0(handle)
        else:
            raise ValueError(f"unsupported format version {version[0]}.{version[1]}")
    except (ValueError, EOFError, OSError, SyntaxError, TypeError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise BackendError(
            f"not a .npy array file ({first}); expected numpy's .npy format", path=path
        ) from exc
    return tuple(int(n) for n in shape), bool(fortran), np.dtype(dtype)


def read_frames(path: Path, size: int) -> FloatArray:
    """Read ``(T, size)`` frames from a ``.npy`` file as float32.

    :raises BackendError: If the path is not a regular file, the file is empty, not
        ``.npy``, holds another dtype (float32 and float64 are accepted) or shape, no
        frame, fewer or more bytes than its header declares, or a NaN/Inf value.
    """
    problem = regular_file_problem(path, what=".npy array file")
    if problem is not None:
        raise BackendError(problem, path=path, expected="a .npy file of frames")
    total = path.stat().st_size
    if total == 0:
        raise BackendError("empty file (0 bytes); expected a .npy array", path=path, got=0)
    with path.open("rb") as handle:
        shape, fortran, dtype = _header(handle, path)
        if dtype.kind != "f" or dtype.itemsize not in _FLOAT_SIZES:
            raise BackendError(
                f"expected dtype float32, got {dtype}", path=path, expected="float32", got=dtype
            )
        if len(shape) != 2 or shape[1] != size:
            raise BackendError(
                f"expected frames of shape (T, {size}), got {shape}",
                path=path,
                expected=(None, size),
                got=shape,
            )
        if shape[0] == 0:
            raise BackendError("holds no frames; expected at least one", path=path, got=shape)
        needed = math.prod(shape) * dtype.itemsize
        held = total - handle.tell()
        if held != needed:
            state = "truncated" if held < needed else "longer than its header says"
            raise BackendError(
                f"{state}: the header declares {shape[0]} frames ({needed:,} bytes of data), "
                f"the file holds {held:,}",
                path=path,
                expected=needed,
                got=held,
            )
        data = np.fromfile(handle, dtype=dtype, count=math.prod(shape))
    array = data.reshape(shape, order="F" if fortran else "C")
    finite = np.isfinite(array)
    if not finite.all():
        bad = int(np.argwhere(~finite)[0][0])
        raise BackendError(
            f"expected finite values, got NaN or Inf in frame {bad}",
            path=path,
            field=f"frames[{bad}]",
            expected="finite",
        )
    return np.ascontiguousarray(array, dtype=np.float32)
