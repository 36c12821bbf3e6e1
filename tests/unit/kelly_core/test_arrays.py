"""Tests for kelly_core.arrays: frame and state-array checks."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given

from kelly_core.arrays import check_frame, check_state_arrays
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import BackendError, SpecError
from kelly_core.specs import ModelSpec
from tests.strategies import model_specs

SPEC = MODEL_SPECS["DynamicsEngine"]


def _zeros(spec: ModelSpec) -> dict[str, np.ndarray]:
    return {name: np.zeros(shape) for name, shape in spec.array_shapes().items()}


class TestCheckStateArrays:
    @given(model_specs())
    def test_returns_float32_copies_in_spec_order(self, spec: ModelSpec) -> None:
        """Valid arrays come back as float32 copies, named and ordered as the spec."""
        arrays = _zeros(spec)
        checked = check_state_arrays(spec, dict(reversed(list(arrays.items()))))
        assert list(checked) == list(spec.array_shapes())
        for name, array in checked.items():
            assert array.dtype == np.float32
            assert not np.shares_memory(array, arrays[name])

    def test_missing_and_extra_names_are_listed(self) -> None:
        """Both the missing and the unexpected names are reported."""
        arrays = _zeros(SPEC)
        del arrays["layers.0.bias"]
        arrays["layers.9.weight"] = np.zeros(3)
        with pytest.raises(SpecError, match=r"missing \['layers\.0\.bias'\]") as info:
            check_state_arrays(SPEC, arrays)
        assert "layers.9.weight" in str(info.value)
        assert info.value.field == "arrays"

    def test_wrong_shape_names_the_array(self) -> None:
        """A transposed weight is refused with the array's name, expected and got."""
        arrays = _zeros(SPEC)
        arrays["layers.1.weight"] = arrays["layers.1.weight"].T
        with pytest.raises(SpecError, match=r"expected shape \(64, 128\)") as info:
            check_state_arrays(SPEC, arrays)
        assert (info.value.field, info.value.expected, info.value.got) == (
            "layers.1.weight",
            (64, 128),
            (128, 64),
        )

    def test_non_finite_refused_unless_allowed(self) -> None:
        """NaN is refused by default and passes with require_finite=False."""
        arrays = _zeros(SPEC)
        arrays["layers.2.bias"][3] = np.nan
        with pytest.raises(SpecError, match="finite") as info:
            check_state_arrays(SPEC, arrays)
        assert info.value.field == "layers.2.bias"
        assert np.isnan(check_state_arrays(SPEC, arrays, require_finite=False)["layers.2.bias"][3])


class TestCheckFrame:
    def test_float64_is_converted(self) -> None:
        """A float64 frame is accepted and returned as float32."""
        frame = check_frame(np.linspace(0, 1, 8), 8)
        assert frame.dtype == np.float32

    @pytest.mark.parametrize(
        ("frame", "match"),
        [
            (np.zeros(7, dtype=np.float32), r"expected shape \(8\)"),
            (np.zeros(8, dtype=np.int32), "expected dtype float32"),
            (np.full(8, np.inf, dtype=np.float32), "finite"),
            ([0.0] * 8, "numpy array"),
        ],
    )
    def test_bad_frames(self, frame: object, match: str) -> None:
        """Wrong shape, dtype, values or type raise BackendError naming the frame."""
        with pytest.raises(BackendError, match=match) as info:
            check_frame(frame, 8)
        assert info.value.field == "frame"
