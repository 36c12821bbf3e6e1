"""Shared helpers for the training tests: a tiny network from a small ModelSpec,
and tiny in-memory datasets."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.records import Example, SkippedFile
from kelly_core.specs import LayerSpec, ModelSpec
from kelly_models.build import build_network
from kelly_models.network import SpecNetwork

__all__ = ["TinyDataset", "tiny_examples", "tiny_network", "tiny_spec"]


def tiny_spec(
    *, output: str = "output", last: str = "tanh", lstm: bool = True, in_size: int = 6, out: int = 4
) -> ModelSpec:
    """Return a small spec: dense 8 tanh, (lstm 8), dense ``out`` ``last``."""
    layers = [LayerSpec(kind="dense", size=8, activation="tanh")]
    if lstm:
        layers.append(LayerSpec(kind="lstm", size=8))
    layers.append(LayerSpec(kind="dense", size=out, activation=last))  # type: ignore[arg-type]  # checked by the validator
    return ModelSpec(name="Tiny", input_size=in_size, layers=tuple(layers), output_name=output)


def tiny_network(spec: ModelSpec, seed: int = 0) -> SpecNetwork:
    """Return Kelly's torch network for ``spec``, seeded."""
    return build_network(spec, seed=seed)


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


def _target(spec: ModelSpec, mixed: npt.NDArray[np.float64]) -> FloatArray:
    last = spec.layers[-1].activation
    if spec.output_name == "notes":
        return np.asarray(mixed > 0.8, dtype=np.float32)
    if last == "softmax":
        labels = np.argmax(mixed, axis=1)
        return np.asarray(np.eye(spec.output_size)[labels], dtype=np.float32)
    return np.asarray(np.tanh(mixed / 3), dtype=np.float32)


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
