"""``kelly evaluate``: score exported models on any dataset reader's data.

A model trained on one collection is tested on another with the metrics of ``kelly train``
(:class:`~.tasks.Task`), beside the baselines of the data it was trained on (the run's
``metrics/<name>_baseline.json``; for a model file without a run folder, baselines fitted
on the evaluated data's training split, and said so), plus the ablation with the emotion
input shuffled across sequences (:func:`~.evaluate.shuffle_emotion`): a model whose
metric does not drop when its emotion input is shuffled does not use it.
"""

from __future__ import annotations

import argparse
import json
import logging
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import attrs
import torch

from kelly_core.argtypes import MAX_SEED, int_in
from kelly_core.entries import DatasetEntry
from kelly_core.errors import KellyError
from kelly_core.flags import add_max_items_argument, add_option_argument, key_values
from kelly_core.interfaces import dataset_tonal_reference
from kelly_core.records import LoadedModel
from kelly_core.registry import Registry, default_registry
from kelly_models.build import build_model
from kelly_models.datasets.inspect import open_with_options
from kelly_models.training.baselines import Baseline
from kelly_models.training.evaluate import EMOTION_COLUMNS, evaluate, shuffle_emotion
from kelly_models.training.report import (
    STRONGEST,
    baseline_names_in,
    strongest_mark,
    strongest_of,
)
from kelly_models.training.sequences import SequenceSet, load_examples, split_examples
from kelly_models.training.tasks import task_for

__all__ = ["EvaluateCommand", "Evaluation", "evaluate_model", "find_model_files"]

logger = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class Evaluation:
    """The scores of one model on one dataset."""

    model: str
    file: Path
    dataset: str
    headline: str
    baseline: str
    """The baseline with the best headline metric (:data:`~.report.STRONGEST`)."""
    baseline_source: str
    """``"training run"`` or ``"evaluated data (training split)"``."""
    tonal_reference: str
    scores: dict[str, float]

    @property
    def loss_baseline(self) -> str:
        """The baseline with the lowest loss (:data:`~.report.STRONGEST`)."""
        found = strongest_of(self.scores, baseline_names_in(self.scores), "loss", lower=True)
        return found if found is not None else self.baseline

    @property
    def beats_baseline(self) -> bool:
        """Whether the loss is below the strongest baseline's (the lowest) and the headline
        metric above it (the highest): :data:`~.report.STRONGEST`."""
        s = self.scores
        return bool(
            s.get("loss", math.nan) < s.get("baseline_loss", math.nan)
            and s.get(self.headline, math.nan) > s.get(f"baseline_{self.headline}", math.nan)
        )

    def to_dict(self) -> dict[str, object]:
        """JSON-ready: every score (non-finite values as null)."""
        return {
            "model": self.model,
            "file": str(self.file),
            "dataset": self.dataset,
            "metric": self.headline,
            "baseline": self.baseline,
            "loss_baseline": self.loss_baseline,
            "baseline_source": self.baseline_source,
            "tonal_reference": self.tonal_reference,
            "beats_baseline": self.beats_baseline,
            "scores": {k: (v if math.isfinite(v) else None) for k, v in self.scores.items()},
        }


def find_model_files(paths: Sequence[Path], registry: Registry) -> list[Path]:
    """Expand run folders to the model files in them.

    In a folder, a model file is named ``<lower-case model name>.<suffix>`` with a suffix an
    exporter owns; other files (``summary.json``, ``<stem>.parity.json``) are passed over.

    :raises KellyError: If a path does not exist or nothing to evaluate is found.
    """
    stems = {registry.spec(name).file_stem for name in registry.model_names()}
    out: list[Path] = []
    for path in paths:
        if path.is_dir():
            for candidate in sorted(path.iterdir()):
                if candidate.is_file() and candidate.stem in stems:
                    try:
                        registry.exporter_for(candidate)
                    except KellyError:
                        continue
                    out.append(candidate)
        elif path.is_file():
            out.append(path)
        else:
            raise KellyError("no such model file or run folder", path=path)
    if not out:
        raise KellyError("no model files found", path=paths[0] if paths else None)
    return out


def _run_baseline(file: Path, stem: str) -> Baseline | None:
    """The baseline saved by the training run whose exported file is ``file``, if any."""
    saved = file.parent / "metrics" / f"{stem}_baseline.json"
    if not saved.is_file():
        return None
    try:
        return Baseline.from_dict(json.loads(saved.read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError) as exc:
        raise KellyError(f"unreadable baseline file: {exc}", path=saved) from exc


def evaluate_model(
    loaded: LoadedModel,
    file: Path,
    examples: SequenceSet,
    *,
    dataset: str,
    train_for_baseline: SequenceSet,
    seed: int = 0,
    batch_size: int = 16,
) -> Evaluation:
    """Score one loaded model on ``examples`` with baselines and the emotion ablation."""
    spec = loaded.spec
    network = build_model(spec.name)
    network.load_state_arrays(loaded.arrays)
    task = task_for(spec)
    baseline = _run_baseline(file, spec.file_stem)
    source = "training run"
    if baseline is None:
        source = "evaluated data (training split)"
        baseline = Baseline.fit(
            train_for_baseline.stacked_targets(),
            train_for_baseline.stacked_inputs(),
            kind=task.kind,
        )
    device = torch.device("cpu")
    scores = evaluate(network, task, examples, baseline, device=device, batch_size=batch_size)
    columns = EMOTION_COLUMNS.get(spec.name, 0)
    if columns and len(examples) >= 2:
        shuffled = evaluate(
            network,
            task,
            shuffle_emotion(examples, columns, seed=seed),
            baseline,
            device=device,
            batch_size=batch_size,
        )
        scores["shuffled_loss"] = shuffled["loss"]
        scores[f"shuffled_{task.headline}"] = shuffled[task.headline]
    return Evaluation(
        model=spec.name,
        file=file,
        dataset=dataset,
        headline=task.headline,
        baseline=task.strongest_baseline(scores),
        baseline_source=source,
        tonal_reference=str(loaded.metadata.get("tonal_reference", "absolute")),
        scores=scores,
    )


def _number(value: float | None, digits: int = 4) -> str:
    return "n/a" if value is None or not math.isfinite(value) else f"{value:.{digits}f}"


def format_evaluations(results: Sequence[Evaluation]) -> str:
    """One block per model: the model, each baseline and the shuffled-emotion ablation."""
    lines: list[str] = []
    for r in results:
        s = r.scores
        lines.append(
            f"{r.model} on {r.dataset} ({int(s.get('sequences', 0))} sequences, "
            f"{int(s.get('frames', 0))} frames; baselines from the {r.baseline_source})"
        )
        lines.append(f"  {'predictor':<18} {'loss':>8}  {r.headline:>10}")
        lines.append(f"  {'model':<18} {_number(s['loss']):>8}  {_number(s[r.headline], 3):>10}")
        for name in baseline_names_in(s):
            mark = strongest_mark(
                name, by_metric=r.baseline, by_loss=r.loss_baseline, metric=r.headline
            )
            lines.append(
                f"  {name + mark:<18} {_number(s.get(f'{name}_loss')):>8}  "
                f"{_number(s.get(f'{name}_{r.headline}'), 3):>10}"
            )
        if f"shuffled_{r.headline}" in s:
            lines.append(
                f"  {'emotion shuffled':<18} {_number(s['shuffled_loss']):>8}  "
                f"{_number(s[f'shuffled_{r.headline}'], 3):>10}"
            )
        verdict = "beats" if r.beats_baseline else "does NOT beat"
        lines.append(
            f"  -> {verdict} its strongest baseline: {r.headline} "
            f"{_number(s[r.headline], 3)} vs {_number(s.get(f'baseline_{r.headline}'), 3)} "
            f"({r.baseline}), loss {_number(s['loss'])} vs {_number(s.get('baseline_loss'))} "
            f"({r.loss_baseline})"
        )
        lines.append(f"  ({STRONGEST.format(metric=r.headline)})")
    return "\n".join(lines) + "\n"


class EvaluateCommand:
    """``kelly evaluate MODELS... --dataset NAME [--root DIR] [-O KEY=VALUE] [--split all|test]
    [--json]``."""

    def __init__(self, registry: Registry | None = None) -> None:
        self._registry = registry

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add the model paths, the dataset and the output options."""
        parser.add_argument(
            "models",
            nargs="+",
            type=Path,
            help="a training run folder (its exported models and saved baselines) or model files",
        )
        parser.add_argument(
            "--dataset",
            required=True,
            metavar="NAME",
            help="dataset reader to score on (see `kelly plugins`), e.g. lakh, music21-chords",
        )
        parser.add_argument(
            "--root",
            type=Path,
            default=None,
            metavar="DIR",
            help="the dataset's folder (omit for readers with a default, e.g. music21-chords)",
        )
        parser.add_argument(
            "--split",
            choices=("all", "test"),
            default="all",
            help="score every sequence (default, for another collection) or the test split only",
        )
        add_max_items_argument(parser)
        add_option_argument(parser)
        parser.add_argument(
            "--seed",
            type=int_in("--seed", 0, MAX_SEED),
            default=0,
            help="seeds the emotion shuffle, 0..2**64-1 (default 0)",
        )
        parser.add_argument("--json", action="store_true", help="print JSON instead of a table")

    def run(self, args: argparse.Namespace) -> int:
        """Score every model that the dataset's reader trains; 0 if all beat their baselines."""
        registry = self._registry or default_registry()
        entry = cast(DatasetEntry, registry.resolve("dataset", args.dataset).entry)
        files = find_model_files(list(args.models), registry)
        dataset = open_with_options(registry, args.dataset, args.root, key_values(args.option))
        results: list[Evaluation] = []
        for file in files:
            loaded = registry.exporter_for(file).read(file)
            if loaded.spec.name != entry.model:
                logger.info(
                    "%s: %s is not %s's model; skipped", file, loaded.spec.name, args.dataset
                )
                continue
            examples = load_examples(dataset, loaded.spec, max_items=args.max_items)
            if not examples:
                raise KellyError("the dataset holds no sequences", path=args.root)
            splits = split_examples(examples, val_split=0.15, seed=args.seed)
            chosen = examples if args.split == "all" else splits["test"]
            data_reference = dataset_tonal_reference(dataset)
            model_reference = str(loaded.metadata.get("tonal_reference", "absolute"))
            if data_reference is not None and data_reference != model_reference:
                logger.warning(
                    "%s is %r but the data is %r: scores compare different pitch conventions",
                    file,
                    model_reference,
                    data_reference,
                )
            results.append(
                evaluate_model(
                    loaded,
                    file,
                    SequenceSet.from_examples(chosen),
                    dataset=args.dataset,
                    train_for_baseline=SequenceSet.from_examples(splits["train"]),
                    seed=args.seed,
                )
            )
        if not results:
            raise KellyError(
                f"none of the models is {entry.model}, the model {args.dataset!r} trains",
                field="--dataset",
                got=args.dataset,
            )
        if args.json:
            sys.stdout.write(json.dumps([r.to_dict() for r in results], indent=1) + "\n")
        else:
            sys.stdout.write(format_evaluations(results))
        return 0 if all(r.beats_baseline for r in results) else 1
