"""Tests for kelly_models.build: models by name, seeded without touching the global RNG."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.errors import UnknownNameError
from kelly_models.build import build_model, build_network
from kelly_models.models import MODEL_CLASSES


class TestBuildModel:
    @pytest.mark.parametrize("name", MODEL_NAMES)
    def test_named_class_with_catalog_spec(self, name: str) -> None:
        """build_model returns the named class carrying the catalog spec."""
        model = build_model(name, seed=0)
        assert type(model) is MODEL_CLASSES[name]
        assert model.spec == MODEL_SPECS[name]

    def test_same_seed_same_weights_global_rng_untouched(self) -> None:
        """Equal seeds give equal weights, and the global torch RNG is left as it was."""
        torch.manual_seed(123)
        before = torch.get_rng_state()
        a = build_model("DynamicsEngine", seed=7).state_arrays()
        b = build_model("DynamicsEngine", seed=7).state_arrays()
        c = build_model("DynamicsEngine", seed=8).state_arrays()
        assert torch.equal(torch.get_rng_state(), before)
        assert all(np.array_equal(a[k], b[k]) for k in a)
        assert not np.array_equal(a["layers.0.weight"], c["layers.0.weight"])

    def test_unknown_name(self) -> None:
        """An unknown name raises UnknownNameError listing the five."""
        with pytest.raises(UnknownNameError) as info:
            build_model("Nope")
        assert info.value.available == MODEL_NAMES

    def test_build_network_uses_named_class_for_catalog_spec(self) -> None:
        """build_network picks the named class when the spec is a catalog spec."""
        spec = MODEL_SPECS["GroovePredictor"]
        assert type(build_network(spec)) is MODEL_CLASSES["GroovePredictor"]
