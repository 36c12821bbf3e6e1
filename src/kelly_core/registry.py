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
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final, Literal, cast

import pluggy

from kelly_core._optional import missing_message
from kelly_core.entries import BackendEntry, DatasetEntry, Entry, ExporterEntry, ModelEntry
from kelly_core.errors import (
    AmbiguousNameError,
    BackendError,
    DatasetError,
    MissingDependencyError,
    PluginError,
    UnknownNameError,
)
from kelly_core.interfaces import Backend, Command, Dataset, Exporter, Model
from kelly_core.options import option_problem
from kelly_core.plugin_loader import (
    ENTRY_KINDS,
    ENTRY_POINT_GROUP,
    KELLY_DISTRIBUTION,
    BrokenPlugin,
    EntryKind,
    LoadedPlugins,
    PluginSource,
    Registered,
    load_plugins,
)
from kelly_core.records import skipped_problem
from kelly_core.specs import ModelSpec

__all__ = [
    "ENTRY_KINDS",
    "ENTRY_POINT_GROUP",
    "KELLY_DISTRIBUTION",
    "BrokenPlugin",
    "EntryKind",
    "PluginSource",
    "Registered",
    "Registry",
    "default_registry",
]

_BUILDS: Final[Mapping[EntryKind, tuple[type, tuple[str, ...]]]] = {
    "model": (Model, ("spec", "state_arrays", "load_state_arrays", "reset")),
    "dataset": (Dataset, ("model_name", "skipped", "__len__", "__getitem__")),
    "exporter": (Exporter, ("export", "read", "check")),
    "backend": (Backend, ("load", "step", "run", "reset")),
    "command": (Command, ("configure", "run")),
}
"""What each kind's factory must return: the protocol and its members."""


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
        self._loaded: LoadedPlugins | None = None

    def _load(self) -> LoadedPlugins:
        if self._loaded is None:
            self._loaded = load_plugins(self._explicit)
        return self._loaded

    def reload(self) -> None:
        """Forget loaded plugins; the next query loads them again."""
        self._loaded = None

    # ----------------------------------------------------------------- queries
    @property
    def broken(self) -> tuple[BrokenPlugin, ...]:
        """Plugins that failed to load, or have a hook that raised or is never called (after
        loading them if not done yet)."""
        return self._load().broken

    @property
    def hook(self) -> pluggy.HookRelay:
        """The pluggy hook relay: ``registry.hook.kelly_guess_dataset(root=...)``."""
        return self._load().manager.hook

    def entries(self, kind: EntryKind) -> tuple[Registered[Entry], ...]:
        """Every registered entry of ``kind``, in plugin order, duplicates included."""
        return self._load().entries[kind]

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

    def _built(self, kind: EntryKind, name: str, built: object) -> object:
        """Return ``built`` if it fits the protocol of ``kind``, else a ``PluginError``
        naming the plugin and the members it lacks."""
        protocol, members = _BUILDS[kind]
        if isinstance(built, protocol):
            return built
        missing = ", ".join(m for m in members if not hasattr(built, m))
        raise PluginError(
            f"{kind} {name!r}: the factory returned a {type(built).__name__}, which is not a "
            f"{protocol.__name__} (missing {missing or 'a member'}; see docs/plugins.md)",
            plugin=self.resolve(kind, name).plugin,
        )

    def factory(self, kind: EntryKind, name: str) -> Callable[..., object]:
        """Import and return the factory of ``name`` (its module is imported only now).

        :raises MissingDependencyError: If a required module is not installed.
        """
        registered = self.resolve(kind, name)
        if registered.missing:
            raise MissingDependencyError(
                missing_message(f"{kind} {name!r} ({registered.distribution})", registered.missing),
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
        return cast(Model, self._built("model", name, self.factory("model", name)(name, seed=seed)))

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
        return cast(Backend, self._built("backend", name, self.factory("backend", name)(**options)))

    def exporter(self, name: str) -> Exporter:
        """Create exporter ``name``."""
        return cast(Exporter, self._built("exporter", name, self.factory("exporter", name)()))

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
        :raises PluginError: If the factory returns something that breaks the dataset
            contract (no ``Dataset``, another model, skipped files that are not
            ``SkippedFile`` records), naming the plugin.
        """
        self._check_options("dataset", name, options)
        built = self._built("dataset", name, self.factory("dataset", name)(root, **options))
        dataset = cast(Dataset, built)
        registered = self.resolve("dataset", name)
        model = cast(DatasetEntry, registered.entry).model
        if dataset.model_name != model:
            raise PluginError(
                f"dataset {name!r} holds examples for {dataset.model_name!r}; its entry says "
                f"{model!r}",
                plugin=registered.plugin,
            )
        problem = skipped_problem(dataset.skipped)
        if problem is not None:
            raise PluginError(f"dataset {name!r}: {problem}", plugin=registered.plugin)
        return dataset

    def command(self, name: str) -> Command:
        """Create the ``kelly`` subcommand ``name``."""
        return cast(Command, self._built("command", name, self.factory("command", name)()))


_DEFAULT: Registry | None = None


def default_registry() -> Registry:
    """Return the process-wide registry of installed plugins (created on first call)."""
    global _DEFAULT
    if _DEFAULT is None:
        _DEFAULT = Registry()
    return _DEFAULT
