"""A test plugin: small generated datasets for two of the real models, and a reader
recognised by folder name and by the ``kelly_guess_dataset`` hook."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kelly_core.catalog import MODEL_SPECS
from kelly_core.entries import DatasetEntry
from kelly_core.hookspecs import hookimpl
from kelly_core.records import Example
from tests.unit.kelly_models.training.helpers import TinyDataset

__all__ = ["dynamics_data", "harmony_data", "kelly_datasets", "kelly_guess_dataset"]

_HERE = "tests.unit.kelly_models.training.fake_plugin"


@hookimpl
def kelly_datasets() -> list[DatasetEntry]:
    """Synthetic data for DynamicsEngine and HarmonyPredictor, and a 'real' harmony reader."""
    return [
        DatasetEntry(
            name="synthetic-dynamics",
            model="DynamicsEngine",
            factory=f"{_HERE}:dynamics_data",
            options={"seed": int},
        ),
        DatasetEntry(
            name="synthetic-harmony",
            model="HarmonyPredictor",
            factory=f"{_HERE}:harmony_data",
            options={"seed": int},
        ),
        DatasetEntry(
            name="chords-folder",
            model="HarmonyPredictor",
            factory=f"{_HERE}:harmony_data",
            folder_names=("chords",),
        ),
        DatasetEntry(
            name="guessed-dynamics", model="DynamicsEngine", factory=f"{_HERE}:dynamics_data"
        ),
    ]


@hookimpl
def kelly_guess_dataset(root: Path) -> str | None:
    """Recognise a folder holding a ``dynamics.marker`` file."""
    return "guessed-dynamics" if (root / "dynamics.marker").exists() else None


def dynamics_data(root: Path | None, *, seed: int = 0) -> TinyDataset:
    """Expression targets that depend on the input (learnable), 40 sequences of 8 steps."""
    spec = MODEL_SPECS["DynamicsEngine"]
    rng = np.random.default_rng(seed)
    mix = np.random.default_rng(5).normal(size=(spec.input_size, spec.output_size)) / 4
    examples = []
    for index in range(40):
        inputs = rng.uniform(-1, 1, size=(8, spec.input_size)).astype(np.float32)
        targets = (1 / (1 + np.exp(-(inputs @ mix)))).astype(np.float32)
        examples.append(Example(inputs=inputs, targets=targets, source=f"fake:{index}"))
    return TinyDataset(examples, "DynamicsEngine")


def harmony_data(root: Path | None, *, seed: int = 0) -> TinyDataset:
    """Chord targets: the next chord is the previous one plus one (in the context's half)."""
    spec = MODEL_SPECS["HarmonyPredictor"]
    rng = np.random.default_rng(seed)
    examples = []
    for index in range(40):
        previous = rng.integers(0, 8, size=8)
        inputs = np.zeros((8, spec.input_size), dtype=np.float32)
        inputs[np.arange(8), 64 + previous] = 1.0
        targets = np.eye(spec.output_size, dtype=np.float32)[previous + 1]
        examples.append(Example(inputs=inputs, targets=targets, source=f"fake:{index}"))
    return TinyDataset(examples, "HarmonyPredictor")
