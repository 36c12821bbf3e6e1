"""Registers Kelly's dataset readers (filled in by the data work)."""

from __future__ import annotations

from kelly_core.entries import DatasetEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_datasets"]


@hookimpl
def kelly_datasets() -> list[DatasetEntry]:
    """Return the built-in dataset readers."""
    return []
