"""What every reader shares: the dataset class, CSV index checks and split rules."""

from __future__ import annotations

import csv
import hashlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs
import numpy as np

from kelly_core.errors import DatasetError
from kelly_core.records import Example, SkippedFile, Split

__all__ = [
    "SPLITS",
    "ArrayDataset",
    "ExampleRef",
    "hash_split",
    "read_csv_index",
]

SPLITS: Final[tuple[Split, ...]] = ("train", "validation", "test")


@attrs.frozen(kw_only=True)
class ExampleRef:
    """Where a cached example lives: example ``index`` of the ``.npz`` file ``path``."""

    path: Path
    index: int
    source: str
    split: Split


class ArrayDataset:
    """A :class:`kelly_core.interfaces.Dataset` over examples held in memory or on disk.

    Cached examples (:class:`ExampleRef`) are loaded from their ``.npz`` file on access,
    so a large collection does not have to fit in memory.
    """

    def __init__(
        self,
        model_name: str,
        items: Sequence[Example | ExampleRef],
        skipped: Sequence[SkippedFile] = (),
        *,
        name: str = "",
        tonal_reference: str | None = None,
    ) -> None:
        self._model_name = model_name
        self.tonal_reference = tonal_reference
        """``"tonic"`` or ``"absolute"`` for pitch, chord or pitch-class data; None: not said
        (training then assumes the model's convention)."""
        self._items = list(items)
        self._skipped = tuple(skipped)
        self.name = name

    @property
    def model_name(self) -> str:
        """Name of the model these examples train."""
        return self._model_name

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        """Files that could not be read, with reasons."""
        return self._skipped

    def __len__(self) -> int:
        """Number of examples."""
        return len(self._items)

    def __getitem__(self, index: int) -> Example:
        """Return example ``index`` (``(T, in)`` inputs and ``(T, out)`` targets)."""
        item = self._items[index]
        if isinstance(item, Example):
            return item
        with np.load(item.path) as data:
            inputs = data[f"inputs_{item.index}"]
            targets = data[f"targets_{item.index}"]
        return Example(inputs=inputs, targets=targets, source=item.source, split=item.split)

    def __iter__(self) -> Iterator[Example]:
        """Iterate over all examples in order."""
        return (self[i] for i in range(len(self)))

    def splits(self) -> dict[str, int]:
        """Count examples per split."""
        counts: dict[str, int] = dict.fromkeys(SPLITS, 0)
        for item in self._items:
            counts[item.split] += 1
        return counts


def hash_split(key: str, *, validation: float = 0.1, test: float = 0.1) -> Split:
    """Deterministic split of an item by a stable hash of ``key`` (sha1, not ``hash()``).

    About ``validation`` and ``test`` of the items land in those splits, the rest in train.
    """
    value = int(hashlib.sha1(key.encode("utf-8")).hexdigest()[:8], 16) / 0xFFFFFFFF
    if value < test:
        return "test"
    if value < test + validation:
        return "validation"
    return "train"


def read_csv_index(
    path: Path,
    required: Sequence[str],
    *,
    nonempty: Sequence[str] | None = None,
    strip: bool = True,
) -> list[dict[str, str]]:
    """Read a CSV index file; fail at once, naming the path and column, if it is unusable.

    Header names and values are stripped of surrounding spaces (DEAM writes ``a, b``).

    :param path: The CSV file.
    :param required: Columns that must be present.
    :param nonempty: Columns whose cells must not be empty (default: ``required``).
    :returns: One dict per data row, keyed by stripped column names.
    :raises DatasetError: If the file is missing or unreadable, has no header, lacks a
        required column, or a row has an empty required value.
    """
    if not path.is_file():
        raise DatasetError("index file not found", path=path, expected="a CSV file")
    try:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            rows = list(csv.reader(handle, skipinitialspace=True))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise DatasetError(f"cannot read index file: {exc}", path=path) from exc
    if not rows:
        raise DatasetError("index file is empty; expected a header row", path=path)
    header = [h.strip() if strip else h for h in rows[0]]
    for column in required:
        if column not in header:
            raise DatasetError(
                f"column {column!r} is missing; found {', '.join(map(repr, header))}",
                path=path,
                field=column,
                expected=tuple(required),
                got=tuple(header),
            )
    out: list[dict[str, str]] = []
    for line, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue
        record = {h: (row[i].strip() if i < len(row) else "") for i, h in enumerate(header)}
        for column in required if nonempty is None else nonempty:
            if record[column] == "":
                raise DatasetError(
                    f"line {line}: column {column!r} is empty", path=path, field=column
                )
        out.append(record)
    return out


def as_split(value: str, *, path: Path, line_hint: str = "") -> Split:
    """Check that ``value`` is one of train/validation/test."""
    if value not in SPLITS:
        raise DatasetError(
            f"{line_hint}split {value!r} is not one of {', '.join(SPLITS)}",
            path=path,
            field="split",
            expected=SPLITS,
            got=value,
        )
    return value


def option_mapping(options: Mapping[str, object]) -> dict[str, object]:
    """Return ``options`` as a plain dict of JSON-friendly values (for cache keys)."""
    return {k: (str(v) if isinstance(v, Path) else v) for k, v in sorted(options.items())}
