"""Tests for kelly_core.registry, with explicitly given plugins (nothing installed is used)."""

from __future__ import annotations

import sys
import types
from collections.abc import Iterator, Mapping
from pathlib import Path

import numpy as np
import pytest

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.entries import BackendEntry, ExporterEntry, ModelEntry
from kelly_core.errors import (
    AmbiguousNameError,
    KellyPluginWarning,
    MissingDependencyError,
    PluginError,
    UnknownNameError,
)
from kelly_core.hookspecs import hookimpl
from kelly_core.interfaces import Backend
from kelly_core.registry import PluginSource, Registry
from kelly_core.specs import ModelSpec


class EchoBackend:
    """A tiny backend: output = first out_size values of the input, zero-padded."""

    def __init__(self, gain: float = 1.0) -> None:
        self.gain = gain
        self.out = 0

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        self.out = spec.output_size

    def step(self, frame: FloatArray) -> FloatArray:
        result = np.zeros(self.out, dtype=np.float32)
        n = min(self.out, frame.shape[0])
        result[:n] = frame[:n] * self.gain
        return result

    def run(self, frames: FloatArray) -> FloatArray:
        return np.stack([self.step(f) for f in frames])

    def reset(self) -> None:
        pass


@pytest.fixture
def fake_module() -> Iterator[str]:
    """Put a module holding EchoBackend into sys.modules, so a factory string can name it."""
    module = types.ModuleType("kelly_test_fake_backend")
    module.EchoBackend = EchoBackend  # type: ignore[attr-defined]  # dynamic module
    sys.modules[module.__name__] = module
    yield module.__name__
    del sys.modules[module.__name__]


def _backend_plugin(
    name: str,
    factory: str,
    requires: tuple[str, ...] = (),
    options: dict[str, type] | None = None,
) -> object:
    class Plugin:
        @hookimpl
        def kelly_backends(self) -> list[BackendEntry]:
            return [
                BackendEntry(name=name, factory=factory, requires=requires, options=options or {})
            ]

    return Plugin()


class TestResolve:
    def test_returns_the_backend_built_by_the_factory(self, fake_module: str) -> None:
        """A registered backend is created through its factory with its declared options."""
        registry = Registry(
            plugins=[_backend_plugin("echo", f"{fake_module}:EchoBackend", options={"gain": float})]
        )
        backend = registry.backend("echo", gain=2.0)
        assert isinstance(backend, Backend)
        backend.load(MODEL_SPECS["DynamicsEngine"], {})
        out = backend.step(np.ones(32, dtype=np.float32))
        assert out.shape == (16,)
        assert np.all(out == 2.0)

    def test_factory_module_is_imported_only_on_use(self) -> None:
        """Listing entries does not import the factory's module."""
        registry = Registry(plugins=[_backend_plugin("lazy", "kelly_never_imported_xyz:Thing")])
        assert registry.names("backend") == ("lazy",)
        assert "kelly_never_imported_xyz" not in sys.modules
        with pytest.raises(PluginError, match="cannot import factory"):
            registry.backend("lazy")

    def test_unknown_name_lists_available_and_close_match(self, fake_module: str) -> None:
        """A typo gives the available names and the closest one."""
        registry = Registry(
            plugins=[
                _backend_plugin("numpy", f"{fake_module}:EchoBackend"),
                _backend_plugin("torch", f"{fake_module}:EchoBackend"),
            ]
        )
        with pytest.raises(UnknownNameError) as info:
            registry.backend("nunpy")
        assert info.value.suggestion == "numpy"
        assert info.value.available == ("numpy", "torch")
        assert (
            str(info.value)
            == "unknown backend 'nunpy' (did you mean 'numpy'?); available: numpy, torch"
        )

    def test_unknown_name_without_close_match(self) -> None:
        """A name far from every option gets no suggestion."""
        registry = Registry(plugins=[_backend_plugin("numpy", "m:f")])
        with pytest.raises(UnknownNameError) as info:
            registry.resolve("backend", "zzzzzz")
        assert info.value.suggestion is None

    def test_duplicate_name_names_both_distributions(self, fake_module: str) -> None:
        """The same name from two distributions is listed twice and refused when asked for."""
        factory = f"{fake_module}:EchoBackend"
        registry = Registry(
            plugins=[
                PluginSource(
                    plugin=_backend_plugin("onnx", factory),
                    name="a",
                    distribution="kelly-onnx 0.3.1",
                ),
                PluginSource(
                    plugin=_backend_plugin("onnx", factory), name="b", distribution="onnx-kelly 1.0"
                ),
            ]
        )
        assert [r.distribution for r in registry.entries("backend")] == [
            "kelly-onnx 0.3.1",
            "onnx-kelly 1.0",
        ]
        with pytest.raises(AmbiguousNameError) as info:
            registry.backend("onnx")
        assert info.value.distributions == ("kelly-onnx 0.3.1", "onnx-kelly 1.0")
        assert "'kelly-onnx 0.3.1' and 'onnx-kelly 1.0'" in str(info.value)

    def test_missing_requirement_is_listed_and_refused(self) -> None:
        """An entry needing an absent module is unusable and says which module."""
        registry = Registry(
            plugins=[_backend_plugin("onnx", "m:f", requires=("kelly_absent_module_q",))]
        )
        (registered,) = registry.entries("backend")
        assert not registered.usable
        assert registered.missing == ("kelly_absent_module_q",)
        with pytest.raises(MissingDependencyError, match="needs 'kelly_absent_module_q'"):
            registry.backend("onnx")


class TestBrokenPlugins:
    def test_raising_hook_is_reported_not_fatal(self, fake_module: str) -> None:
        """A plugin whose hook raises is listed as broken; the others still work."""

        class Broken:
            @hookimpl
            def kelly_backends(self) -> list[BackendEntry]:
                raise RuntimeError("boom")

        registry = Registry(
            plugins=[
                PluginSource(plugin=Broken(), name="broken", distribution="bad-dist 1.0"),
                _backend_plugin("echo", f"{fake_module}:EchoBackend"),
            ]
        )
        with pytest.warns(KellyPluginWarning, match=r"'broken' \(bad-dist 1\.0\).*boom"):
            names = registry.names("backend")
        assert names == ("echo",)
        (broken,) = registry.broken
        assert (broken.name, broken.distribution) == ("broken", "bad-dist 1.0")
        assert "RuntimeError: boom" in broken.error

    def test_wrong_entry_type_raises_plugin_error(self) -> None:
        """A hook returning the wrong record type is a PluginError naming the plugin."""

        class Wrong:
            @hookimpl
            def kelly_backends(self) -> list[object]:
                return [ExporterEntry(name="x", factory="m:f", suffix=".x")]

        registry = Registry(plugins=[PluginSource(plugin=Wrong(), name="wrong")])
        with pytest.raises(PluginError, match=r"plugin 'wrong'.*BackendEntry") as info:
            registry.names("backend")
        assert info.value.plugin == "wrong"

    def test_non_list_result_raises_plugin_error(self) -> None:
        """A hook must return a list."""

        class NotList:
            @hookimpl
            def kelly_backends(self) -> object:
                return BackendEntry(name="x", factory="m:f")

        with pytest.raises(PluginError, match="must return a list"):
            Registry(plugins=[NotList()]).names("backend")


class TestHookChecks:
    """Hooks are called through pluggy; a hook Kelly would never call is reported."""

    @staticmethod
    def _module(name: str, source: str) -> types.ModuleType:
        module = types.ModuleType(name)
        exec(source, module.__dict__)  # a plugin module as a third party writes it
        return module

    def test_misspelled_hook_is_one_line_naming_plugin_and_hook(self, fake_module: str) -> None:
        """``@hookimpl def kelly_backend()`` (singular) is listed as broken with the hook,
        the close spelling and nothing else; the plugin's correct hook still counts."""
        module = self._module(
            "kelly_typo_plugin",
            "from kelly_core.entries import DatasetEntry, BackendEntry\n"
            "from kelly_core.hookspecs import hookimpl\n"
            "@hookimpl\n"
            "def kelly_backend():\n"
            "    return [BackendEntry(name='typo', factory='m:f')]\n"
            "@hookimpl\n"
            "def kelly_datasets():\n"
            "    return [DatasetEntry(name='fine', model='GroovePredictor', factory='m:f')]\n",
        )
        registry = Registry(
            plugins=[
                PluginSource(plugin=module, name="typo", distribution="kelly-typo 0.1"),
                _backend_plugin("echo", f"{fake_module}:EchoBackend"),
            ]
        )
        with pytest.warns(KellyPluginWarning) as caught:
            names = registry.names("backend")
        assert names == ("echo",)
        assert registry.names("dataset") == ("fine",)
        (message,) = [str(w.message) for w in caught]
        assert message.startswith("kelly plugin 'typo' (kelly-typo 0.1) has a hook Kelly never")
        assert "'kelly_backend' is not a Kelly hook (did you mean 'kelly_backends'?" in message
        assert "\n" not in message
        (broken,) = registry.broken
        assert (broken.name, broken.distribution) == ("typo", "kelly-typo 0.1")
        assert "kelly_backend" in broken.error

    def test_hook_without_marker_is_reported(self) -> None:
        """A plain ``def kelly_backends()`` (no ``@hookimpl``) is never called: said so."""
        module = self._module(
            "kelly_unmarked_plugin",
            "from kelly_core.entries import BackendEntry\n"
            "def kelly_backends():\n"
            "    return [BackendEntry(name='plain', factory='m:f')]\n",
        )
        registry = Registry(plugins=[PluginSource(plugin=module, name="unmarked")])
        with pytest.warns(KellyPluginWarning, match=r"kelly_backends\(\) is not marked @hookimpl"):
            assert registry.names("backend") == ()
        assert [b.name for b in registry.broken] == ["unmarked"]

    def test_hookimpl_with_wrong_arguments_is_reported_not_fatal(self, fake_module: str) -> None:
        """A guess hook taking ``path`` instead of ``root`` cannot register: one warning
        line, the plugin is skipped and the others work."""

        class BadGuess:
            @hookimpl
            def kelly_guess_dataset(self, path: Path) -> str | None:
                return None

        registry = Registry(
            plugins=[
                PluginSource(plugin=BadGuess(), name="badguess"),
                _backend_plugin("echo", f"{fake_module}:EchoBackend"),
            ]
        )
        with pytest.warns(KellyPluginWarning, match=r"'badguess' .* cannot be registered") as c:
            assert registry.names("backend") == ("echo",)
        assert "\n" not in str(c[0].message)
        assert "'path'" in registry.broken[0].error

    def test_hooks_are_found_by_pluggy_not_by_attribute_name(self, fake_module: str) -> None:
        """An implementation named by pluggy's ``specname`` is called: the registry asks
        pluggy for the hook's implementations instead of looking the name up itself."""

        class Named:
            @hookimpl(specname="kelly_backends")
            def my_backends(self) -> list[BackendEntry]:
                return [BackendEntry(name="named", factory=f"{fake_module}:EchoBackend")]

        registry = Registry(plugins=[PluginSource(plugin=Named(), name="named")])
        (registered,) = registry.entries("backend")
        assert (registered.entry.name, registered.plugin) == ("named", "named")
        assert registry.broken == ()

    def test_hook_returning_none_is_a_plugin_error(self) -> None:
        """pluggy drops a None result; the registry still names the plugin."""

        class Nothing:
            @hookimpl
            def kelly_backends(self) -> None:
                return None

        with pytest.raises(PluginError, match=r"plugin 'nothing'.*got NoneType"):
            Registry(plugins=[PluginSource(plugin=Nothing(), name="nothing")]).names("backend")


class TestModels:
    def test_spec_is_available_without_importing_the_factory(self) -> None:
        """The spec of a model entry is data; no factory import is needed."""

        class Models:
            @hookimpl
            def kelly_models(self) -> list[ModelEntry]:
                spec = MODEL_SPECS["GroovePredictor"]
                return [ModelEntry(name=spec.name, spec=spec, factory="kelly_nope_mod:build")]

        registry = Registry(plugins=[Models()])
        assert registry.model_names() == ("GroovePredictor",)
        assert registry.spec("GroovePredictor").parameter_count == 18_656
        assert "kelly_nope_mod" not in sys.modules

    def test_model_entry_must_match_its_spec(self) -> None:
        """A model entry named differently from its spec is refused."""
        with pytest.raises(ValueError, match="carries the spec of 'GroovePredictor'"):
            ModelEntry(name="Other", spec=MODEL_SPECS["GroovePredictor"], factory="m:f")


class TestExporterFor:
    def test_picks_by_suffix_and_reports_unknown(self, tmp_path: Path) -> None:
        """A file's suffix selects the exporter; an unknown suffix lists the known ones."""

        class Formats:
            @hookimpl
            def kelly_exporters(self) -> list[ExporterEntry]:
                return [ExporterEntry(name="rtn", factory="kelly_fmt_missing:X", suffix=".json")]

        registry = Registry(plugins=[Formats()])
        with pytest.raises(PluginError, match="kelly_fmt_missing"):
            registry.exporter_for(tmp_path / "model.JSON")
        with pytest.raises(UnknownNameError, match=r"available: \.json"):
            registry.exporter_for(tmp_path / "model.onnx")
