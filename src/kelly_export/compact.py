"""Compact model files: the weights rounded to a few decimals, the parity vectors redone.

An exported file writes every float32 weight as its shortest round-trip text (up to 9
significant digits, about 12 characters a weight with the sign, the ``0.`` and the
comma). The reference models that ship with Kelly hold 1.15 M weights, so they are
written compactly: each weight rounded to ``decimals`` decimal places (``0.0123`` at 4),
still a float32 that RTNeural's ``parseJson<float>`` reads like any other, so the file is
an ordinary RTNeural file. Its ``<stem>.parity.json`` is computed again from the rounded
weights (parity says what *this file* computes); :attr:`CompactReport.max_output_change`
says how far the rounded model's outputs moved from the full-precision one's on the
parity inputs, the cost of the rounding.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final, cast

import attrs
import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError
from kelly_core.fileio import atomic_write_text
from kelly_core.specs import ModelSpec
from kelly_export.parity import parity_inputs, parity_path, parity_text, reference_outputs
from kelly_export.rtneural import document_text
from kelly_export.validate import load_document, validate_document

__all__ = ["DEFAULT_DECIMALS", "CompactReport", "compact_model_file", "round_weights"]

DEFAULT_DECIMALS: Final = 3
"""Decimal places of the shipped reference models' weights."""


@attrs.frozen
class CompactReport:
    """What :func:`compact_model_file` wrote and what the rounding cost."""

    path: Path
    model_name: str
    bytes_before: int
    bytes_after: int
    max_output_change: float
    """Largest absolute change of any output on the parity inputs (rounded vs full)."""


def round_weights(array: FloatArray, decimals: int) -> FloatArray:
    """Return ``array`` rounded to ``decimals`` places as float32, with no negative zeros
    (``-0.0`` would spend a character on nothing)."""
    rounded = np.round(np.asarray(array, dtype=np.float64), decimals) + 0.0
    return np.asarray(rounded, dtype=np.float32)


def _layers(doc: Mapping[str, object]) -> list[list[FloatArray]]:
    raw = cast(list[dict[str, object]], doc["layers"])
    return [
        [np.asarray(w, dtype=np.float32) for w in cast(list[object], layer["weights"])]
        for layer in raw
    ]


def _spec(doc: Mapping[str, object], source: Path) -> ModelSpec:
    meta = doc.get("metadata")
    name = meta.get("model_name") if isinstance(meta, Mapping) else None
    if not isinstance(name, str) or name not in MODEL_SPECS:
        raise ExportError(
            "expected one of Kelly's five models",
            path=source,
            field="metadata.model_name",
            expected=tuple(MODEL_SPECS),
            got=name,
        )
    return MODEL_SPECS[name]


def compact_model_file(
    source: Path, target: Path, *, decimals: int = DEFAULT_DECIMALS
) -> CompactReport:
    """Write ``source`` (an exported RTNeural file of one of the five models) to ``target``
    with its weights rounded to ``decimals`` places, and ``target``'s parity file.

    :raises ExportError: If ``source`` is not a valid model file of a known model, or
        ``decimals`` is outside 1..9.
    """
    if not 1 <= decimals <= 9:
        raise ExportError(
            "decimals must be within 1..9", field="decimals", expected=(1, 9), got=decimals
        )
    document = load_document(source)
    problems = validate_document(document, source=source)
    if problems:
        first = problems[0]
        raise ExportError(first.reason, path=source, field=first.field, expected=first.expected)
    doc = cast(dict[str, object], document)
    spec = _spec(doc, source)
    full = _layers(doc)
    rounded = [[round_weights(w, decimals) for w in layer] for layer in full]
    metadata = dict(cast(Mapping[str, object], doc["metadata"]))
    text = document_text(spec, rounded, metadata)
    atomic_write_text(target, text)
    atomic_write_text(parity_path(target), parity_text(spec, rounded, model_file=target.name))
    inputs = parity_inputs(spec)
    change = np.abs(
        reference_outputs(spec, rounded, inputs).astype(np.float64)
        - reference_outputs(spec, full, inputs).astype(np.float64)
    )
    return CompactReport(
        path=target,
        model_name=spec.name,
        bytes_before=source.stat().st_size,
        bytes_after=len(text.encode()),
        max_output_change=float(change.max()),
    )
