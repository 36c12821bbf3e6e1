"""Shared helpers for the training tests: a tiny torch model built from any ModelSpec,
and tiny in-memory datasets."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from kelly_core.arrays import FloatArray
from kelly_core.records import Example, SkippedFile
from kelly_core.specs import LayerSpec, ModelSpec

__all__ = ["TinyDataset", "TinyModel", "tiny_examples", "tiny_spec"]

_ACTIVATIONS: Mapping[str, torch.nn.Module] = {
    "": torch.nn.Identity(),
    "tanh": torch.nn.Tanh(),
    "relu": torch.nn.ReLU(),
    "sigmoid": torch.nn.Sigmoid(),
    "softmax": torch.nn.Softmax(dim=-1),
    "elu": torch.nn.ELU(),
}


def tiny_spec(
    *, output: str = "output", last: str = "tanh", lstm: bool = True, in_size: int = 6, out: int = 4
) -> ModelSpec:
    """Return a small spec: dense 8 tanh, (lstm 8), dense ``out`` ``last``."""
    layers = [LayerSpec(kind="dense", size=8, activation="tanh")]
    if lstm:
        layers.append(LayerSpec(kind="lstm", size=8))
    layers.append(LayerSpec(kind="dense", size=out, activation=last))  # type: ignore[arg-type]  # checked by the validator
    return ModelSpec(name="Tiny", input_size=in_size, layers=tuple(layers), output_name=output)


class TinyModel(torch.nn.Module):
    """A sequence model from a ModelSpec: ``forward(x (B, T, in), state) -> (y, state)``."""

    def __init__(self, spec: ModelSpec, seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self._spec = spec
        self.layers = torch.nn.ModuleList()
        for layer, in_size in zip(spec.layers, spec.layer_input_sizes, strict=True):
            if layer.kind == "dense":
                self.layers.append(torch.nn.Linear(in_size, layer.size))
            else:
                self.layers.append(torch.nn.LSTM(in_size, layer.size, batch_first=True))

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    def forward(
        self, x: torch.Tensor, state: Sequence[tuple[torch.Tensor, torch.Tensor] | None] | None = None
    ) -> tuple[torch.Tensor, list[tuple[torch.Tensor, torch.Tensor] | None]]:
        new_state: list[tuple[torch.Tensor, torch.Tensor] | None] = []
        for index, (layer, module) in enumerate(zip(self._spec.layers, self.layers, strict=True)):
            if layer.kind == "dense":
                x = _ACTIVATIONS[layer.activation](module(x))
                new_state.append(None)
            else:
                previous = None if state is None else state[index]
                x, carried = module(x, previous)
                new_state.append(carried)
        return x, new_state


def tiny_examples(
    spec: ModelSpec, count: int, *, length: int = 12, seed: int = 0, split: str = "train"
) -> list[Example]:
    """Return learnable examples: the target depends on the current and previous input."""
    rng = np.random.default_rng(seed)
    weights = np.random.default_rng(99).normal(size=(spec.input_size, spec.output_size))
    examples = []
    for index in range(count):
        steps = length - (index % 3)
        inputs = rng.normal(size=(steps, spec.input_size)).astype(np.float32)
        mixed = inputs @ weights
        mixed[1:] += 0.5 * (inputs[:-1] @ weights)
        targets = _target(spec, mixed)
        examples.append(
            Example(inputs=inputs, targets=targets, source=f"tiny:{index}", split=split)  # type: ignore[arg-type]  # split literal
        )
    return examples


def _target(spec: ModelSpec, mixed: FloatArray) -> FloatArray:
    last = spec.layers[-1].activation
    if spec.output_name == "notes":
        return (mixed > 0.8).astype(np.float32)
    if last == "softmax":
        return np.eye(spec.output_size, dtype=np.float32)[np.argmax(mixed, axis=1)]
    return np.tanh(mixed / 3).astype(np.float32)


class TinyDataset:
    """A Dataset over a list of examples."""

    def __init__(self, examples: Sequence[Example], model_name: str = "Tiny") -> None:
        self._examples = list(examples)
        self._model = model_name

    @property
    def model_name(self) -> str:
        return self._model

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        return ()

    def __len__(self) -> int:
        return len(self._examples)

    def __getitem__(self, index: int) -> Example:
        return self._examples[index]
