"""Float32 arrays as the shortest decimal text that reads back to the same bits.

Every weight in an RTNeural file is float32. Writing it as a Python float (17 significant
digits of the float64 it widens to) spends twice the characters a float32 needs;
:func:`float32_json` writes each value as the shortest decimal string that a
round-to-nearest parse back to float32 gives exactly (NumPy's Dragon4 ``unique`` mode,
at most 9 significant digits). A parser that reads a number as float64 and then rounds
to float32, as nlohmann json under RTNeural and ``json.loads`` + ``np.float32`` do, gets
the same bits back: the tests check it bit for bit.
"""

from __future__ import annotations

import numpy as np

from kelly_core.arrays import FloatArray

__all__ = ["float32_json", "float32_strings"]


def float32_strings(array: FloatArray) -> list[str]:
    """Return the shortest round-trip text of each value of ``array`` (flattened, C order).

    :raises ValueError: If a value is NaN or infinite (JSON has no text for them).
    """
    values = np.ascontiguousarray(array, dtype=np.float32).ravel()
    if not np.isfinite(values).all():
        raise ValueError("expected finite float32 values (JSON has no NaN or Infinity)")
    strings: list[str] = values.astype(str).tolist()
    return strings


def float32_json(array: FloatArray) -> str:
    """Return ``array`` (1-D or 2-D) as a compact JSON list of shortest float32 texts."""
    values = np.asarray(array, dtype=np.float32)
    strings = float32_strings(values)
    if values.ndim == 1:
        return "[" + ",".join(strings) + "]"
    if values.ndim != 2:
        raise ValueError(f"expected a 1-D or 2-D array, got {values.ndim} dimensions")
    rows, cols = values.shape
    parts = (",".join(strings[r * cols : (r + 1) * cols]) for r in range(rows))
    return "[[" + "],[".join(parts) + "]]" if rows else "[]"
