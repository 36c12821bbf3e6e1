"""Small helpers shared by the readers: root checks, common options, bounded reads.

**Limits.** Every reader bounds what it reads; a file over its limit is refused in one
line (an index file: a :class:`DatasetError`; a data file: skipped with the reason):

- index CSVs (MAESTRO, Groove MIDI ``info.csv``, DEAM annotations):
  :data:`INDEX_MAX_BYTES` per file, :data:`INDEX_MAX_LINE` per line and
  :data:`INDEX_MAX_CELLS` cells (rows times header columns);
- MIDI files: :data:`MIDI_MAX_BYTES`; chord JSON: :data:`JSON_MAX_BYTES`; RomanText:
  :data:`RNTXT_MAX_BYTES`; DEAM audio: :data:`AUDIO_MAX_BYTES` and
  :data:`AUDIO_MAX_SECONDS` of decoded audio.

Special files (FIFOs, devices, sockets) and folders are refused before they are opened
(:func:`kelly_core.fileio.read_regular_bytes`).

**Option ranges.** The readers' numeric options have the ranges of
:data:`OPTION_RANGES` (``limit`` 1..10**9 files, ``workers`` 1..256 processes, ...):
``kelly data inspect -O`` checks them while it reads the options, and every reader
again before it reads a file (:func:`check_option_ranges`), so ``limit=-1`` never
silently drops the last file nor ``workers=100000`` starts a process per file.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

from kelly_core.errors import DatasetError
from kelly_core.fileio import InputFileError, read_regular_bytes

__all__ = [
    "AUDIO_MAX_BYTES",
    "AUDIO_MAX_SECONDS",
    "INDEX_MAX_BYTES",
    "INDEX_MAX_CELLS",
    "INDEX_MAX_LINE",
    "JSON_MAX_BYTES",
    "MAX_LIMIT",
    "MAX_WORKERS",
    "MIDI_MAX_BYTES",
    "OPTION_RANGES",
    "RNTXT_MAX_BYTES",
    "SYNTHETIC_MAX_STEPS",
    "Unusable",
    "check_option_ranges",
    "empty_dataset_error",
    "opt_int",
    "opt_str",
    "option_range_problem",
    "read_data_file",
    "require_root",
]

INDEX_MAX_BYTES: Final = 16 * 2**20
"""An index CSV is at most 16 MiB (MAESTRO v3's is about 0.3 MiB)."""
INDEX_MAX_LINE: Final = 128 * 2**10
"""A line of an index CSV is at most 128 KiB (the csv module's own cell limit)."""
INDEX_MAX_CELLS: Final = 4_000_000
"""Rows times header columns of one index CSV."""
MIDI_MAX_BYTES: Final = 8 * 2**20
JSON_MAX_BYTES: Final = 16 * 2**20
RNTXT_MAX_BYTES: Final = 4 * 2**20
AUDIO_MAX_BYTES: Final = 256 * 2**20
AUDIO_MAX_SECONDS: Final = 20 * 60


MAX_LIMIT: Final = 1_000_000_000
MAX_WORKERS: Final = 256
OPTION_RANGES: Final[Mapping[str, tuple[int, int]]] = {
    "limit": (1, MAX_LIMIT),
    "workers": (1, MAX_WORKERS),
    "min_notes": (0, 100_000),
    "seed": (0, 2**64 - 1),
    "items": (1, 100_000),
    "steps": (1, 10_000),
    "pieces": (1, 10_000),
    "render_seed": (0, 2**64 - 1),
}
"""Inclusive range of each integer reader option; ``None`` (where a reader takes it)
means the default: every file, or one process per CPU."""
SYNTHETIC_MAX_STEPS: Final = 2_000_000
"""A synthetic dataset's ``items`` times ``steps``: its items are kept once generated
(at most 768 bytes a step, so about 1.5 GB at the limit)."""


def option_range_problem(key: str, value: object) -> str | None:
    """``"expected an integer in 1..256, got 0"`` if ``value`` is outside option
    ``key``'s range (:data:`OPTION_RANGES`), else None (also for an option without one)."""
    bounds = OPTION_RANGES.get(key)
    if bounds is None or value is None or isinstance(value, bool) or not isinstance(value, int):
        return None
    low, high = bounds
    return None if low <= value <= high else f"expected an integer in {low}..{high}, got {value}"


def check_option_ranges(dataset: str, options: Mapping[str, object]) -> None:
    """Refuse the first option of ``options`` outside its range, naming it.

    :raises DatasetError: ``dataset 'lakh': option 'limit': expected an integer in
        1..1000000000, got -1`` (field ``--option limit``).
    """
    for key, value in options.items():
        problem = option_range_problem(key, value)
        if problem is not None:
            raise DatasetError(
                f"dataset {dataset!r}: option {key!r}: {problem}",
                field=f"--option {key}",
                expected=OPTION_RANGES[key],
                got=value,
            )


class Unusable(ValueError):  # noqa: N818  # a reason, not a failure of Kelly
    """Raised by a reader's worker for a file it cannot use; the message is the skip
    reason, a sentence naming what was wrong and what was expected. ``detail`` keeps
    the parser's own words for the debug log."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(reason, detail)
        self.reason = reason
        self.detail = detail

    def __str__(self) -> str:
        """The reason."""
        return self.reason


def read_data_file(path: Path, *, limit: int, what: str) -> bytes:
    """Read a data file (MIDI, JSON, ...) of at most ``limit`` bytes in a worker.

    :raises Unusable: If it is not a regular file, is larger than ``limit`` or cannot be
        read (the reason says which).
    """
    try:
        return read_regular_bytes(path, limit=limit, what=what)
    except InputFileError as exc:
        raise Unusable(exc.reason) from None


def require_root(root: Path | None, name: str) -> Path:
    """Return ``root`` as an existing folder, or raise ``DatasetError`` naming the dataset."""
    if root is None:
        raise DatasetError(f"dataset {name!r} needs a root folder", field="root")
    path = Path(root)
    if not path.is_dir():
        raise DatasetError(f"dataset {name!r}: folder not found", path=path, field="root")
    return path


def empty_dataset_error(name: str, root: Path | None, skipped: int) -> DatasetError:
    """The error for a dataset with no items: names the dataset, the folder, the skips."""
    where = f"in {root}" if root is not None else "(generated)"
    why = (
        f"all {skipped} files were skipped (see `kelly data inspect {name} {root or '-'}`)"
        if skipped
        else "no files of its layout were found"
    )
    return DatasetError(f"dataset {name!r} {where} has no items: {why}", path=root)


def opt_int(options: Mapping[str, object], key: str) -> int:
    """Return option ``key`` as an int (options travel to workers as a plain mapping)."""
    value = options[key]
    if not isinstance(value, int | float | str):
        raise DatasetError(f"option {key!r} must be a number", field=key, got=value)
    return int(value)


def opt_str(options: Mapping[str, object], key: str) -> str:
    """Return option ``key`` as a string."""
    return str(options[key])
