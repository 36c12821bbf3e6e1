"""Generate ``kelly_models.h``: RTNeural compile-time model types and a checking loader.

For each :class:`~kelly_core.specs.ModelSpec` the header declares a traits struct
``kelly::models::<Name>`` with the spec's sizes, its layer table and ``spec_hash``, and
``using Model = RTNeural::ModelT<float, IN, OUT, DenseT<…>, TanhActivationT<…>,
LSTMLayerT<…>, …>``. ``kelly::models::load<Spec>(path, model)`` reads a file, checks it
against the spec (layer types, sizes, activations, weight array shapes, the metadata's
``model_name`` and ``spec_hash``) *before* RTNeural's ``parseJson`` (whose compile-time
loader skips a mismatched layer with only a debug print) and returns an error string
instead of loading a mismatch. ``check_parity<Spec>`` steps a loaded model over the
``<stem>.parity.json`` vectors written beside every export.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

from kelly_core import __version__
from kelly_core.catalog import MODEL_SPECS
from kelly_core.specs import ModelSpec
from kelly_export.cpp_files import cpp_dir

__all__ = [
    "ACTIVATION_TYPES",
    "HEADER_NAME",
    "INPUT_BUILDERS",
    "TEMPLATE_NAME",
    "model_alias",
    "models_header",
]

HEADER_NAME: Final = "kelly_models.h"
TEMPLATE_NAME: Final = "kelly_models.h.in"
ACTIVATION_TYPES: Final[Mapping[str, str]] = {
    "tanh": "TanhActivationT",
    "relu": "ReLuActivationT",
    "sigmoid": "SigmoidActivationT",
    "softmax": "SoftmaxActivationT",
    "elu": "ELuActivationT",
}
"""Kelly activation name -> RTNeural compile-time activation layer."""
INPUT_BUILDERS: Final[Mapping[str, str]] = {
    "EmotionRecognizer": "the emotion frame of one 0.5 s window (kelly::StreamingEmotionFrames)",
    "MelodyTransformer": "kelly::melody_context: [coarse emotion | beat in bar | its own "
    "previous beat's top pitch (kelly::MelodyHistory, push kelly::melody_feedback of "
    "each beat's output) | the song's chroma and bass (kelly::song_harmony)]",
    "HarmonyPredictor": "kelly::harmony_context: [coarse emotion | beat in bar | the song's "
    "chroma and bass, the chroma a step earlier (kelly::SongHistory) | beats the previous "
    "chord lasted | previous chord distribution]",
    "DynamicsEngine": "kelly::compact_context: [coarse emotion | beat in bar | pitch classes]",
    "GroovePredictor": "the emotion code (the EmotionRecognizer's output)",
}
"""Model name -> how kelly_companion.h builds its input (a comment in the traits struct)."""


def model_alias(spec: ModelSpec) -> str:
    """Return the ``RTNeural::ModelT<float, IN, OUT, …>`` type of ``spec``."""
    parts: list[str] = []
    for layer, in_size in zip(spec.layers, spec.layer_input_sizes, strict=True):
        if layer.kind == "lstm":
            parts.append(f"RTNeural::LSTMLayerT<float, {in_size}, {layer.size}>")
            continue
        parts.append(f"RTNeural::DenseT<float, {in_size}, {layer.size}>")
        if layer.activation:
            parts.append(f"RTNeural::{ACTIVATION_TYPES[layer.activation]}<float, {layer.size}>")
    inner = ",\n        ".join(parts)
    return f"RTNeural::ModelT<float, {spec.input_size}, {spec.output_size},\n        {inner}>"


def _comment(text: str, width: int = 92) -> str:
    """``text`` as ``///`` comment lines of at most ``width`` characters."""
    lines: list[str] = []
    line = "///"
    for word in text.split():
        if len(line) + 1 + len(word) > width and line != "///":
            lines.append(line)
            line = "///"
        line += " " + word
    lines.append(line)
    return "\n".join(lines)


def _traits(spec: ModelSpec) -> str:
    rows = ",\n        ".join(
        f'{{"{layer.kind}", {in_size}, {layer.size}, "{layer.activation}"}}'
        for layer, in_size in zip(spec.layers, spec.layer_input_sizes, strict=True)
    )
    builder = INPUT_BUILDERS.get(spec.name)
    note = "" if builder is None else "\n" + _comment(f"Input: {builder}.")
    return f"""
/// {spec.name}: {spec.input_size} -> {spec.output_size}, {spec.parameter_count:,} parameters.{note}
struct {spec.name} {{
    static constexpr const char* name = "{spec.name}";
    static constexpr const char* file_stem = "{spec.file_stem}";
    static constexpr const char* spec_hash = "{spec.spec_hash}";
    static constexpr int input_size = {spec.input_size};
    static constexpr int output_size = {spec.output_size};
    static constexpr int num_layers = {len(spec.layers)};
    static constexpr LayerInfo layers[{len(spec.layers)}] = {{
        {rows}}};
    using Model = {model_alias(spec)};
}};
"""


def models_header(specs: Mapping[str, ModelSpec] = MODEL_SPECS) -> str:
    """Return the text of ``kelly_models.h`` for ``specs`` (by default Kelly's five).

    The fixed parts (notes, ``LayerInfo``, the loader) come from the package's
    ``cpp/kelly_models.h.in``; one traits struct per spec is generated here.
    """
    template = (cpp_dir() / TEMPLATE_NAME).read_text(encoding="utf-8")
    traits = "".join(_traits(spec) for spec in specs.values())
    return (
        template.replace("@VERSION@", __version__)
        .replace("@NAMES@", ", ".join(specs))
        .replace("@MODELS@", traits)
    )
