"""Validate RTNeural files: parse, schema (:mod:`.schema`), then :mod:`.check`."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError
from kelly_core.specs import ModelSpec
from kelly_export.check import check_document
from kelly_export.problems import Problem
from kelly_export.schema import schema_problems

__all__ = [
    "collect_files",
    "load_document",
    "looks_like_model",
    "validate_document",
    "validate_file",
    "validate_found_file",
]


def load_document(path: Path) -> object:
    """Parse ``path`` as JSON; the ``NaN``/``Infinity`` tokens parse (the checks report them).

    :raises ExportError: If the file cannot be read or is not JSON (line and column given).
    """
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ExportError(f"cannot read: {exc}", path=path) from exc
    try:
        document: object = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ExportError(
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", path=path
        ) from exc
    return document


def validate_document(
    document: object,
    *,
    source: str | Path | None = None,
    known_specs: Mapping[str, ModelSpec] = MODEL_SPECS,
) -> list[Problem]:
    """Return every problem in ``document``: schema violations first, then the checks."""
    return schema_problems(document, source=source) + check_document(
        document, source=source, known_specs=known_specs
    )


def looks_like_model(document: object) -> bool:
    """Whether ``document`` claims to be a model file: an object with ``layers`` or ``in_shape``.

    Used to pass over other JSON found in a folder (``summary.json``, metrics); a file
    named explicitly is always validated.
    """
    return isinstance(document, dict) and ("layers" in document or "in_shape" in document)


def _validate(
    path: Path, known_specs: Mapping[str, ModelSpec], *, skip_non_models: bool
) -> list[Problem] | None:
    try:
        document = load_document(path)
    except ExportError as exc:
        return [Problem(reason=exc.reason, path=path, field="$")]
    if skip_non_models and not looks_like_model(document):
        return None
    return validate_document(document, source=path, known_specs=known_specs)


def validate_file(
    path: Path, *, known_specs: Mapping[str, ModelSpec] = MODEL_SPECS
) -> list[Problem]:
    """Return every problem in the file at ``path`` (an unreadable file is one problem)."""
    return _validate(path, known_specs, skip_non_models=False) or []


def validate_found_file(
    path: Path, *, known_specs: Mapping[str, ModelSpec] = MODEL_SPECS
) -> list[Problem] | None:
    """Like :func:`validate_file` for a file found in a folder: ``None`` if it parses but is
    not a model file (see :func:`looks_like_model`), so that it can be passed over."""
    return _validate(path, known_specs, skip_non_models=True)


def collect_files(paths: Iterable[Path]) -> list[tuple[Path, bool]]:
    """Expand folders to their ``*.json`` files (recursively, sorted); keep files as given.

    :returns: ``(path, named)`` pairs: ``named`` is True for a file given by the caller,
        False for one found in a folder.
    """
    files: list[tuple[Path, bool]] = []
    for path in paths:
        if Path(path).is_dir():
            files.extend(
                (p, False) for p in sorted(Path(path).rglob("*.json")) if p.is_file()
            )
        else:
            files.append((Path(path), True))
    return files
