"""What a JSON Schema cannot say about an RTNeural file: sizes, chaining, counts, finiteness.

:func:`check_document` assumes nothing about the document (it may have failed the
schema): parts too malformed to check are left to the schema's messages. Each problem
is a :class:`~kelly_core.errors.Problem` with ``path`` (the file), ``field``
(the JSON path, e.g. ``layers[2].weights[0]``), ``expected`` and ``got``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Final, cast

import numpy as np
import numpy.typing as npt

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import SpecError
from kelly_core.specs import ACTIVATIONS, LAYER_KINDS, Activation, LayerKind, LayerSpec, ModelSpec
from kelly_export.metadata import spec_metadata
from kelly_export.problems import Problem

__all__ = ["FLOAT32_MAX", "check_document", "infer_spec", "integral", "numeric_array", "table_spec"]

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


FLOAT32_MAX: Final = float(np.finfo(np.float32).max)
"""The largest finite float32; RTNeural reads anything beyond it as inf."""


def numeric_array(value: object) -> npt.NDArray[np.float64] | None:
    """Return ``value`` as a float64 array if it is a list of JSON numbers, or a
    rectangular list of such lists; else ``None``. Booleans and strings are not numbers.

    The element types are checked on the array numpy builds (one C pass), not per Python
    element: numpy infers a float or integer dtype only when every element is a number
    or a boolean, and a boolean can hide only where the array holds exactly 0 or 1, so
    only those positions are looked at in Python.
    """
    if not isinstance(value, list):
        return None
    if not value:
        return np.zeros(0, dtype=np.float64)
    try:
        array = np.array(value)
    except (ValueError, TypeError, OverflowError, RecursionError):
        return None  # ragged rows, deep nesting, or an integer beyond int64 and float64
    if array.dtype.kind not in "fi" or array.ndim not in (1, 2):
        return None
    if array.ndim == 2 and not all(type(row) is list for row in value):
        return None  # a tuple or array row from a Python caller is not JSON
    if _hides_bool(value, array):
        return None
    return array.astype(np.float64, copy=False)


def _hides_bool(value: list[object], array: npt.NDArray[np.generic]) -> bool:
    candidates = np.flatnonzero((array == 0) | (array == 1))
    if array.ndim == 1:
        return any(type(value[i]) is bool for i in candidates.tolist())
    width = array.shape[1]
    rows = cast(list[list[object]], value)
    return any(type(rows[i // width][i % width]) is bool for i in candidates.tolist())


def integral(value: object) -> int | None:
    """Return a JSON integer as an int; ``32.0`` counts as 32 (RTNeural reads it so)."""
    if type(value) is int:
        return value
    if type(value) is float and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return None


def _size(shape: object) -> int | None:
    if isinstance(shape, list) and shape:
        last = integral(shape[-1])
        if last is not None and last > 0:
            return last
    return None


def _check_integer_shape(out: _Checker, where: str, shape: object) -> None:
    """Report a size written as a float (``32.0``): the schema's ``integer`` accepts it."""
    if isinstance(shape, list) and shape and type(shape[-1]) is float:
        size = _size(shape)
        if size is not None:
            out.add(
                f"{where}[{len(shape) - 1}]",
                f"expected an integer, got {shape[-1]!r} (write {size})",
                "integer",
                shape[-1],
            )


def table_spec(document: object, name: str = "Inferred") -> ModelSpec | None:
    """Build a spec from the document's own ``in_shape`` and layer table, or ``None``."""
    if not isinstance(document, Mapping):
        return None
    in_size = _size(document.get("in_shape"))
    raw_layers = document.get("layers")
    if in_size is None or not isinstance(raw_layers, list) or not raw_layers:
        return None
    layers: list[LayerSpec] = []
    for raw in raw_layers:
        if not isinstance(raw, Mapping):
            return None
        kind, size, activation = raw.get("type"), _size(raw.get("shape")), raw.get("activation", "")
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


class _Checker:
    def __init__(self, source: Path | None) -> None:
        self.source = source
        self.problems: list[Problem] = []

    def add(self, field: str, message: str, expected: object = None, got: object = None) -> None:
        self.problems.append(
            Problem(reason=message, path=self.source, field=field, expected=expected, got=got)
        )


def _reference(
    doc: Mapping[str, object], known: Mapping[str, ModelSpec], out: _Checker
) -> ModelSpec | None:
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


def _check_against_spec(doc: Mapping[str, object], spec: ModelSpec, out: _Checker) -> None:
    in_size = _size(doc.get("in_shape"))
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
        size = _size(raw.get("shape"))
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


def _check_matrix(
    out: _Checker, where: str, value: object, rows: int, cols: int, what: str, gates: int = 0
) -> int:
    array = numeric_array(value)
    if array is None:
        if isinstance(value, list):
            for r, row in enumerate(value):
                if isinstance(row, list) and len(row) != cols:
                    out.add(
                        f"{where}[{r}]",
                        f"expected {cols} values ({what} columns), got {len(row)}",
                        cols,
                        len(row),
                    )
                    break
            _huge_integer(out, where, value)
        return 0
    if array.ndim != 2:
        out.add(
            where,
            f"expected a {rows}×{cols} matrix ({what}), got a vector",
            (rows, cols),
            array.shape,
        )
        return 0
    got = array.shape
    if got == (rows, cols):
        return _finite(out, where, array)
    if got[0] == rows and got[1] != cols and not gates:
        out.add(
            where,
            f"expected {rows}×{cols} ({what}), got {got[0]}×{got[1]}: {cols} columns "
            f"(the layer's size) expected, got {got[1]}",
            (rows, cols),
            got,
        )
        return 0
    if gates and got[0] == rows and got[1] % max(cols // gates, 1) == 0 and got[1] != cols:
        hidden = cols // gates
        out.add(
            where,
            f"expected {gates} gate blocks (i, f, c, o) of {hidden} columns = "
            f"{cols}, got {got[1]} columns ({got[1] // hidden} gates)",
            (rows, cols),
            got,
        )
    elif got == (cols, rows) and rows != cols:
        out.add(
            where,
            f"kernel is transposed: expected {rows}×{cols} ({what}, IN×OUT), got "
            f"{got[0]}×{got[1]} (PyTorch's OUT×IN); transpose it",
            (rows, cols),
            got,
        )
    elif got[0] != rows:
        out.add(
            where,
            f"expected {rows} rows ({what}: the input size), got {got[0]}; "
            "the layer sizes do not chain",
            (rows, cols),
            got,
        )
    else:
        out.add(where, f"expected {rows}×{cols} ({what}), got {got[0]}×{got[1]}", (rows, cols), got)
    return 0


def _huge_integer(out: _Checker, where: str, value: list[object]) -> None:
    """Report the first integer beyond float32 in a list (or list of lists) that numpy
    could not turn into a float array; a Python caller can pass ``10**400``."""
    for r, row in enumerate(value):
        items = list(enumerate(row)) if type(row) is list else [(None, row)]
        for c, item in items:
            if type(item) is int and not abs(item) <= FLOAT32_MAX:
                field = f"{where}[{r}]" + ("" if c is None else f"[{c}]")
                digits = f"about {int(item.bit_length() * math.log10(2)) + 1}"  # no str()
                out.add(
                    field,
                    f"expected a finite float32 number, got an integer of {digits} digits",
                    "finite",
                    "integer",
                )
                return


def _check_vector(out: _Checker, where: str, value: object, size: int, what: str) -> int:
    array = numeric_array(value)
    if array is None:
        if isinstance(value, list):
            _huge_integer(out, where, value)
        return 0
    if array.shape != (size,):
        out.add(
            where,
            f"expected {size} values ({what}), got {array.shape[0]}"
            + (" (a matrix)" if array.ndim != 1 else ""),
            (size,),
            array.shape,
        )
        return 0
    return _finite(out, where, array)


def _finite(out: _Checker, where: str, array: npt.NDArray[np.float64]) -> int:
    """Report the first value that is not a finite float32 (what RTNeural stores)."""
    bad = np.argwhere(~(np.abs(array) <= FLOAT32_MAX))  # NaN compares False too
    if len(bad):
        index = "".join(f"[{i}]" for i in bad[0])
        value = float(array[tuple(bad[0])])
        count = f"{len(bad)} such values in this array"
        if math.isfinite(value):
            reason = (
                f"expected a finite float32 number (at most {FLOAT32_MAX:.8g} in size), got "
                f"{value:.8g}, which RTNeural reads as inf ({count})"
            )
        else:
            reason = f"expected a finite number, got {value} ({count})"
        out.add(f"{where}{index}", reason, "finite", value)
    return int(array.size)


def _check_weights(doc: Mapping[str, object], out: _Checker) -> int | None:
    """Check every layer's weights against the declared, chained sizes; return the count."""
    in_size = _size(doc.get("in_shape"))
    _check_integer_shape(out, "in_shape", doc.get("in_shape"))
    layers = doc.get("layers")
    if not isinstance(layers, list):
        return None
    stored = 0
    complete = True
    for index, raw in enumerate(layers):
        where = f"layers[{index}].weights"
        size = _size(raw.get("shape")) if isinstance(raw, Mapping) else None
        weights = raw.get("weights") if isinstance(raw, Mapping) else None
        kind = raw.get("type") if isinstance(raw, Mapping) else None
        if isinstance(raw, Mapping):
            _check_integer_shape(out, f"layers[{index}].shape", raw.get("shape"))
        if (
            in_size is None
            or size is None
            or not isinstance(weights, list)
            or kind not in LAYER_KINDS
        ):
            complete = False
            in_size = size
            continue
        if kind == "dense":
            if len(weights) != 2:
                out.add(
                    where,
                    f"expected [kernel, bias] (2 entries), got {len(weights)}",
                    2,
                    len(weights),
                )
                complete = False
            else:
                counted = _check_matrix(
                    out, f"{where}[0]", weights[0], in_size, size, "dense kernel"
                )
                counted += _check_vector(out, f"{where}[1]", weights[1], size, "dense bias")
                complete &= counted == in_size * size + size
                stored += counted
        else:
            gates = 4 * size
            if len(weights) != 3:
                out.add(
                    where,
                    f"expected [kernel, recurrent, bias] (3 entries), got {len(weights)}",
                    3,
                    len(weights),
                )
                complete = False
            else:
                counted = _check_matrix(
                    out, f"{where}[0]", weights[0], in_size, gates, "lstm kernel", gates=4
                )
                counted += _check_matrix(
                    out, f"{where}[1]", weights[1], size, gates, "lstm recurrent", gates=4
                )
                counted += _check_vector(
                    out, f"{where}[2]", weights[2], gates, "lstm bias, 4 gates × H"
                )
                complete &= counted == (in_size + size + 1) * gates
                stored += counted
        in_size = size
    return stored if complete else None


def check_document(
    document: object,
    *,
    source: str | Path | None = None,
    known_specs: Mapping[str, ModelSpec] = MODEL_SPECS,
) -> list[Problem]:
    """Return the problems a schema cannot find, in document order.

    Checks ``in_shape``, layer types, sizes and activations against the spec (from
    ``metadata.spec``, else ``metadata.model_name``, else inferred from the layer table
    against ``known_specs``); kernel, recurrent and bias shapes against the chained layer
    sizes (a transposed kernel and a 3-gate LSTM get their own messages); NaN and Inf;
    the stored number count and metadata counts against the spec.
    """
    out = _Checker(Path(source) if source is not None else None)
    if not isinstance(document, Mapping):
        return out.problems  # the schema reports the type
    doc = cast(Mapping[str, object], document)
    spec = _reference(doc, known_specs, out)
    if spec is not None:
        _check_against_spec(doc, spec, out)
    stored = _check_weights(doc, out)
    meta = doc.get("metadata")
    if stored is not None:
        claimed = meta.get("stored_parameter_count") if isinstance(meta, Mapping) else None
        if isinstance(claimed, int) and claimed != stored:
            out.add(
                "metadata.stored_parameter_count",
                f"the file stores {stored} numbers, metadata says {claimed}",
                stored,
                claimed,
            )
        if spec is not None and stored != spec.stored_parameter_count and not out.problems:
            out.add(
                "layers",
                f"expected {spec.stored_parameter_count} stored numbers "
                f"({spec.name!r}), got {stored}",
                spec.stored_parameter_count,
                stored,
            )
    _check_numbers(doc, out)
    return out.problems


def _check_numbers(doc: Mapping[str, object], out: _Checker) -> None:
    meta = doc.get("metadata")
    if not isinstance(meta, Mapping):
        return
    for key, value in meta.items():
        if isinstance(value, float) and not math.isfinite(value):
            out.add(f"metadata.{key}", f"expected a finite number, got {value}", "finite", value)
