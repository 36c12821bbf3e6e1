"""Small helpers shared by the readers (root checks, common options)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from kelly_core.errors import DatasetError

__all__ = ["empty_dataset_error", "opt_int", "opt_str", "require_root"]


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
