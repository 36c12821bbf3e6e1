"""Evaluation on a split: predictions streamed from a reset state, loss and task metrics.

Each sequence is run from its start with a fresh (zero) state over its whole length,
exactly as the plugin streams it after ``reset()``; padding steps are dropped.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Mapping
from typing import Final

import numpy as np
import torch

from kelly_core.arrays import FloatArray
from kelly_models.training.adapter import Outputs, forward_sequence
from kelly_models.training.sequences import Batch, SequenceSet, collate
from kelly_models.training.tasks import Baseline, Task

__all__ = ["EMOTION_COLUMNS", "evaluate", "evaluate_loss", "predict", "shuffle_emotion"]

EMOTION_COLUMNS: Final[Mapping[str, int]] = {
    "MelodyTransformer": 16,
    "GroovePredictor": 64,
    "HarmonyPredictor": 64,
    "DynamicsEngine": 16,
}
"""How many leading input columns of each model are its emotion conditioning."""


def _batches(
    module: torch.nn.Module, data: SequenceSet, *, device: torch.device, batch_size: int
) -> Iterator[tuple[list[int], Batch, Outputs]]:
    """Run ``data`` batch by batch from a zero state, in eval mode without gradients.

    Yields the sequence indices of each batch, the batch and the module's result; the
    module's training mode is restored afterwards.
    """
    was_training = module.training
    module.eval()
    try:
        with torch.no_grad():
            for start in range(0, len(data), batch_size):
                indices = list(range(start, min(start + batch_size, len(data))))
                batch = collate(data, indices).to(device)
                result, _ = forward_sequence(module, batch.inputs, None)
                yield indices, batch, result
    finally:
        module.train(was_training)


def predict(
    module: torch.nn.Module, data: SequenceSet, *, device: torch.device, batch_size: int = 32
) -> list[FloatArray]:
    """Return the outputs of every sequence in ``data``, each ``(T_i, out)`` float32."""
    outputs: list[FloatArray] = []
    for indices, _, result in _batches(module, data, device=device, batch_size=batch_size):
        values = result.values.float().cpu().numpy()
        for row, index in enumerate(indices):
            steps = data.inputs[index].shape[0]
            outputs.append(np.ascontiguousarray(values[row, :steps], dtype=np.float32))
    return outputs


def evaluate_loss(
    module: torch.nn.Module,
    task: Task,
    data: SequenceSet,
    *,
    device: torch.device,
    batch_size: int = 32,
) -> float:
    """Return the task loss over every step of ``data`` (NaN if it is empty)."""
    if len(data) == 0:
        return math.nan
    total = 0.0
    frames = 0.0
    for _, batch, result in _batches(module, data, device=device, batch_size=batch_size):
        losses = task.step_losses(result, batch.targets)
        total += float((losses * batch.mask).double().sum())
        frames += float(batch.mask.sum())
    return total / frames if frames else math.nan


def evaluate(
    module: torch.nn.Module,
    task: Task,
    data: SequenceSet,
    baseline: Baseline,
    *,
    device: torch.device,
    batch_size: int = 32,
) -> dict[str, float]:
    """Return the task metrics on ``data`` with the baseline's beside them (see :class:`Task`)."""
    predictions = np.concatenate(predict(module, data, device=device, batch_size=batch_size))
    scores = task.evaluate(
        predictions,
        data.stacked_targets(),
        baseline,
        inputs=data.stacked_inputs(),
        lengths=data.lengths,
    )
    scores["frames"] = float(predictions.shape[0])
    scores["sequences"] = float(len(data))
    return scores


def shuffle_emotion(data: SequenceSet, columns: int, *, seed: int = 0) -> SequenceSet:
    """Return ``data`` with the first ``columns`` input columns taken from another sequence.

    Sequence ``i`` gets the emotion input of sequence ``order[i]`` (a seeded permutation
    with no fixed point when there are two or more sequences), stretched or shrunk to its
    length by nearest-index resampling; every other column and every target is unchanged.
    The ablation that shows whether a model's output depends on its emotion input.
    """
    count = len(data)
    if count < 2 or columns <= 0:
        return data
    rng = np.random.default_rng(seed)
    order = (np.arange(count) + int(rng.integers(1, count))) % count  # no sequence keeps its own
    inputs = []
    for i, x in enumerate(data.inputs):
        donor = data.inputs[int(order[i])]
        picks = np.minimum(
            (np.arange(x.shape[0]) * donor.shape[0] / max(x.shape[0], 1)).astype(int),
            donor.shape[0] - 1,
        )
        moved = np.array(x, dtype=np.float32, copy=True)
        moved[:, :columns] = donor[picks, :columns]
        inputs.append(moved)
    return SequenceSet(inputs=tuple(inputs), targets=data.targets, sources=data.sources)
