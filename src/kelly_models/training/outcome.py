"""What ``kelly train`` records about one trained model: the summary row
(:class:`~.report.ModelReport`) and ``metrics/<name>_metrics.json``."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from kelly_core.specs import ModelSpec
from kelly_models.training.config import TrainConfig
from kelly_models.training.discovery import DatasetChoice
from kelly_models.training.folds import Fold
from kelly_models.training.report import ModelReport, json_float
from kelly_models.training.tasks import Task

__all__ = ["build_report", "json_clean", "metrics_document"]


def build_report(
    spec: ModelSpec,
    choice: DatasetChoice,
    task: Task,
    folds: Sequence[Fold],
    scores: Mapping[str, float],
    spread: Mapping[str, float],
    *,
    file: Path,
    seconds: float,
) -> ModelReport:
    """The summary row of ``spec``'s model: the first fold's training, the folds' mean
    test scores (and spread), the exported ``file``."""
    result = folds[0].result
    series = result.history.series
    epoch_times = [t for f in folds for t in f.result.history.series.get("epoch_seconds", [])]
    return ModelReport(
        model=spec.name,
        dataset=choice.name,
        synthetic=choice.synthetic,
        epochs=result.epochs,
        best_epoch=result.best_epoch,
        stopped_early=result.stopped_early,
        train_loss=series["train_loss"][result.best_epoch] if result.best_epoch >= 0 else math.nan,
        val_loss=result.best_val_loss,
        test=dict(scores),
        spread=dict(spread),
        folds=len(folds),
        headline=task.headline,
        baseline=task.strongest_baseline(scores),
        baselines=tuple(task.baseline_names(scores)),
        parameters=spec.parameter_count,
        file=file,
        file_bytes=file.stat().st_size,
        seconds=seconds,
        epoch_seconds=sum(epoch_times) / len(epoch_times) if epoch_times else math.nan,
    )


def _fold_rows(folds: Sequence[Fold]) -> list[dict[str, object]]:
    """One row per fold (none for a single split)."""
    if len(folds) < 2:
        return []
    return [
        {
            "fold": i + 1,
            **f.sizes,
            "best_epoch": f.result.best_epoch + 1,
            "epochs": f.result.epochs,
            "test": dict(f.scores),
        }
        for i, f in enumerate(folds)
    ]


def metrics_document(
    report: ModelReport,
    choice: DatasetChoice,
    config: TrainConfig,
    task: Task,
    folds: Sequence[Fold],
    *,
    tonal_reference: str | None,
) -> object:
    """The JSON of ``metrics/<name>_metrics.json`` (non-finite floats as null)."""
    result = folds[0].result
    series = result.history.series
    return json_clean(
        {
            "model": report.model,
            "dataset": {
                "name": choice.name,
                "root": str(choice.root) if choice.root else None,
                "reason": choice.reason,
                "tonal_reference": tonal_reference,
                **folds[0].sizes,
            },
            "config": config.to_dict(),
            "train_loss": series.get("train_loss", []),
            "val_loss": series.get("val_loss", []),
            "learning_rate": series.get("learning_rate", []),
            "epoch_seconds": series.get("epoch_seconds", []),
            "best_epoch": result.best_epoch + 1,
            "stopped_early": result.stopped_early,
            "task": task.kind,
            "test": dict(report.test),
            "test_std": dict(report.spread),
            "folds": _fold_rows(folds),
            "summary": report.to_dict(),
        }
    )


def json_clean(value: object) -> object:
    """``value`` with every float made JSON-safe (:func:`~.report.json_float`)."""
    if isinstance(value, float):
        return json_float(value)
    if isinstance(value, Mapping):
        return {str(k): json_clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_clean(v) for v in value]
    return value
