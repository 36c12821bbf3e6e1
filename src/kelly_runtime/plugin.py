"""Registers the built-in backends (filled in by the runtime work)."""

from __future__ import annotations

from kelly_core.entries import BackendEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_backends"]


@hookimpl
def kelly_backends() -> list[BackendEntry]:
    """Return the built-in backends."""
    return []
