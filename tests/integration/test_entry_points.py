"""Real entry-point discovery: third-party distributions found through *.dist-info on sys.path."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import KellyPluginWarning
from kelly_core.interfaces import Backend
from kelly_core.registry import Registry

DEMO_MODULE = textwrap.dedent(
    '''
    """A third-party backend plugin, as a user would write it."""
    from __future__ import annotations
    import numpy as np
    from kelly_core.entries import BackendEntry
    from kelly_core.hookspecs import hookimpl

    @hookimpl
    def kelly_backends():
        return [BackendEntry(name="demo", factory="kelly_demo_impl:DemoBackend",
                             description="doubles its input")]
    '''
)

DEMO_IMPL = textwrap.dedent(
    """
    from __future__ import annotations
    import numpy as np

    class DemoBackend:
        def load(self, spec, arrays):
            self.size = spec.output_size
        def step(self, frame):
            return (2.0 * frame[: self.size]).astype(np.float32)
        def run(self, frames):
            return np.stack([self.step(f) for f in frames])
        def reset(self):
            pass
    """
)


def _write_distribution(root: Path, name: str, version: str, entry_points: str) -> None:
    info = root / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n", encoding="utf-8"
    )
    (info / "entry_points.txt").write_text(entry_points, encoding="utf-8")


@pytest.fixture
def demo_site(tmp_path: Path) -> Path:
    """A folder holding an installed-looking kelly_demo distribution and its modules."""
    (tmp_path / "kelly_demo.py").write_text(DEMO_MODULE, encoding="utf-8")
    (tmp_path / "kelly_demo_impl.py").write_text(DEMO_IMPL, encoding="utf-8")
    _write_distribution(tmp_path, "kelly_demo", "0.1", "[kelly.plugins]\nkelly_demo = kelly_demo\n")
    return tmp_path


@pytest.fixture
def broken_site(tmp_path: Path) -> Path:
    """A folder holding a distribution whose plugin module raises on import."""
    (tmp_path / "kelly_broken.py").write_text(
        "raise RuntimeError('cannot start')\n", encoding="utf-8"
    )
    _write_distribution(
        tmp_path, "kelly_broken", "2.0", "[kelly.plugins]\nkelly_broken = kelly_broken\n"
    )
    return tmp_path


@pytest.fixture
def typo_site(tmp_path: Path) -> Path:
    """A distribution whose plugin marks ``kelly_backend`` (singular) with ``@hookimpl``."""
    (tmp_path / "kelly_typo.py").write_text(
        DEMO_MODULE.replace("def kelly_backends", "def kelly_backend"), encoding="utf-8"
    )
    _write_distribution(tmp_path, "kelly_typo", "0.2", "[kelly.plugins]\nkelly_typo = kelly_typo\n")
    return tmp_path


def _cleanup_modules() -> None:
    for name in ("kelly_demo", "kelly_demo_impl", "kelly_broken", "kelly_typo"):
        sys.modules.pop(name, None)


class TestThirdPartyBackend:
    def test_registry_finds_and_builds_it(
        self, demo_site: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A dist-info entry point registers a backend the registry returns and runs."""
        monkeypatch.syspath_prepend(str(demo_site))
        monkeypatch.delenv("KELLY_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        try:
            registry = Registry()
            (registered,) = [r for r in registry.entries("backend") if r.entry.name == "demo"]
            assert registered.distribution == "kelly_demo 0.1"
            backend = registry.backend("demo")
            assert isinstance(backend, Backend)
            backend.load(MODEL_SPECS["DynamicsEngine"], {})
            out = backend.step(np.full(32, 0.25, dtype=np.float32))
            assert out.shape == (16,)
            assert np.allclose(out, 0.5)
            # Kelly's own built-ins come in by the same door.
            assert "EmotionRecognizer" in registry.model_names()
        finally:
            _cleanup_modules()

    def test_autoload_can_be_disabled(
        self, demo_site: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """KELLY_DISABLE_PLUGIN_AUTOLOAD=1 keeps only Kelly's own distribution."""
        monkeypatch.syspath_prepend(str(demo_site))
        monkeypatch.setenv("KELLY_DISABLE_PLUGIN_AUTOLOAD", "1")
        registry = Registry()
        assert "demo" not in registry.names("backend")
        assert len(registry.model_names()) == 5

    def test_kelly_plugins_lists_it(self, demo_site: Path) -> None:
        """`kelly plugins --json` in a fresh process lists the third-party backend."""
        env = {**os.environ, "PYTHONPATH": str(demo_site)}
        env.pop("KELLY_DISABLE_PLUGIN_AUTOLOAD", None)
        out = subprocess.run(
            [sys.executable, "-m", "kelly_core.cli", "plugins", "--json"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        doc = json.loads(out.stdout)
        demo = [e for e in doc["entries"] if e["name"] == "demo"]
        assert demo == [
            {
                "kind": "backend",
                "name": "demo",
                "distribution": "kelly_demo 0.1",
                "plugin": "kelly_demo",
                "usable": True,
                "missing": [],
                "detail": "doubles its input",
                "description": "doubles its input",
            }
        ]
        text = subprocess.run(
            [sys.executable, "-m", "kelly_core.cli", "plugins"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        ).stdout
        assert "demo" in text
        assert "kelly_demo 0.1" in text


class TestBrokenDistribution:
    def test_import_error_is_reported_not_fatal(
        self, broken_site: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        """A plugin raising on import gives a warning, is listed as broken, others still load."""
        monkeypatch.syspath_prepend(str(broken_site))
        monkeypatch.delenv("KELLY_DISABLE_PLUGIN_AUTOLOAD", raising=False)
        try:
            registry = Registry()
            with pytest.warns(KellyPluginWarning, match="'kelly_broken' \\(kelly_broken 2.0\\)"):
                names = registry.model_names()
            assert len(names) == 5
            broken = [b for b in registry.broken if b.name == "kelly_broken"]
            assert len(broken) == 1
            assert "RuntimeError: cannot start" in broken[0].error
        finally:
            _cleanup_modules()

    def test_kelly_plugins_shows_broken(self, broken_site: Path) -> None:
        """`kelly plugins` still succeeds and lists the broken plugin."""
        env = {**os.environ, "PYTHONPATH": str(broken_site)}
        env.pop("KELLY_DISABLE_PLUGIN_AUTOLOAD", None)
        result = subprocess.run(
            [sys.executable, "-W", "ignore", "-m", "kelly_core.cli", "plugins"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        assert "broken plugins:" in result.stdout
        assert "kelly_broken" in result.stdout
        assert "cannot start" in result.stdout


class TestBrokenPluginLine:
    def test_one_line_that_quiet_hides(self, broken_site: Path) -> None:
        """A broken plugin is one ``kelly: warning:`` line (no Python source line), and
        ``-q`` hides it; the command itself still works."""
        env = {**os.environ, "PYTHONPATH": str(broken_site)}
        env.pop("KELLY_DISABLE_PLUGIN_AUTOLOAD", None)
        run = [sys.executable, "-m", "kelly_core.cli"]
        loud = subprocess.run([*run, "validate", "--help"], capture_output=True, text=True, env=env)
        assert loud.returncode == 0
        lines = loud.stderr.strip().splitlines()
        assert len(lines) == 1, loud.stderr
        assert lines[0].startswith("kelly: warning: kelly plugin 'kelly_broken' (kelly_broken 2.0)")
        assert "RuntimeError: cannot start" in lines[0]
        assert "warnings.warn" not in loud.stderr
        assert ".py:" not in loud.stderr
        quiet = subprocess.run(
            [*run, "-q", "validate", "--help"], capture_output=True, text=True, env=env
        )
        assert quiet.returncode == 0
        assert quiet.stderr == ""


class TestMisspelledHook:
    def test_kelly_plugins_names_plugin_and_hook(self, typo_site: Path) -> None:
        """An installed plugin with ``@hookimpl def kelly_backend()`` is one warning line
        and a ``broken plugins:`` row naming the plugin, the hook and the right spelling."""
        env = {**os.environ, "PYTHONPATH": str(typo_site)}
        env.pop("KELLY_DISABLE_PLUGIN_AUTOLOAD", None)
        result = subprocess.run(
            [sys.executable, "-m", "kelly_core.cli", "plugins"],
            capture_output=True,
            text=True,
            env=env,
            check=True,
        )
        (line,) = result.stderr.strip().splitlines()
        assert line.startswith("kelly: warning: kelly plugin 'kelly_typo' (kelly_typo 0.2)")
        assert "'kelly_backend' is not a Kelly hook (did you mean 'kelly_backends'?" in line
        assert "broken plugins:" in result.stdout
        assert "kelly_typo" in result.stdout.split("broken plugins:")[1]
        assert "demo" not in result.stdout.split("broken plugins:")[0]
