"""Finding a model's file in a folder: ``<file stem><suffix>`` for every registered format.

The one finder behind :meth:`kelly_runtime.pipeline.Pipeline.from_directory` (and so
``kelly generate``), :func:`kelly_runtime.loading.load_stage_file` and ``kelly bench
--models``. The suffixes are the registered exporters' (:meth:`Registry.model_suffixes`,
highest ``ExporterEntry.priority`` first: RTNeural ``.json``, then the ``.pt``
checkpoint, then a plugin's format), so a plugin exporter's files are found too.
"""

from __future__ import annotations

import os
from pathlib import Path

from kelly_core.registry import Registry

__all__ = ["find_model_file", "model_file_candidates"]


def model_file_candidates(folder: Path, stem: str, registry: Registry) -> tuple[Path, ...]:
    """``<folder>/<stem><suffix>`` for each registered suffix, in preference order."""
    return tuple(Path(folder) / f"{stem}{suffix}" for suffix in registry.model_suffixes())


def find_model_file(folder: Path, stem: str, registry: Registry) -> Path | None:
    """The first candidate that exists (a link or a special file too: the reader refuses
    it with a reason), or None when the folder holds none."""
    return next(
        (p for p in model_file_candidates(folder, stem, registry) if os.path.lexists(p)), None
    )
