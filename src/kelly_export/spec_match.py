"""The spec an RTNeural file is checked against, and the checks of its layer table.

The spec comes from ``metadata.spec``, else ``metadata.model_name``, else is inferred
from the layer table; :func:`check_against_spec` compares sizes, types, activations
and metadata counts with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, cast

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import SpecError
from kelly_core.specs import ACTIVATIONS, LAYER_KINDS, Activation, LayerKind, LayerSpec, ModelSpec
from kelly_export.arrays import Checker, size_of
from kelly_export.metadata import spec_metadata

__all__ = ["NO_SPEC_REASON", "check_against_spec", "infer_spec", "reference", "table_spec"]

NO_SPEC_REASON: Final = "no spec in metadata, and the layer table matches no known model"
"""Start of the note given when a file names no model; dropped when the schema fails."""

_COUNT_KEYS = (
    "parameter_count",
    "stored_parameter_count",
    "memory_bytes",
    "input_size",
    "output_size",
    "spec_hash",
    "model_name",
)


def table_spec(document: object, name: str = "Inferred") -> ModelSpec | None:
    """Build a spec from the document's own ``in_shape`` and layer table, or ``None``."""
    if not isinstance(document, Mapping):
        return None
    in_size = size_of(document.get("in_shape"))
    raw_layers = document.get("layers")
    if in_size is None or not isinstance(raw_layers, list) or not raw_layers:
        return None
    layers: list[LayerSpec] = []
    for raw in raw_layers:
        if not isinstance(raw, Mapping):
            return None
        kind, size, activation = (
            raw.get("type"),
            size_of(raw.get("shape")),
            raw.get("activation", ""),
        )
        if kind not in LAYER_KINDS or size is None or activation not in ACTIVATIONS:
            return None
        try:
            layers.append(
                LayerSpec(
                    kind=cast(LayerKind, kind),
                    size=size,
                    activation=cast(Activation, "" if kind == "lstm" else activation),
                )
            )
        except SpecError:
            return None
    return ModelSpec(name=name, input_size=in_size, layers=tuple(layers))


def infer_spec(
    document: object, known_specs: Mapping[str, ModelSpec] = MODEL_SPECS
) -> ModelSpec | None:
    """Return the known spec whose input size and layer table equal the document's, or None."""
    table = table_spec(document)
    if table is None:
        return None
    for spec in known_specs.values():
        if spec.input_size == table.input_size and spec.layers == table.layers:
            return spec
    return None


def reference(
    doc: Mapping[str, object], known: Mapping[str, ModelSpec], out: Checker
) -> ModelSpec | None:
    """Return the spec the document claims or matches, reporting a claim that is wrong."""
    meta = doc.get("metadata")
    if isinstance(meta, Mapping) and isinstance(meta.get("spec"), Mapping):
        try:
            spec = ModelSpec.from_dict(cast(Mapping[str, object], meta["spec"]))
        except SpecError as exc:
            placed = exc.located(prefix="metadata.spec")
            out.add(placed.field or "metadata.spec", exc.reason, exc.expected, exc.got)
            return None
        catalog = known.get(spec.name)
        if catalog is not None and catalog != spec:
            fields = [
                f"{name} {getattr(spec, name)!r} (expected {getattr(catalog, name)!r})"
                for name in ("input_name", "output_name", "input_size")
                if getattr(spec, name) != getattr(catalog, name)
            ]
            if spec.layers != catalog.layers:
                fields.append("its layers")
            out.add(
                "metadata.spec",
                f"differs from the known spec of {spec.name!r}"
                + (f" in {', '.join(fields)}" if fields else ""),
                catalog.spec_hash,
                spec.spec_hash,
            )
        return spec
    if isinstance(meta, Mapping) and isinstance(meta.get("model_name"), str):
        named = known.get(cast(str, meta["model_name"]))
        if named is not None:
            return named
    inferred = infer_spec(doc, known)
    if inferred is None:
        out.add(
            "metadata.spec",
            f"{NO_SPEC_REASON} ({', '.join(known)}); checking the file against itself only",
        )
    return inferred


def check_against_spec(doc: Mapping[str, object], spec: ModelSpec, out: Checker) -> None:
    """Report where the input size, layer table or metadata counts differ from ``spec``."""
    in_size = size_of(doc.get("in_shape"))
    if in_size is not None and in_size != spec.input_size:
        out.add(
            "in_shape",
            f"expected [null, null, {spec.input_size}] (input of {spec.name!r}), "
            f"got {doc.get('in_shape')}",
            spec.input_size,
            in_size,
        )
    layers = doc.get("layers")
    if not isinstance(layers, list):
        return
    if len(layers) != len(spec.layers):
        out.add(
            "layers",
            f"expected {len(spec.layers)} layers ({spec.name!r}), got {len(layers)}",
            len(spec.layers),
            len(layers),
        )
    for index, (raw, layer) in enumerate(zip(layers, spec.layers, strict=False)):
        if not isinstance(raw, Mapping):
            continue
        where = f"layers[{index}]"
        if raw.get("type") in LAYER_KINDS and raw.get("type") != layer.kind:
            out.add(
                f"{where}.type",
                f"expected {layer.kind!r}, got {raw.get('type')!r}",
                layer.kind,
                raw.get("type"),
            )
        size = size_of(raw.get("shape"))
        if size is not None and size != layer.size:
            out.add(
                f"{where}.shape",
                f"expected [null, null, {layer.size}], got {raw.get('shape')}",
                layer.size,
                size,
            )
        activation = raw.get("activation", "")
        if activation in ACTIVATIONS and activation != layer.activation:
            out.add(
                f"{where}.activation",
                f"expected {layer.activation!r}, got {activation!r}",
                layer.activation,
                activation,
            )
    meta = doc.get("metadata")
    if isinstance(meta, Mapping):
        derived = spec_metadata(spec)
        for key in _COUNT_KEYS:
            if key in meta and (
                meta[key] != derived[key] or type(meta[key]) is not type(derived[key])
            ):
                out.add(
                    f"metadata.{key}",
                    f"expected {derived[key]!r} (from the spec), got {meta[key]!r}",
                    derived[key],
                    meta[key],
                )
