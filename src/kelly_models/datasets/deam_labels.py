"""DEAM annotations: static ratings and dynamic series, checked row by row.

A row whose label is not a number, not finite (``nan``, ``inf``, ``-inf``) or outside its
scale (static ratings 1..9, dynamic values [-1, 1]) is skipped, and so is a second row
of a song already read (the first is kept). Every skipped row becomes a
:class:`~kelly_core.records.SkippedFile` on the CSV with a reason naming the line, the
song, the column and the value, so ``kelly data inspect deam`` lists it. Nothing is
clipped or overwritten. A malformed file (missing column, a header that is not
``sample_<t>ms``) is still a :class:`~kelly_core.errors.DatasetError`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs

from kelly_core.encodings.emotion import deam_static_to_unit
from kelly_core.errors import DatasetError
from kelly_core.records import SkippedFile
from kelly_models.datasets.base import iter_csv_rows, read_csv_rows
from kelly_models.datasets.common import Unusable

__all__ = [
    "STATIC_COLUMNS",
    "Rated",
    "keep_first",
    "merge_static",
    "read_dynamic",
    "read_rated",
    "read_static",
    "song_id",
]

STATIC_COLUMNS: Final = ("song_id", "valence_mean", "valence_std", "arousal_mean", "arousal_std")
_SAMPLE: Final = re.compile(r"^sample_(\d{1,9})ms$")


@attrs.frozen(kw_only=True)
class Rated:
    """One song's static rating, where it was read and as written."""

    value: tuple[float, float]
    file: str
    line: int
    text: str
    """``"7, 3"``: the valence and arousal cells."""


def song_id(value: str) -> str:
    """The song id of a cell or file stem: ``"7"``, ``"7.0"`` and ``"07"`` are song 7."""
    text = value.strip()
    return str(int(float(text))) if text.replace(".", "", 1).isdigit() else text


def _number(column: str, cell: str, scale: str) -> float:
    if cell == "":
        raise Unusable(f"{column} is empty; expected {scale}")
    try:
        value = float(cell)
    except ValueError:
        raise Unusable(f"{column} {cell!r} is not a number; expected {scale}") from None
    if not math.isfinite(value):
        raise Unusable(f"{column} {cell} is not a finite number; expected {scale}")
    return value


def _rating(row: Mapping[str, str], column: str) -> float:
    value = _number(column, row[column], "a rating in 1..9")
    if not 1.0 <= value <= 9.0:
        raise Unusable(f"{column} {row[column]} is outside the rating scale; expected 1..9")
    return deam_static_to_unit(value)


def keep_first(into: dict[str, Rated], song: str, rated: Rated) -> str | None:
    """Add ``song``'s rating to ``into`` unless it is there; then return why it was not."""
    first = into.setdefault(song, rated)
    if first is rated:
        return None
    same_file = first.file == rated.file
    where = (
        f"first on line {first.line}" if same_file else f"first in {first.file} line {first.line}"
    )
    ratings = (
        f"same valence/arousal ratings {rated.text}"
        if first.value == rated.value
        else f"valence/arousal ratings {first.text} there, {rated.text} here"
    )
    kept = f"line {first.line}" if same_file else "the first"
    return (
        f"{rated.file} line {rated.line}: song {song} is listed again ({where}; {ratings}); "
        f"kept {kept}"
    )


def read_rated(path: Path) -> tuple[dict[str, Rated], list[SkippedFile]]:
    """Read a static CSV: song id -> :class:`Rated`, and the rows skipped with reasons."""
    out: dict[str, Rated] = {}
    skipped: list[SkippedFile] = []
    for line, row in read_csv_rows(path, STATIC_COLUMNS, nonempty=()):
        song = song_id(row["song_id"])
        if not song:
            reason = f"{path.name} line {line}: the song_id cell is empty; expected a song number"
            skipped.append(SkippedFile(path=path, reason=reason))
            continue
        try:
            value = (_rating(row, "valence_mean"), _rating(row, "arousal_mean"))
        except Unusable as exc:
            reason = f"{path.name} line {line}: song {song}: {exc}"
            skipped.append(SkippedFile(path=path, reason=reason))
            continue
        text = f"{row['valence_mean']}, {row['arousal_mean']}"
        again = keep_first(out, song, Rated(value=value, file=path.name, line=line, text=text))
        if again is not None:
            skipped.append(SkippedFile(path=path, reason=again))
    return out, skipped


def read_static(path: Path) -> tuple[dict[str, tuple[float, float]], list[SkippedFile]]:
    """Read a static CSV: song id -> (valence, arousal) in [-1, 1], and the skipped rows.

    :raises DatasetError: On a missing or malformed file or a missing column.
    """
    rated, skipped = read_rated(path)
    return {song: r.value for song, r in rated.items()}, skipped


def merge_static(
    files: Sequence[tuple[Path, dict[str, Rated]]],
) -> tuple[dict[str, tuple[float, float]], list[SkippedFile]]:
    """Merge the static files in order; a song in a later file keeps its first rating."""
    merged: dict[str, Rated] = {}
    skipped: list[SkippedFile] = []
    for path, rated in files:
        for song, rating in rated.items():
            again = keep_first(merged, song, rating)
            if again is not None:
                skipped.append(SkippedFile(path=path, reason=again))
    return {song: r.value for song, r in merged.items()}, skipped


def _time(path: Path, column: str) -> int:
    match = _SAMPLE.match(column)
    if match is None:
        raise DatasetError(
            f"unexpected column {column!r}; expected sample_<t>ms", path=path, field=column
        )
    return int(match.group(1))


def _dynamic(column: str, cell: str) -> float:
    value = _number(column, cell, "a value in [-1, 1]")
    if not -1.0 <= value <= 1.0:
        raise Unusable(f"{column} {cell} is outside [-1, 1]")
    return value


def read_dynamic(path: Path) -> tuple[dict[str, dict[int, float]], list[SkippedFile]]:
    """Read ``arousal.csv`` or ``valence.csv``: song id -> {time in ms: value}, and the
    rows skipped with reasons.

    Rows may be ragged (fewer cells, or empty trailing cells); empty cells are skipped.

    :raises DatasetError: On a missing file, no ``song_id`` column or a bad header.
    """
    out: dict[str, dict[int, float]] = {}
    first_line: dict[str, int] = {}
    skipped: list[SkippedFile] = []
    for line, row in iter_csv_rows(path, ("song_id",)):
        song = song_id(row["song_id"])
        where = f"{path.name} line {line}: song {song}"
        try:
            series = {
                _time(path, column): _dynamic(column, cell)
                for column, cell in row.items()
                if column != "song_id" and cell != ""
            }
        except Unusable as exc:
            reason = f"{where}: {exc}; the song's dynamic row is not used"
            skipped.append(SkippedFile(path=path, reason=reason))
            continue
        if song in out:
            first = first_line[song]
            again = f"is listed again (first on line {first}); kept line {first}"
            reason = f"{path.name} line {line}: song {song} {again}"
            skipped.append(SkippedFile(path=path, reason=reason))
            continue
        out[song], first_line[song] = series, line
    return out, skipped
