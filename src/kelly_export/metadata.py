"""Kelly's ``metadata`` object in RTNeural files: what it holds, derived from the spec.

RTNeural's parser ignores top-level keys other than ``in_shape`` and ``layers``, so the
metadata travels with the weights at no cost to the plugin.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kelly_core import __version__
from kelly_core.encodings.tonal import KEY_RELATIVE_MODELS, TONAL_REFERENCES, TonalReference
from kelly_core.encodings.tonal import tonal_reference as read_tonal_reference
from kelly_core.errors import ExportError
from kelly_core.specs import ModelSpec

__all__ = [
    "EXPORT_VERSION",
    "FRAMEWORK",
    "METADATA_KEYS",
    "default_tonal_reference",
    "file_name",
    "spec_metadata",
    "tonal_reference",
]

EXPORT_VERSION: Final = 1
"""Version of Kelly's RTNeural file layout (the ``metadata.export_version`` field)."""
FRAMEWORK: Final = "pytorch"
"""Where the weights come from (``metadata.framework``)."""
METADATA_KEYS: Final = (
    "model_name",
    "framework",
    "export_version",
    "parameter_count",
    "stored_parameter_count",
    "memory_bytes",
    "input_size",
    "output_size",
    "kelly_version",
    "spec_hash",
    "spec",
)
"""Keys Kelly always writes into ``metadata``; other keys are caller extras."""


def file_name(spec: ModelSpec) -> str:
    """Return the conventional file name, ``<lowercase model name>.json``."""
    return f"{spec.file_stem}.json"


def spec_metadata(spec: ModelSpec) -> dict[str, object]:
    """Return the metadata Kelly derives from ``spec`` (every key of :data:`METADATA_KEYS`)."""
    return {
        "model_name": spec.name,
        "framework": FRAMEWORK,
        "export_version": EXPORT_VERSION,
        "parameter_count": spec.parameter_count,
        "stored_parameter_count": spec.stored_parameter_count,
        "memory_bytes": spec.memory_bytes,
        "input_size": spec.input_size,
        "output_size": spec.output_size,
        "kelly_version": __version__,
        "spec_hash": spec.spec_hash,
        "spec": spec.to_dict(),
    }


def default_tonal_reference(spec: ModelSpec) -> TonalReference:
    """``"tonic"`` for the key-relative models (:data:`KEY_RELATIVE_MODELS`), else absolute."""
    return "tonic" if spec.name in KEY_RELATIVE_MODELS else "absolute"


def tonal_reference(spec: ModelSpec, metadata: Mapping[str, object]) -> TonalReference:
    """Return the ``metadata.tonal_reference`` an export writes.

    The caller's value (a model trained on absolute or transposition-augmented data says
    ``"absolute"``), else :func:`default_tonal_reference`.

    :raises ExportError: If the caller's value is not one of :data:`TONAL_REFERENCES`.
    """
    value = metadata.get("tonal_reference")
    if value is None:
        return default_tonal_reference(spec)
    try:
        return read_tonal_reference(metadata)
    except ValueError:
        raise ExportError(
            "unknown tonal reference",
            field="metadata.tonal_reference",
            expected=TONAL_REFERENCES,
            got=value,
        ) from None
