"""Loading plugins: entry points (or given objects) registered with pluggy, hooks checked
and called, entries collected with the plugin and distribution that offered them.

:class:`kelly_core.registry.Registry` loads through :func:`load_plugins` on first use; the
rules are in its module docstring.
"""

from __future__ import annotations

import difflib
import os
import warnings
from collections.abc import Mapping, Sequence
from importlib import metadata
from typing import Final, Generic, Literal, TypeAlias, TypeVar, cast

import attrs
import pluggy

from kelly_core import hookspecs
from kelly_core._optional import missing_modules
from kelly_core.entries import (
    BackendEntry,
    CommandEntry,
    DatasetEntry,
    Entry,
    ExporterEntry,
    ModelEntry,
)
from kelly_core.errors import KellyPluginWarning, PluginError

__all__ = [
    "DISABLE_AUTOLOAD_ENV",
    "ENTRY_KINDS",
    "ENTRY_POINT_GROUP",
    "HOOKS",
    "HOOK_NAMES",
    "KELLY_DISTRIBUTION",
    "BrokenPlugin",
    "EntryKind",
    "LoadedPlugins",
    "PluginSource",
    "Registered",
    "load_plugins",
]

ENTRY_POINT_GROUP: Final = "kelly.plugins"
KELLY_DISTRIBUTION: Final = "kelly"
DISABLE_AUTOLOAD_ENV: Final = "KELLY_DISABLE_PLUGIN_AUTOLOAD"

EntryKind: TypeAlias = Literal["model", "dataset", "exporter", "backend", "command"]
E = TypeVar("E", bound=ModelEntry | DatasetEntry | ExporterEntry | BackendEntry | CommandEntry)

HOOKS: Final[Mapping[EntryKind, tuple[str, type]]] = {
    "model": ("kelly_models", ModelEntry),
    "dataset": ("kelly_datasets", DatasetEntry),
    "exporter": ("kelly_exporters", ExporterEntry),
    "backend": ("kelly_backends", BackendEntry),
    "command": ("kelly_commands", CommandEntry),
}
ENTRY_KINDS: Final[tuple[EntryKind, ...]] = tuple(HOOKS)
HOOK_NAMES: Final[tuple[str, ...]] = (*(hook for hook, _ in HOOKS.values()), "kelly_guess_dataset")
"""Every hook a plugin may implement (:mod:`kelly_core.hookspecs`)."""


@attrs.frozen(kw_only=True)
class PluginSource:
    """An explicitly given plugin object with the names to report for it."""

    plugin: object
    name: str
    distribution: str = "(explicit)"


@attrs.frozen(kw_only=True)
class BrokenPlugin:
    """A plugin that failed to load or whose hook raised."""

    name: str
    distribution: str
    error: str


@attrs.frozen(kw_only=True)
class Registered(Generic[E]):
    """An entry with the plugin and distribution that offered it."""

    entry: E
    plugin: str
    distribution: str
    missing: tuple[str, ...] = ()
    """Required modules that are not installed; empty when usable."""

    @property
    def usable(self) -> bool:
        """Whether every required module is importable."""
        return not self.missing


def _one_line(exc: BaseException) -> str:
    """``Type: message`` on one line (pluggy's and some imports' messages span several)."""
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _distribution_label(dist: metadata.Distribution | None) -> str:
    if dist is None:
        return "(unknown)"
    return f"{dist.metadata['Name']} {dist.version}"


@attrs.frozen(kw_only=True)
class LoadedPlugins:
    """What loading gave: pluggy's manager, the entries of each kind, the broken plugins."""

    manager: pluggy.PluginManager
    entries: Mapping[EntryKind, tuple[Registered[Entry], ...]]
    broken: tuple[BrokenPlugin, ...]


class _Loader:
    """One load: the broken plugins it found, reported as it goes."""

    def __init__(self) -> None:
        self._broken: list[BrokenPlugin] = []

    def _sources(self, explicit: Sequence[object] | None) -> list[PluginSource]:
        if explicit is not None:
            return [
                s
                if isinstance(s, PluginSource)
                else PluginSource(plugin=s, name=getattr(s, "__name__", type(s).__name__))
                for s in explicit
            ]
        only_kelly = os.environ.get(DISABLE_AUTOLOAD_ENV, "") not in ("", "0")
        sources: list[PluginSource] = []
        seen: set[tuple[str, str]] = set()
        for ep in metadata.entry_points(group=ENTRY_POINT_GROUP):
            dist = ep.dist
            dist_name = dist.metadata["Name"] if dist is not None else ""
            if only_kelly and dist_name != KELLY_DISTRIBUTION:
                continue
            key = (ep.name, ep.value)
            if key in seen:  # the same distribution found twice on sys.path
                continue
            seen.add(key)
            label = _distribution_label(dist)
            try:
                plugin = ep.load()
            except Exception as exc:  # a third party's import may raise anything
                self._report(ep.name, label, "failed to load and is skipped", _one_line(exc))
                continue
            sources.append(PluginSource(plugin=plugin, name=ep.name, distribution=label))
        return sources

    def _report(self, name: str, distribution: str, what: str, error: str) -> None:
        """Record a broken plugin and warn in one line: ``kelly plugin NAME (DIST) WHAT: ERROR``."""
        self._broken.append(BrokenPlugin(name=name, distribution=distribution, error=error))
        warnings.warn(
            f"kelly plugin {name!r} ({distribution}) {what}: {error}",
            KellyPluginWarning,
            stacklevel=4,
        )

    def load(self, explicit: Sequence[object] | None) -> LoadedPlugins:
        """Register the plugins with pluggy, check their hooks and collect their entries."""
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        sources: list[PluginSource] = []
        for position, source in enumerate(self._sources(explicit)):
            try:
                manager.register(
                    source.plugin, name=f"{source.distribution}:{source.name}#{position}"
                )
            except (ValueError, pluggy.PluginValidationError) as exc:
                self._report(
                    source.name,
                    source.distribution,
                    "cannot be registered and is skipped",
                    _one_line(exc),
                )
                continue
            self._check_unmarked(manager, source)
            sources.append(source)
        self._check_pending(manager, sources)
        collected: dict[EntryKind, list[Registered[Entry]]] = {k: [] for k in ENTRY_KINDS}
        for source in sources:
            others = [s.plugin for s in sources if s is not source]
            for kind, (hook_name, entry_type) in HOOKS.items():
                entries = self._call_hook(manager, hook_name, entry_type, source, others)
                collected[kind].extend(
                    Registered(
                        entry=entry,
                        plugin=source.name,
                        distribution=source.distribution,
                        missing=missing_modules(entry.requires),
                    )
                    for entry in entries
                )
        return LoadedPlugins(
            manager=manager,
            entries={k: tuple(v) for k, v in collected.items()},
            broken=tuple(self._broken),
        )

    def _call_hook(
        self,
        manager: pluggy.PluginManager,
        hook_name: str,
        entry_type: type,
        source: PluginSource,
        others: list[object],
    ) -> list[Entry]:
        """Call one plugin's ``hook_name`` through pluggy (the others left out, so each
        entry keeps its plugin); check that it returned a list of ``entry_type``."""
        caller = manager.subset_hook_caller(hook_name, remove_plugins=others)
        if not any(
            impl.plugin is source.plugin and not (impl.wrapper or impl.hookwrapper)
            for impl in caller.get_hookimpls()
        ):
            return []
        try:
            results: list[object] = caller()
        except Exception as exc:  # a third party's hook may raise anything
            self._report(
                source.name,
                source.distribution,
                f"raised in {hook_name}() and its entries are skipped",
                _one_line(exc),
            )
            return []
        result = results[0] if results else None  # pluggy drops a None result
        if not isinstance(result, list):
            raise PluginError(
                f"{hook_name}() must return a list of {entry_type.__name__}, "
                f"got {type(result).__name__}",
                plugin=source.name,
            )
        for item in result:
            if not isinstance(item, entry_type):
                raise PluginError(
                    f"{hook_name}() must return {entry_type.__name__} records, "
                    f"got {type(item).__name__}",
                    plugin=source.name,
                )
        return cast(list[Entry], result)

    def _check_unmarked(self, manager: pluggy.PluginManager, source: PluginSource) -> None:
        """Report a function named like a hook but not marked ``@hookimpl`` (never called)."""
        for hook_name in HOOK_NAMES:
            value = getattr(source.plugin, hook_name, None)
            if callable(value) and manager.parse_hookimpl_opts(source.plugin, hook_name) is None:
                self._report(
                    source.name,
                    source.distribution,
                    "has a hook Kelly never calls",
                    f"{hook_name}() is not marked @hookimpl "
                    "(decorate it with kelly_core.hookspecs.hookimpl)",
                )

    def _check_pending(self, manager: pluggy.PluginManager, sources: list[PluginSource]) -> None:
        """pluggy's ``check_pending``: report every ``@hookimpl`` whose name is no Kelly
        hook (a misspelling such as ``kelly_backend``), one line each; the plugin's other
        hooks keep working."""
        try:
            manager.check_pending()
        except pluggy.PluginValidationError:
            pass
        else:
            return
        by_plugin = {id(s.plugin): s for s in sources}
        for hook_name, caller in sorted(vars(manager.hook).items()):
            if hook_name.startswith("_") or caller.has_spec():
                continue
            for impl in caller.get_hookimpls():
                source = by_plugin.get(id(impl.plugin))
                if impl.optionalhook or source is None:
                    continue
                close = difflib.get_close_matches(hook_name, HOOK_NAMES, n=1, cutoff=0.6)
                hint = f"did you mean {close[0]!r}? " if close else ""
                self._report(
                    source.name,
                    source.distribution,
                    "has a hook Kelly never calls",
                    f"@hookimpl {hook_name!r} is not a Kelly hook "
                    f"({hint}Kelly's hooks: {', '.join(HOOK_NAMES)})",
                )


def load_plugins(explicit: Sequence[object] | None) -> LoadedPlugins:
    """Load ``explicit`` plugin objects (or :class:`PluginSource` records), or the
    ``kelly.plugins`` entry points when None."""
    return _Loader().load(explicit)
