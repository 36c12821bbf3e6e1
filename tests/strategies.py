"""Shared Hypothesis strategies: layer tables and model specs of small sizes."""

from __future__ import annotations

from hypothesis import strategies as st

from kelly_core.specs import ACTIVATIONS, LayerSpec, ModelSpec

__all__ = ["layer_specs", "model_specs"]


@st.composite
def layer_specs(draw: st.DrawFn, max_size: int = 24) -> LayerSpec:
    """A dense layer with any accepted activation, or an LSTM layer."""
    size = draw(st.integers(1, max_size))
    if draw(st.booleans()):
        return LayerSpec(kind="lstm", size=size)
    return LayerSpec(kind="dense", size=size, activation=draw(st.sampled_from(ACTIVATIONS)))


@st.composite
def model_specs(draw: st.DrawFn, max_layers: int = 4, max_size: int = 24) -> ModelSpec:
    """A valid spec with 1..max_layers random layers."""
    layers = tuple(draw(st.lists(layer_specs(max_size), min_size=1, max_size=max_layers)))
    return ModelSpec(
        name=draw(st.from_regex(r"[A-Z][a-z]{1,8}", fullmatch=True)),
        input_size=draw(st.integers(1, max_size)),
        layers=layers,
    )
