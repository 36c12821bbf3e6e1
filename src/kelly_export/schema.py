"""The packaged JSON Schema of Kelly's RTNeural files, and its errors as JSON paths.

The canonical schema is ``kelly_export/schemas/rtneural-model.schema.json`` (inside the
package, so an installed wheel has it); the repository's top-level
``schemas/rtneural-model.schema.json`` is a byte-identical copy (a test checks it) and
the fallback when the package copy is missing.

Speed: a model file holds up to ~640,000 numbers and jsonschema checks each one in
Python (~5 µs each). Before validating, every weight array that a fast exact scan
(:func:`kelly_export.check.numeric_array`) finds to be a list of JSON numbers, or of
equal-length lists of them, is replaced by its first element(s). The schema only
constrains those arrays' element types and ``minItems: 1``, so the outcome is the same;
sizes are checked by :mod:`kelly_export.check` on the full arrays.
"""

from __future__ import annotations

import functools
import json
import reprlib
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Final, cast

import jsonschema

from kelly_export.check import numeric_array
from kelly_export.problems import Problem

__all__ = ["SCHEMA_FILE", "json_path", "load_schema", "schema_path", "schema_problems"]

SCHEMA_FILE: Final = "rtneural-model.schema.json"


def schema_path() -> Path:
    """Return the schema file's path: the package copy, else the repository's ``schemas/``."""
    packaged = resources.files("kelly_export").joinpath("schemas", SCHEMA_FILE)
    if packaged.is_file():
        return Path(str(packaged))
    repository = Path(__file__).resolve().parents[2] / "schemas" / SCHEMA_FILE
    if repository.is_file():
        return repository
    raise FileNotFoundError(f"{SCHEMA_FILE} is neither in kelly_export/schemas nor in schemas/")


@functools.cache
def load_schema() -> Mapping[str, object]:
    """Return the schema (parsed once, checked against the 2020-12 meta-schema)."""
    schema = cast(dict[str, object], json.loads(schema_path().read_text(encoding="utf-8")))
    jsonschema.Draft202012Validator.check_schema(schema)
    return schema


@functools.cache
def _validator() -> jsonschema.Draft202012Validator:
    return jsonschema.Draft202012Validator(load_schema())


def json_path(parts: Iterable[str | int]) -> str:
    """Return ``layers[2].weights[0]`` for ``("layers", 2, "weights", 0)``; ``$`` for the root."""
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text or "$"


def _prune(document: object) -> object:
    """Return a copy of ``document`` with each all-numeric weight array cut to a stand-in."""
    if not isinstance(document, dict):
        return document
    layers = document.get("layers")
    if not isinstance(layers, list):
        return document
    pruned_layers: list[object] = []
    for layer in layers:
        weights = layer.get("weights") if isinstance(layer, dict) else None
        if not isinstance(weights, list):
            pruned_layers.append(layer)
            continue
        small: list[object] = []
        for entry in weights:
            array = numeric_array(entry)
            if array is None or array.size == 0:
                small.append(entry)
            elif array.ndim == 1:
                small.append(entry[:1])
            else:
                small.append([row[:1] for row in entry[:1]])
        pruned_layers.append({**layer, "weights": small})
    return {**document, "layers": pruned_layers}


_JSON_TYPES: Final = {
    dict: "an object", list: "an array", str: "a string", bool: "a boolean",
    int: "an integer", float: "a number", type(None): "null",
}  # fmt: skip
_MAX_SHOWN: Final = 60
_SHORT: Final = reprlib.Repr()
_SHORT.maxlist = _SHORT.maxdict = 3
_SHORT.maxlevel = 2
_SHORT.maxstring = 20


def _show(value: object) -> str:
    """A short description of a JSON value: its repr if short, else its type and size."""
    if isinstance(value, (dict, list)):
        kind = _JSON_TYPES[type(value)]
        count = f"{len(value)} {'keys' if isinstance(value, dict) else 'items'}"
        text = _SHORT.repr(value)
        return text if len(text) <= _MAX_SHOWN else f"{kind} of {count}"
    text = repr(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _kind(value: object) -> str:
    return _JSON_TYPES.get(type(value), type(value).__name__)


def _message(error: jsonschema.ValidationError) -> str:
    """One short line per violation; never the whole offending value (it may be 14 MB)."""
    value, rule, instance = error.validator_value, error.validator, error.instance
    if rule == "type":
        wanted = value if isinstance(value, str) else " or ".join(map(str, cast(list[str], value)))
        return f"expected {wanted}, got {_kind(instance)} {_show(instance)}"
    if rule in ("enum", "const"):
        options = cast(list[object], value) if rule == "enum" else [value]
        listed = ", ".join(_show(o) for o in options[:12])
        return f"expected one of {listed}, got {_show(instance)}"
    if rule in ("minItems", "maxItems", "items") and isinstance(instance, list):
        if rule == "minItems":
            return f"expected at least {value} items, got {len(instance)}"
        if rule == "maxItems":
            return f"expected at most {value} items, got {len(instance)}"
        return f"too many items: got {len(instance)}"
    if rule == "additionalProperties" and isinstance(instance, dict):
        return f"unexpected keys; this object has {_show(sorted(instance))}"
    if rule in ("minimum", "maximum", "pattern"):
        return f"{rule} {_show(value)}: got {_show(instance)}"
    text = error.message
    return text if len(text) <= 2 * _MAX_SHOWN else text[: 2 * _MAX_SHOWN - 3] + "..."


def schema_problems(document: object, *, source: str | Path | None = None) -> list[Problem]:
    """Return one problem per schema violation, each naming its JSON path, sorted by path."""
    errors = sorted(
        _validator().iter_errors(_prune(document)), key=lambda e: list(map(str, e.absolute_path))
    )
    problems: list[Problem] = []
    for error in errors:
        problems.append(
            Problem(
                reason=_message(error),
                path=source,
                field=json_path(error.absolute_path),
                expected=error.validator
                if isinstance(error.validator_value, (dict, bool))
                else error.validator_value,
                got=error.instance if not isinstance(error.instance, (list, dict)) else None,
            )
        )
    return problems
