"""Tests for kelly_export.schema: the packaged schema, its copy, and error paths."""

from __future__ import annotations

from pathlib import Path

import jsonschema

from kelly_export.schema import SCHEMA_FILE, json_path, load_schema, schema_path, schema_problems
from tests.unit.kelly_export.helpers import small_document

_ROOT = Path(__file__).resolve().parents[3]


class TestSchemaFile:
    def test_is_a_valid_2020_12_schema_with_id(self) -> None:
        """The schema passes check_schema and has a $id."""
        schema = load_schema()
        jsonschema.Draft202012Validator.check_schema(schema)
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        assert str(schema["$id"]).startswith("urn:kelly:schema:rtneural-model:")

    def test_packaged_copy_is_found_and_equals_top_level_copy(self) -> None:
        """The package's schema file is byte-identical to schemas/ at the repository root."""
        packaged = schema_path()
        assert packaged.parts[-3:] == ("kelly_export", "schemas", SCHEMA_FILE)
        assert packaged.read_bytes() == (_ROOT / "schemas" / SCHEMA_FILE).read_bytes()


class TestProblems:
    def test_json_path(self) -> None:
        """Path parts render as layers[2].weights[0]; the root is $."""
        assert json_path(["layers", 2, "weights", 0]) == "layers[2].weights[0]"
        assert json_path([]) == "$"

    def test_missing_top_level_key(self) -> None:
        """A missing in_shape is reported at the root."""
        document = small_document("DynamicsEngine")
        del document["in_shape"]
        problems = schema_problems(document, source="m.json")
        assert [str(p) for p in problems] == ["m.json: $: 'in_shape' is a required property"]

    def test_string_inside_weights_is_found_at_its_path(self) -> None:
        """A non-number deep in a kernel is reported with its full JSON path."""
        document = small_document("DynamicsEngine")
        document["layers"][0]["weights"][0][5][7] = "0.1"  # type: ignore[index]
        problems = schema_problems(document)
        assert [p.field for p in problems] == ["layers[0].weights[0][5][7]"]

    def test_pruning_keeps_the_outcome_for_empty_arrays(self) -> None:
        """An empty bias still fails minItems although numeric arrays are pruned."""
        document = small_document("DynamicsEngine")
        document["layers"][2]["weights"][1] = []  # type: ignore[index]
        problems = schema_problems(document)
        assert [p.field for p in problems] == ["layers[2].weights[1]"]

    def test_metadata_requires_kelly_keys(self) -> None:
        """Metadata without spec_hash is a schema problem at metadata."""
        document = small_document("DynamicsEngine")
        del document["metadata"]["spec_hash"]  # type: ignore[attr-defined]
        problems = schema_problems(document)
        assert [(p.field, p.reason) for p in problems] == [
            ("metadata", "'spec_hash' is a required property")
        ]
