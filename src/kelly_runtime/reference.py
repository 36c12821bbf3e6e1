"""Kelly's reference models: the five model files that ship inside the package.

``kelly train-reference`` trains them (docs/training.md says on which data, with their
held-out figures) and, with ``--install``, writes them to :data:`REFERENCE_DIR`
(``kelly_runtime/generate/models/reference/``, beside the beat trackers), as compact
RTNeural files (weights rounded to a few decimals: :mod:`kelly_export.compact`).
``kelly generate`` runs them when no ``--models`` folder is given (``--fallback`` asks for
the fallback rules instead); from Python, pass :func:`reference_models_dir` as
``models_dir``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

from kelly_core.catalog import MODEL_SPECS
from kelly_core.registry import Registry, default_registry
from kelly_runtime.model_files import find_model_file

__all__ = ["REFERENCE_DIR", "reference_model_files", "reference_models_dir"]

REFERENCE_DIR: Final = Path(__file__).resolve().parent / "generate" / "models" / "reference"
"""Where the shipped reference models live (package data)."""


def reference_model_files(
    folder: Path = REFERENCE_DIR, registry: Registry | None = None
) -> dict[str, Path]:
    """Model name -> the file of it that ``folder`` holds (only the models it holds)."""
    registry = registry if registry is not None else default_registry()
    found = {
        name: find_model_file(folder, MODEL_SPECS[name].file_stem, registry) for name in MODEL_SPECS
    }
    return {name: path for name, path in found.items() if path is not None}


def reference_models_dir(folder: Path = REFERENCE_DIR) -> Path | None:
    """``folder`` when it holds at least one reference model file, else None (an
    installation without them: generate then runs the fallback rules, with a warning)."""
    return folder if folder.is_dir() and reference_model_files(folder) else None
