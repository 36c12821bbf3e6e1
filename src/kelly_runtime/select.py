"""Picks a backend: an explicit name, else the usable registered one of highest priority.

Each :class:`~kelly_core.entries.BackendEntry` declares its ``priority``; the built-ins
are numba 30, numpy 20, torch 10 and fallback 0 (fastest first: ``kelly bench``,
docs/benchmarks.md), so a third-party backend declaring more than 30 is chosen without
being named. Equal priorities go in name order; a name two plugins offer is never chosen
automatically (naming it raises ``AmbiguousNameError``).
"""

from __future__ import annotations

from typing import cast

from kelly_core.entries import BackendEntry
from kelly_core.interfaces import Backend
from kelly_core.registry import Registry, default_registry

__all__ = ["by_priority", "create_backend", "select_backend_name"]


def by_priority(registry: Registry) -> list[str]:
    """Usable backend names offered once, highest ``priority`` first (ties by name)."""
    entries = [r for r in registry.entries("backend") if r.usable]
    counts: dict[str, int] = {}
    for registered in registry.entries("backend"):
        counts[registered.entry.name] = counts.get(registered.entry.name, 0) + 1
    single = [cast(BackendEntry, r.entry) for r in entries if counts[r.entry.name] == 1]
    return [e.name for e in sorted(single, key=lambda e: (-e.priority, e.name))]


def select_backend_name(name: str | None = None, *, registry: Registry | None = None) -> str:
    """Return ``name`` if it is a registered backend, else the usable one of highest priority.

    :param name: An explicit backend name, or ``None`` to choose.
    :raises UnknownNameError: If ``name`` is not registered (lists the names, a close match).
    """
    registry = registry if registry is not None else default_registry()
    if name is not None:
        registry.resolve("backend", name)
        return name
    ranked = by_priority(registry)
    return ranked[0] if ranked else "fallback"


def create_backend(
    name: str | None = None, *, registry: Registry | None = None, **options: object
) -> Backend:
    """Create the backend :func:`select_backend_name` picks, with backend ``options``.

    :raises UnknownNameError: If ``name`` is not registered.
    :raises MissingDependencyError: If the named backend needs a missing module.
    :raises BackendError: If the backend does not declare one of ``options``.
    """
    registry = registry if registry is not None else default_registry()
    return registry.backend(select_backend_name(name, registry=registry), **options)
