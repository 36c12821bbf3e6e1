"""Picks a backend: an explicit name, else the first available of numba, numpy, torch, fallback.

Fastest first (``kelly bench``, docs/benchmarks.md): the compiled numba backend, then
numpy (no dependency beyond NumPy), then torch (the reference, slower per step on CPU).
"""

from __future__ import annotations

from typing import Final

from kelly_core.interfaces import Backend
from kelly_core.registry import Registry, default_registry

__all__ = ["PREFERENCE", "create_backend", "select_backend_name"]

PREFERENCE: Final[tuple[str, ...]] = ("numba", "numpy", "torch", "fallback")
"""Backends tried in order when no name is given; ``fallback`` is always available."""


def select_backend_name(name: str | None = None, *, registry: Registry | None = None) -> str:
    """Return ``name`` if it is a registered backend, else the first usable preferred one.

    :param name: An explicit backend name, or ``None`` to choose.
    :raises UnknownNameError: If ``name`` is not registered (lists the names, a close match).
    """
    registry = registry if registry is not None else default_registry()
    if name is not None:
        registry.resolve("backend", name)
        return name
    for candidate in PREFERENCE:
        usable = [r for r in registry.entries("backend") if r.entry.name == candidate]
        if len(usable) == 1 and usable[0].usable:
            return candidate
    return "fallback"


def create_backend(
    name: str | None = None, *, registry: Registry | None = None, **options: object
) -> Backend:
    """Create the backend :func:`select_backend_name` picks, with backend ``options``.

    :raises UnknownNameError: If ``name`` is not registered.
    :raises MissingDependencyError: If the named backend needs a missing module.
    """
    registry = registry if registry is not None else default_registry()
    return registry.backend(select_backend_name(name, registry=registry), **options)
