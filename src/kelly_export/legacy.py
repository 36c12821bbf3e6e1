"""Reads model files in the legacy layout of the original design text, to convert them.

That layout does not load in RTNeural (no ``in_shape``; separate biases; OUT×IN dense
weights); ``kelly convert`` turns it into a correct RTNeural file. Two forms are read
(docs/rtneural-format.md has the full table). The original design's, exactly::

    {"layers": [
       {"type": "dense", "in_size": 32, "out_size": 128, "activation": "relu",
        "weights": [[...] * 32] * 128, "bias": [...] * 128},          # OUT×IN
       {"type": "lstm", "in_size": 256, "out_size": 128,
        "weights_ih": [Wi, Wf, Wg, Wo], "weights_hh": [...],          # each H×IN, H×H
        "bias_ih": [bi, bf, bg, bo], "bias_hh": [...]}],              # each H
     "metadata": {"model_name": "DynamicsEngine", "framework": "PyTorch",
                  "export_version": "2.0", "parameter_count": 13520, "memory_bytes": 54080,
                  "input_size": 32, "output_size": 16}}

(the model from ``metadata.model_name``, the sizes from the layers; the version is a
number or a version string, as written, and counts may be written as whole floats,
``13520.0``), and Kelly's earlier
variant with the sizes and name on top::

    {"model_name": "DynamicsEngine",        # optional
     "in_size": 32, "out_size": 16,
     "weights_layout": "out_in",            # optional claim for dense weights
     "layers": [
       {"type": "dense", "activation": "relu", "in_size": 32, "out_size": 128,
        "weights": [[...] * 32] * 128,       # OUT×IN (PyTorch), or IN×OUT if claimed
        "bias": [...] * 128},
       {"type": "lstm", "in_size": 256, "hidden_size": 128,
        "weights_ih": [Wi, Wf, Wg, Wo],      # four gate arrays, each H×IN
        "weights_hh": [Wi, Wf, Wg, Wo],      # each H×H
        "bias_ih": [bi, bf, bg, bo], "bias_hh": [...]}]}   # each H

Anything ambiguous is refused with a message saying what to do: unknown keys, sizes that
disagree, and a square dense weight whose orientation neither the file
(``weights_layout``) nor the caller states.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal, NoReturn, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError, SpecError
from kelly_core.records import LoadedModel
from kelly_core.specs import ACTIVATIONS, Activation, LayerSpec, ModelSpec
from kelly_export.check import FLOAT32_MAX, numeric_array
from kelly_export.validate import parse_json, read_text

__all__ = ["LEGACY_ACTIVATIONS", "WEIGHT_LAYOUTS", "WeightsLayout", "read_legacy"]

WeightsLayout: TypeAlias = Literal["out_in", "in_out"]
WEIGHT_LAYOUTS: Final[tuple[WeightsLayout, ...]] = ("out_in", "in_out")
LEGACY_ACTIVATIONS: Final[Mapping[str, Activation]] = {
    **{name: name for name in ACTIVATIONS},
    "linear": "",
}
"""Legacy activation names -> RTNeural's; ``"linear"`` (which crashes RTNeural) is ``""``."""

_TOP_KEYS: Final = frozenset(
    {"model_name", "in_size", "out_size", "weights_layout", "layers", "metadata"}
)
_META_KEYS: Final = frozenset(
    {"model_name", "framework", "export_version", "parameter_count", "memory_bytes",
     "input_size", "output_size"}
)  # fmt: skip
_HEAD_BYTES: Final = 4096
_DENSE_KEYS: Final = frozenset(
    {"type", "activation", "in_size", "out_size", "weights", "bias", "weights_layout"}
)
_LSTM_KEYS: Final = frozenset(
    {"type", "activation", "in_size", "out_size", "hidden_size", "weights_ih", "weights_hh",
     "bias_ih", "bias_hh"}
)  # fmt: skip
_GATES: Final = ("i", "f", "g", "o")


class _Reader:
    def __init__(self, path: Path | None) -> None:
        self.path = path

    def fail(
        self, field: str, message: str, expected: object = None, got: object = None
    ) -> NoReturn:
        raise ExportError(message, path=self.path, field=field, expected=expected, got=got)

    def keys(self, data: Mapping[str, object], allowed: frozenset[str], where: str) -> None:
        unknown = sorted(set(data) - allowed)
        if unknown:
            self.fail(where or "$", f"unknown keys {unknown}; the legacy layout has "
                      f"{sorted(allowed)}", sorted(allowed), unknown)  # fmt: skip

    def size(self, data: Mapping[str, object], key: str, where: str) -> int | None:
        if key not in data:
            return None
        value = data[key]
        if type(value) is not int or value <= 0:
            self.fail(
                f"{where}.{key}" if where else key, f"expected a positive integer, got {value!r}"
            )
        return value

    def array(self, value: object, where: str, ndim: int) -> npt.NDArray[np.float64]:
        array = numeric_array(value)
        if array is None or array.ndim != ndim or array.size == 0:
            kind = "vector" if ndim == 1 else "rectangular matrix"
            self.fail(where, f"expected a non-empty {kind} of numbers")
        bad = np.flatnonzero(~(np.abs(array) <= FLOAT32_MAX))
        if bad.size:
            value = float(array.flat[bad[0]])
            self.fail(where, f"expected finite float32 numbers, got {value:.8g} "
                      f"({bad.size} such values)", "finite", value)  # fmt: skip
        return array


def _layout(value: object, reader: _Reader, where: str) -> WeightsLayout | None:
    if value is None:
        return None
    if value not in WEIGHT_LAYOUTS:
        reader.fail(where, f"expected one of {list(WEIGHT_LAYOUTS)}, got {value!r}")
    return value


def _dense(
    raw: Mapping[str, object], reader: _Reader, where: str, in_size: int,
    layout: WeightsLayout | None,
) -> tuple[LayerSpec, list[FloatArray]]:  # fmt: skip
    bias = reader.array(raw.get("bias"), f"{where}.bias", 1)
    out_size = reader.size(raw, "out_size", where) or bias.shape[0]
    if bias.shape[0] != out_size:
        reader.fail(f"{where}.bias", f"expected {out_size} values (out_size), got {bias.shape[0]}")
    weight = reader.array(raw.get("weights"), f"{where}.weights", 2)
    claim = _layout(raw.get("weights_layout"), reader, f"{where}.weights_layout") or layout
    shape = weight.shape
    if shape not in ((out_size, in_size), (in_size, out_size)):
        reader.fail(f"{where}.weights", f"expected {out_size}×{in_size} (OUT×IN) for input size "
                    f"{in_size} and output size {out_size}, got {shape[0]}×{shape[1]}; "
                    "the sizes do not chain", (out_size, in_size), shape)  # fmt: skip
    if in_size == out_size and claim is None:
        reader.fail(f"{where}.weights", f"square {in_size}×{in_size} weight and the file does not "
                    "say its orientation; add \"weights_layout\": \"out_in\" (PyTorch, the legacy "
                    "design) or \"in_out\" to the file, or pass --weights-layout")  # fmt: skip
    by_shape: WeightsLayout = "out_in" if shape == (out_size, in_size) else "in_out"
    chosen = claim if in_size == out_size else by_shape
    if claim is not None and claim != chosen:
        reader.fail(f"{where}.weights", f"weights_layout says {claim!r} but the shape "
                    f"{shape[0]}×{shape[1]} is {chosen!r}", claim, chosen)  # fmt: skip
    activation = raw.get("activation", "")
    if not isinstance(activation, str) or activation not in LEGACY_ACTIVATIONS:
        reader.fail(f"{where}.activation", f"unknown activation {activation!r}; expected one of "
                    f"{sorted(LEGACY_ACTIVATIONS)}")  # fmt: skip
    torch_weight = weight if chosen == "out_in" else weight.T
    spec = LayerSpec(kind="dense", size=out_size, activation=LEGACY_ACTIVATIONS[activation])
    return spec, [_f32(torch_weight), _f32(bias)]


def _gates(raw: object, reader: _Reader, where: str, ndim: int) -> list[npt.NDArray[np.float64]]:
    if not isinstance(raw, list) or len(raw) != 4:
        count = len(raw) if isinstance(raw, list) else type(raw).__name__
        reader.fail(where, f"expected four gate arrays (i, f, g, o), got {count}", 4, count)
    return [reader.array(g, f"{where}[{k}]", ndim) for k, g in enumerate(cast(list[object], raw))]


def _lstm(
    raw: Mapping[str, object], reader: _Reader, where: str, in_size: int
) -> tuple[LayerSpec, list[FloatArray]]:
    activation = raw.get("activation", "")
    if activation not in ("", "tanh"):
        reader.fail(
            f"{where}.activation", f"an lstm has fixed gate activations; got {activation!r}"
        )
    w_ih = _gates(raw.get("weights_ih"), reader, f"{where}.weights_ih", 2)
    w_hh = _gates(raw.get("weights_hh"), reader, f"{where}.weights_hh", 2)
    b_ih = _gates(raw.get("bias_ih"), reader, f"{where}.bias_ih", 1)
    b_hh = _gates(raw.get("bias_hh"), reader, f"{where}.bias_hh", 1)
    hidden = b_ih[0].shape[0]
    for key in ("hidden_size", "out_size"):
        declared = reader.size(raw, key, where)
        if declared is not None and declared != hidden:
            reader.fail(
                f"{where}.{key}", f"expected {hidden} (the gate bias length), got {declared}"
            )
    checks = (("weights_ih", w_ih, (hidden, in_size)), ("weights_hh", w_hh, (hidden, hidden)),
              ("bias_ih", b_ih, (hidden,)), ("bias_hh", b_hh, (hidden,)))  # fmt: skip
    for key, gates, shape in checks:
        for k, gate in enumerate(gates):
            if gate.shape != shape:
                hint = " (transposed?)" if gate.shape == shape[::-1] else ""
                message = f"gate {_GATES[k]!r}: expected shape {shape}, got {gate.shape}{hint}"
                reader.fail(f"{where}.{key}[{k}]", message, shape, gate.shape)
    arrays = [np.concatenate(g, axis=0) for g in (w_ih, w_hh, b_ih, b_hh)]
    return LayerSpec(kind="lstm", size=hidden), [_f32(a) for a in arrays]


def _f32(array: npt.NDArray[np.float64]) -> FloatArray:
    return np.ascontiguousarray(array, dtype=np.float32)


def read_legacy(
    source: Path | Mapping[str, object],
    *,
    name: str | None = None,
    weights_layout: WeightsLayout | None = None,
    known_specs: Mapping[str, ModelSpec] = MODEL_SPECS,
) -> LoadedModel:
    """Read a legacy-layout file (or parsed document) into a spec and state arrays.

    :param name: Model name when the file has no ``model_name`` and its layer table
        matches no known model; must agree with the file's otherwise.
    :param weights_layout: Orientation of dense weights when the file does not say;
        needed only for square ones.
    :raises ExportError: On anything ambiguous or inconsistent, naming the JSON path.
    """
    path = source if isinstance(source, Path) else None
    reader = _Reader(path)
    doc = _document(source, reader)
    reader.keys(doc, _TOP_KEYS, "")
    meta = _metadata(doc, reader)
    raw_layers = doc.get("layers")
    if not isinstance(raw_layers, list) or not raw_layers:
        reader.fail("layers", "expected a non-empty list of layers")
    in_size = _input_size(doc, meta, raw_layers[0], reader)
    layout = _layout(doc.get("weights_layout"), reader, "weights_layout") or weights_layout
    if layout is None and meta:
        layout = "out_in"  # the original design stores dense weights OUT×IN (PyTorch)
    layers, arrays = _layers(cast(list[object], raw_layers), reader, in_size, layout)
    size = layers[-1].size
    for where, holder, key in (("", doc, "out_size"), ("metadata", meta, "output_size")):
        out_size = reader.size(holder, key, where)
        if out_size is not None and out_size != size:
            field = f"{where}.{key}" if where else key
            reader.fail(
                field, f"expected {size} (the last layer's size), got {out_size}", size, out_size
            )
    spec = _spec(doc, meta, reader, in_size, layers, name, known_specs)
    count = _count(meta.get("parameter_count"))
    if count is not None and count != spec.parameter_count:
        reader.fail("metadata.parameter_count", f"expected {spec.parameter_count} (the "
                    f"parameters of {spec.name!r}), got {count!r}", spec.parameter_count,
                    count)  # fmt: skip
    named = dict(zip(spec.array_shapes(), arrays, strict=True))
    return LoadedModel(spec=spec, arrays=named, metadata={"converted_from": "legacy"}, path=path)


def _document(source: Path | Mapping[str, object], reader: _Reader) -> Mapping[str, object]:
    """The legacy document: ``source`` itself, or the file parsed; an RTNeural file (one
    with ``in_shape``) is refused."""
    if isinstance(source, Path):
        text = read_text(source)
        if _RTNEURAL_HEAD.match(text[:_HEAD_BYTES]):
            reader.fail("in_shape", _ALREADY)
        data = parse_json(text, path=source)
    else:
        data = source
    if not isinstance(data, Mapping):
        reader.fail("$", f"expected a JSON object, got {type(data).__name__}")
    doc = cast(Mapping[str, object], data)
    if "in_shape" in doc:
        reader.fail("in_shape", _ALREADY)
    return doc


def _input_size(
    doc: Mapping[str, object], meta: Mapping[str, object], first: object, reader: _Reader
) -> int:
    """The model's input size: ``in_size`` on top, else on the first layer, else
    ``metadata.input_size``, which must agree with it when given."""
    in_size = reader.size(doc, "in_size", "")
    if in_size is None and isinstance(first, Mapping):
        in_size = reader.size(cast(Mapping[str, object], first), "in_size", "layers[0]")
    if in_size is None:
        in_size = reader.size(meta, "input_size", "metadata")
    if in_size is None:
        reader.fail("in_size", "missing the input size: expected 'in_size' on top or in "
                    "layers[0], or metadata.input_size")  # fmt: skip
    meta_in = reader.size(meta, "input_size", "metadata")
    if meta_in is not None and meta_in != in_size:
        reader.fail("metadata.input_size", f"expected {in_size} (the first layer's in_size), "
                    f"got {meta_in}", in_size, meta_in)  # fmt: skip
    return in_size


def _layers(
    raw_layers: list[object], reader: _Reader, in_size: int, layout: WeightsLayout | None
) -> tuple[list[LayerSpec], list[FloatArray]]:
    """Each layer's spec and its arrays (PyTorch's layout), checking the sizes chain."""
    layers: list[LayerSpec] = []
    arrays: list[FloatArray] = []
    size = in_size
    for index, raw in enumerate(raw_layers):
        where = f"layers[{index}]"
        if not isinstance(raw, Mapping):
            reader.fail(where, "expected an object")
        layer_raw = cast(Mapping[str, object], raw)
        kind = layer_raw.get("type")
        if kind not in ("dense", "lstm"):
            reader.fail(f"{where}.type", f"expected 'dense' or 'lstm', got {kind!r}")
        reader.keys(layer_raw, _DENSE_KEYS if kind == "dense" else _LSTM_KEYS, where)
        declared_in = reader.size(layer_raw, "in_size", where)
        if declared_in is not None and declared_in != size:
            reader.fail(f"{where}.in_size", f"expected {size} (the previous layer's output), got "
                        f"{declared_in}; the sizes do not chain", size, declared_in)  # fmt: skip
        if kind == "dense":
            layer, converted = _dense(layer_raw, reader, where, size, layout)
        else:
            layer, converted = _lstm(layer_raw, reader, where, size)
        layers.append(layer)
        arrays.extend(converted)
        size = layer.size
    return layers, arrays


_ALREADY: Final = (
    "this is already an RTNeural file (it has 'in_shape'); check it with kelly validate"
)
_RTNEURAL_HEAD: Final = re.compile(r'\A\s*\{\s*"in_shape"\s*:')


def _metadata(doc: Mapping[str, object], reader: _Reader) -> Mapping[str, object]:
    raw = doc.get("metadata", {})
    if not isinstance(raw, Mapping):
        reader.fail("metadata", f"expected an object, got {type(raw).__name__}")
    meta = cast(Mapping[str, object], raw)
    reader.keys(meta, _META_KEYS, "metadata")
    for key in ("parameter_count", "memory_bytes"):
        value = meta.get(key)
        if value is not None and _count(value) is None:
            reader.fail(f"metadata.{key}", f"expected a non-negative integer, got {value!r}")
    version = meta.get("export_version")
    if version is not None and not _is_version(version):
        reader.fail("metadata.export_version", "expected a version: a non-negative number or a "
                    f"string such as \"2.0\", got {version!r}")  # fmt: skip
    for key in ("model_name", "framework"):
        value = meta.get(key)
        if value is not None and not isinstance(value, str):
            reader.fail(f"metadata.{key}", f"expected a string, got {value!r}")
    return meta


_VERSION: Final = re.compile(r"\A[vV]?\d{1,9}(\.\d{1,9}){0,3}\Z")


def _is_version(value: object) -> bool:
    """``2``, ``2.0`` or ``"2.0"`` (the original design writes a string), ``"1.2.3"``."""
    if isinstance(value, str):
        return _VERSION.match(value.strip()) is not None
    return _count(value) is not None or (type(value) is float and 0.0 <= value < 1e9)


def _count(value: object) -> int | None:
    """A non-negative whole number as written (``13520`` or ``13520.0``), else None."""
    if type(value) is int and value >= 0:
        return value
    if type(value) is float and value >= 0.0 and value.is_integer() and value < 2.0**53:
        return int(value)
    return None


def _spec(
    doc: Mapping[str, object], meta: Mapping[str, object], reader: _Reader, in_size: int,
    layers: list[LayerSpec], name: str | None, known_specs: Mapping[str, ModelSpec],
) -> ModelSpec:  # fmt: skip
    file_name = doc.get("model_name")
    if file_name is not None and not isinstance(file_name, str):
        reader.fail("model_name", f"expected a string, got {file_name!r}")
    meta_name = meta.get("model_name")
    if file_name is not None and meta_name is not None and file_name != meta_name:
        reader.fail("metadata.model_name", f"the file says both {file_name!r} and {meta_name!r}")
    file_name = cast(str | None, file_name if file_name is not None else meta_name)
    if name is not None and file_name is not None and name != file_name:
        reader.fail("model_name", f"the file says {file_name!r}, the caller {name!r}")
    chosen = name or file_name
    table = tuple(layers)
    if chosen is None:
        matches = [s for s in known_specs.values() if (s.input_size, s.layers) == (in_size, table)]
        if not matches:
            reader.fail("model_name", "no model_name, and the layers match no known model; "
                        "pass --name")  # fmt: skip
        return matches[0]
    known = known_specs.get(chosen)
    if known is not None:
        if (known.input_size, known.layers) != (in_size, table):
            reader.fail("layers", f"the layers differ from the known model {chosen!r}")
        return known
    try:
        return ModelSpec(name=chosen, input_size=in_size, layers=table)
    except (SpecError, ValueError) as exc:
        raise ExportError(f"invalid model name {chosen!r}: {exc}", path=reader.path,
                          field="model_name") from exc  # fmt: skip
