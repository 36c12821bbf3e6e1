"""Backend selection and loading model files into backends."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

import kelly_runtime.plugin
from kelly_core.catalog import MODEL_SPECS
from kelly_core.entries import BackendEntry
from kelly_core.errors import SpecError, UnknownNameError
from kelly_core.hookspecs import hookimpl
from kelly_core.registry import Registry
from kelly_runtime.backends.numpy_backend import NumpyBackend
from kelly_runtime.loading import load_backend, read_model
from kelly_runtime.select import PREFERENCE, create_backend, select_backend_name
from tests.unit.kelly_runtime.helpers import random_arrays, random_frames, runtime_registry


class _NoTorch:
    """A plugin offering a torch backend whose module is missing."""

    @hookimpl
    def kelly_backends(self) -> list[BackendEntry]:
        return [
            BackendEntry(name="numba", factory="x.y:Z", requires=("not_a_module_kelly",)),
            BackendEntry(name="torch", factory="x.y:Z", requires=("not_a_module_kelly",)),
            BackendEntry(name="numpy", factory="kelly_runtime.backends.numpy_backend:NumpyBackend"),
        ]


class TestSelect:
    def test_explicit_name(self) -> None:
        """An explicit name is used as given."""
        assert select_backend_name("fallback", registry=runtime_registry()) == "fallback"

    def test_first_available(self) -> None:
        """Without a name, the fastest usable backend: numba if installed, else numpy."""
        expected = "numba" if importlib.util.find_spec("numba") is not None else "numpy"
        assert select_backend_name(registry=runtime_registry()) == expected

    def test_skips_unusable(self) -> None:
        """Unusable numba and torch entries are skipped for numpy."""
        assert select_backend_name(registry=Registry(plugins=[_NoTorch()])) == "numpy"

    def test_numpy_before_torch(self) -> None:
        """Without numba, numpy (faster per step on CPU) is preferred to torch."""
        assert PREFERENCE.index("numpy") < PREFERENCE.index("torch")
        assert PREFERENCE[0] == "numba"
        assert PREFERENCE[-1] == "fallback"

    def test_fallback_when_nothing_registered(self) -> None:
        """With no backends registered the answer is the always-available fallback name."""
        assert select_backend_name(registry=Registry(plugins=[])) == "fallback"

    def test_unknown_name(self) -> None:
        """A misspelt name suggests the close match."""
        with pytest.raises(UnknownNameError) as info:
            create_backend("nunpy", registry=Registry(plugins=[kelly_runtime.plugin]))
        assert info.value.suggestion == "numpy"


class TestLoadBackend:
    def test_json_file(self, tmp_path: Path) -> None:
        """An exported RTNeural file loads into numpy with the same numbers as the arrays."""
        registry = runtime_registry()
        spec = MODEL_SPECS["HarmonyPredictor"]
        arrays = random_arrays(spec, 0)
        path = registry.exporter("rtneural").export(spec, arrays, tmp_path / "h.json")
        backend = load_backend(path, "numpy", model="HarmonyPredictor", registry=registry)
        reference = NumpyBackend()
        reference.load(spec, arrays)
        frame = random_frames(spec.input_size, 1, 0)[0]
        np.testing.assert_allclose(backend.step(frame), reference.step(frame), atol=1e-6)

    def test_checkpoint_in_torch(self, tmp_path: Path) -> None:
        """A .pt checkpoint loads into the torch backend."""
        registry = runtime_registry()
        spec = MODEL_SPECS["DynamicsEngine"]
        path = registry.exporter("checkpoint").export(
            spec, random_arrays(spec, 1), tmp_path / "d.pt"
        )
        backend = load_backend(path, "torch", registry=registry, device="cpu")
        reference = NumpyBackend()
        reference.load(spec, random_arrays(spec, 1))
        frames = random_frames(spec.input_size, 3, 1)
        np.testing.assert_allclose(backend.run(frames), reference.run(frames), atol=1e-6)

    def test_wrong_model(self, tmp_path: Path) -> None:
        """--model naming another model is a SpecError with expected and got."""
        registry = runtime_registry()
        spec = MODEL_SPECS["GroovePredictor"]
        path = registry.exporter("rtneural").export(
            spec, random_arrays(spec, 0), tmp_path / "g.json"
        )
        with pytest.raises(SpecError) as info:
            read_model(path, model="DynamicsEngine", registry=registry)
        assert (info.value.expected, info.value.got) == ("DynamicsEngine", "GroovePredictor")

    def test_missing_file(self, tmp_path: Path) -> None:
        """A missing file is a SpecError naming it."""
        with pytest.raises(SpecError, match="no such model file"):
            load_backend(tmp_path / "none.json", registry=runtime_registry())
