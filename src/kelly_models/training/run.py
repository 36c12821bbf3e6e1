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

import torch

from kelly_core import __version__
from kelly_core.entries import ExporterEntry
from kelly_core.errors import ExportError, KellyError
from kelly_core.fileio import atomic_write_json
from kelly_core.interfaces import Dataset, dataset_tonal_reference
from kelly_core.records import Example, Split
from kelly_core.registry import Registry
from kelly_core.specs import ModelSpec
from kelly_models.datasets.common import empty_dataset_error
from kelly_models.datasets.inspect import read_options
from kelly_models.training.augment import AUGMENTABLE
from kelly_models.training.checkpoint import BEST_NAME, RECORD_NAME
from kelly_models.training.config import DeviceName, TrainConfig
from kelly_models.training.discovery import DatasetChoice, find_dataset
from kelly_models.training.folds import fit_fold, fold_mean
from kelly_models.training.loop import Callback
from kelly_models.training.outcome import build_report, metrics_document
from kelly_models.training.plots import PlotContext, plot_history
from kelly_models.training.report import ModelReport, json_float
from kelly_models.training.run_options import RunOptions
from kelly_models.training.runfolder import RunLock, checked, planned_paths, refuse_links
from kelly_models.training.sequences import fold_splits, load_examples, split_examples
from kelly_models.training.tasks import task_for

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

    Writes the baseline, the exported file, the loss plot and ``<name>_metrics.json``
    (:mod:`.outcome`); the first fold's model is the one exported.

    :raises ExportError: If the exported file fails the exporter's check.
    """
    started = time.perf_counter()
    spec = registry.spec(name)
    dataset = _open_dataset(registry, choice, config, options)
    task = task_for(spec)
    folds = [
        fit_fold(
            registry,
            name,
            task,
            splits,
            config,
            options,
            callbacks=callbacks,
            fold=index if config.folds > 1 else None,
        )
        for index, splits in enumerate(_splits(dataset, spec, choice, config, options))
    ]
    first = folds[0]
    scores, spread = fold_mean([f.scores for f in folds])
    metrics = options.output / "metrics"
    stem = spec.file_stem
    atomic_write_json(
        checked(metrics / f"{stem}_baseline.json", options.output), first.baseline.to_dict()
    )
    reference = dataset_tonal_reference(dataset)
    if config.augment_keys and name in AUGMENTABLE:
        reference = "absolute"
    path = _export(registry, first.model, options, config, choice, scores, reference)
    context = PlotContext(
        dataset=choice.name,
        synthetic=choice.synthetic,
        headline=task.headline,
        scores=scores,
        baselines=task.baseline_names(scores),
    )
    plot_history(
        first.result.history,
        checked(metrics / f"{stem}_metrics.png", options.output),
        baseline_loss=first.scores.get("baseline_loss"),
        context=context,
    )
    report = build_report(
        spec, choice, task, folds, scores, spread, file=path, seconds=time.perf_counter() - started
    )
    atomic_write_json(
        checked(metrics / f"{stem}_metrics.json", options.output),
        metrics_document(report, choice, config, task, folds, tonal_reference=reference),
        indent=1,
    )
    return report


def _splits(
    dataset: Dataset,
    spec: ModelSpec,
    choice: DatasetChoice,
    config: TrainConfig,
    options: RunOptions,
) -> list[dict[Split, list[Example]]]:
    """The dataset's sequences as one train/validation/test split, or ``--folds`` folds.

    :raises DatasetError: If the dataset holds no sequence.
    """
    examples = load_examples(dataset, spec, max_items=options.max_items)
    if not examples:
        raise empty_dataset_error(choice.name, choice.root, len(dataset.skipped))
    if config.folds > 1:
        return fold_splits(examples, config.folds, val_split=config.val_split, seed=config.seed)
    return [split_examples(examples, val_split=config.val_split, seed=config.seed)]


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


def _open_dataset(
    registry: Registry, choice: DatasetChoice, config: TrainConfig, options: RunOptions
) -> Dataset:
    """Open ``choice`` with the ``-O`` options its reader declares (and a synthetic
    reader's seed from ``--seed``; an explicit ``-O seed=N`` wins)."""
    reader_options = {
        **_seed_option(registry, choice, config),
        **read_options(registry, choice.name, options.dataset_options, only_declared=True),
    }
    return registry.dataset(choice.name, choice.root, **reader_options)


def _seed_option(
    registry: Registry, choice: DatasetChoice, config: TrainConfig
) -> dict[str, object]:
    """Pass ``seed`` to a synthetic dataset whose entry declares a ``seed`` option."""
    if not choice.synthetic or "seed" not in registry.options("dataset", choice.name):
        return {}
    return {"seed": config.seed}
