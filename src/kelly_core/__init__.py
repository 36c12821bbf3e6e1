"""Kelly's core: model specs, interfaces, errors, the plugin registry and atomic writes.

Imports only numpy, attrs and pluggy (never torch, MIDI or audio libraries).
"""

from __future__ import annotations

__version__ = "0.1.0"

from kelly_core.arrays import FloatArray, as_float32, check_frame, check_shape
from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS, TOTAL_PARAMETERS
from kelly_core.entries import BackendEntry, CommandEntry, DatasetEntry, ExporterEntry, ModelEntry
from kelly_core.errors import (
    AmbiguousNameError,
    BackendError,
    DatasetError,
    ExportError,
    KellyError,
    KellyPluginWarning,
    KellyWarning,
    MissingDependencyError,
    PluginError,
    SpecError,
    UnknownNameError,
)
from kelly_core.fileio import atomic_path, atomic_write_bytes, atomic_write_json, atomic_write_text
from kelly_core.hookspecs import hookimpl
from kelly_core.interfaces import Backend, Command, Dataset, Exporter, Model
from kelly_core.records import Example, LoadedModel, SkippedFile
from kelly_core.registry import Registry, default_registry
from kelly_core.specs import LayerSpec, ModelSpec

__all__ = [
    "MODEL_NAMES",
    "MODEL_SPECS",
    "TOTAL_PARAMETERS",
    "AmbiguousNameError",
    "Backend",
    "BackendEntry",
    "BackendError",
    "Command",
    "CommandEntry",
    "Dataset",
    "DatasetEntry",
    "DatasetError",
    "Example",
    "ExportError",
    "Exporter",
    "ExporterEntry",
    "FloatArray",
    "KellyError",
    "KellyPluginWarning",
    "KellyWarning",
    "LayerSpec",
    "LoadedModel",
    "MissingDependencyError",
    "Model",
    "ModelEntry",
    "ModelSpec",
    "PluginError",
    "Registry",
    "SkippedFile",
    "SpecError",
    "UnknownNameError",
    "__version__",
    "as_float32",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "check_frame",
    "check_shape",
    "default_registry",
    "hookimpl",
]
