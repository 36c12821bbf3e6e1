"""Frozen records passed across interfaces: examples, loaded models, skipped files."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import Literal, TypeAlias, cast

import attrs
import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.errors import DatasetError
from kelly_core.specs import ModelSpec

__all__ = ["Example", "LoadedModel", "SkippedFile", "Split", "as_example", "skipped_problem"]

Split: TypeAlias = Literal["train", "validation", "test"]


def _frozen_mapping(value: Mapping[str, object]) -> Mapping[str, object]:
    return MappingProxyType(dict(value))


@attrs.frozen(kw_only=True)
class LoadedModel:
    """A model file read back: its spec, state arrays and metadata."""

    spec: ModelSpec
    arrays: Mapping[str, FloatArray] = attrs.field(converter=_frozen_mapping)
    """State arrays named as in :meth:`ModelSpec.array_shapes`, float32."""
    metadata: Mapping[str, object] = attrs.field(factory=dict, converter=_frozen_mapping)
    path: Path | None = None


@attrs.frozen(kw_only=True)
class SkippedFile:
    """A file a dataset reader could not use, and why."""

    path: Path
    reason: str


def _check_example(instance: Example, attribute: attrs.Attribute[str], value: str) -> None:
    for name in ("inputs", "targets"):
        array = getattr(instance, name)
        if not isinstance(array, np.ndarray) or array.dtype != np.float32 or array.ndim != 2:
            raise DatasetError(
                "expected a float32 array of shape (T, features)",
                path=instance.source,
                field=name,
                got=getattr(array, "shape", type(array).__name__),
            )
    if instance.inputs.shape[0] != instance.targets.shape[0]:
        raise DatasetError(
            "inputs and targets must have the same number of steps",
            path=instance.source,
            field="targets",
            expected=instance.inputs.shape[0],
            got=instance.targets.shape[0],
        )


@attrs.frozen(kw_only=True)
class Example:
    """One training sequence: ``inputs`` ``(T, in)`` and ``targets`` ``(T, out)``, float32."""

    inputs: FloatArray = attrs.field(eq=False)
    targets: FloatArray = attrs.field(eq=False)
    source: str = attrs.field(validator=_check_example)
    """Where it came from (file path or ``synthetic:<seed>``), for messages."""
    split: Split = "train"


def as_example(item: object, *, index: int, dataset: str | None = None) -> Example:
    """Return ``item`` if it is an :class:`Example`, as a dataset's ``__getitem__`` must.

    :raises DatasetError: Naming the dataset (if given) and the index, if it is something
        else.
    """
    if isinstance(item, Example):
        return item
    who = f"dataset {dataset!r}" if dataset else "the dataset"
    raise DatasetError(
        f"{who} returned a {type(item).__name__} for item {index}; expected "
        "kelly_core.records.Example(inputs=..., targets=..., source=...)",
        field=f"[{index}]",
        expected="Example",
        got=type(item).__name__,
    )


def skipped_problem(skipped: object) -> str | None:
    """Why ``skipped`` is not a sequence of :class:`SkippedFile` records, or None."""
    if isinstance(skipped, str | bytes) or not hasattr(skipped, "__len__"):
        return f"skipped is a {type(skipped).__name__}; expected a sequence of SkippedFile"
    for index, entry in enumerate(cast(Sequence[object], skipped)):
        if not isinstance(entry, SkippedFile):
            return (
                f"skipped[{index}] is a {type(entry).__name__}; expected "
                "kelly_core.records.SkippedFile(path=..., reason=...)"
            )
    return None
