"""Records that plugins return from their hooks; building one imports no implementation.

``factory`` is a ``"module:attribute"`` string that the registry imports only when the
entry is used, and ``requires`` lists top-level modules that must be importable for it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final, TypeAlias

import attrs

from kelly_core.specs import ModelSpec

__all__ = [
    "BackendEntry",
    "CommandEntry",
    "DatasetEntry",
    "Entry",
    "ExporterEntry",
    "ModelEntry",
]

FACTORY_PATTERN: Final = r"^[A-Za-z_][\w.]*:[A-Za-z_][\w.]*$"
ENTRY_NAME_PATTERN: Final = r"^[A-Za-z][A-Za-z0-9_.\-]*$"

_name = attrs.field(validator=attrs.validators.matches_re(ENTRY_NAME_PATTERN))
_factory = attrs.field(validator=attrs.validators.matches_re(FACTORY_PATTERN))


def _modules(value: str | Iterable[str]) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    return tuple(value)


_requires = attrs.field(default=(), converter=_modules)


@attrs.frozen(kw_only=True)
class ModelEntry:
    """A model: its spec as data, and a factory ``(name, *, seed) -> Model``."""

    name: str = _name
    spec: ModelSpec
    factory: str = _factory
    requires: tuple[str, ...] = _requires
    description: str = ""

    def __attrs_post_init__(self) -> None:
        if self.name != self.spec.name:
            raise ValueError(f"model entry {self.name!r} carries the spec of {self.spec.name!r}")


@attrs.frozen(kw_only=True)
class BackendEntry:
    """A backend: a factory ``(**options) -> Backend``."""

    name: str = _name
    factory: str = _factory
    requires: tuple[str, ...] = _requires
    description: str = ""


@attrs.frozen(kw_only=True)
class ExporterEntry:
    """A model file format: a factory ``() -> Exporter`` and the file suffix it owns."""

    name: str = _name
    factory: str = _factory
    suffix: str = attrs.field(validator=attrs.validators.matches_re(r"^\.[A-Za-z0-9]+$"))
    requires: tuple[str, ...] = _requires
    description: str = ""


@attrs.frozen(kw_only=True)
class DatasetEntry:
    """A dataset reader: a factory ``(root, **options) -> Dataset`` for one model."""

    name: str = _name
    model: str
    """Name of the model it trains."""
    factory: str = _factory
    requires: tuple[str, ...] = _requires
    description: str = ""
    folder_names: tuple[str, ...] = attrs.field(default=(), converter=_modules)
    """Conventional folder names under a datasets directory (``("deam", "DEAM")``)."""


@attrs.frozen(kw_only=True)
class CommandEntry:
    """A ``kelly`` subcommand: a factory ``() -> Command`` and its one-line help."""

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9\-]*$"))
    factory: str = _factory
    help: str
    requires: tuple[str, ...] = _requires


Entry: TypeAlias = ModelEntry | BackendEntry | ExporterEntry | DatasetEntry | CommandEntry
