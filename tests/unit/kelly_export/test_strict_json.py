"""Model files that JSON parsers may read two ways never validate as ok."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kelly_core.cli import main
from kelly_export.strict_json import NotStrictJSONError, loads
from kelly_export.validate import validate_file
from tests.unit.kelly_export.helpers import small_document


def _valid_text() -> str:
    return json.dumps(small_document("DynamicsEngine"))


def _first_activation(text: str) -> int:
    index = text.index('"activation"')
    assert index > 0
    return index


def _duplicate_key(text: str) -> str:
    """The first layer's activation given twice: "tanh" first, the real one last."""
    index = _first_activation(text)
    return text[:index] + '"activation": "tanh", ' + text[index:]


def _nan_in_metadata(text: str) -> str:
    return text.replace('"metadata": {', '"metadata": {"gain": NaN, ', 1)


def _infinity_weight(text: str) -> str:
    document = small_document("DynamicsEngine")
    first = str(document["layers"][0]["weights"][0][0][0])  # type: ignore[index]  # test data
    return text.replace(first, "-Infinity", 1)


def _bom(text: str) -> str:
    return "\ufeff" + text


def _lone_surrogate(text: str) -> str:
    return text.replace('"metadata": {', '"metadata": {"note": "a\\ud800b", ', 1)


def _lone_surrogate_key(text: str) -> str:
    return text.replace('"metadata": {', '"metadata": {"\\udc00": 1, ', 1)


CASES = [
    (_duplicate_key, "duplicate key 'activation' in one object", "layers[0]"),
    (
        _nan_in_metadata,
        "expected a finite number, got nan (the token NaN is not JSON",
        "metadata.gain",
    ),
    (
        _infinity_weight,
        "got -infinity (the token -Infinity is not JSON",
        "layers[0].weights[0][0][0]",
    ),
    (_bom, "Unexpected UTF-8 BOM", "$"),
    (_lone_surrogate, "lone UTF-16 surrogate", "metadata"),
    (_lone_surrogate_key, "lone UTF-16 surrogate", "metadata"),
]


class TestAmbiguousJson:
    def test_the_plain_file_is_valid(self, tmp_path: Path) -> None:
        """The unmodified document validates (the cases below differ only by the edit)."""
        path = tmp_path / "m.json"
        path.write_text(_valid_text(), encoding="utf-8")
        assert validate_file(path) == []

    @pytest.mark.parametrize(("edit", "message", "field"), CASES)
    def test_validate_reports_it(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], edit: object, message: str,
        field: str,
    ) -> None:  # fmt: skip
        """kelly validate says FAIL with the reason and the JSON path, exit 1."""
        path = tmp_path / "m.json"
        path.write_text(edit(_valid_text()), encoding="utf-8")  # type: ignore[operator]
        problems = validate_file(path)
        assert len(problems) == 1
        assert message in problems[0].reason
        assert problems[0].field == field
        assert main(["validate", str(path)]) == 1
        out = capsys.readouterr().out
        assert out.startswith(f"FAIL  {path}")
        assert "0 of 1 model files valid" in out

    def test_duplicate_keys_in_a_legacy_file_refuse_conversion(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """kelly convert reads through the same parser: a duplicate key is one error line."""
        path = tmp_path / "legacy.json"
        path.write_text('{"layers": [], "layers": [1], "in_size": 3}', encoding="utf-8")
        assert main(["convert", str(path), "-o", str(tmp_path / "o.json")]) == 2
        err = capsys.readouterr().err
        assert err.startswith(f"kelly: error: {path}: $: duplicate key 'layers'")

    def test_valid_surrogate_pair_is_fine(self) -> None:
        """A proper pair (an emoji as \\ud83c\\udfb5) is one character, not a lone half."""
        assert loads('{"name": "\\ud83c\\udfb5"}') == {"name": "\U0001f3b5"}

    def test_error_carries_the_path(self) -> None:
        """The exception holds the JSON path of the first offending value."""
        with pytest.raises(NotStrictJSONError) as info:
            loads('{"a": [1, 2, {"b": 1, "b": 2}]}')
        assert info.value.field == "a[2]"
