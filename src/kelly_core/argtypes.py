"""Bounded number types for command-line options, checked while the arguments are parsed.

``parser.add_argument("--seed", type=int_in("--seed", 0, MAX_SEED))`` makes a bad value
fail before any work: the type raises :class:`ArgumentRangeError`, a
:class:`~kelly_core.errors.KellyError` that argparse does not catch (it is neither a
``ValueError`` nor a ``TypeError``), so ``kelly`` prints one line, ``kelly: error:
--seed: expected an integer in 0..18446744073709551615, got '-1'``, and exits 2 (not
argparse's usage block).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Final

from kelly_core.errors import KellyError

__all__ = ["MAX_SEED", "ArgumentRangeError", "float_in", "int_in"]

MAX_SEED: Final = 2**64 - 1
"""Largest seed a ``--seed`` option takes (numpy's generators take any non-negative int)."""


class ArgumentRangeError(KellyError):
    """A command-line number is malformed or outside its documented range.

    Deliberately not a ``ValueError``: argparse would turn one into its own two-line
    usage message.
    """


def int_in(flag: str, low: int, high: int) -> Callable[[str], int]:
    """Return an argparse ``type`` that parses an integer in ``low..high`` (inclusive).

    :raises ArgumentRangeError: (from the returned function) naming ``flag`` and the range.
    """

    def parse(text: str) -> int:
        try:
            value = int(text.strip())
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise ArgumentRangeError(
                f"expected an integer in {low}..{high}, got {text!r}",
                field=flag,
                expected=(low, high),
                got=text,
            )
        return value

    parse.__name__ = "integer"
    return parse


def float_in(
    flag: str, low: float, high: float, *, low_open: bool = False, high_open: bool = False
) -> Callable[[str], float]:
    """Return an argparse ``type`` that parses a finite number in ``low..high``.

    :param low_open: Exclude ``low`` itself (``> 0`` rather than ``>= 0``).
    :param high_open: Exclude ``high`` itself (``< 0.5`` rather than ``<= 0.5``).
    :raises ArgumentRangeError: (from the returned function) naming ``flag`` and the range.
    """
    above = f"> {low:g}" if low_open else f">= {low:g}"
    below = f"< {high:g}" if high_open else f"<= {high:g}"

    def parse(text: str) -> float:
        try:
            value = float(text.strip())
        except ValueError:
            value = math.nan
        fits = math.isfinite(value) and (value > low if low_open else value >= low)
        if not (fits and (value < high if high_open else value <= high)):
            raise ArgumentRangeError(
                f"expected a number {above} and {below}, got {text!r}",
                field=flag,
                expected=(low, high),
                got=text,
            )
        return value

    parse.__name__ = "number"
    return parse
