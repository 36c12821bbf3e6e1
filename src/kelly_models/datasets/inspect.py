"""``kelly data inspect --dataset NAME [--root DIR] [--json] [-O KEY=VALUE]``: what a
dataset reader sees."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import numpy as np

from kelly_core.entries import DatasetEntry
from kelly_core.errors import DatasetError, KellyError
from kelly_core.flags import add_option_argument, key_values, renamed
from kelly_core.interfaces import Dataset
from kelly_core.options import parse_option
from kelly_core.records import as_example
from kelly_core.registry import Registry, default_registry
from kelly_models.datasets.common import empty_dataset_error, option_range_problem

__all__ = [
    "DataCommand",
    "check_known_options",
    "describe",
    "open_with_options",
    "read_options",
    "summary_text",
]


def describe(name: str, dataset: Dataset) -> dict[str, object]:
    """Summarise ``dataset``: counts, skipped files and rows, shapes and value ranges.

    Ranges are over the finite values; NaN and inf are counted apart (``non_finite``:
    values in inputs, in targets, and items holding any), so a poisoned dataset never
    shows a clean range.
    """
    low = {"inputs": np.inf, "targets": np.inf}
    high = {"inputs": -np.inf, "targets": -np.inf}
    bad = {"inputs": 0, "targets": 0, "items": 0}
    steps: list[int] = []
    splits: dict[str, int] = {}
    in_size = out_size = None
    for i in range(len(dataset)):
        ex = as_example(dataset[i], dataset=name, index=i)
        steps.append(len(ex.inputs))
        splits[ex.split] = splits.get(ex.split, 0) + 1
        in_size, out_size = ex.inputs.shape[1], ex.targets.shape[1]
        poisoned = False
        for key, array in (("inputs", ex.inputs), ("targets", ex.targets)):
            finite = np.isfinite(array)
            count = int(array.size - np.count_nonzero(finite))
            bad[key] += count
            poisoned = poisoned or count > 0
            if finite.any():
                values = array[finite]
                low[key] = min(low[key], float(values.min()))
                high[key] = max(high[key], float(values.max()))
        bad["items"] += poisoned
    return {
        "dataset": name,
        "model": dataset.model_name,
        "items": len(dataset),
        "skipped": [{"path": str(s.path), "reason": s.reason} for s in dataset.skipped],
        "input_shape": [None, in_size],
        "target_shape": [None, out_size],
        "steps": {"min": min(steps, default=0), "max": max(steps, default=0), "total": sum(steps)},
        "splits": splits,
        "input_range": [low["inputs"], high["inputs"]] if np.isfinite(low["inputs"]) else None,
        "target_range": (
            [low["targets"], high["targets"]] if np.isfinite(low["targets"]) else None
        ),
        "non_finite": bad,
    }


def _non_finite_line(bad: dict[str, int]) -> str:
    if not bad["items"]:
        return "  non-finite values: none\n"
    return (
        f"  non-finite values: {bad['inputs']} in inputs, {bad['targets']} in targets "
        f"({bad['items']} items); the ranges leave them out\n"
    )


def read_options(
    registry: Registry, name: str, texts: Mapping[str, str], *, only_declared: bool = False
) -> dict[str, object]:
    """Read ``-O KEY=VALUE`` texts as dataset ``name``'s entry declares them.

    :param only_declared: Leave out keys the reader does not declare (``kelly train``
        gives each reader the options it takes) instead of refusing them.
    :raises DatasetError: On an option the reader does not declare (its options are
        listed), a value not of the declared type or outside its range
        (:data:`~kelly_models.datasets.common.OPTION_RANGES`), naming the option.
    """
    declared = registry.options("dataset", name)
    options: dict[str, object] = {}
    for key, text in texts.items():
        if key not in declared:
            if only_declared:
                continue
            raise DatasetError(
                f"dataset {name!r} has no option {key!r}; its options: "
                + (", ".join(declared) or "(none)"),
                field=f"--option {key}",
                expected=tuple(declared),
                got=key,
            )
        try:
            options[key] = parse_option(declared[key], text)
        except ValueError as exc:
            raise DatasetError(f"option {key!r}: {exc}", field=f"--option {key}") from None
        out_of_range = option_range_problem(key, options[key])
        if out_of_range is not None:  # before the reader lists or reads anything
            raise DatasetError(f"option {key!r}: {out_of_range}", field=f"--option {key}")
    return options


def open_with_options(
    registry: Registry, name: str, root: Path | None, texts: Mapping[str, str]
) -> Dataset:
    """Open dataset ``name`` with ``-O KEY=VALUE`` options (:func:`read_options`).

    :raises DatasetError: On a bad option (:func:`read_options`) or a value the reader
        refuses, naming the option.
    """
    options = read_options(registry, name, texts)
    try:
        return registry.dataset(name, root, **options)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, KellyError):
            raise
        raise DatasetError(f"dataset {name!r}: bad option value: {exc}", path=root) from exc


def check_known_options(registry: Registry, texts: Mapping[str, str]) -> None:
    """Refuse a ``-O`` key that no registered dataset reader declares (before training).

    :raises DatasetError: Naming the key and the options the readers declare.
    """
    declared = {
        key for r in registry.entries("dataset") for key in cast(DatasetEntry, r.entry).options
    }
    for key in texts:
        if key not in declared:
            raise DatasetError(
                f"no dataset reader has an option {key!r}; their options: "
                + ", ".join(sorted(declared)),
                field=f"--option {key}",
                expected=tuple(sorted(declared)),
                got=key,
            )


class DataCommand:
    """The ``kelly data`` command (sub-action ``inspect``)."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add ``inspect --dataset NAME [--root DIR] [--json] [-O KEY=VALUE ...]``."""
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        inspect = actions.add_parser(
            "inspect",
            help="count items, list skipped files, shapes",
            formatter_class=parser.formatter_class,
        )
        inspect.add_argument(
            "--dataset",
            metavar="NAME",
            help="dataset reader (see `kelly plugins`), e.g. deam, synthetic-groove; required",
        )
        inspect.add_argument(
            "--root",
            type=Path,
            default=None,
            metavar="DIR",
            help="the dataset's folder (omit for readers that need none, e.g. synthetic-groove)",
        )
        inspect.add_argument("--json", action="store_true", help="print one JSON object")
        add_option_argument(inspect)
        inspect.add_argument("legacy", nargs="*", help=argparse.SUPPRESS)  # NAME [ROOT]

    def run(self, args: argparse.Namespace) -> int:
        """Open the dataset and print its summary."""
        options = key_values(args.option)
        name, root = _dataset_and_root(args)
        registry = default_registry()
        dataset = open_with_options(registry, name, root, options)
        if len(dataset) == 0:
            for skip in dataset.skipped:
                sys.stderr.write(f"  skipped {skip.path}: {skip.reason}\n")
            raise empty_dataset_error(name, root, len(dataset.skipped))
        summary = describe(name, dataset)
        if args.json:
            sys.stdout.write(json.dumps(summary) + "\n")
            return 0
        sys.stdout.write(summary_text(summary))
        for s in dataset.skipped:
            sys.stdout.write(f"    {s.path}: {s.reason}\n")
        return 0


def _dataset_and_root(args: argparse.Namespace) -> tuple[str, Path | None]:
    """``--dataset`` and ``--root``, or the positional ``NAME [ROOT]`` of the previous
    release (``-`` for no root) with a warning naming the new flags."""
    legacy: list[str] = list(args.legacy)
    if legacy:
        renamed("kelly data inspect NAME [ROOT]", "kelly data inspect --dataset NAME --root DIR")
        if len(legacy) > 2 or args.dataset is not None or args.root is not None:
            raise DatasetError(
                f"unexpected arguments {legacy}: name the dataset with --dataset NAME and its "
                "folder with --root DIR",
                field="--dataset",
                got=legacy,
            )
        name, where = legacy[0], (legacy[1] if len(legacy) == 2 else None)
        return name, None if where in (None, "-") else Path(where)
    if args.dataset is None:
        raise DatasetError(
            "expected a dataset name (`kelly plugins` lists the dataset readers)",
            field="--dataset",
        )
    return str(args.dataset), args.root


def _span(values: object) -> str:
    """``low .. high`` of a [low, high] range (4 significant digits), or ``none``."""
    if not isinstance(values, list):
        return "none (no finite value)"
    low, high = values
    return f"{low:.4g} .. {high:.4g}"


def _width(shape: object) -> str:
    """``(steps, W)`` of a ``[None, W]`` shape."""
    width = shape[1] if isinstance(shape, list) and len(shape) == 2 else None
    return f"(steps, {width if width is not None else '?'})"


def summary_text(summary: Mapping[str, object]) -> str:
    """The text form of :func:`describe`'s summary (no Python reprs: counts and ranges)."""
    steps = cast(dict[str, int], summary["steps"])
    splits = cast(dict[str, int], summary["splits"])
    skipped = cast(list[object], summary["skipped"])
    split_text = ", ".join(f"{name} {count}" for name, count in splits.items()) or "none"
    return (
        f"{summary['dataset']} ({summary['model']}): {summary['items']} items\n"
        f"  inputs  {_width(summary['input_shape'])} per item, "
        f"values {_span(summary['input_range'])}\n"
        f"  targets {_width(summary['target_shape'])} per item, "
        f"values {_span(summary['target_range'])}\n"
        f"  steps per item {steps['min']} .. {steps['max']}, {steps['total']} in all\n"
        f"  splits: {split_text}\n"
        + _non_finite_line(cast(dict[str, int], summary["non_finite"]))
        + f"  skipped {len(skipped)} files or index rows\n"
    )
