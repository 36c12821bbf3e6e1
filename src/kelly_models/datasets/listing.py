"""Index rows that name files (MAESTRO's CSV, Groove MIDI's ``info.csv``): one item per
file, however often and however spelled it is listed.

Rows are checked by :func:`kelly_models.datasets.paths.index_path`; rows that name the
same file (``2018/a.midi``, ``2018/./a.midi``, ``2018//a.midi``, ``x/../2018/a.midi``, a
link inside the root) count once: the first row is kept (its split too) and the others
are reported as one :class:`~kelly_core.records.SkippedFile` naming the lines, the
spellings and the splits. Names differing in letter case are different files (as on
Linux); on a case-insensitive file system they are one file, found by its inode.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

import attrs

from kelly_core.records import SkippedFile, Split
from kelly_models.datasets.base import as_split
from kelly_models.datasets.paths import file_identity, index_path

__all__ = ["Listed", "list_file", "list_rows", "unique_listings"]


@attrs.frozen(kw_only=True)
class Listed:
    """One index row naming a file inside the root."""

    line: int
    name: str
    path: Path
    split: Split


def list_file(
    root: Path, index: Path, line: int, name: str, split: Split, *, what: str
) -> Listed | SkippedFile:
    """Check the file name of one index row: a :class:`Listed`, or the skip with its reason."""
    path, reason = index_path(root, name, where=f"{index.name} line {line}: ", what=what)
    if path is None:
        return SkippedFile(path=index, reason=reason)
    return Listed(line=line, name=name, path=path, split=split)


def _ordered(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))


def _conflict(index: Path, rows: Sequence[Listed]) -> str:
    first = rows[0]
    lines = ", ".join(str(r.line) for r in rows)
    spellings = [n for n in _ordered([r.name for r in rows[1:]]) if n != first.name]
    also = f"also as {', '.join(map(repr, spellings))}; " if spellings else ""
    splits = _ordered([r.split for r in rows])
    label = "split" if len(splits) == 1 else "splits"
    return (
        f"{index.name} lines {lines}: {first.name!r} is listed {len(rows)} times "
        f"({also}{label} {', '.join(splits)}); kept line {first.line} ({first.split})"
    )


def unique_listings(
    index: Path, listed: Sequence[Listed]
) -> tuple[list[Listed], list[SkippedFile]]:
    """Keep the first row of each file, in index order; report the repeats, one record
    per file listed more than once."""
    groups: dict[tuple[object, ...], list[Listed]] = {}
    for row in listed:
        groups.setdefault(file_identity(row.path), []).append(row)
    kept = [rows[0] for rows in groups.values()]
    repeats = [
        SkippedFile(path=index, reason=_conflict(index, rows))
        for rows in groups.values()
        if len(rows) > 1
    ]
    return kept, repeats


def list_rows(
    root: Path,
    index: Path,
    rows: Iterable[tuple[int, Mapping[str, str]]],
    *,
    column: str,
    what: str,
) -> tuple[list[Listed], list[SkippedFile]]:
    """The files that ``(line, row)`` index rows name in ``column``, one per file, with
    each row's ``split``; and what was skipped (bad names, then the repeats).

    :raises DatasetError: If a row's ``split`` is not train, validation or test.
    """
    listed: list[Listed] = []
    refused: list[SkippedFile] = []
    for line, row in rows:
        split = as_split(row["split"], path=index, line_hint=f"line {line}: ")
        entry = list_file(root, index, line, row[column], split, what=what)
        if isinstance(entry, SkippedFile):
            refused.append(entry)
        else:
            listed.append(entry)
    unique, repeats = unique_listings(index, listed)
    return unique, refused + repeats
