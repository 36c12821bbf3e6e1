"""Validate RTNeural files: parse, schema (:mod:`.schema`), then :mod:`.check`."""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Final

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError, KellyError
from kelly_core.fileio import file_kind
from kelly_core.specs import ModelSpec
from kelly_export import strict_json
from kelly_export.check import NO_SPEC_REASON, check_document
from kelly_export.problems import Problem
from kelly_export.schema import json_path, schema_problems

__all__ = [
    "DEFAULT_MAX_BYTES",
    "MAX_BYTES_ENV",
    "MAX_DEPTH",
    "collect_files",
    "load_document",
    "looks_legacy",
    "looks_like_model",
    "max_model_bytes",
    "parse_json",
    "read_text",
    "validate_document",
    "validate_file",
    "validate_found_file",
]


MAX_BYTES_ENV: Final = "KELLY_MAX_MODEL_BYTES"
"""Environment variable that overrides :data:`DEFAULT_MAX_BYTES` (a number of bytes)."""
DEFAULT_MAX_BYTES: Final = 64 * 1024 * 1024
"""Largest model file read by default: 64 MiB, over 4 times the largest catalog model
(MelodyTransformer, about 14 MB); parsing costs about 4 bytes of memory per file byte."""
MAX_DEPTH: Final = 16
"""Deepest nesting of arrays and objects accepted (a Kelly file nests 6 levels)."""
_LONG_INT: Final = 18


def max_model_bytes() -> int:
    """Return the size limit for model files: ``$KELLY_MAX_MODEL_BYTES``, else 64 MiB.

    :raises KellyError: If the variable is set to something other than a positive integer.
    """
    text = os.environ.get(MAX_BYTES_ENV, "").strip()
    if not text:
        return DEFAULT_MAX_BYTES
    if not text.isdigit() or int(text) < 1:
        raise KellyError(
            f"{MAX_BYTES_ENV} must be a positive number of bytes, got {text!r}",
            field=MAX_BYTES_ENV,
        )
    return int(text)


def _parse_int(text: str) -> int | float:
    """JSON integers: an int, or a float when long (no 4300-digit limit, no OverflowError
    later; a value beyond float32 is then reported by the checks)."""
    return int(text) if len(text) <= _LONG_INT else float(text)


def read_text(path: Path, *, max_bytes: int | None = None, what: str = "model file") -> str:
    """Read ``path`` as UTF-8 after checking that it is a file within the size limit.

    :raises ExportError: Missing, not a regular file (a folder, a FIFO, a device), over the
        limit, unreadable or not UTF-8.
    """
    limit = max_model_bytes() if max_bytes is None else max_bytes
    try:
        info = path.stat()
    except OSError as exc:
        reason = "no such file" if isinstance(exc, FileNotFoundError) else exc.strerror
        raise ExportError(f"cannot read: {reason}", path=path) from exc
    except ValueError as exc:  # an embedded NUL byte in the name
        raise ExportError(f"not a valid file name: {exc}", path=path) from exc
    if not stat.S_ISREG(info.st_mode):  # a FIFO would block, a device never end: not opened
        raise ExportError(f"is {file_kind(info.st_mode)}; expected a {what}", path=path)
    if info.st_size > limit:
        raise ExportError(
            f"file is {info.st_size:,} bytes, over the {limit:,}-byte limit for a {what}; "
            f"set {MAX_BYTES_ENV} to a larger number of bytes to read it",
            path=path,
            expected=limit,
            got=info.st_size,
        )
    try:
        with path.open("rb") as handle:
            data = handle.read(limit + 1)
    except OSError as exc:
        raise ExportError(f"cannot read: {exc.strerror or exc}", path=path) from exc
    if len(data) > limit:  # grew since the stat
        raise ExportError(f"file is over the {limit:,}-byte limit for a {what}", path=path)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ExportError(f"not UTF-8 text: invalid byte at offset {exc.start}", path=path) from exc


def parse_json(text: str, *, path: Path | None = None) -> object:
    """Parse JSON text that every parser reads one way (:mod:`.strict_json`).

    :raises ExportError: If it is not JSON (line and column given; a UTF-8 byte-order
        mark included), holds a duplicate key, a ``NaN``/``Infinity`` token or a lone
        surrogate (the JSON path given), or nests deeper than :data:`MAX_DEPTH`.
    """
    try:
        document: object = strict_json.loads(text, parse_int=_parse_int)
    except strict_json.NotStrictJSONError as exc:
        raise ExportError(exc.reason, path=path, field=exc.field) from exc
    except json.JSONDecodeError as exc:
        raise ExportError(
            f"not JSON: {exc.msg} at line {exc.lineno}, column {exc.colno}", path=path
        ) from exc
    except RecursionError as exc:
        raise ExportError(
            f"arrays or objects nested too deeply; expected at most {MAX_DEPTH} levels",
            path=path,
            expected=MAX_DEPTH,
        ) from exc
    field = _too_deep(document)
    if field is not None:
        raise ExportError(
            f"nested more than {MAX_DEPTH} levels deep; expected at most {MAX_DEPTH}",
            path=path,
            field=field,
            expected=MAX_DEPTH,
        )
    return document


def _too_deep(document: object) -> str | None:
    """Return the JSON path of the first container deeper than :data:`MAX_DEPTH`, or None.

    Iterative (no recursion); lists of numbers are passed over in one C-level scan.
    """
    stack: list[tuple[object, int, tuple[str | int, ...]]] = [(document, 1, ())]
    while stack:
        node, depth, where = stack.pop()
        if depth > MAX_DEPTH:
            return json_path(where)
        if type(node) is dict:
            children: Iterable[tuple[str | int, object]] = node.items()
        elif type(node) is list:
            kinds = set(map(type, node))  # one C-level pass over a row of numbers
            if list not in kinds and dict not in kinds:
                continue
            children = enumerate(node)
        else:
            continue
        for key, child in children:
            if type(child) is list or type(child) is dict:
                stack.append((child, depth + 1, (*where, key)))
    return None


def load_document(path: Path, *, max_bytes: int | None = None) -> object:
    """Read and parse a model file within the size and depth limits.

    :param max_bytes: Size limit (default :func:`max_model_bytes`).
    :raises ExportError: If the file cannot be read, is too large, is not JSON (line and
        column given) or nests too deeply.
    """
    path = Path(path)
    return parse_json(read_text(path, max_bytes=max_bytes), path=path)


def looks_legacy(document: object) -> bool:
    """Whether ``document`` is in the legacy layout ``kelly convert`` reads (no ``in_shape``;
    ``in_size`` on top or in the first layer, or dense ``bias`` / LSTM ``weights_ih`` keys)."""
    if not isinstance(document, dict) or "in_shape" in document:
        return False
    if "in_size" in document:
        return True
    layers = document.get("layers")
    if not isinstance(layers, list) or not layers or not isinstance(layers[0], dict):
        return False
    return bool({"in_size", "out_size", "bias", "weights_ih"} & set(layers[0]))


def validate_document(
    document: object,
    *,
    source: str | Path | None = None,
    known_specs: Mapping[str, ModelSpec] = MODEL_SPECS,
) -> list[Problem]:
    """Return every problem in ``document``: schema violations first, then the checks.

    A file in the legacy layout gets one problem that says to convert it. When the schema
    fails, the note that no model could be inferred is left out (the schema says why).
    """
    if looks_legacy(document):
        return [
            Problem(
                reason="this is the legacy layout of the original design (in_size, out_size, "
                "bias, weights_ih), which RTNeural cannot load; convert it with "
                f"`kelly convert {source or 'FILE'} --output NEW.json`",
                path=source,
                field="$",
                expected="in_shape",
            )
        ]
    schema = schema_problems(document, source=source)
    checks = check_document(document, source=source, known_specs=known_specs)
    if schema:
        checks = [p for p in checks if not p.reason.startswith(NO_SPEC_REASON)]
    return schema + checks


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
        return [Problem(reason=exc.reason, path=path, field=exc.field or "$")]
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
                (p, False)
                for p in sorted(Path(path).rglob("*.json"))
                if p.is_file() and not any(part.startswith(".") for part in p.parts[-1:])
            )
        else:
            files.append((Path(path), True))
    return files
