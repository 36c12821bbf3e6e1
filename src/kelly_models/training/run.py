"""Train, evaluate, export and report each model: what ``kelly train`` does.

Layout of the output folder::

    OUTPUT/<lowercase name>.json               exported model (the rtneural format)
    OUTPUT/metrics/<name>_metrics.json          losses per epoch, test metrics, baselines
    OUTPUT/metrics/<name>_metrics.png           loss curves
    OUTPUT/metrics/<name>_history.json          the loop's history, rewritten every epoch
    OUTPUT/checkpoints/<name>/step-*.pt best.pt resumable checkpoints
    OUTPUT/summary.json, OUTPUT/summary.md       one row per model trained into OUTPUT
    OUTPUT/.kelly-lock                           held while a run writes OUTPUT

Nothing outside OUTPUT is written or deleted: a symbolic link where a run writes is
refused before any work (:func:`check_run_folder`), and each writer checks its path
again (:mod:`.runfolder`).

Exporters are found through the registry by name, never imported (kelly_models does not
import kelly_export).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import cast

import attrs
import numpy as np
import torch

from kelly_core import __version__
from kelly_core.entries import ExporterEntry
from kelly_core.errors import ExportError, KellyError
from kelly_core.fileio import atomic_write_json
from kelly_core.interfaces import dataset_tonal_reference
from kelly_core.records import Example, Split
from kelly_core.registry import Registry
from kelly_models.datasets.common import empty_dataset_error
from kelly_models.training.adapter import as_module
from kelly_models.training.augment import AUGMENTABLE, augment_keys
from kelly_models.training.checkpoint import BEST_NAME, RECORD_NAME, CheckpointManager
from kelly_models.training.config import DeviceName, TrainConfig
from kelly_models.training.discovery import DatasetChoice, find_dataset
from kelly_models.training.evaluate import EMOTION_COLUMNS, evaluate, shuffle_emotion
from kelly_models.training.loop import Callback, FitResult, Trainer
from kelly_models.training.plots import plot_history
from kelly_models.training.report import ModelReport, json_float
from kelly_models.training.runfolder import RunLock, checked, planned_paths, refuse_links
from kelly_models.training.sequences import (
    SequenceSet,
    fold_splits,
    load_examples,
    split_examples,
)
from kelly_models.training.tasks import Baseline, Task, task_for

__all__ = [
    "ModelReport",
    "RunOptions",
    "check_run_folder",
    "pick_device",
    "train_model",
    "train_models",
]

logger = logging.getLogger(__name__)


def pick_device(name: DeviceName | str) -> torch.device:
    """Return the torch device for ``name``; ``auto`` tries cuda, then mps, then cpu.

    :raises KellyError: If the named device is not available.
    """
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    available = {
        "cpu": True,
        "cuda": torch.cuda.is_available(),
        "mps": torch.backends.mps.is_available(),
    }
    if name not in available:
        raise KellyError(f"unknown device {name!r}", expected=tuple(available), got=name)
    if not available[name]:
        raise KellyError(
            f"device {name!r} is not available in this torch build or machine; use --device cpu",
            expected=[k for k, v in available.items() if v],
            got=name,
        )
    return torch.device(name)


@attrs.frozen(kw_only=True)
class RunOptions:
    """Where data comes from and where results go (what does not change the weights)."""

    output: Path
    datasets_dir: Path | None = None
    synthetic: bool = False
    resume: bool = False
    device: torch.device = attrs.field(factory=lambda: torch.device("cpu"))
    export_format: str = "rtneural"
    max_items: int = 0
    """Read at most this many sequences per dataset (0: all)."""
    progress: bool = True


def train_models(
    registry: Registry,
    names: Sequence[str],
    config: TrainConfig,
    options: RunOptions,
    *,
    callbacks: Sequence[Callback] = (),
) -> list[ModelReport]:
    """Train, evaluate and export each model in ``names``; return one report each.

    :raises OutputError: Before any work, if another process is writing the run folder
        (:class:`~.runfolder.RunLock`, held meanwhile), or the folder holds a symbolic link
        where the run writes (:func:`check_run_folder`).
    """
    reports = []
    with RunLock(options.output):
        check_run_folder(registry, names, config, options)
        for name in names:
            choice = find_dataset(registry, name, options.datasets_dir, synthetic=options.synthetic)
            logger.info("%s: dataset %r (%s)", name, choice.name, choice.reason)
            reports.append(
                train_model(registry, name, choice, config, options, callbacks=callbacks)
            )
    return reports


def check_run_folder(
    registry: Registry, names: Sequence[str], config: TrainConfig, options: RunOptions
) -> None:
    """Refuse a run folder holding a symbolic link anywhere this run writes.

    :raises OutputError: Naming the link (:func:`~.runfolder.check_no_link`).
    """
    entry = cast(ExporterEntry, registry.resolve("exporter", options.export_format).entry)
    stems = [registry.spec(name).file_stem for name in names]
    paths = planned_paths(
        options.output,
        stems,
        suffix=entry.suffix,
        folds=config.folds,
        checkpoint_files=(BEST_NAME, RECORD_NAME),
    )
    refuse_links(options.output, paths)


def train_model(
    registry: Registry,
    name: str,
    choice: DatasetChoice,
    config: TrainConfig,
    options: RunOptions,
    *,
    callbacks: Sequence[Callback] = (),
) -> ModelReport:
    """Train one model on ``choice``, then evaluate it on the test split and export it.

    :raises ExportError: If the exported file fails the exporter's check.
    """
    started = time.perf_counter()
    spec = registry.spec(name)
    dataset = registry.dataset(choice.name, choice.root, **_seed_option(registry, choice, config))
    examples = load_examples(dataset, spec, max_items=options.max_items)
    if not examples:
        raise empty_dataset_error(choice.name, choice.root, len(dataset.skipped))
    if config.folds > 1:
        split_list = fold_splits(
            examples, config.folds, val_split=config.val_split, seed=config.seed
        )
    else:
        split_list = [split_examples(examples, val_split=config.val_split, seed=config.seed)]
    task = task_for(spec)
    stem = spec.file_stem
    metrics_dir = options.output / "metrics"
    folds = [
        _fit_fold(
            registry,
            name,
            task,
            splits,
            config,
            options,
            callbacks=callbacks,
            fold=index if config.folds > 1 else None,
        )
        for index, splits in enumerate(split_list)
    ]
    first = folds[0]
    scores, spread = _fold_mean([f.scores for f in folds])
    atomic_write_json(
        checked(metrics_dir / f"{stem}_baseline.json", options.output), first.baseline.to_dict()
    )
    reference = dataset_tonal_reference(dataset)
    if config.augment_keys and name in AUGMENTABLE:
        reference = "absolute"
    path = _export(registry, first.model, options, config, choice, scores, reference)
    result = first.result
    series = result.history.series
    plot_history(
        result.history,
        checked(metrics_dir / f"{stem}_metrics.png", options.output),
        baseline_loss=first.scores.get("baseline_loss"),
    )
    epoch_times = [t for f in folds for t in f.result.history.series.get("epoch_seconds", [])]
    report = ModelReport(
        model=name,
        dataset=choice.name,
        synthetic=choice.synthetic,
        epochs=result.epochs,
        best_epoch=result.best_epoch,
        stopped_early=result.stopped_early,
        train_loss=series["train_loss"][result.best_epoch] if result.best_epoch >= 0 else math.nan,
        val_loss=result.best_val_loss,
        test=scores,
        spread=spread,
        folds=len(folds),
        headline=task.headline,
        baseline=task.strongest_baseline(scores),
        baselines=tuple(task.baseline_names(scores)),
        parameters=spec.parameter_count,
        file=path,
        file_bytes=path.stat().st_size,
        seconds=time.perf_counter() - started,
        epoch_seconds=sum(epoch_times) / len(epoch_times) if epoch_times else math.nan,
    )
    atomic_write_json(
        checked(metrics_dir / f"{stem}_metrics.json", options.output),
        _json_clean(
            {
                "model": name,
                "dataset": {
                    "name": choice.name,
                    "root": str(choice.root) if choice.root else None,
                    "reason": choice.reason,
                    "tonal_reference": reference,
                    **first.sizes,
                },
                "config": config.to_dict(),
                "train_loss": series.get("train_loss", []),
                "val_loss": series.get("val_loss", []),
                "learning_rate": series.get("learning_rate", []),
                "epoch_seconds": series.get("epoch_seconds", []),
                "best_epoch": result.best_epoch + 1,
                "stopped_early": result.stopped_early,
                "task": task.kind,
                "test": dict(scores),
                "test_std": dict(spread),
                "folds": [
                    {
                        "fold": i + 1,
                        **f.sizes,
                        "best_epoch": f.result.best_epoch + 1,
                        "epochs": f.result.epochs,
                        "test": dict(f.scores),
                    }
                    for i, f in enumerate(folds)
                ]
                if len(folds) > 1
                else [],
                "summary": report.to_dict(),
            }
        ),
        indent=1,
    )
    return report


@attrs.frozen(kw_only=True, eq=False)
class _Fold:
    model: object
    result: FitResult
    scores: dict[str, float]
    baseline: Baseline
    sizes: dict[str, int]


def _fit_fold(
    registry: Registry,
    name: str,
    task: Task,
    splits: Mapping[Split, Sequence[Example]],
    config: TrainConfig,
    options: RunOptions,
    *,
    callbacks: Sequence[Callback],
    fold: int | None,
) -> _Fold:
    """Train a fresh model on one split (or fold), test it, score the baselines."""
    spec = registry.spec(name)
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
    stem = spec.file_stem
    suffix = "" if fold is None else f"_fold{fold + 1}"
    checkpoint_dir = options.output / "checkpoints" / stem
    if fold is not None:
        checkpoint_dir = checkpoint_dir / f"fold-{fold + 1}"
    trainer = Trainer(
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
    result = trainer.fit(train, val, resume=options.resume)
    baseline = Baseline.fit(train.stacked_targets(), train.stacked_inputs(), kind=task.kind)
    scores = evaluate(
        module, task, test, baseline, device=options.device, batch_size=config.batch_size
    )
    scores.update(_shuffled(module, task, name, test, baseline, options, config))
    module.to("cpu")
    return _Fold(
        model=model,
        result=result,
        scores=scores,
        baseline=baseline,
        sizes={"train": len(train), "validation": len(val), "test": len(test)},
    )


def _fold_mean(runs: Sequence[Mapping[str, float]]) -> tuple[dict[str, float], dict[str, float]]:
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


def _export(
    registry: Registry,
    model: object,
    options: RunOptions,
    config: TrainConfig,
    choice: DatasetChoice,
    scores: Mapping[str, float],
    tonal_reference: str | None = None,
) -> Path:
    from kelly_core.interfaces import Model

    if not isinstance(model, Model):
        raise KellyError(f"{type(model).__name__} does not implement kelly_core.Model")
    entry = cast(ExporterEntry, registry.resolve("exporter", options.export_format).entry)
    exporter = registry.exporter(options.export_format)
    target = checked(options.output / f"{model.spec.file_stem}{entry.suffix}", options.output)
    metadata: dict[str, object] = {
        "training": {
            "dataset": choice.name,
            "synthetic": choice.synthetic,
            "seed": config.seed,
            "epochs": config.epochs,
            "test_loss": json_float(scores.get("loss", math.nan)),
            "kelly_version": __version__,
        }
    }
    if tonal_reference is not None:
        metadata["tonal_reference"] = tonal_reference
    path = exporter.export(model.spec, model.state_arrays(), target, metadata=metadata)
    problems = exporter.check(path)
    if problems:
        raise ExportError(
            f"exported file fails its check: {'; '.join(problems)}", path=path, got=problems
        )
    logger.info("%s: exported %s", model.spec.name, path)
    return Path(path)


def _seed_option(
    registry: Registry, choice: DatasetChoice, config: TrainConfig
) -> dict[str, object]:
    """Pass ``seed`` to a synthetic dataset whose entry declares a ``seed`` option."""
    if not choice.synthetic or "seed" not in registry.options("dataset", choice.name):
        return {}
    return {"seed": config.seed}


def _json_clean(value: object) -> object:
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, Mapping):
        return {str(k): _json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_clean(v) for v in value]
    return value
