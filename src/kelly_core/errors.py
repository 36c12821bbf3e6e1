"""Kelly's exception and warning hierarchy.

Every error carries its facts as attributes (``path``, ``field``, ``expected``, ``got``)
so callers and tests need not parse the wording. Messages read
*where: what; expected X, got Y*.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Self, TypeVar, overload

__all__ = [
    "AmbiguousNameError",
    "BackendError",
    "DatasetError",
    "ExportError",
    "Interrupted",
    "KellyError",
    "KellyPluginWarning",
    "KellyWarning",
    "MissingDependencyError",
    "OutputError",
    "PluginError",
    "SpecError",
    "UnknownNameError",
    "format_location",
    "join_field",
]

_K = TypeVar("_K", bound="KellyError")


def format_location(path: str | Path | None, field: str | None) -> str:
    """Return ``"path: field"``, ``"path"``, ``"field"`` or ``""`` for the message prefix."""
    parts = [str(p) for p in (path, field) if p not in (None, "")]
    return ": ".join(parts)


def join_field(prefix: str | None, field: str | None) -> str | None:
    """Return the field path ``field`` inside ``prefix``: ``"spec"`` and ``"layers[0].size"``
    give ``"spec.layers[0].size"``, ``"layers"`` and ``"[2]"`` give ``"layers[2]"``; either
    may be missing."""
    if not prefix:
        return field or None
    if not field:
        return prefix
    return f"{prefix}{field}" if field.startswith("[") else f"{prefix}.{field}"


class KellyError(Exception):
    """Base of every error Kelly raises on purpose.

    :param message: What went wrong, without the location prefix.
    :param path: The file concerned, if any.
    :param field: The field, column or JSON path inside it, if any.
    :param expected: What was expected, if the error compares two things.
    :param got: What was found instead.
    """

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        field: str | None = None,
        expected: object = None,
        got: object = None,
    ) -> None:
        self.path = Path(path) if path is not None else None
        self.field = field
        self.expected = expected
        self.got = got
        self.reason = message
        where = format_location(path, field)
        super().__init__(f"{where}: {message}" if where else message)

    @overload
    def located(
        self,
        *,
        path: str | Path | None = None,
        prefix: str | None = None,
        reason: str | None = None,
    ) -> Self: ...

    @overload
    def located(
        self,
        as_type: type[_K],
        *,
        path: str | Path | None = None,
        prefix: str | None = None,
        reason: str | None = None,
    ) -> _K: ...

    def located(
        self,
        as_type: type[KellyError] | None = None,
        *,
        path: str | Path | None = None,
        prefix: str | None = None,
        reason: str | None = None,
    ) -> KellyError:
        """This error again, placed in a file or inside an enclosing field.

        Raise it ``from`` this one: ``raise exc.located(ExportError, path=path,
        prefix="spec") from exc``. ``expected``, ``got`` and a subclass's own attributes
        are kept.

        :param as_type: The class of the new error (default: this error's class).
        :param path: The file (default: the one this error names, if any).
        :param prefix: The field path enclosing this error's field (:func:`join_field`).
        :param reason: A new reason (default: this error's).
        """
        cls = type(self) if as_type is None else as_type
        new = cls.__new__(cls)
        new.__dict__.update(self.__dict__)
        KellyError.__init__(
            new,
            self.reason if reason is None else reason,
            path=self.path if path is None else path,
            field=join_field(prefix, self.field),
            expected=self.expected,
            got=self.got,
        )
        return new


class SpecError(KellyError, ValueError):
    """A model specification or a file describing one is inconsistent."""


class ExportError(KellyError, ValueError):
    """A model cannot be exported, or an exported file is invalid."""


class DatasetError(KellyError, ValueError):
    """A dataset's index file or layout is missing or malformed."""


class OutputError(KellyError, OSError):
    """An output path cannot be written (read-only, under a file, wrong kind, disk full)."""


class BackendError(KellyError, RuntimeError):
    """A backend cannot load or run a model, or was given a bad frame."""


class UnknownNameError(KellyError, LookupError):
    """A plugin name (model, dataset, exporter, backend, command) is not registered."""

    def __init__(
        self, kind: str, name: str, available: Sequence[str], suggestion: str | None
    ) -> None:
        self.kind = kind
        self.name = name
        self.available = tuple(available)
        self.suggestion = suggestion
        hint = f" (did you mean {suggestion!r}?)" if suggestion else ""
        names = ", ".join(self.available) if self.available else "(none)"
        super().__init__(
            f"unknown {kind} {name!r}{hint}; available: {names}",
            expected=self.available,
            got=name,
        )


class AmbiguousNameError(KellyError, LookupError):
    """Two plugins offer the same name; neither is chosen silently."""

    def __init__(self, kind: str, name: str, distributions: Sequence[str]) -> None:
        self.kind = kind
        self.name = name
        self.distributions = tuple(distributions)
        offered = " and ".join(repr(d) for d in self.distributions)
        super().__init__(
            f"{kind} {name!r} is offered by {offered}; uninstall one of them, "
            "or disable one with KELLY_DISABLE_PLUGIN_AUTOLOAD=1",
            got=self.distributions,
        )


class PluginError(KellyError, TypeError):
    """A plugin returned something that is not a valid entry."""

    def __init__(self, message: str, *, plugin: str) -> None:
        self.plugin = plugin
        super().__init__(f"plugin {plugin!r}: {message}")


class MissingDependencyError(KellyError, ImportError):  # type: ignore[misc]  # ImportError.path is a str, ours a Path
    """An optional package needed for a feature is not installed."""


class Interrupted(KeyboardInterrupt):
    """Ctrl-C in a command that can continue: ``kelly`` prints the hint and the same
    command line with ``rerun_with`` added (``--resume``), unless it already holds one of
    ``rerun_flags``."""

    def __init__(
        self, hint: str, *, rerun_with: str | None = None, rerun_flags: tuple[str, ...] = ()
    ) -> None:
        self.hint = hint
        self.rerun_with = rerun_with
        self.rerun_flags = rerun_flags or ((rerun_with,) if rerun_with else ())
        super().__init__(hint)


class KellyWarning(UserWarning):
    """A recoverable problem: Kelly carried on, but the user should know."""


class KellyPluginWarning(KellyWarning):
    """A plugin failed to load; the other plugins keep working."""
