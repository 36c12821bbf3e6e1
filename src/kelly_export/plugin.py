"""Registers the ``rtneural`` exporter and the ``validate``/``convert``/``cpp`` commands.

Importing this module imports neither jsonschema nor numpy: factories are strings.
"""

from __future__ import annotations

from kelly_core.entries import CommandEntry, ExporterEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_commands", "kelly_exporters"]


@hookimpl
def kelly_exporters() -> list[ExporterEntry]:
    """Return the built-in model file formats: RTNeural JSON."""
    return [
        ExporterEntry(
            name="rtneural",
            factory="kelly_export.rtneural:RTNeuralExporter",
            suffix=".json",
            requires=("numpy", "jsonschema"),
            description="RTNeural JSON (in_shape, layers) with Kelly metadata",
            priority=20,
        )
    ]


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return ``kelly validate``, ``kelly convert`` and ``kelly cpp``."""
    return [
        CommandEntry(
            name="validate",
            factory="kelly_export.commands:ValidateCommand",
            help="validate RTNeural model files (schema, sizes, counts, activations, NaN/Inf)",
        ),
        CommandEntry(
            name="convert",
            factory="kelly_export.commands:ConvertCommand",
            help="convert a legacy-layout model file to a correct RTNeural file",
        ),
        CommandEntry(
            name="cpp",
            factory="kelly_export.cpp_command:CppCommand",
            help="write kelly_models.h (RTNeural model types + checking loader), the C++ "
            "companion and an example pipeline",
        ),
    ]
