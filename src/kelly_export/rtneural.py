"""The RTNeural JSON format (docs/rtneural-format.md): spec + state arrays <-> document <-> file.

Order on export: convert (:mod:`.layout`), validate (:mod:`.schema` + :mod:`.check`),
write atomically with strict JSON (NaN and Inf refused). Reading validates first, then
converts back to PyTorch-layout state arrays.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import numpy as np

from kelly_core.arrays import FloatArray, check_state_arrays
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError, SpecError
from kelly_core.fileio import atomic_write_text
from kelly_core.records import LoadedModel
from kelly_core.specs import ModelSpec
from kelly_export.check import infer_spec
from kelly_export.float_text import float32_json
from kelly_export.layout import FROM_RTNEURAL, TO_RTNEURAL
from kelly_export.metadata import (
    EXPORT_VERSION,
    FRAMEWORK,
    METADATA_KEYS,
    file_name,
    spec_metadata,
    tonal_reference,
)
from kelly_export.parity import PARITY_FRAMES, parity_path, parity_text
from kelly_export.problems import Problem
from kelly_export.validate import load_document, validate_document, validate_file

__all__ = [
    "EXPORT_VERSION",
    "FRAMEWORK",
    "METADATA_KEYS",
    "RTNeuralExporter",
    "document_text",
    "document_to_loaded",
    "file_name",
    "load_document",
    "rtneural_weights",
    "spec_metadata",
    "to_document",
]


def _shape(size: int) -> list[int | None]:
    return [None, None, size]


def to_document(
    spec: ModelSpec,
    arrays: Mapping[str, FloatArray],
    *,
    metadata: Mapping[str, object] | None = None,
) -> dict[str, object]:
    """Convert state arrays fitting ``spec`` to an RTNeural document (plain dicts and lists).

    :param metadata: Extra keys stored in ``metadata`` beside Kelly's own; a key of
        :data:`METADATA_KEYS` must agree with the derived value.
    :raises ExportError: If names or shapes do not fit ``spec``, values are not finite, or
        ``metadata`` contradicts the spec.
    """
    return _document(spec, rtneural_weights(spec, arrays), metadata)


def rtneural_weights(spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> list[list[FloatArray]]:
    """Return each layer's RTNeural weights (float32): dense ``[kernel, bias]``, lstm
    ``[kernel, recurrent, bias]``.

    :raises ExportError: If names or shapes do not fit ``spec`` or values are not finite.
    """
    try:
        arrays = check_state_arrays(spec, arrays)
    except SpecError as exc:
        raise exc.located(ExportError) from exc
    out: list[list[FloatArray]] = []
    for index, (layer, in_size) in enumerate(zip(spec.layers, spec.layer_input_sizes, strict=True)):
        names = layer.array_shapes(in_size, f"layers.{index}")
        converted = TO_RTNEURAL[layer.kind]([arrays[n] for n in names])
        if not all(np.isfinite(a).all() for a in converted):  # a float32 bias sum can overflow
            raise ExportError("expected finite values after conversion", field=f"layers[{index}]")
        out.append(converted)
    return out


def _document(
    spec: ModelSpec,
    weights: list[list[FloatArray]],
    metadata: Mapping[str, object] | None,
    *,
    as_lists: bool = True,
) -> dict[str, object]:
    """Build the document; with ``as_lists=False`` each layer's weights stay arrays."""
    layers: list[dict[str, object]] = []
    for layer, converted in zip(spec.layers, weights, strict=True):
        layers.append(
            {
                "type": layer.kind,
                "activation": layer.activation,
                "shape": _shape(layer.size),
                "weights": [a.tolist() for a in converted] if as_lists else converted,
            }
        )
    meta: dict[str, object] = dict(metadata or {})
    for key, value in spec_metadata(spec).items():
        if key in meta and key != "kelly_version" and meta[key] != value:
            raise ExportError(
                "metadata contradicts the spec",
                field=f"metadata.{key}",
                expected=value,
                got=meta[key],
            )
        meta[key] = value
    meta["tonal_reference"] = tonal_reference(spec, meta)
    return {"in_shape": _shape(spec.input_size), "layers": layers, "metadata": meta}


def document_text(
    spec: ModelSpec,
    weights: list[list[FloatArray]],
    metadata: Mapping[str, object] | None = None,
    *,
    indent: int | None = None,
) -> str:
    """Return the file's JSON text, each weight as its shortest float32 round-trip text.

    Everything but the weights goes through ``json.dumps`` (strict: no NaN or Infinity);
    with ``indent=None`` the text is compact (no spaces). Reading it back with any float64
    JSON parser and rounding to float32 gives the arrays bit for bit.
    """
    document = _document(spec, weights, metadata, as_lists=False)
    texts: list[str] = []
    for layer in cast(list[dict[str, object]], document["layers"]):
        arrays = cast(list[FloatArray], layer["weights"])
        layer["weights"] = f"@@kelly-weights-{len(texts)}@@"
        texts.append("[" + ",".join(float32_json(a) for a in arrays) + "]")
    separators = (",", ":") if indent is None else None
    try:
        text = json.dumps(document, allow_nan=False, indent=indent, separators=separators)
    except ValueError as exc:  # unreachable after the finiteness checks; kept strict
        raise ExportError(f"not strict JSON: {exc}") from exc
    for index, weights_text in enumerate(texts):
        text = text.replace(f'"@@kelly-weights-{index}@@"', weights_text, 1)
    return text + "\n"


def document_to_loaded(
    document: object,
    *,
    source: Path | None = None,
    known_specs: Mapping[str, ModelSpec] = MODEL_SPECS,
) -> LoadedModel:
    """Validate ``document`` and convert it to a spec and PyTorch-layout state arrays.

    The spec comes from ``metadata.spec``, else from the layer table matched against
    ``known_specs``. LSTM ``bias_hh`` reads back as zeros.

    :raises ExportError: On the first problem (schema or check), naming the JSON path.
    """
    problems = validate_document(document, source=source, known_specs=known_specs)
    if problems:
        _raise_first(problems, source)
    doc = cast(dict[str, object], document)
    raw_meta = doc.get("metadata")
    metadata = dict(cast(Mapping[str, object], raw_meta)) if isinstance(raw_meta, Mapping) else {}
    spec = _spec_of(doc, known_specs, source)
    arrays: dict[str, FloatArray] = {}
    raw_layers = cast(list[dict[str, object]], doc["layers"])
    for index, (layer, in_size, raw) in enumerate(
        zip(spec.layers, spec.layer_input_sizes, raw_layers, strict=True)
    ):
        weights = [np.asarray(w, dtype=np.float32) for w in cast(list[object], raw["weights"])]
        names = list(layer.array_shapes(in_size, f"layers.{index}"))
        arrays.update(zip(names, FROM_RTNEURAL[layer.kind](weights), strict=True))
    return LoadedModel(spec=spec, arrays=arrays, metadata=metadata, path=source)


def _raise_first(problems: list[Problem], source: Path | None) -> None:
    first = problems[0]
    more = f" (and {len(problems) - 1} more problems)" if len(problems) > 1 else ""
    raise ExportError(
        first.reason + more,
        path=source,
        field=first.field,
        expected=first.expected,
        got=first.got,
    )


def _spec_of(
    doc: Mapping[str, object], known_specs: Mapping[str, ModelSpec], source: Path | None
) -> ModelSpec:
    meta = doc.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("spec"), Mapping):
        try:
            return ModelSpec.from_dict(cast(Mapping[str, object], meta["spec"]), source=source)
        except SpecError as exc:  # validate_document reports this first; kept for safety
            raise exc.located(ExportError, path=source, prefix="metadata.spec") from exc
    spec = infer_spec(doc, known_specs)
    if spec is None:
        raise ExportError("no metadata.spec and the layers match no known model", path=source)
    return spec


class RTNeuralExporter:
    """The ``rtneural`` format (``.json``): implements ``kelly_core.Exporter``.

    :param known_specs: Specs to infer a model from when a file has no ``metadata.spec``.
    :param indent: JSON indentation (``None``: compact, the default; files are large).
    :param parity_frames: Frames of parity vectors written beside each file as
        ``<stem>.parity.json`` (:mod:`kelly_export.parity`); 0 writes none.
    """

    def __init__(
        self,
        known_specs: Mapping[str, ModelSpec] = MODEL_SPECS,
        *,
        indent: int | None = None,
        parity_frames: int = PARITY_FRAMES,
    ) -> None:
        self._known = known_specs
        self._indent = indent
        self._parity_frames = int(parity_frames)

    def export(
        self,
        spec: ModelSpec,
        arrays: Mapping[str, FloatArray],
        path: Path,
        *,
        metadata: Mapping[str, object] | None = None,
    ) -> Path:
        """Write the model to ``path`` atomically; validate first; return the path.

        ``path`` may be a folder: the file is then ``<folder>/<lowercase name>.json``.
        Its parity vectors go to ``<stem>.parity.json`` beside it (unless disabled).
        Weights are written as the shortest text that reads back to the same float32.

        :raises ExportError: If the arrays do not fit ``spec``, are not finite, or the
            document fails validation (nothing is written).
        """
        path = Path(path)
        if path.is_dir():
            path = path / file_name(spec)
        try:
            weights = rtneural_weights(spec, arrays)
            document = _document(spec, weights, metadata)
            text = document_text(spec, weights, metadata, indent=self._indent)
        except ExportError as exc:
            raise exc.located(path=path) from exc
        problems = validate_document(document, source=path, known_specs=self._known)
        if problems:
            _raise_first(problems, path)
        written = atomic_write_text(path, text)
        if self._parity_frames > 0:
            atomic_write_text(
                parity_path(path),
                parity_text(spec, weights, model_file=path.name, frames=self._parity_frames),
            )
        return written

    def read(self, path: Path) -> LoadedModel:
        """Read an RTNeural file into spec, state arrays and metadata; raises ``ExportError``."""
        path = Path(path)
        return document_to_loaded(load_document(path), source=path, known_specs=self._known)

    def check(self, path: Path) -> list[str]:
        """Return every problem in the file (schema, then structure), one message each."""
        return [str(problem) for problem in validate_file(Path(path), known_specs=self._known)]
