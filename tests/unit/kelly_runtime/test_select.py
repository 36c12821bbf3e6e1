"""Backend selection and loading model files into backends."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import cast

import numpy as np
import pytest

import kelly_export.plugin
import kelly_models.plugin
import kelly_runtime.plugin
from kelly_core.catalog import MODEL_SPECS
from kelly_core.entries import BackendEntry
from kelly_core.errors import BackendError, SpecError, UnknownNameError
from kelly_core.hookspecs import hookimpl
from kelly_core.registry import PluginSource, Registry
from kelly_runtime.backends.numpy_backend import NumpyBackend
from kelly_runtime.generate.stages import load_pipeline
from kelly_runtime.loading import load_backend, read_model
from kelly_runtime.pipeline import STAGES, Pipeline
from kelly_runtime.select import by_priority, create_backend, select_backend_name
from tests.unit.kelly_runtime.helpers import (
    random_arrays,
    random_frames,
    runtime_registry,
    write_models,
)


class _NoTorch:
    """A plugin offering a torch backend whose module is missing."""

    @hookimpl
    def kelly_backends(self) -> list[BackendEntry]:
        return [
            BackendEntry(name="numba", factory="x.y:Z", requires=("not_a_module_kelly",)),
            BackendEntry(name="torch", factory="x.y:Z", requires=("not_a_module_kelly",)),
            BackendEntry(name="numpy", factory="kelly_runtime.backends.numpy_backend:NumpyBackend"),
        ]


class _Spy:
    """A third-party backend: numpy underneath, counting the models it loads."""

    loads = 0

    def __init__(self) -> None:
        self.inner = NumpyBackend()

    def load(self, spec: object, arrays: object) -> None:
        type(self).loads += 1
        self.inner.load(spec, arrays)  # type: ignore[arg-type]

    def step(self, frame: np.ndarray) -> np.ndarray:
        return self.inner.step(frame)

    def run(self, frames: np.ndarray) -> np.ndarray:
        return self.inner.run(frames)

    def reset(self) -> None:
        self.inner.reset()


def _spy_plugin(priority: int) -> object:
    class Plugin:
        @hookimpl
        def kelly_backends(self) -> list[BackendEntry]:
            factory = "tests.unit.kelly_runtime.test_select:_Spy"
            return [BackendEntry(name="spy", factory=factory, priority=priority)]

    return Plugin()


def _registry_with_spy(priority: int) -> Registry:
    own = (kelly_models.plugin, kelly_export.plugin, kelly_runtime.plugin)
    return Registry(plugins=[*own, _spy_plugin(priority)])


class TestPriority:
    def test_higher_priority_third_party_is_chosen(self) -> None:
        """A plugin backend declaring priority 50 beats numba (30) without being named;
        at the default 0 it is not chosen over numpy."""
        assert select_backend_name(registry=_registry_with_spy(50)) == "spy"
        assert select_backend_name(registry=_registry_with_spy(0)) in ("numba", "numpy")

    def test_from_directory_and_generate_use_it(self, tmp_path: Path) -> None:
        """``Pipeline.from_directory`` and generate's ``load_pipeline`` load every stage
        into the priority-50 plugin backend when no backend is named."""
        registry = _registry_with_spy(50)
        folder = write_models(tmp_path / "m", registry, seed=2, names=STAGES)
        _Spy.loads = 0
        pipeline = Pipeline.from_directory(folder, registry=registry)
        assert set(pipeline.stage_backends.values()) == {"_Spy"}
        assert pipeline.fallback_stages == ()
        generated = load_pipeline(folder, None, registry=registry)
        assert set(generated.stage_backends.values()) == {"_Spy"}
        assert _Spy.loads == 2 * len(STAGES)

    def test_ties_go_by_name_and_duplicates_are_skipped(self) -> None:
        """Equal priorities in name order; a name two plugins offer is never chosen."""
        registry = Registry(plugins=[_spy_plugin(40), _spy_plugin(40), kelly_runtime.plugin])
        assert "spy" not in by_priority(registry)
        tie = Registry(plugins=[_NoTorch()])
        assert by_priority(tie) == ["numpy"]


class TestOptions:
    def test_undeclared_option_names_backend_and_plugin(self) -> None:
        """``device`` given to numpy (which declares only check_finite) is one line naming
        the backend, its options and its plugin; no factory is called."""
        registry = Registry(plugins=[PluginSource(plugin=kelly_runtime.plugin, name="rt")])
        with pytest.raises(BackendError) as info:
            create_backend("numpy", registry=registry, device="cpu")
        assert str(info.value) == (
            "device: backend 'numpy' has no option 'device'; its options: check_finite "
            "(declared in its entry's options by plugin 'rt', (explicit))"
        )
        assert info.value.expected == ("check_finite",)

    def test_wrong_value_type_is_refused(self) -> None:
        """A declared option with a value of another type is refused before the factory."""
        registry = Registry(plugins=[kelly_runtime.plugin])
        with pytest.raises(BackendError, match=r"option 'check_finite': expected true or false"):
            create_backend("numpy", registry=registry, check_finite="yes")
        backend = create_backend("numpy", registry=registry, check_finite=False)
        assert isinstance(backend, NumpyBackend)

    def test_built_in_options_match_their_factories(self) -> None:
        """Every built-in backend declares exactly the keyword options its factory takes
        (torch's ``registry`` as ``object``: passed from Python only)."""
        import inspect

        registry = runtime_registry()
        for registered in registry.entries("backend"):
            entry = cast(BackendEntry, registered.entry)
            if not registered.usable:
                continue
            parameters = inspect.signature(registry.factory("backend", entry.name)).parameters
            taken = {n for n, p in parameters.items() if p.kind is p.KEYWORD_ONLY}
            assert set(entry.options) == taken, entry.name
        torch = cast(BackendEntry, registry.resolve("backend", "torch").entry)
        assert torch.options["registry"] is object


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

    def test_built_in_priorities_keep_the_speed_order(self) -> None:
        """numba 30, numpy 20, torch 10, fallback 0: numpy (faster per step on CPU) before
        torch, fallback last."""
        registry = Registry(plugins=[kelly_runtime.plugin])
        priorities = {
            r.entry.name: cast(BackendEntry, r.entry).priority for r in registry.entries("backend")
        }
        assert priorities == {"numba": 30, "numpy": 20, "torch": 10, "fallback": 0}
        usable = {r.entry.name for r in registry.entries("backend") if r.usable}
        expected = [n for n in ("numba", "numpy", "torch", "fallback") if n in usable]
        assert by_priority(registry) == expected

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
