"""The torch backend: registered modules, generic layers, state carried, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import BackendError
from kelly_core.specs import LayerSpec, ModelSpec
from kelly_runtime.backends.torch_backend import TorchBackend
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames, runtime_registry


class TestLoad:
    @pytest.mark.parametrize("name", list(MODEL_SPECS))
    def test_catalog_spec_uses_registered_model(self, name: str) -> None:
        """A catalog spec runs the registered model's own module."""
        backend = TorchBackend(device="cpu", registry=runtime_registry())
        spec = MODEL_SPECS[name]
        backend.load(spec, random_arrays(spec, 0))
        assert backend.uses_registered_model
        assert backend.step(random_frames(spec.input_size, 1, 0)[0]).shape == (spec.output_size,)

    def test_other_spec_uses_generic_layers(self) -> None:
        """A spec no plugin registers gets generic torch layers."""
        spec = ModelSpec(
            name="Tiny",
            input_size=3,
            layers=(LayerSpec(kind="lstm", size=4), LayerSpec(kind="lstm", size=2)),
        )
        backend = TorchBackend(device="cpu", registry=runtime_registry())
        backend.load(spec, random_arrays(spec, 0))
        assert not backend.uses_registered_model
        assert backend.device == "cpu"

    def test_invalid_device(self) -> None:
        """An unparsable device string is a BackendError."""
        with pytest.raises(BackendError, match="device"):
            TorchBackend(device="not-a-device")


class TestStep:
    def test_state_is_carried_and_reset(self) -> None:
        """The same frame twice gives different outputs (state), reset restores the first."""
        spec = MODEL_SPECS["EmotionRecognizer"]
        backend = TorchBackend(device="cpu", registry=runtime_registry())
        backend.load(spec, random_arrays(spec, 1))
        frame = random_frames(spec.input_size, 1, 1)[0]
        first = backend.step(frame)
        second = backend.step(frame)
        assert not np.array_equal(first, second)
        backend.reset()
        np.testing.assert_array_equal(backend.step(frame), first)

    def test_bad_frame_keeps_state(self) -> None:
        """A NaN frame raises and does not advance the state."""
        spec = MODEL_SPECS["MelodyTransformer"]
        backend = TorchBackend(device="cpu", registry=runtime_registry())
        backend.load(spec, random_arrays(spec, 2))
        frames = random_frames(spec.input_size, 2, 2)
        backend.step(frames[0])
        expected = backend.step(frames[1])
        backend.reset()
        backend.step(frames[0])
        with pytest.raises(BackendError, match="finite"):
            backend.step(np.full(spec.input_size, np.nan, dtype=np.float32))
        np.testing.assert_array_equal(backend.step(frames[1]), expected)

    def test_run_equals_steps(self) -> None:
        """run() equals stepping each frame."""
        spec = MODEL_SPECS["MelodyTransformer"]
        a = TorchBackend(device="cpu", registry=runtime_registry())
        b = TorchBackend(device="cpu", registry=runtime_registry())
        arrays = random_arrays(spec, 3)
        a.load(spec, arrays)
        b.load(spec, arrays)
        frames = random_frames(spec.input_size, 5, 3)
        np.testing.assert_array_equal(a.run(frames), np.stack([b.step(f) for f in frames]))
