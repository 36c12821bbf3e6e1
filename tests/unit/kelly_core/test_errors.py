"""KellyError.located: an error placed in a file or an enclosing field, facts kept."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.errors import (
    DatasetError,
    ExportError,
    KellyError,
    PluginError,
    SpecError,
    join_field,
)
from kelly_core.specs import ModelSpec

_SPEC = {"name": "Tiny", "input_size": 4, "layers": [{"kind": "dense", "size": 2}]}


class TestJoinField:
    def test_dotted_and_indexed(self) -> None:
        """A name joins with a dot, an index without one; a missing side is left out."""
        assert join_field("spec", "layers[0].size") == "spec.layers[0].size"
        assert join_field("layers", "[2]") == "layers[2]"
        assert join_field(None, "size") == "size"
        assert join_field("spec", None) == "spec"
        assert join_field(None, None) is None

    @given(
        st.from_regex(r"[a-z]{1,5}", fullmatch=True), st.from_regex(r"[a-z]{1,5}", fullmatch=True)
    )
    def test_names_keep_both_parts(self, prefix: str, field: str) -> None:
        """Any two names give ``prefix.field``."""
        assert join_field(prefix, field) == f"{prefix}.{field}"


class TestLocated:
    def test_keeps_facts_and_adds_location(self) -> None:
        """Reason, expected and got are kept; the path and the prefix are added."""
        inner = SpecError("expected int, got str", field="size", expected="int", got="8")
        outer = inner.located(ExportError, path="m.pt", prefix="spec.layers[1]")
        assert isinstance(outer, ExportError)
        assert (outer.path, outer.field) == (Path("m.pt"), "spec.layers[1].size")
        assert (outer.reason, outer.expected, outer.got) == ("expected int, got str", "int", "8")
        assert str(outer) == "m.pt: spec.layers[1].size: expected int, got str"

    def test_same_class_by_default_and_inner_path_kept(self) -> None:
        """Without a class the error keeps its own; without a path it keeps the one it names."""
        inner = DatasetError("bad row", path="index.csv", field="valence", got=7)
        outer = inner.located(prefix="rows[3]")
        assert type(outer) is DatasetError
        assert outer.path == Path("index.csv")
        assert outer.field == "rows[3].valence"
        assert outer.got == 7

    def test_new_reason_and_subclass_attributes(self) -> None:
        """A new reason replaces the message; a subclass's own attributes survive."""
        inner = PluginError("hook returned None", plugin="kelly_onnx")
        outer = inner.located(path="x.json", reason="converted: hook returned None")
        assert isinstance(outer, PluginError)
        assert outer.plugin == "kelly_onnx"
        assert str(outer) == "x.json: converted: hook returned None"

    def test_base_class_target(self) -> None:
        """Turning a subclass into the base KellyError keeps the field."""
        outer = ExportError("bad key", field="spec").located(KellyError, path="c.pt")
        assert type(outer) is KellyError
        assert str(outer) == "c.pt: spec: bad key"


class TestSpecFromDictLocation:
    def test_string_layer_size_names_its_json_path_and_expected(self) -> None:
        """A layer whose size is a string: ``layers[0].size`` once, with ``expected``."""
        data = {**_SPEC, "layers": [{"kind": "dense", "size": "2"}]}
        with pytest.raises(SpecError) as info:
            ModelSpec.from_dict(data, source="m.json")
        assert info.value.field == "layers[0].size"
        assert info.value.expected == "int"
        assert info.value.got == "2"
        assert str(info.value) == "m.json: layers[0].size: expected int, got str"

    def test_missing_layer_key_names_the_layer(self) -> None:
        """A layer without ``kind``: the layer is the field and ``kind`` the expected key."""
        data = {**_SPEC, "layers": [{}, {"size": 3}]}
        data["layers"] = [{"kind": "dense", "size": 2}, {"size": 3}]
        with pytest.raises(SpecError) as info:
            ModelSpec.from_dict(data, source="m.json")
        assert info.value.field == "layers[1]"
        assert info.value.expected == "kind"

    def test_validator_error_is_prefixed(self) -> None:
        """A LayerSpec validator's field (``activation``) gets the layer's prefix."""
        data = {**_SPEC, "layers": [{"kind": "dense", "size": 2, "activation": "swish"}]}
        with pytest.raises(SpecError) as info:
            ModelSpec.from_dict(data, source="m.json")
        assert info.value.field == "layers[0].activation"
        assert info.value.got == "swish"
