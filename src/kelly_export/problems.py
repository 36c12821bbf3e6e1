"""One problem found in a model file: where (file, JSON path), what, expected, got."""

from __future__ import annotations

from pathlib import Path

import attrs

from kelly_core.errors import format_location

__all__ = ["Problem"]


@attrs.frozen(kw_only=True)
class Problem:
    """A validation problem; ``str()`` reads ``file: json.path: message``."""

    reason: str
    """What is wrong, with expected and got written out, lower case."""
    path: Path | None = attrs.field(default=None, converter=attrs.converters.optional(Path))
    """The file, if known."""
    field: str = "$"
    """JSON path inside the document (``layers[2].weights[0]``); ``$`` is the root."""
    expected: object = attrs.field(default=None, eq=False)
    got: object = attrs.field(default=None, eq=False)

    def __str__(self) -> str:
        where = format_location(self.path, self.field)
        return f"{where}: {self.reason}" if where else self.reason

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict: file, json_path, message, expected, got."""
        return {
            "file": None if self.path is None else str(self.path),
            "json_path": self.field,
            "message": self.reason,
            "expected": _jsonable(self.expected),
            "got": _jsonable(self.got),
        }


def _jsonable(value: object) -> object:
    if value is None or isinstance(value, (bool, int, str)):
        return value
    if isinstance(value, float):
        return value if value == value and abs(value) != float("inf") else str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return str(value)
