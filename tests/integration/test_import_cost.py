"""Importing the torch-free packages must not import torch (checked in a fresh process)."""

from __future__ import annotations

import subprocess
import sys

import pytest

CHECK = (
    "import sys\n"
    "import {modules}\n"
    "heavy = ('torch', 'pretty_midi', 'librosa', 'soundfile')\n"
    "loaded = sorted(m for m in heavy if m in sys.modules)\n"
    "print(','.join(loaded))\n"
)


@pytest.mark.parametrize(
    "modules",
    [
        "kelly_core, kelly_export, kelly_runtime",
        "kelly_core.cli, kelly_models.plugin, kelly_models.datasets.plugin, "
        "kelly_models.training.plugin, kelly_export.plugin, kelly_runtime.plugin, "
        "kelly_runtime.generate.plugin",
    ],
)
def test_torch_free_imports(modules: str) -> None:
    """The core, export and runtime packages and every plugin module leave torch unloaded."""
    out = subprocess.run(
        [sys.executable, "-c", CHECK.format(modules=modules)],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == ""


def test_listing_plugins_does_not_import_torch() -> None:
    """Loading every registered entry (as `kelly plugins` does) leaves torch unloaded."""
    code = (
        "import sys\n"
        "from kelly_core.registry import Registry\n"
        "from kelly_core.cli import plugin_rows\n"
        "rows = plugin_rows(Registry())\n"
        "print(len(rows), 'torch' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    count, torch_loaded = out.stdout.split()
    assert int(count) >= 5
    assert torch_loaded == "False"
