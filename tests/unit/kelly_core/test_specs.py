"""Tests for kelly_core.specs and kelly_core.catalog."""

from __future__ import annotations

import pytest
from hypothesis import given
from torch import nn

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS, TOTAL_PARAMETERS
from kelly_core.errors import SpecError
from kelly_core.specs import LayerSpec, ModelSpec
from tests.strategies import model_specs


def _torch_layers(spec: ModelSpec) -> nn.ModuleList:
    """Build plain torch layers for ``spec``, written independently of Kelly's builder."""
    modules: list[nn.Module] = []
    for layer, in_size in zip(spec.layers, spec.layer_input_sizes, strict=True):
        if layer.kind == "dense":
            modules.append(nn.Linear(in_size, layer.size))
        else:
            modules.append(nn.LSTM(in_size, layer.size, batch_first=True))
    return nn.ModuleList(modules)


EXPECTED_COUNTS = {
    "EmotionRecognizer": (403_264, 402_752),
    "MelodyTransformer": (641_664, 640_640),
    "HarmonyPredictor": (74_176, 74_176),
    "DynamicsEngine": (13_520, 13_520),
    "GroovePredictor": (18_656, 18_656),
}


class TestParameterCount:
    @given(model_specs())
    def test_equals_torch_count_for_any_layer_table(self, spec: ModelSpec) -> None:
        """Any valid layer table counts exactly the parameters torch allocates for it."""
        torch_count = sum(p.numel() for p in _torch_layers(spec).parameters())
        assert spec.parameter_count == torch_count

    @given(model_specs())
    def test_array_shapes_match_torch_parameter_shapes(self, spec: ModelSpec) -> None:
        """The state-array shapes are the torch parameter shapes, layer by layer."""
        layers = _torch_layers(spec)
        shapes = spec.array_shapes()
        for index, module in enumerate(layers):
            for pname, param in module.named_parameters():
                key = f"layers.{index}.{pname.removesuffix('_l0')}"
                assert shapes[key] == tuple(param.shape)
        assert len(shapes) == sum(1 for _ in layers.parameters())

    @given(model_specs())
    def test_stored_count_drops_one_bias_per_lstm(self, spec: ModelSpec) -> None:
        """RTNeural stores 4·H fewer numbers per LSTM (one summed bias)."""
        lstm_hidden = sum(layer.size for layer in spec.layers if layer.kind == "lstm")
        assert spec.parameter_count - spec.stored_parameter_count == 4 * lstm_hidden

    @pytest.mark.parametrize("name", MODEL_NAMES)
    def test_five_models_have_the_documented_counts(self, name: str) -> None:
        """Each built-in spec gives the torch and stored counts of DESIGN.md §2."""
        spec = MODEL_SPECS[name]
        assert (spec.parameter_count, spec.stored_parameter_count) == EXPECTED_COUNTS[name]
        assert spec.parameter_count == sum(p.numel() for p in _torch_layers(spec).parameters())

    def test_total_is_1151280(self) -> None:
        """All five models hold 1,151,280 parameters, 4,605,120 bytes as float32."""
        assert TOTAL_PARAMETERS == 1_151_280
        assert sum(s.memory_bytes for s in MODEL_SPECS.values()) == 4_605_120


class TestCatalog:
    def test_names_and_sizes_follow_the_data_flow(self) -> None:
        """Emotion feeds melody and groove; harmony takes 128, dynamics 32."""
        assert MODEL_NAMES == (
            "EmotionRecognizer",
            "MelodyTransformer",
            "HarmonyPredictor",
            "DynamicsEngine",
            "GroovePredictor",
        )
        emotion = MODEL_SPECS["EmotionRecognizer"]
        assert (emotion.input_size, emotion.output_size) == (128, 64)
        assert MODEL_SPECS["MelodyTransformer"].input_size == emotion.output_size
        assert MODEL_SPECS["GroovePredictor"].input_size == emotion.output_size
        assert MODEL_SPECS["HarmonyPredictor"].output_size == 64
        assert MODEL_SPECS["DynamicsEngine"].input_size == 32

    def test_mapping_is_read_only(self) -> None:
        """MODEL_SPECS cannot be modified."""
        with pytest.raises(TypeError):
            MODEL_SPECS["Other"] = MODEL_SPECS["DynamicsEngine"]  # type: ignore[index]  # the point of the test


class TestSpecHash:
    def test_hash_is_stable(self) -> None:
        """The hash is a fixed function of the architecture (pinned for one model)."""
        assert MODEL_SPECS["DynamicsEngine"].spec_hash == "6143099b1aba4160"

    @given(model_specs())
    def test_hash_changes_with_any_layer_size(self, spec: ModelSpec) -> None:
        """Changing one layer's size changes the hash."""
        first = spec.layers[0]
        changed = LayerSpec(kind=first.kind, size=first.size + 1, activation=first.activation)
        other = ModelSpec(
            name=spec.name, input_size=spec.input_size, layers=(changed, *spec.layers[1:])
        )
        assert other.spec_hash != spec.spec_hash


class TestFromDict:
    @given(model_specs())
    def test_round_trip(self, spec: ModelSpec) -> None:
        """spec -> dict -> spec gives an equal spec with the same hash."""
        again = ModelSpec.from_dict(spec.to_dict())
        assert again == spec
        assert again.spec_hash == spec.spec_hash

    def test_missing_key_names_file_and_field(self) -> None:
        """A missing key is reported with the source file and the key."""
        data = MODEL_SPECS["DynamicsEngine"].to_dict()
        del data["input_size"]
        with pytest.raises(SpecError, match="missing key 'input_size'") as info:
            ModelSpec.from_dict(data, source="models/dyn.json")
        assert str(info.value).startswith("models/dyn.json")

    def test_bad_layer_names_index(self) -> None:
        """A bad activation points at the layer that has it."""
        data = MODEL_SPECS["DynamicsEngine"].to_dict()
        data["layers"][1]["activation"] = "linear"  # type: ignore[index]  # nested JSON-like dict
        with pytest.raises(SpecError, match="unknown activation 'linear'") as info:
            ModelSpec.from_dict(data, source="dyn.json")
        assert info.value.field == "layers[1].activation"


class TestValidation:
    def test_lstm_with_activation_is_rejected(self) -> None:
        """An LSTM layer cannot carry a dense activation."""
        with pytest.raises(SpecError, match="expected activation ''"):
            LayerSpec(kind="lstm", size=4, activation="tanh")

    @pytest.mark.parametrize("size", [0, -3])
    def test_non_positive_size_is_rejected(self, size: int) -> None:
        """Layer sizes must be positive."""
        with pytest.raises(SpecError, match="positive integer"):
            LayerSpec(kind="dense", size=size)

    def test_unknown_kind_is_rejected(self) -> None:
        """Only dense and lstm exist; nothing is quietly replaced."""
        with pytest.raises(SpecError, match="unknown layer kind 'gru'"):
            LayerSpec(kind="gru", size=4)  # type: ignore[arg-type]  # the point of the test

    def test_empty_layers_rejected(self) -> None:
        """A model needs at least one layer."""
        with pytest.raises(SpecError, match="non-empty"):
            ModelSpec(name="Empty", input_size=3, layers=())

    def test_layer_input_sizes_chain(self) -> None:
        """Each layer is fed the previous layer's output size."""
        spec = MODEL_SPECS["EmotionRecognizer"]
        assert spec.layer_input_sizes == (128, 512, 256, 128)
        assert spec.has_state
        assert not MODEL_SPECS["HarmonyPredictor"].has_state
