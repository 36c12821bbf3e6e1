"""One split (or cross-validation fold) of ``kelly train``: a fresh model trained on it,
tested, its baselines scored, and the mean and spread of the folds' scores."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence

import attrs
import numpy as np
import torch

from kelly_core.records import Example, Split
from kelly_core.registry import Registry
from kelly_core.specs import ModelSpec
from kelly_models.training.adapter import as_module
from kelly_models.training.augment import augment_keys
from kelly_models.training.checkpoint import CheckpointManager
from kelly_models.training.config import TrainConfig
from kelly_models.training.evaluate import EMOTION_COLUMNS, evaluate, shuffle_emotion
from kelly_models.training.loop import Callback, FitResult, Trainer
from kelly_models.training.run_options import RunOptions
from kelly_models.training.sequences import SequenceSet
from kelly_models.training.tasks import Baseline, Task

__all__ = ["Fold", "fit_fold", "fold_mean"]

logger = logging.getLogger(__name__)


@attrs.frozen(kw_only=True, eq=False)
class Fold:
    """One split (or fold) trained and tested: the model, the loop's result, its test
    scores (the ablation and the baselines' included), the baseline fitted on its training
    sequences, and the number of sequences in each split."""

    model: object
    result: FitResult
    scores: dict[str, float]
    baseline: Baseline
    sizes: dict[str, int]


def fit_fold(
    registry: Registry,
    name: str,
    task: Task,
    splits: Mapping[Split, Sequence[Example]],
    config: TrainConfig,
    options: RunOptions,
    *,
    callbacks: Sequence[Callback],
    fold: int | None,
) -> Fold:
    """Train a fresh model on one split (or fold), test it, score the baselines."""
    train, val, test = (
        SequenceSet.from_examples(splits[s]) for s in ("train", "validation", "test")
    )
    if config.augment_keys:
        train = augment_keys(name, train)
    label = name if fold is None else f"{name} fold {fold + 1}/{config.folds}"
    logger.info(
        "%s: %d training, %d validation, %d test sequences (%d training steps)",
        label,
        len(train),
        len(val),
        len(test),
        train.frames,
    )
    model = registry.model(name, seed=config.seed)
    module = as_module(model)
    trainer = _trainer(module, registry.spec(name), task, config, options, callbacks, fold)
    result = trainer.fit(train, val, resume=options.resume)
    baseline = Baseline.fit(train.stacked_targets(), train.stacked_inputs(), kind=task.kind)
    scores = evaluate(
        module, task, test, baseline, device=options.device, batch_size=config.batch_size
    )
    scores.update(_shuffled(module, task, name, test, baseline, options, config))
    module.to("cpu")
    return Fold(
        model=model,
        result=result,
        scores=scores,
        baseline=baseline,
        sizes={"train": len(train), "validation": len(val), "test": len(test)},
    )


def _trainer(
    module: torch.nn.Module,
    spec: ModelSpec,
    task: Task,
    config: TrainConfig,
    options: RunOptions,
    callbacks: Sequence[Callback],
    fold: int | None,
) -> Trainer:
    """The loop for one split: checkpoints under ``checkpoints/<stem>[/fold-k]``, the
    history in ``metrics/<stem>[_foldk]_history.json``."""
    stem = spec.file_stem
    suffix = "" if fold is None else f"_fold{fold + 1}"
    checkpoint_dir = options.output / "checkpoints" / stem
    if fold is not None:
        checkpoint_dir = checkpoint_dir / f"fold-{fold + 1}"
    return Trainer(
        module,
        spec,
        task,
        config,
        device=options.device,
        checkpoints=CheckpointManager(
            checkpoint_dir, keep_last=config.keep_last, root=options.output
        ),
        history_path=options.output / "metrics" / f"{stem}{suffix}_history.json",
        callbacks=callbacks,
        progress=options.progress,
        run_folder=options.output,
    )


def fold_mean(runs: Sequence[Mapping[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
    """Mean and (population) standard deviation of each score over the folds."""
    keys = [k for k in runs[0] if all(k in r for r in runs)]
    mean: dict[str, float] = {}
    spread: dict[str, float] = {}
    for key in keys:
        values = np.array([r[key] for r in runs], dtype=np.float64)
        mean[key] = float(values.mean())
        spread[key] = float(values.std()) if len(runs) > 1 else 0.0
    return mean, spread


def _shuffled(
    module: torch.nn.Module,
    task: Task,
    name: str,
    test: SequenceSet,
    baseline: Baseline,
    options: RunOptions,
    config: TrainConfig,
) -> dict[str, float]:
    """The ablation: test metrics with the emotion input shuffled across sequences."""
    columns = EMOTION_COLUMNS.get(name, 0)
    if not columns or len(test) < 2:
        return {}
    shuffled = shuffle_emotion(test, columns, seed=config.seed)
    scores = evaluate(
        module, task, shuffled, baseline, device=options.device, batch_size=config.batch_size
    )
    return {f"shuffled_{k}": v for k, v in scores.items() if k in ("loss", task.headline)}
