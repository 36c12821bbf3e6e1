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
from typing import cast

import numpy as np
import numpy.typing as npt

from kelly_core.catalog import MODEL_SPECS
from kelly_core.specs import LAYER_KINDS, ModelSpec
from kelly_export.arrays import FLOAT32_MAX, integral, numeric_array
from kelly_export.arrays import Checker as _Checker
from kelly_export.arrays import size_of as _size
from kelly_export.problems import Problem
from kelly_export.spec_match import NO_SPEC_REASON, infer_spec, table_spec
from kelly_export.spec_match import check_against_spec as _check_against_spec
from kelly_export.spec_match import reference as _reference

__all__ = [
    "FLOAT32_MAX",
    "NO_SPEC_REASON",
    "check_document",
    "infer_spec",
    "integral",
    "numeric_array",
    "table_spec",
]


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
