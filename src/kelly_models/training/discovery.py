"""Which dataset trains which model: readers' folder conventions, the guess hook, synthetic.

For each model, in order:

1. ``--synthetic`` given, or no ``--datasets-dir``: the model's synthetic dataset.
2. A registered reader for the model (``DatasetEntry.model``) whose ``folder_names``
   include a folder present under ``--datasets-dir`` (first reader, first name wins;
   names are matched exactly, then case-insensitively).
3. A folder under ``--datasets-dir`` (or the folder itself) for which the
   ``kelly_guess_dataset`` hook names a reader of this model.
4. Otherwise the model's synthetic dataset, with a warning that says so.

A synthetic dataset is an entry of the model whose name starts with ``synthetic``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import cast

import attrs

from kelly_core.entries import DatasetEntry
from kelly_core.errors import DatasetError, KellyError
from kelly_core.fileio import input_problem
from kelly_core.registry import Registry

__all__ = ["DatasetChoice", "find_dataset", "synthetic_dataset"]

logger = logging.getLogger(__name__)

SYNTHETIC_PREFIX = "synthetic"


@attrs.frozen(kw_only=True)
class DatasetChoice:
    """A dataset chosen for a model."""

    name: str
    """Registered dataset name."""
    root: Path | None
    """Its folder; None for a synthetic dataset."""
    reason: str
    """Why it was chosen (shown to the user)."""

    @property
    def synthetic(self) -> bool:
        """Whether the data is generated rather than read."""
        return self.root is None


def _entries_for(registry: Registry, model: str) -> list[DatasetEntry]:
    return [
        cast(DatasetEntry, r.entry)
        for r in registry.entries("dataset")
        if cast(DatasetEntry, r.entry).model == model and r.usable
    ]


def synthetic_dataset(registry: Registry, model: str) -> str:
    """Return the name of ``model``'s synthetic dataset.

    :raises DatasetError: If no synthetic dataset is registered for it.
    """
    for entry in _entries_for(registry, model):
        if entry.name.startswith(SYNTHETIC_PREFIX):
            return entry.name
    raise DatasetError(
        f"no synthetic dataset is registered for {model!r}; pass --datasets-dir with its data",
        field="model",
        expected=f"{SYNTHETIC_PREFIX}-*",
        got=model,
    )


def find_dataset(
    registry: Registry, model: str, datasets_dir: Path | None, *, synthetic: bool = False
) -> DatasetChoice:
    """Choose the dataset that trains ``model`` (see the module docstring)."""
    if synthetic or datasets_dir is None:
        why = "--synthetic" if synthetic else "no --datasets-dir"
        return DatasetChoice(name=synthetic_dataset(registry, model), root=None, reason=why)
    problem = input_problem(datasets_dir, kind="folder", what="datasets folder")
    if problem is not None:
        raise DatasetError(problem, path=datasets_dir, field="--datasets-dir")
    folders = sorted(p for p in datasets_dir.iterdir() if p.is_dir())
    by_lower = {p.name.lower(): p for p in folders}
    readers = [e for e in _entries_for(registry, model) if not e.name.startswith(SYNTHETIC_PREFIX)]
    for entry in readers:
        for folder_name in entry.folder_names:
            exact = datasets_dir / folder_name
            match = exact if exact.is_dir() else by_lower.get(folder_name.lower())
            if match is not None:
                return DatasetChoice(name=entry.name, root=match, reason=f"folder {match.name!r}")
    reader_names = {e.name for e in readers}
    for folder in [*folders, datasets_dir]:
        try:
            guess = registry.hook.kelly_guess_dataset(root=folder)
        except KellyError as exc:
            logger.debug("kelly_guess_dataset failed on %s: %s", folder, exc)
            continue
        if guess in reader_names:
            return DatasetChoice(name=str(guess), root=folder, reason=f"recognised {folder.name!r}")
    name = synthetic_dataset(registry, model)
    looked = sorted({n for e in readers for n in e.folder_names})
    logger.warning(
        "%s: no dataset found under %s (looked for %s); training on synthetic data %r instead",
        model,
        datasets_dir,
        ", ".join(looked) if looked else "no registered reader",
        name,
    )
    return DatasetChoice(name=name, root=None, reason="nothing found under --datasets-dir")
