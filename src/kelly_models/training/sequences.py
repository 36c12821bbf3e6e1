"""Training sequences in memory: loading from a Dataset, splitting, batching with masks.

Each :class:`~kelly_core.records.Example` is one sequence ``(T, in)`` -> ``(T, out)``. A
batch stacks ``B`` sequences padded to the longest one, with a ``(B, T)`` mask that is 1
on real steps and 0 on padding; losses and metrics count masked steps only.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping, Sequence
from typing import Final

import attrs
import numpy as np
import torch

from kelly_core.arrays import FloatArray
from kelly_core.errors import DatasetError
from kelly_core.interfaces import Dataset
from kelly_core.records import Example, Split, as_example
from kelly_core.specs import ModelSpec

__all__ = [
    "MIN_SPLIT_FILES",
    "Batch",
    "SequenceSet",
    "collate",
    "file_of",
    "fold_splits",
    "load_examples",
    "split_examples",
]

logger = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class SequenceSet:
    """Sequences of one split, as float32 arrays."""

    inputs: tuple[FloatArray, ...]
    targets: tuple[FloatArray, ...]
    sources: tuple[str, ...] = ()

    def __len__(self) -> int:
        return len(self.inputs)

    @property
    def frames(self) -> int:
        """Total steps over every sequence."""
        return sum(x.shape[0] for x in self.inputs)

    def fingerprint(self) -> str:
        """A sha256 (16 hex digits) of every sequence's source, shape and values, in order.

        Stored in checkpoints so that ``--resume`` refuses data that changed since.
        """
        digest = hashlib.sha256()
        for index, (x, y) in enumerate(zip(self.inputs, self.targets, strict=True)):
            source = self.sources[index] if index < len(self.sources) else ""
            digest.update(f"{source}|{x.shape}|{y.shape}|".encode())
            digest.update(np.ascontiguousarray(x, dtype=np.float32).tobytes())
            digest.update(np.ascontiguousarray(y, dtype=np.float32).tobytes())
        return digest.hexdigest()[:16]

    def stacked_targets(self) -> FloatArray:
        """Every target frame, ``(frames, out)``."""
        return np.concatenate(self.targets, axis=0)

    def stacked_inputs(self) -> FloatArray:
        """Every input frame, ``(frames, in)``."""
        return np.concatenate(self.inputs, axis=0)

    @property
    def lengths(self) -> list[int]:
        """Steps of each sequence, in order."""
        return [x.shape[0] for x in self.inputs]

    @classmethod
    def from_examples(cls, examples: Sequence[Example]) -> SequenceSet:
        """Collect the arrays of ``examples``."""
        return cls(
            inputs=tuple(e.inputs for e in examples),
            targets=tuple(e.targets for e in examples),
            sources=tuple(e.source for e in examples),
        )


@attrs.frozen(kw_only=True)
class Batch:
    """Padded tensors of a few sequences: ``inputs (B, T, in)``, ``targets (B, T, out)``,
    ``mask (B, T)`` (1.0 on real steps)."""

    inputs: torch.Tensor
    targets: torch.Tensor
    mask: torch.Tensor

    def to(self, device: torch.device) -> Batch:
        """Return the batch on ``device``."""
        return Batch(
            inputs=self.inputs.to(device),
            targets=self.targets.to(device),
            mask=self.mask.to(device),
        )


def collate(data: SequenceSet, indices: Sequence[int]) -> Batch:
    """Stack sequences ``indices`` of ``data`` into one padded :class:`Batch`."""
    chosen = [int(i) for i in indices]
    length = max(data.inputs[i].shape[0] for i in chosen)
    in_size = data.inputs[chosen[0]].shape[1]
    out_size = data.targets[chosen[0]].shape[1]
    inputs = np.zeros((len(chosen), length, in_size), dtype=np.float32)
    targets = np.zeros((len(chosen), length, out_size), dtype=np.float32)
    mask = np.zeros((len(chosen), length), dtype=np.float32)
    for row, index in enumerate(chosen):
        steps = data.inputs[index].shape[0]
        inputs[row, :steps] = data.inputs[index]
        targets[row, :steps] = data.targets[index]
        mask[row, :steps] = 1.0
    return Batch(
        inputs=torch.from_numpy(inputs),
        targets=torch.from_numpy(targets),
        mask=torch.from_numpy(mask),
    )


def load_examples(dataset: Dataset, spec: ModelSpec, *, max_items: int = 0) -> list[Example]:
    """Read the examples of ``dataset`` (the first ``max_items`` if > 0), checking sizes.

    Sequences with no steps are dropped.

    :raises DatasetError: If an example's feature sizes do not fit ``spec``.
    """
    count = len(dataset) if max_items <= 0 else min(len(dataset), max_items)
    examples: list[Example] = []
    for index in range(count):
        example = as_example(dataset[index], index=index)
        if (
            example.inputs.shape[1] != spec.input_size
            or example.targets.shape[1] != spec.output_size
        ):
            raise DatasetError(
                f"example {index} does not fit {spec.name}; expected inputs (T, {spec.input_size}) "
                f"and targets (T, {spec.output_size})",
                path=example.source,
                field="inputs",
                expected=(spec.input_size, spec.output_size),
                got=(example.inputs.shape, example.targets.shape),
            )
        if example.inputs.shape[0] > 0:
            examples.append(example)
    if dataset.skipped:
        logger.warning("%d files skipped while reading %s's data", len(dataset.skipped), spec.name)
    return examples


MIN_SPLIT_FILES: Final = 3
"""Fewest files a validation or test split should hold; fewer gets a warning."""


def file_of(example: Example) -> str:
    """The file an example comes from: its source up to a ``#`` (readers write ``path#n``)."""
    return example.source.split("#", 1)[0]


def _files(examples: Sequence[Example]) -> list[str]:
    return list(dict.fromkeys(file_of(e) for e in examples))


def split_examples(
    examples: Sequence[Example], *, val_split: float, seed: int
) -> dict[Split, list[Example]]:
    """Split examples into train, validation and test, keeping each file in one split.

    When the dataset marks splits itself (any example not ``"train"``), they are kept;
    a missing validation split is then carved from train (``val_split`` of its files), and
    a missing test split is the validation split. Otherwise a seeded shuffle of the files
    holds out ``val_split`` of them for validation and as many again for test, at least
    :data:`MIN_SPLIT_FILES` each when there are enough files (three times that).
    A validation or test split of one or two files is warned about: its metrics are noise
    (``--folds`` measures small corpora better).

    :raises DatasetError: If there are no training sequences left.
    """
    splits: dict[Split, list[Example]] = {"train": [], "validation": [], "test": []}
    if any(e.split != "train" for e in examples):
        for example in examples:
            splits[example.split].append(example)
        if not splits["validation"]:
            splits["validation"], splits["train"] = _carve(splits["train"], val_split, seed)
        if not splits["test"]:
            splits["test"] = splits["validation"]
    else:
        splits["validation"], rest = _carve(list(examples), val_split, seed)
        splits["test"], splits["train"] = _carve(rest, val_split / (1 - val_split), seed + 1)
    if not splits["train"]:
        raise DatasetError("no training sequences", expected="at least one", got=0)
    if not splits["validation"]:
        splits["validation"] = splits["train"]
    if not splits["test"]:
        splits["test"] = splits["validation"]
    _warn_small(splits)
    return splits


def _warn_small(splits: Mapping[Split, Sequence[Example]]) -> None:
    for name in ("validation", "test"):
        held = splits[name]
        files = len(_files(held))
        if held is splits["train"]:
            logger.warning(
                "too few files to hold any out: %s is the training split; its metrics say "
                "nothing about unseen music",
                name,
            )
        elif files < MIN_SPLIT_FILES:
            logger.warning(
                "the %s split holds %d file%s: its metrics are noise; add files or use --folds K",
                name,
                files,
                "" if files == 1 else "s",
            )


def fold_splits(
    examples: Sequence[Example], folds: int, *, val_split: float, seed: int
) -> list[dict[Split, list[Example]]]:
    """K-fold cross-validation by file: fold ``i`` tests on the ``i``-th K-th of the files.

    The files are shuffled (seeded) and dealt into ``folds`` groups; each fold trains on
    the other groups less a validation carve (``val_split`` of their files, at least
    :data:`MIN_SPLIT_FILES` when there are enough), and tests on its own group. Dataset
    split marks are ignored.

    :raises DatasetError: If there are fewer files than ``2 * folds``.
    """
    files = _files(examples)
    if folds < 2 or len(files) < 2 * folds:
        raise DatasetError(
            f"--folds {folds} needs at least {2 * folds} files (two per fold), got {len(files)}",
            field="folds",
            expected=f">= 2 and <= {len(files) // 2}",
            got=folds,
        )
    order = np.random.default_rng(seed).permutation(len(files))
    group = {files[int(j)]: position % folds for position, j in enumerate(order)}
    out: list[dict[Split, list[Example]]] = []
    for fold in range(folds):
        test = [e for e in examples if group[file_of(e)] == fold]
        rest = [e for e in examples if group[file_of(e)] != fold]
        validation, train = _carve(rest, val_split, seed + 1 + fold)
        splits: dict[Split, list[Example]] = {
            "train": train,
            "validation": validation or train,
            "test": test,
        }
        _warn_small(splits)
        out.append(splits)
    return out


def _carve(examples: list[Example], share: float, seed: int) -> tuple[list[Example], list[Example]]:
    """Return ``(held_out, rest)``: a seeded random ``share`` of the files and the rest.

    At least :data:`MIN_SPLIT_FILES` files are held out when there are three times that,
    at least one when there are three or more, and never every file. Examples of fewer
    than three files (one long file cut into many sequences) are carved one by one.
    """
    files = _files(examples)
    by_file = len(files) >= 3
    units = files if by_file else [str(i) for i in range(len(examples))]
    count = len(units)
    held = round(count * share)
    if share > 0 and count >= 3:
        held = max(1, held)
    if share > 0 and count >= 3 * MIN_SPLIT_FILES:
        held = max(MIN_SPLIT_FILES, held)
    held = min(held, count - 1) if count > 1 else 0
    order = np.random.default_rng(seed).permutation(count)
    held_units = {units[int(i)] for i in order[:held]}
    keys = [file_of(e) if by_file else str(i) for i, e in enumerate(examples)]
    return (
        [e for e, k in zip(examples, keys, strict=True) if k in held_units],
        [e for e, k in zip(examples, keys, strict=True) if k not in held_units],
    )
