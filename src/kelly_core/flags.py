"""Shared command-line vocabulary: renamed flags kept for one release, reader options.

One meaning per flag across every ``kelly`` command (README, "The command line"):

- ``--models DIR`` is a folder of model files (``bench``, ``generate``);
  ``-m/--model NAME`` names models (``train``, ``init``, ``infer``).
- One dataset is ``--dataset NAME`` with its folder ``--root DIR`` (``evaluate``,
  ``data inspect``); ``train -d/--datasets-dir DIR`` is the folder holding many.
- ``-O/--option KEY=VALUE`` is a dataset reader's option (``train``, ``evaluate``,
  ``data inspect``), read as the reader's entry declares it.
- A help text states its default as ``(default X)``.

A renamed flag's old spelling still works for one release (:func:`add_renamed`): it is
hidden from ``--help`` and each use prints one ``kelly: warning:`` line naming the new
spelling (a :class:`RenamedFlagWarning`).
"""

from __future__ import annotations

import argparse
import warnings
from collections.abc import Sequence
from typing import Any, Final

from kelly_core.argtypes import int_in
from kelly_core.errors import DatasetError, KellyWarning

__all__ = [
    "BACKEND_HELP",
    "MAX_ITEMS",
    "RenamedFlagWarning",
    "add_max_items_argument",
    "add_option_argument",
    "add_renamed",
    "key_values",
    "renamed",
]

MAX_ITEMS: Final = 1_000_000_000
"""Largest ``--max-items``."""
BACKEND_HELP: Final = (
    "backend name (default the usable one of highest priority: numba if installed, else "
    "numpy; `kelly plugins` lists them)"
)
"""The help of ``--backend`` wherever one backend is chosen."""


class RenamedFlagWarning(KellyWarning):
    """An old spelling of a renamed flag was used (it goes in the next release)."""


def renamed(old: str, new: str) -> None:
    """Warn that ``old`` is deprecated in favour of ``new`` (one ``kelly: warning:`` line)."""
    warnings.warn(
        f"{old} is deprecated and will be removed in the next release; use {new}",
        RenamedFlagWarning,
        stacklevel=3,
    )


class _Renamed(argparse.Action):
    """Stores like the new flag (``extend`` for lists), after the warning."""

    def __init__(
        self, option_strings: Sequence[str], dest: str, *, new: str, **kwargs: Any
    ) -> None:
        self.new = new
        super().__init__(option_strings, dest, **kwargs)

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        renamed(option_string or self.option_strings[0], self.new)
        if isinstance(values, list):
            values = [*(getattr(namespace, self.dest, None) or []), *values]
        setattr(namespace, self.dest, values)


def add_renamed(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup,
    old: str,
    *,
    new: str,
    dest: str,
    **kwargs: Any,
) -> None:
    """Accept ``old`` as a hidden, deprecated spelling of ``new`` for one release.

    :param dest: The new flag's destination (the value lands where the new one's does).
    :param kwargs: ``nargs``, ``type``, ``metavar`` as the new flag has them.
    """
    parser.add_argument(
        old,
        dest=dest,
        action=_Renamed,
        new=new,
        default=argparse.SUPPRESS,
        help=argparse.SUPPRESS,
        **kwargs,
    )


def add_option_argument(
    parser: argparse.ArgumentParser | argparse._ArgumentGroup, *, each_reader: bool = False
) -> None:
    """Add ``-O/--option KEY=VALUE`` (repeatable): a dataset reader's option.

    :param each_reader: Several readers are opened (``kelly train``): each gets the keys
        its entry declares.
    """
    which = "each reader gets the keys it declares; " if each_reader else ""
    parser.add_argument(
        "-O",
        "--option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help=f"dataset reader option, e.g. -O workers=1 -O limit=50 (repeatable; {which}"
        "docs/datasets.md lists the readers' options)",
    )


def add_max_items_argument(parser: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    """Add ``--max-items N``: read at most N items (sequences) from each dataset."""
    parser.add_argument(
        "--max-items",
        type=int_in("--max-items", 0, MAX_ITEMS),
        default=0,
        metavar="N",
        help=f"read at most N items (sequences) from each dataset, 0..{MAX_ITEMS} "
        "(quick runs; default 0: all)",
    )


def key_values(items: Sequence[str]) -> dict[str, str]:
    """Read ``-O KEY=VALUE`` items into ``{key: text}`` (``-`` in a key read as ``_``).

    :raises DatasetError: On an item without ``=``, naming it and the flag.
    """
    out: dict[str, str] = {}
    for item in items:
        key, sep, value = str(item).partition("=")
        if not sep or not key.strip():
            raise DatasetError(
                f"option {item!r}: expected KEY=VALUE", field="--option", got=str(item)
            )
        out[key.strip().replace("-", "_")] = value
    return out
