"""Tests of kelly_runtime.generate.plugin and the package's import cost."""

from __future__ import annotations

import subprocess
import sys

from kelly_core.registry import Registry
from kelly_runtime.generate import plugin


class TestPlugin:
    def test_registers_generate(self) -> None:
        """The plugin offers the generate command, built by GenerateCommand."""
        registry = Registry(plugins=[plugin])
        assert registry.names("command") == ("generate",)
        command = registry.command("generate")
        assert type(command).__name__ == "GenerateCommand"

    def test_import_is_cheap(self) -> None:
        """Importing the package and its plugin loads no torch, pretty_midi, soundfile, plots."""
        code = (
            "import sys, kelly_runtime.generate, kelly_runtime.generate.plugin, "
            "kelly_runtime.generate.command;"
            "print(sorted(m for m in ('torch', 'pretty_midi', 'soundfile', 'soxr', 'librosa', "
            "'matplotlib') if m in sys.modules))"
        )
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == "[]"
