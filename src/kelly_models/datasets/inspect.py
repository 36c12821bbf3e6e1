"""``kelly data inspect NAME [ROOT] [--json]``: what a dataset reader sees."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import cast

import numpy as np

from kelly_core.errors import DatasetError, KellyError
from kelly_core.interfaces import Dataset
from kelly_core.options import parse_option
from kelly_core.records import as_example
from kelly_core.registry import Registry, default_registry
from kelly_models.datasets.common import empty_dataset_error, option_range_problem

__all__ = ["DataCommand", "describe"]


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


def open_with_options(
    registry: Registry, name: str, root: Path | None, texts: Mapping[str, str]
) -> Dataset:
    """Open dataset ``name`` with ``-O KEY=VALUE`` options read as its entry declares them.

    :raises DatasetError: On an option the reader does not declare (its options are
        listed), a value not of the declared type or outside its range
        (:data:`~kelly_models.datasets.common.OPTION_RANGES`), or a value the reader
        refuses, naming the option.
    """
    declared = registry.options("dataset", name)
    options: dict[str, object] = {}
    for key, text in texts.items():
        if key not in declared:
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
    try:
        return registry.dataset(name, root, **options)
    except (TypeError, ValueError) as exc:
        if isinstance(exc, KellyError):
            raise
        raise DatasetError(f"dataset {name!r}: bad option value: {exc}", path=root) from exc


class DataCommand:
    """The ``kelly data`` command (sub-action ``inspect``)."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add ``inspect NAME [ROOT] [--json] [-O KEY=VALUE ...]``."""
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        inspect = actions.add_parser(
            "inspect",
            help="count items, list skipped files, shapes",
            formatter_class=parser.formatter_class,
        )
        inspect.add_argument("name", help="dataset name (see `kelly plugins`)")
        inspect.add_argument(
            "root", nargs="?", default=None, help="dataset folder ('-' or omitted: none)"
        )
        inspect.add_argument("--json", action="store_true", help="print one JSON object")
        inspect.add_argument(
            "-O", "--option", action="append", default=[], metavar="KEY=VALUE",
            help="reader option, e.g. -O items=50 -O workers=1 (repeatable)",
        )  # fmt: skip

    def run(self, args: argparse.Namespace) -> int:
        """Open the dataset and print its summary."""
        options: dict[str, str] = {}
        for item in args.option:
            key, sep, value = str(item).partition("=")
            if not sep:
                raise DatasetError(f"option {item!r}: expected KEY=VALUE", field="option")
            options[key.replace("-", "_")] = value
        root = None if args.root in (None, "-") else Path(args.root)
        registry = default_registry()
        dataset = open_with_options(registry, args.name, root, options)
        if len(dataset) == 0:
            for skip in dataset.skipped:
                sys.stderr.write(f"  skipped {skip.path}: {skip.reason}\n")
            raise empty_dataset_error(args.name, root, len(dataset.skipped))
        summary = describe(args.name, dataset)
        if args.json:
            sys.stdout.write(json.dumps(summary) + "\n")
            return 0
        out = sys.stdout
        out.write(f"{summary['dataset']} ({summary['model']}): {summary['items']} items\n")
        out.write(f"  input shape  {summary['input_shape']}  range {summary['input_range']}\n")
        out.write(f"  target shape {summary['target_shape']}  range {summary['target_range']}\n")
        out.write(f"  steps {summary['steps']}  splits {summary['splits']}\n")
        out.write(_non_finite_line(cast(dict[str, int], summary["non_finite"])))
        out.write(f"  skipped {len(dataset.skipped)} files or index rows\n")
        for s in dataset.skipped:
            out.write(f"    {s.path}: {s.reason}\n")
        return 0
