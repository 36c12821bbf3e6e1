"""JSON that every parser reads one way: no duplicate keys, no NaN/Infinity, no lone surrogates.

Python's ``json`` accepts text that other parsers (nlohmann json under RTNeural among
them) read differently or refuse: an object with the same key twice (Python keeps the
last value, others the first, or fail), the ``NaN``/``Infinity``/``-Infinity`` tokens
(not JSON by RFC 8259), and ``\\ud800``-style escapes of a lone UTF-16 surrogate (kept,
replaced or refused). A model file holding any of them must not validate, since what
RTNeural loads could differ from what Kelly checked. :func:`loads` refuses them with the
JSON path of the first one. A UTF-8 byte-order mark is refused by ``json`` itself.

The checks cost little: ``object_pairs_hook`` runs once per object (a model file has a
few dozen), ``parse_constant`` only on the bad tokens, and strings are searched for
surrogates only when the text holds a ``\\uD800``-``\\uDFFF`` escape at all.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Final

from kelly_export.schema import json_path

__all__ = ["NotStrictJSONError", "loads"]

_SURROGATE_ESCAPE: Final = re.compile(r"\\u[dD][89a-fA-F][0-9a-fA-F]{2}")


class NotStrictJSONError(ValueError):
    """Text that parses in Python but not the same way everywhere; ``field`` is its path."""

    def __init__(self, message: str, field: str) -> None:
        super().__init__(message)
        self.reason = message
        self.field = field


class _FoundError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _lone_surrogate(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _strings_of(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, str)]
    return []


def _pairs_hook(surrogates: bool) -> Callable[[list[tuple[str, object]]], dict[str, object]]:
    def build(pairs: list[tuple[str, object]]) -> dict[str, object]:
        result = dict(pairs)
        if len(result) != len(pairs):
            seen: set[str] = set()
            key = ""
            for key, _ in pairs:
                if key in seen:
                    break
                seen.add(key)
            raise _FoundError(
                f"duplicate key {key!r} in one object; JSON parsers disagree on which value "
                "counts (Python keeps the last, others the first or refuse the file)"
            )
        if surrogates:
            for key, value in pairs:
                if any(_lone_surrogate(s) for s in (key, *_strings_of(value))):
                    raise _FoundError(
                        "a string holds a lone UTF-16 surrogate escape (\\ud800-\\udfff "
                        "without its pair); JSON parsers keep, replace or refuse it"
                    )
        return result

    return build


def _constant(token: str) -> float:
    raise _FoundError(
        f"expected a finite number, got {token.lower()} (the token {token} is not JSON; "
        "RTNeural's parser refuses it)"
    )


def loads(text: str, *, parse_int: Callable[[str], object] | None = None) -> object:
    """Parse ``text`` like ``json.loads``, refusing what parsers may read two ways.

    :raises NotStrictJSONError: On a duplicate key, a NaN/Infinity token or a lone surrogate,
        with the JSON path of the first one (the object holding the key, the number).
    :raises json.JSONDecodeError: On text that is not JSON at all (a BOM included).
    :raises RecursionError: On nesting deeper than Python's recursion limit.
    """
    surrogates = _SURROGATE_ESCAPE.search(text) is not None
    try:
        return json.loads(
            text,
            parse_int=parse_int,
            object_pairs_hook=_pairs_hook(surrogates),
            parse_constant=_constant,
        )
    except _FoundError as found:
        raise NotStrictJSONError(found.reason, _locate(text, parse_int)) from None


class _Marked(dict[str, object]):
    """An object that held a duplicate key or a lone surrogate (found by :func:`_locate`)."""


class _Token(float):
    """A NaN/Infinity token (found by :func:`_locate`)."""


def _locate(text: str, parse_int: Callable[[str], object] | None) -> str:
    """Parse again, marking what :func:`loads` refused, and return the first mark's path."""

    def build(pairs: list[tuple[str, object]]) -> dict[str, object]:
        plain = dict(pairs)
        bad = len(plain) != len(pairs) or any(
            _lone_surrogate(s) for key, value in pairs for s in (key, *_strings_of(value))
        )
        return _Marked(plain) if bad else plain

    document = json.loads(text, parse_int=parse_int, object_pairs_hook=build, parse_constant=_Token)
    stack: list[tuple[object, tuple[str | int, ...]]] = [(document, ())]
    while stack:
        node, where = stack.pop()
        if isinstance(node, _Marked | _Token):
            return json_path(where)
        if isinstance(node, dict):
            children = list(node.items())
        elif isinstance(node, list) and any(isinstance(v, list | dict | _Token) for v in node):
            children = list(enumerate(node))
        else:
            continue
        stack.extend((child, (*where, key)) for key, child in reversed(children))
    return "$"
