"""Registers the RTNeural exporter and the export commands (filled in by the export work)."""

from __future__ import annotations

from kelly_core.entries import ExporterEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_exporters"]


@hookimpl
def kelly_exporters() -> list[ExporterEntry]:
    """Return the built-in model file formats."""
    return []
