"""Registers the generate command (filled in by the generate work)."""

from __future__ import annotations

from kelly_core.entries import CommandEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_commands"]


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return the generate subcommand."""
    return []
