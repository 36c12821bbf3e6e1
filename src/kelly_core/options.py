"""Option values for backend and dataset factories, checked against their declared types.

A :class:`~kelly_core.entries.BackendEntry` or :class:`~kelly_core.entries.DatasetEntry`
declares ``options``: name -> type (one of :data:`~kelly_core.entries.OPTION_TYPES`).
:func:`option_problem` says why a value does not fit its type (the registry refuses it
before calling the factory); :func:`parse_option` reads a command-line value (``-O
KEY=VALUE``) as the declared type.
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["option_problem", "parse_option"]

_WHAT = {
    bool: "true or false",
    int: "an integer",
    float: "a number",
    str: "a string",
    Path: "a path",
    tuple: "a tuple of strings",
    object: "a value passed from Python, not from the command line",
}


def _fits(kind: type, value: object) -> bool:
    if kind is bool or isinstance(value, bool):
        return kind is bool and isinstance(value, bool)
    if kind is float:
        return isinstance(value, int | float)
    if kind is tuple:
        return isinstance(value, tuple) and all(isinstance(v, str) for v in value)
    return isinstance(value, kind)  # object: anything


def option_problem(kind: type, value: object) -> str | None:
    """``"expected an integer, got 'abc'"`` if ``value`` does not fit ``kind``, else None."""
    if _fits(kind, value):
        return None
    return f"expected {_WHAT.get(kind, kind.__name__)}, got {value!r}"


def parse_option(kind: type, text: str) -> object:
    """Read ``text`` as a value of ``kind`` (``true``/``false``, ``a,b`` for a tuple).

    :raises ValueError: With :func:`option_problem`'s message if it is not one.
    """
    value: object = text
    if kind is bool:
        value = {"true": True, "false": False, "1": True, "0": False}.get(text.lower(), text)
    elif kind in (int, float):
        try:
            value = kind(text)
        except ValueError:
            value = text
    elif kind is Path:
        value = Path(text)
    elif kind is tuple:
        value = tuple(part.strip() for part in text.split(",") if part.strip())
    elif kind is object:
        raise ValueError(f"expected {_WHAT[object]}, got {text!r}")
    problem = option_problem(kind, value)
    if problem is not None:
        raise ValueError(problem)
    return value
