"""Records that plugins return from their hooks; building one imports no implementation.

``factory`` is a ``"module:attribute"`` string that the registry imports only when the
entry is used, and ``requires`` lists top-level modules that must be importable for it.

Optional capabilities are declared here, with defaults, rather than discovered by
inspecting the factory: ``options`` names the keyword options a backend or dataset factory
takes and the type of each value (the registry passes no other and checks each value),
and ``priority`` orders backends for automatic selection and file formats for a folder
holding one model in several formats.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final, TypeAlias

import attrs

from kelly_core.specs import ModelSpec

__all__ = [
    "OPTION_TYPES",
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

OPTION_TYPES: Final[tuple[type, ...]] = (bool, int, float, str, Path, tuple, object)
"""Types an option value may be declared with; ``tuple`` is a tuple of strings (given on the
command line as ``a,b``), ``object`` any value a caller in Python passes (torch's
``registry``), never given on the command line. An ``int`` is accepted where ``float`` is
declared."""


def _options(value: Mapping[object, object] | None) -> Mapping[str, type]:
    declared: dict[str, type] = {}
    for key, kind in (value or {}).items():
        if not isinstance(key, str) or not key.isidentifier():
            raise ValueError(f"option name {key!r} is not a Python identifier")
        if not isinstance(kind, type) or kind not in OPTION_TYPES:
            names = ", ".join(t.__name__ for t in OPTION_TYPES)
            raise ValueError(f"option {key!r}: type {kind!r} is not one of {names}")
        declared[key] = kind
    return MappingProxyType(declared)


def _option_field() -> Mapping[str, type]:
    field: Mapping[str, type] = attrs.field(factory=dict, converter=_options, eq=False)
    return field


def _priority_field() -> int:
    field: int = attrs.field(default=0, validator=attrs.validators.instance_of(int))
    return field


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
    priority: int = _priority_field()
    """Automatic selection (no backend named) takes the usable backend with the highest
    priority, equal priorities in name order. Built-ins: numba 30, numpy 20, torch 10,
    fallback 0; a backend meant to be chosen without being named declares more than 0."""
    options: Mapping[str, type] = _option_field()
    """Keyword options the factory takes, name -> value type (:data:`OPTION_TYPES`):
    torch declares ``{"device": str, "threads": int, "fast": bool}``. The registry passes
    no undeclared option: asking for one is an error naming the backend and its plugin."""


@attrs.frozen(kw_only=True)
class ExporterEntry:
    """A model file format: a factory ``() -> Exporter`` and the file suffix it owns."""

    name: str = _name
    factory: str = _factory
    suffix: str = attrs.field(validator=attrs.validators.matches_re(r"^\.[A-Za-z0-9]+$"))
    requires: tuple[str, ...] = _requires
    description: str = ""
    priority: int = _priority_field()
    """Where a folder holds one model in several formats, the highest priority is read
    (RTNeural ``.json`` 20, ``.pt`` checkpoint 10; default 0)."""


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
    options: Mapping[str, type] = _option_field()
    """Keyword options the factory takes, name -> value type (:data:`OPTION_TYPES`), as
    for :attr:`BackendEntry.options`; ``seed`` (an ``int``) declared by a synthetic
    dataset receives ``kelly train --seed``."""


@attrs.frozen(kw_only=True)
class CommandEntry:
    """A ``kelly`` subcommand: a factory ``() -> Command`` and its one-line help."""

    name: str = attrs.field(validator=attrs.validators.matches_re(r"^[a-z][a-z0-9\-]*$"))
    factory: str = _factory
    help: str
    requires: tuple[str, ...] = _requires


Entry: TypeAlias = ModelEntry | BackendEntry | ExporterEntry | DatasetEntry | CommandEntry
