"""The optional members of the plugin interfaces, read through their declared protocols."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pytest

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import DatasetError
from kelly_core.interfaces import (
    Backend,
    Dataset,
    FastBackend,
    SpecBackend,
    backend_spec,
    dataset_tonal_reference,
    unchecked_step,
)
from kelly_core.options import option_problem, parse_option
from kelly_core.records import Example, SkippedFile
from kelly_core.specs import ModelSpec


class _Plain:
    """The four Backend methods and nothing else: output = 2 x the first values."""

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        self.size = spec.output_size

    def step(self, frame: FloatArray) -> FloatArray:
        return (2 * frame[: self.size]).astype(np.float32)

    def run(self, frames: FloatArray) -> FloatArray:
        return np.stack([self.step(f) for f in frames])

    def reset(self) -> None:
        pass


class _Full(_Plain):
    """The optional members too: its spec, and an unchecked step giving 3 x."""

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        super().load(spec, arrays)
        self._spec = spec

    @property
    def spec(self) -> ModelSpec:
        return self._spec

    def step_unchecked(self, frame: FloatArray) -> FloatArray:
        return (3 * frame[: self.size]).astype(np.float32)


class _Data:
    def __init__(self, reference: object = "absent") -> None:
        if reference != "absent":
            self.tonal_reference = reference

    @property
    def model_name(self) -> str:
        return "GroovePredictor"

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        return ()

    def __len__(self) -> int:
        return 0

    def __getitem__(self, index: int) -> Example:
        raise IndexError(index)


def _loaded(backend: Backend) -> Backend:
    backend.load(MODEL_SPECS["DynamicsEngine"], {})
    return backend


class TestBackendMembers:
    def test_plain_backend_gets_the_defaults(self) -> None:
        """No ``spec``: None; no ``step_unchecked``: its ``step``."""
        plain = _loaded(_Plain())
        assert isinstance(plain, Backend)
        assert not isinstance(plain, SpecBackend | FastBackend)
        assert backend_spec(plain) is None
        frame = np.ones(32, dtype=np.float32)
        assert np.all(unchecked_step(plain)(frame) == 2.0)

    def test_declared_members_are_used(self) -> None:
        """A backend with both members: its spec, and its unchecked step."""
        full = _loaded(_Full())
        assert backend_spec(full) == MODEL_SPECS["DynamicsEngine"]
        assert np.all(unchecked_step(full)(np.ones(32, dtype=np.float32)) == 3.0)


class TestDatasetMembers:
    def test_without_the_member_it_is_none(self) -> None:
        """A dataset that does not say: None (the model's own convention)."""
        data = _Data()
        assert isinstance(data, Dataset)
        assert dataset_tonal_reference(data) is None

    @pytest.mark.parametrize("value", ["tonic", "absolute", None])
    def test_declared_values_pass(self, value: str | None) -> None:
        assert dataset_tonal_reference(_Data(value)) == value

    def test_other_values_are_one_line_errors(self) -> None:
        """``"relative"`` is refused naming the member and the allowed values."""
        with pytest.raises(DatasetError) as info:
            dataset_tonal_reference(_Data("relative"))
        assert info.value.field == "tonal_reference"
        assert info.value.got == "relative"
        assert "'tonic', 'absolute' or None" in str(info.value)


class TestOptionValues:
    def test_object_options_come_from_python_only(self) -> None:
        """An ``object`` option takes any value in code and none on the command line."""
        assert option_problem(object, {"any": "thing"}) is None
        with pytest.raises(ValueError, match="passed from Python, not from the command line"):
            parse_option(object, "x")

    @pytest.mark.parametrize(
        ("kind", "text", "value"),
        [(bool, "true", True), (bool, "0", False), (int, "7", 7), (float, "2", 2.0),
         (tuple, "train, test", ("train", "test")), (str, "x", "x")],
    )  # fmt: skip
    def test_command_line_values(self, kind: type, text: str, value: object) -> None:
        assert parse_option(kind, text) == value

    @pytest.mark.parametrize(
        ("kind", "value", "message"),
        [(int, True, "expected an integer, got True"), (bool, 1, "expected true or false, got 1"),
         (float, "1", "expected a number, got '1'"), (tuple, ("a", 2), "a tuple of strings")],
    )  # fmt: skip
    def test_wrong_types_are_named(self, kind: type, value: object, message: str) -> None:
        problem = option_problem(kind, value)
        assert problem is not None
        assert message in problem
