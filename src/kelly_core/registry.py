"""The plugin registry: loads ``kelly.plugins`` entry points, resolves names, builds objects.

Resolution rules:

1. Entry points of the ``kelly.plugins`` group load once, on first use (``reload()``
   forgets them). With ``KELLY_DISABLE_PLUGIN_AUTOLOAD=1`` only Kelly's own distribution
   loads.
2. Every hook is called through pluggy: the list hooks one plugin at a time (so each
   entry keeps its plugin and distribution), ``kelly_guess_dataset`` through
   :attr:`Registry.hook`. After registering the plugins the registry runs pluggy's
   ``check_pending``.
3. A plugin that fails to import or to register, whose hook raises, that marks with
   ``@hookimpl`` a name that is no Kelly hook (``kelly_backend`` for ``kelly_backends``),
   or that defines a hook without ``@hookimpl``, gives one ``KellyPluginWarning`` line
   naming the plugin and the hook, and is listed in :attr:`Registry.broken`; its correct
   hooks and the other plugins keep working.
4. A hook returning something that is not a list of the right entry records raises
   ``PluginError`` naming the plugin.
5. A name offered twice is listed twice; asking for it raises ``AmbiguousNameError``
   naming both distributions. An unknown name raises ``UnknownNameError`` with the
   available names and the closest match.
6. ``requires`` is checked with ``importlib.util.find_spec``: an entry whose modules are
   missing is listed as unusable, and using it raises ``MissingDependencyError``.
"""

from __future__ import annotations

import difflib
import importlib
import os
import warnings
from collections.abc import Callable, Mapping, Sequence
from importlib import metadata
from pathlib import Path
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
from kelly_core.errors import (
    AmbiguousNameError,
    BackendError,
    DatasetError,
    KellyPluginWarning,
    MissingDependencyError,
    PluginError,
    UnknownNameError,
)
from kelly_core.interfaces import Backend, Command, Dataset, Exporter, Model
from kelly_core.options import option_problem
from kelly_core.specs import ModelSpec

__all__ = [
    "ENTRY_POINT_GROUP",
    "KELLY_DISTRIBUTION",
    "BrokenPlugin",
    "EntryKind",
    "PluginSource",
    "Registered",
    "Registry",
    "default_registry",
]

ENTRY_POINT_GROUP: Final = "kelly.plugins"
KELLY_DISTRIBUTION: Final = "kelly"
DISABLE_AUTOLOAD_ENV: Final = "KELLY_DISABLE_PLUGIN_AUTOLOAD"

EntryKind: TypeAlias = Literal["model", "dataset", "exporter", "backend", "command"]
E = TypeVar("E", bound=ModelEntry | DatasetEntry | ExporterEntry | BackendEntry | CommandEntry)

_HOOKS: Final[Mapping[EntryKind, tuple[str, type]]] = {
    "model": ("kelly_models", ModelEntry),
    "dataset": ("kelly_datasets", DatasetEntry),
    "exporter": ("kelly_exporters", ExporterEntry),
    "backend": ("kelly_backends", BackendEntry),
    "command": ("kelly_commands", CommandEntry),
}
ENTRY_KINDS: Final[tuple[EntryKind, ...]] = tuple(_HOOKS)
HOOK_NAMES: Final[tuple[str, ...]] = (*(hook for hook, _ in _HOOKS.values()), "kelly_guess_dataset")
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


def _import_factory(spec: str, *, plugin: str) -> Callable[..., object]:
    module_name, _, attr_path = spec.partition(":")
    try:
        target: object = importlib.import_module(module_name)
        for part in attr_path.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError) as exc:
        if isinstance(exc, MissingDependencyError):
            raise
        raise PluginError(f"cannot import factory {spec!r}: {exc}", plugin=plugin) from exc
    if not callable(target):
        raise PluginError(f"factory {spec!r} is not callable", plugin=plugin)
    return target


class Registry:
    """Everything the installed (or given) plugins provide, resolved by name.

    :param plugins: Plugin objects (modules with ``@hookimpl`` functions) or
        :class:`PluginSource` records to use *instead of* entry points; for tests and
        embedding. ``None`` (the default) loads the ``kelly.plugins`` entry points.
    """

    def __init__(self, plugins: Sequence[object] | None = None) -> None:
        self._explicit = None if plugins is None else tuple(plugins)
        self._loaded: dict[EntryKind, tuple[Registered[Entry], ...]] | None = None
        self._broken: list[BrokenPlugin] = []
        self._manager: pluggy.PluginManager | None = None

    # ----------------------------------------------------------------- loading
    def reload(self) -> None:
        """Forget loaded plugins; the next query loads them again."""
        self._loaded = None
        self._broken = []
        self._manager = None

    def _sources(self) -> list[PluginSource]:
        if self._explicit is not None:
            return [
                s
                if isinstance(s, PluginSource)
                else PluginSource(plugin=s, name=getattr(s, "__name__", type(s).__name__))
                for s in self._explicit
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
                self._report_broken(ep.name, label, "failed to load and is skipped", _one_line(exc))
                continue
            sources.append(PluginSource(plugin=plugin, name=ep.name, distribution=label))
        return sources

    def _report_broken(self, name: str, distribution: str, what: str, error: str) -> None:
        """Record a broken plugin and warn in one line: ``kelly plugin NAME (DIST) WHAT: ERROR``."""
        self._broken.append(BrokenPlugin(name=name, distribution=distribution, error=error))
        warnings.warn(
            f"kelly plugin {name!r} ({distribution}) {what}: {error}",
            KellyPluginWarning,
            stacklevel=4,
        )

    def _load(self) -> dict[EntryKind, tuple[Registered[Entry], ...]]:
        if self._loaded is not None:
            return self._loaded
        manager = pluggy.PluginManager(hookspecs.PROJECT)
        manager.add_hookspecs(hookspecs)
        sources: list[PluginSource] = []
        for position, source in enumerate(self._sources()):
            try:
                manager.register(
                    source.plugin, name=f"{source.distribution}:{source.name}#{position}"
                )
            except (ValueError, pluggy.PluginValidationError) as exc:
                self._report_broken(
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
            for kind, (hook_name, entry_type) in _HOOKS.items():
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
        self._manager = manager
        self._loaded = {k: tuple(v) for k, v in collected.items()}
        return self._loaded

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
            self._report_broken(
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
                self._report_broken(
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
                self._report_broken(
                    source.name,
                    source.distribution,
                    "has a hook Kelly never calls",
                    f"@hookimpl {hook_name!r} is not a Kelly hook "
                    f"({hint}Kelly's hooks: {', '.join(HOOK_NAMES)})",
                )

    # ----------------------------------------------------------------- queries
    @property
    def broken(self) -> tuple[BrokenPlugin, ...]:
        """Plugins that failed to load (after loading them if not done yet)."""
        self._load()
        return tuple(self._broken)

    @property
    def hook(self) -> pluggy.HookRelay:
        """The pluggy hook relay, for ``firstresult`` hooks such as ``kelly_guess_dataset``."""
        self._load()
        if self._manager is None:  # _load always sets it; kept for the type checker
            raise RuntimeError("plugin manager not loaded")
        return self._manager.hook

    def entries(self, kind: EntryKind) -> tuple[Registered[Entry], ...]:
        """Every registered entry of ``kind``, in plugin order, duplicates included."""
        return self._load()[kind]

    def names(self, kind: EntryKind) -> tuple[str, ...]:
        """Sorted distinct names of ``kind``."""
        return tuple(sorted({r.entry.name for r in self.entries(kind)}))

    def resolve(self, kind: EntryKind, name: str) -> Registered[Entry]:
        """Return the one entry of ``kind`` called ``name``.

        :raises UnknownNameError: No such name; lists the names and a close match.
        :raises AmbiguousNameError: Two plugins offer it; names both distributions.
        """
        matches = [r for r in self.entries(kind) if r.entry.name == name]
        if not matches:
            names = self.names(kind)
            close = difflib.get_close_matches(name, names, n=1, cutoff=0.6)
            if not close:
                lowered = {n.lower(): n for n in names}
                close = [lowered[name.lower()]] if name.lower() in lowered else []
            raise UnknownNameError(kind, name, names, close[0] if close else None)
        if len(matches) > 1:
            raise AmbiguousNameError(kind, name, [m.distribution for m in matches])
        return matches[0]

    def factory(self, kind: EntryKind, name: str) -> Callable[..., object]:
        """Import and return the factory of ``name`` (its module is imported only now).

        :raises MissingDependencyError: If a required module is not installed.
        """
        registered = self.resolve(kind, name)
        if registered.missing:
            missing = ", ".join(repr(m) for m in registered.missing)
            raise MissingDependencyError(
                f"{kind} {name!r} ({registered.distribution}) needs {missing}, "
                "which is not installed",
                expected=registered.missing,
            )
        return _import_factory(registered.entry.factory, plugin=registered.plugin)

    # ------------------------------------------------------------ typed access
    def model_names(self) -> tuple[str, ...]:
        """Model names in registration order (the five built-ins first, pipeline order)."""
        seen: dict[str, None] = {}
        for r in self.entries("model"):
            seen.setdefault(r.entry.name, None)
        return tuple(seen)

    def spec(self, name: str) -> ModelSpec:
        """The spec of model ``name`` (imports nothing)."""
        return cast(ModelEntry, self.resolve("model", name).entry).spec

    def model(self, name: str, *, seed: int | None = None) -> Model:
        """Build model ``name`` with fresh weights (seeded if ``seed`` is given)."""
        return cast(Model, self.factory("model", name)(name, seed=seed))

    def options(self, kind: Literal["backend", "dataset"], name: str) -> Mapping[str, type]:
        """The options ``name``'s factory takes, name -> type (its entry's ``options``)."""
        entry = cast(BackendEntry | DatasetEntry, self.resolve(kind, name).entry)
        return entry.options

    def _check_options(
        self, kind: Literal["backend", "dataset"], name: str, options: Mapping[str, object]
    ) -> None:
        """Refuse an option ``name`` does not declare, or a value of another type."""
        registered = self.resolve(kind, name)
        declared = cast(BackendEntry | DatasetEntry, registered.entry).options
        error = BackendError if kind == "backend" else DatasetError
        for key, value in options.items():
            if key not in declared:
                raise error(
                    f"{kind} {name!r} has no option {key!r}; its options: "
                    f"{', '.join(declared) or '(none)'} (declared in its entry's options by "
                    f"plugin {registered.plugin!r}, {registered.distribution})",
                    field=key,
                    expected=tuple(declared),
                    got=key,
                )
            problem = option_problem(declared[key], value)
            if problem is not None:
                raise error(f"{kind} {name!r} option {key!r}: {problem}", field=key, got=value)

    def backend(self, name: str, **options: object) -> Backend:
        """Create backend ``name`` with ``options`` (each declared in its entry's ``options``).

        :raises BackendError: On an undeclared option or a value of another type.
        """
        self._check_options("backend", name, options)
        return cast(Backend, self.factory("backend", name)(**options))

    def exporter(self, name: str) -> Exporter:
        """Create exporter ``name``."""
        return cast(Exporter, self.factory("exporter", name)())

    def model_suffixes(self) -> tuple[str, ...]:
        """The registered exporters' file suffixes (lower case, each once), highest
        ``priority`` first, equal priorities in registration order: ``(".json", ".pt")``
        for Kelly's own, a plugin format's after them unless it declares more."""
        entries = [cast(ExporterEntry, r.entry) for r in self.entries("exporter")]
        ranked = sorted(entries, key=lambda e: -e.priority)
        return tuple(dict.fromkeys(e.suffix.lower() for e in ranked))

    def exporter_for(self, path: Path) -> Exporter:
        """Create the exporter whose suffix matches ``path``.

        :raises UnknownNameError: If no exporter owns the suffix.
        """
        suffix = Path(path).suffix.lower()
        for registered in self.entries("exporter"):
            entry = cast(ExporterEntry, registered.entry)
            if entry.suffix.lower() == suffix:
                return self.exporter(entry.name)
        suffixes = sorted({cast(ExporterEntry, r.entry).suffix for r in self.entries("exporter")})
        raise UnknownNameError("file suffix", suffix or "(none)", suffixes, None)

    def dataset(self, name: str, root: Path | None, **options: object) -> Dataset:
        """Open dataset ``name`` at ``root`` (``None`` for generated datasets).

        :raises DatasetError: On an undeclared option or a value of another type.
        """
        self._check_options("dataset", name, options)
        return cast(Dataset, self.factory("dataset", name)(root, **options))

    def command(self, name: str) -> Command:
        """Create the ``kelly`` subcommand ``name``."""
        return cast(Command, self.factory("command", name)())


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """Return the process-wide registry of installed plugins (created on first call)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry()
    return _DEFAULT
