"""The torch backend: registered modules, generic layers, state carried, bad input."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import BackendError
from kelly_core.specs import LayerSpec, ModelSpec
from kelly_models.network import SpecNetwork
from kelly_runtime.backends.torch_backend import TorchBackend
from tests.strategies import model_specs
from tests.unit.kelly_runtime.backends.torch_reference import torch_sequence_reference
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames, runtime_registry

REGISTRY = runtime_registry()


class TestLoad:
    @pytest.mark.parametrize("name", list(MODEL_SPECS))
    def test_catalog_spec_uses_registered_model(self, name: str) -> None:
        """A catalog spec runs the registered model's own module."""
        backend = TorchBackend(device="cpu", registry=runtime_registry())
        spec = MODEL_SPECS[name]
        arrays = random_arrays(spec, 0)
        backend.load(spec, arrays)
        assert backend.uses_registered_model
        frames = random_frames(spec.input_size, 3, 0)
        with torch.no_grad():
            expected = torch_sequence_reference(spec, arrays, frames)
        np.testing.assert_allclose(backend.run(frames), expected, atol=1e-5, rtol=0)

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

    @pytest.mark.parametrize("fast", [True, False])
    @pytest.mark.parametrize("name", ["MelodyTransformer", "EmotionRecognizer"])
    def test_run_equals_steps(self, name: str, fast: bool) -> None:
        """run() (the module's sequence forward) equals stepping each frame, within float32
        rounding, and carries the state both ways: run after steps, steps after run."""
        spec = MODEL_SPECS[name]
        a = TorchBackend(device="cpu", registry=runtime_registry(), fast=fast)
        b = TorchBackend(device="cpu", registry=runtime_registry(), fast=fast)
        arrays = random_arrays(spec, 3)
        a.load(spec, arrays)
        b.load(spec, arrays)
        frames = random_frames(spec.input_size, 9, 3)
        stepped = np.stack([b.step(f) for f in frames])
        a.step(frames[0])
        got = np.concatenate([a.run(frames[1:4]), a.run(frames[4:6])])
        rest = np.stack([a.step(f) for f in frames[6:]])
        np.testing.assert_allclose(got, stepped[1:6], atol=2e-6, rtol=0)
        np.testing.assert_allclose(rest, stepped[6:], atol=2e-6, rtol=0)
        assert a.run(frames[:0]).shape == (0, spec.output_size)

    def test_run_generic_layers(self) -> None:
        """A spec no registered model has runs on generic layers, run() equal to steps."""
        spec = ModelSpec(
            name="Odd",
            input_size=5,
            layers=(
                LayerSpec(kind="lstm", size=6),
                LayerSpec(kind="dense", size=3, activation="elu"),
            ),
        )
        arrays = random_arrays(spec, 4)
        a = TorchBackend(device="cpu", registry=runtime_registry())
        b = TorchBackend(device="cpu", registry=runtime_registry(), fast=False)
        a.load(spec, arrays)
        b.load(spec, arrays)
        assert not a.uses_registered_model
        frames = random_frames(5, 7, 4)
        stepped = np.stack([b.step(f) for f in frames])
        np.testing.assert_allclose(a.run(frames), stepped, atol=2e-6, rtol=0)
        np.testing.assert_allclose(b.run(frames[:2]), a.run(frames[:2]), atol=2e-6, rtol=0)


class TestSequence:
    @settings(max_examples=20)
    @given(
        spec=model_specs(),
        seed=st.integers(0, 2**16),
        steps=st.integers(1, 8),
        cut=st.floats(0.0, 1.0),
        fast=st.booleans(),
    )
    def test_stepping_equals_sequence_forward(
        self, spec: ModelSpec, seed: int, steps: int, cut: float, fast: bool
    ) -> None:
        """Property: stepping frame by frame equals a plain torch forward over the whole
        sequence; run() over the frames in two calls, or run() then step(), gives the same
        outputs (the state is carried between calls whichever way run is computed)."""
        arrays = random_arrays(spec, seed)
        frames = random_frames(spec.input_size, steps, seed + 1)
        split = round(cut * steps)
        backend = TorchBackend(device="cpu", registry=REGISTRY, fast=fast)
        backend.load(spec, arrays)
        stepped = np.stack([backend.step(f) for f in frames])
        with torch.no_grad():
            expected = torch_sequence_reference(spec, arrays, frames)
        np.testing.assert_allclose(stepped, expected, atol=1e-5, rtol=0)
        backend.reset()
        chunks = np.concatenate([backend.run(frames[:split]), backend.run(frames[split:])])
        np.testing.assert_allclose(chunks, stepped, atol=1e-5, rtol=0)
        backend.reset()
        first = backend.run(frames[:split])
        rest = [backend.step(f) for f in frames[split:]]
        mixed = np.concatenate([first, np.stack(rest)]) if rest else first
        np.testing.assert_allclose(mixed, stepped, atol=1e-5, rtol=0)

    @pytest.mark.parametrize("name", ["EmotionRecognizer", "MelodyTransformer"])
    def test_registered_lstm_models_carry_state_across_runs(self, name: str) -> None:
        """A catalog model's registered module: two runs equal the whole-sequence forward."""
        spec = MODEL_SPECS[name]
        arrays = random_arrays(spec, 5, scale=0.1)
        frames = random_frames(spec.input_size, 7, 5)
        backend = TorchBackend(device="cpu", registry=REGISTRY)
        backend.load(spec, arrays)
        assert backend.uses_registered_model
        got = np.concatenate([backend.run(frames[:3]), backend.run(frames[3:])])
        with torch.no_grad():
            expected = torch_sequence_reference(spec, arrays, frames)
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)


class TestFastPath:
    def test_cpu_uses_fast_path_unless_disabled(self) -> None:
        """On CPU the fast path is the default; fast=False steps the module."""
        spec = MODEL_SPECS["GroovePredictor"]
        fast = TorchBackend(device="cpu", registry=runtime_registry())
        slow = TorchBackend(device="cpu", registry=runtime_registry(), fast=False)
        for backend in (fast, slow):
            backend.load(spec, random_arrays(spec, 0))
        assert fast.uses_fast_path
        assert not slow.uses_fast_path
        assert fast.uses_registered_model
        assert slow.uses_registered_model

    @pytest.mark.parametrize("name", list(MODEL_SPECS))
    def test_equals_the_registered_modules_step(self, name: str) -> None:
        """Over a stream, the fast path is within 1e-6 of the model's own ``step``."""
        registry = runtime_registry()
        spec = MODEL_SPECS[name]
        model = registry.model(name, seed=0)
        assert isinstance(model, SpecNetwork)
        arrays = model.state_arrays()
        backend = TorchBackend(device="cpu", registry=registry)
        backend.load(spec, arrays)
        frames = random_frames(spec.input_size, 10, 7)
        expected = np.stack([model.step(torch.from_numpy(f)).numpy() for f in frames])
        np.testing.assert_allclose(backend.run(frames), expected, atol=1e-6, rtol=0)

    @pytest.mark.parametrize("name", list(MODEL_SPECS))
    def test_equals_module_path_with_large_weights(self, name: str) -> None:
        """Larger weights (±0.2, sums of hundreds of terms): within 1e-6 of the module."""
        spec = MODEL_SPECS[name]
        arrays = random_arrays(spec, 8, scale=0.2)
        fast = TorchBackend(device="cpu", registry=runtime_registry())
        slow = TorchBackend(device="cpu", registry=runtime_registry(), fast=False)
        fast.load(spec, arrays)
        slow.load(spec, arrays)
        frames = random_frames(spec.input_size, 6, 9)
        np.testing.assert_allclose(fast.run(frames), slow.run(frames), atol=1e-6, rtol=0)

    @settings(max_examples=25)
    @given(spec=model_specs(), seed=st.integers(0, 2**16), steps=st.integers(1, 5))
    def test_random_specs_equal_module_path(self, spec: ModelSpec, seed: int, steps: int) -> None:
        """Any layer table (every activation, stacked LSTMs): within 1e-6 of the module."""
        arrays = random_arrays(spec, seed)
        fast = TorchBackend(device="cpu", registry=REGISTRY)
        slow = TorchBackend(device="cpu", registry=REGISTRY, fast=False)
        fast.load(spec, arrays)
        slow.load(spec, arrays)
        for frame in random_frames(spec.input_size, steps, seed + 1):
            np.testing.assert_allclose(fast.step(frame), slow.step(frame), atol=1e-6, rtol=0)

    def test_creating_a_backend_leaves_threads_alone(self) -> None:
        """Without threads=, torch's process-wide thread count is not touched."""
        before = torch.get_num_threads()
        backend = TorchBackend(device="cpu", registry=REGISTRY)
        spec = MODEL_SPECS["DynamicsEngine"]
        backend.load(spec, random_arrays(spec, 1))
        backend.step(random_frames(spec.input_size, 1, 1)[0])
        assert torch.get_num_threads() == before

    def test_float64_frame_is_converted(self) -> None:
        """A float64 frame gives the float32 frame's output on the fast path."""
        spec = MODEL_SPECS["HarmonyPredictor"]
        a = TorchBackend(device="cpu", registry=REGISTRY)
        b = TorchBackend(device="cpu", registry=REGISTRY)
        arrays = random_arrays(spec, 2)
        a.load(spec, arrays)
        b.load(spec, arrays)
        frame = random_frames(spec.input_size, 1, 3)[0]
        np.testing.assert_array_equal(a.step(frame.astype(np.float64)), b.step(frame))
