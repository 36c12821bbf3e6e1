"""What every reader shares: the dataset class, CSV index checks and split rules."""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs
import numpy as np

from kelly_core.errors import DatasetError
from kelly_core.fileio import InputFileError, format_size, read_regular_bytes
from kelly_core.records import Example, SkippedFile, Split
from kelly_models.datasets.common import INDEX_MAX_BYTES, INDEX_MAX_CELLS, INDEX_MAX_LINE

__all__ = [
    "SPLITS",
    "ArrayDataset",
    "ExampleRef",
    "hash_split",
    "iter_csv_rows",
    "read_csv_index",
    "read_csv_rows",
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


def _index_text(path: Path) -> str:
    """The text of an index file, read within the limits of :mod:`.common`."""
    if not os.path.lexists(path):
        raise DatasetError("index file not found", path=path, expected="a CSV file")
    try:
        data = read_regular_bytes(path, limit=INDEX_MAX_BYTES, what="CSV file")
    except InputFileError as exc:
        raise exc.located(DatasetError, path=path) from None
    data = data.removeprefix(codecs.BOM_UTF8)
    position, number = 0, 1
    while position <= len(data):
        end = data.find(b"\n", position)
        end = len(data) if end < 0 else end
        if end - position > INDEX_MAX_LINE:
            raise DatasetError(
                f"line {number} is {end - position} bytes long; expected lines of at most "
                f"{format_size(INDEX_MAX_LINE)}",
                path=path,
            )
        position, number = end + 1, number + 1
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line_number = data.count(b"\n", 0, exc.start) + 1
        raise DatasetError(
            f"line {line_number} is not UTF-8 text (byte 0x{data[exc.start]:02x}); "
            "expected a UTF-8 CSV file",
            path=path,
        ) from None


def _csv_problem(exc: csv.Error) -> str:
    if "field larger than field limit" in str(exc):
        return f"a cell is longer than {csv.field_size_limit()} characters (an unclosed quote?)"
    return "malformed CSV row (an unclosed or stray quote?)"


def iter_csv_rows(
    path: Path,
    required: Sequence[str],
    *,
    nonempty: Sequence[str] | None = None,
    strip: bool = True,
) -> Iterator[tuple[int, dict[str, str]]]:
    """Read a CSV index file row by row; fail, naming the path and column, if it is unusable.

    Header names and values are stripped of surrounding spaces (DEAM writes ``a, b``).
    The file must be a regular file within the limits of :mod:`kelly_models.datasets.common`
    (size, line length, cells); it is read whole (it is small), rows are made one at a
    time, so a caller that keeps less than the row (DEAM's dynamic series) keeps memory
    in proportion to what it keeps.

    :param path: The CSV file.
    :param required: Columns that must be present.
    :param nonempty: Columns whose cells must not be empty (default: ``required``).
    :returns: ``(line number, row)`` per data row; a row maps the stripped column names
        to its cells; a short row has only its own cells, plus ``""`` for each required
        column it lacks. Blank rows are left out.
    :raises DatasetError: If the file is missing, of the wrong kind, too large or not
        UTF-8, has no header, a repeated or missing required column, or a row has an
        empty required value.
    """
    reader = csv.reader(io.StringIO(_index_text(path), newline=""), skipinitialspace=True)
    try:
        first = next(reader, None)
        if first is None:
            raise DatasetError("index file is empty; expected a header row", path=path)
        header = _header(path, [h.strip() if strip else h for h in first], required)
        cells = 0
        for row in reader:
            cells += max(len(row), 1)
            if cells > INDEX_MAX_CELLS:
                raise DatasetError(
                    f"more than {INDEX_MAX_CELLS} cells by line {reader.line_num}; "
                    f"expected at most {INDEX_MAX_CELLS} cells",
                    path=path,
                )
            if not any(cell.strip() for cell in row):
                continue
            record = {h: cell.strip() for h, cell in zip(header, row, strict=False)}
            for column in required:
                record.setdefault(column, "")
            for column in required if nonempty is None else nonempty:
                if record[column] == "":
                    raise DatasetError(
                        f"line {reader.line_num}: column {column!r} is empty",
                        path=path,
                        field=column,
                    )
            yield reader.line_num, record
    except csv.Error as exc:
        raise DatasetError(f"line {reader.line_num}: {_csv_problem(exc)}", path=path) from None


def read_csv_rows(
    path: Path,
    required: Sequence[str],
    *,
    nonempty: Sequence[str] | None = None,
    strip: bool = True,
) -> list[tuple[int, dict[str, str]]]:
    """:func:`iter_csv_rows` as a list (the whole file is checked before it returns)."""
    return list(iter_csv_rows(path, required, nonempty=nonempty, strip=strip))


def _header(path: Path, header: list[str], required: Sequence[str]) -> list[str]:
    for column in required:
        if column not in header:
            raise DatasetError(
                f"column {column!r} is missing; found {', '.join(map(repr, header))}",
                path=path,
                field=column,
                expected=tuple(required),
                got=tuple(header),
            )
    for i, column in enumerate(header):
        if column and column in header[:i]:
            raise DatasetError(
                f"column {column!r} appears twice (columns {header.index(column) + 1} and "
                f"{i + 1}); expected each column once",
                path=path,
                field=column,
            )
    return header


def read_csv_index(
    path: Path,
    required: Sequence[str],
    *,
    nonempty: Sequence[str] | None = None,
    strip: bool = True,
) -> list[dict[str, str]]:
    """:func:`read_csv_rows` without the line numbers."""
    return [row for _, row in read_csv_rows(path, required, nonempty=nonempty, strip=strip)]


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
