"""Frozen value objects describing a model: its layers, sizes and weight arrays.

A :class:`ModelSpec` is the single source of every count: the layer sizes are data, and
``parameter_count``, ``stored_parameter_count`` and the weight-array shapes are derived.

Weight arrays travel between packages as *state arrays*: a mapping from names to float32
numpy arrays in PyTorch's layout, named after the layer index in the spec:

========================  =================  =================================
name                      shape              meaning
========================  =================  =================================
``layers.{i}.weight``     ``(out, in)``      dense weight (PyTorch ``nn.Linear``)
``layers.{i}.bias``       ``(out,)``         dense bias
``layers.{i}.weight_ih``  ``(4H, in)``       LSTM input weights, gates i, f, g, o
``layers.{i}.weight_hh``  ``(4H, H)``        LSTM recurrent weights, same gate order
``layers.{i}.bias_ih``    ``(4H,)``          LSTM input bias
``layers.{i}.bias_hh``    ``(4H,)``          LSTM recurrent bias
========================  =================  =================================
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal, TypeAlias, cast, get_args

import attrs

from kelly_core.errors import SpecError

__all__ = [
    "ACTIVATIONS",
    "LAYER_KINDS",
    "Activation",
    "LayerKind",
    "LayerSpec",
    "ModelSpec",
]

LayerKind: TypeAlias = Literal["dense", "lstm"]
Activation: TypeAlias = Literal["", "tanh", "relu", "sigmoid", "softmax", "elu"]

LAYER_KINDS: Final[tuple[LayerKind, ...]] = get_args(LayerKind)
ACTIVATIONS: Final[tuple[Activation, ...]] = get_args(Activation)
"""Activation names RTNeural's parser accepts for a dense layer; ``""`` is linear."""

NAME_PATTERN: Final = r"^[A-Z][A-Za-z0-9]*$"


def _check_activation(instance: LayerSpec, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in ACTIVATIONS:
        raise SpecError(
            f"unknown activation {value!r}; expected one of {', '.join(map(repr, ACTIVATIONS))}",
            field="activation",
            expected=ACTIVATIONS,
            got=value,
        )
    if instance.kind == "lstm" and value != "":
        raise SpecError(
            "an lstm layer has its own gate activations; expected activation ''",
            field="activation",
            expected="",
            got=value,
        )


def _check_kind(instance: LayerSpec, attribute: attrs.Attribute[str], value: str) -> None:
    if value not in LAYER_KINDS:
        raise SpecError(
            f"unknown layer kind {value!r}; expected one of {', '.join(LAYER_KINDS)}",
            field="kind",
            expected=LAYER_KINDS,
            got=value,
        )


def _positive(instance: object, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise SpecError(
            f"expected a positive integer, got {value!r}",
            field=attribute.name,
            expected="int > 0",
            got=value,
        )


@attrs.frozen(kw_only=True)
class LayerSpec:
    """One layer: its kind, its output size and, for dense layers, its activation."""

    kind: LayerKind = attrs.field(validator=_check_kind)
    """``"dense"`` or ``"lstm"``."""
    size: int = attrs.field(validator=_positive)
    """Output size: dense units or LSTM hidden size H."""
    activation: Activation = attrs.field(default="", validator=_check_activation)
    """Dense activation (one of :data:`ACTIVATIONS`); always ``""`` for an LSTM."""

    def array_shapes(self, in_size: int, prefix: str) -> dict[str, tuple[int, ...]]:
        """Return the state-array names and shapes of this layer fed ``in_size`` values."""
        if self.kind == "dense":
            return {f"{prefix}.weight": (self.size, in_size), f"{prefix}.bias": (self.size,)}
        gates = 4 * self.size
        return {
            f"{prefix}.weight_ih": (gates, in_size),
            f"{prefix}.weight_hh": (gates, self.size),
            f"{prefix}.bias_ih": (gates,),
            f"{prefix}.bias_hh": (gates,),
        }

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict (``kind``, ``size``, ``activation``)."""
        return {"kind": self.kind, "size": self.size, "activation": self.activation}


def _check_layers(
    instance: ModelSpec, attribute: attrs.Attribute[tuple[LayerSpec, ...]], value: object
) -> None:
    if not isinstance(value, tuple) or not value:
        raise SpecError(
            "expected a non-empty tuple of LayerSpec",
            field="layers",
            expected="tuple[LayerSpec, ...]",
            got=value,
        )
    for index, layer in enumerate(value):
        if not isinstance(layer, LayerSpec):
            raise SpecError(
                f"expected LayerSpec, got {type(layer).__name__}",
                field=f"layers[{index}]",
                expected="LayerSpec",
                got=type(layer).__name__,
            )


@attrs.frozen(kw_only=True)
class ModelSpec:
    """A model's architecture as data; every count is derived from it."""

    name: str = attrs.field(validator=attrs.validators.matches_re(NAME_PATTERN))
    """PascalCase model name, e.g. ``"EmotionRecognizer"``."""
    input_size: int = attrs.field(validator=_positive)
    """Values per input frame."""
    layers: tuple[LayerSpec, ...] = attrs.field(validator=_check_layers)
    """The layers in order; each is fed the previous one's output."""
    input_name: str = "input"
    """What an input frame is (``"emotion_frame"``, ``"emotion"``): documentation and metadata."""
    output_name: str = "output"
    """What an output frame is (``"emotion"``, ``"chords"``)."""

    @property
    def output_size(self) -> int:
        """Values per output frame: the last layer's size."""
        return self.layers[-1].size

    @property
    def layer_input_sizes(self) -> tuple[int, ...]:
        """The input size of each layer, in order."""
        return (self.input_size, *(layer.size for layer in self.layers[:-1]))

    @property
    def file_stem(self) -> str:
        """Lower-case name used for files (``"emotionrecognizer"``)."""
        return self.name.lower()

    def array_shapes(self) -> dict[str, tuple[int, ...]]:
        """Return every state-array name mapped to its shape, in layer order."""
        shapes: dict[str, tuple[int, ...]] = {}
        for index, (layer, in_size) in enumerate(
            zip(self.layers, self.layer_input_sizes, strict=True)
        ):
            shapes.update(layer.array_shapes(in_size, f"layers.{index}"))
        return shapes

    @property
    def parameter_count(self) -> int:
        """Trainable parameters as PyTorch counts them (both LSTM biases)."""
        return sum(math.prod(shape) for shape in self.array_shapes().values())

    @property
    def stored_parameter_count(self) -> int:
        """Numbers stored in an RTNeural file (one summed LSTM bias: 4·H fewer per LSTM)."""
        merged = sum(4 * layer.size for layer in self.layers if layer.kind == "lstm")
        return self.parameter_count - merged

    @property
    def memory_bytes(self) -> int:
        """Bytes of the PyTorch parameters as float32."""
        return 4 * self.parameter_count

    @property
    def has_state(self) -> bool:
        """Whether stepping carries state between frames (any LSTM layer)."""
        return any(layer.kind == "lstm" for layer in self.layers)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict that :meth:`from_dict` reads back to an equal spec."""
        return {
            "name": self.name,
            "input_size": self.input_size,
            "input_name": self.input_name,
            "output_name": self.output_name,
            "layers": [layer.to_dict() for layer in self.layers],
        }

    @property
    def spec_hash(self) -> str:
        """A stable 16-hex-digit hash of the architecture (sha256 of canonical JSON)."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    @classmethod
    def from_dict(
        cls, data: Mapping[str, object], *, source: str | Path | None = None
    ) -> ModelSpec:
        """Build a spec from :meth:`to_dict` output; errors name ``source`` and the field.

        :raises SpecError: On a missing or malformed field.
        """

        def need(mapping: Mapping[str, object], key: str, kind: type, where: str) -> object:
            if key not in mapping:
                raise SpecError(f"missing key {key!r}", path=source, field=where, expected=key)
            value = mapping[key]
            if not isinstance(value, kind) or isinstance(value, bool):
                raise SpecError(
                    f"expected {kind.__name__}, got {type(value).__name__}",
                    path=source,
                    field=f"{where}.{key}" if where else key,
                    expected=kind.__name__,
                    got=value,
                )
            return value

        raw_layers = need(data, "layers", list, "")
        layers: list[LayerSpec] = []
        for index, raw in enumerate(cast(list[object], raw_layers)):
            where = f"layers[{index}]"
            if not isinstance(raw, Mapping):
                raise SpecError("expected an object", path=source, field=where, got=raw)
            try:
                layers.append(
                    LayerSpec(
                        kind=cast(LayerKind, need(raw, "kind", str, "")),
                        size=cast(int, need(raw, "size", int, "")),
                        activation=cast(Activation, raw.get("activation", "")),
                    )
                )
            except SpecError as exc:
                raise exc.located(path=source, prefix=where) from exc
        try:
            return cls(
                name=cast(str, need(data, "name", str, "")),
                input_size=cast(int, need(data, "input_size", int, "")),
                layers=tuple(layers),
                input_name=cast(str, data.get("input_name", "input")),
                output_name=cast(str, data.get("output_name", "output")),
            )
        except ValueError as exc:
            if isinstance(exc, SpecError) and exc.path is not None:
                raise
            raise SpecError(str(exc), path=source, field="name") from exc
