"""Tests for kelly_core.cli: the top-level parser and `kelly plugins`."""

from __future__ import annotations

import json

import pytest

from kelly_core.cli import main


class TestPlugins:
    def test_lists_the_five_models_with_counts(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`kelly plugins` lists every built-in model with its distribution and status."""
        assert main(["plugins"]) == 0
        out = capsys.readouterr().out
        for name in (
            "EmotionRecognizer",
            "MelodyTransformer",
            "HarmonyPredictor",
            "DynamicsEngine",
            "GroovePredictor",
        ):
            assert name in out
        assert "403,264 params" in out
        assert out.startswith("models:")
        for section in ("datasets:", "exporters:", "backends:", "commands:"):
            assert section in out

    def test_json_output(self, capsys: pytest.CaptureFixture[str]) -> None:
        """`--json` prints one object whose model entries are usable kelly entries."""
        assert main(["plugins", "--json"]) == 0
        doc = json.loads(capsys.readouterr().out)
        models = [e for e in doc["entries"] if e["kind"] == "model"]
        assert len(models) == 5
        assert all(e["distribution"].startswith("kelly ") for e in models)
        assert all(e["usable"] for e in models)  # torch is installed in the test environment
        assert doc["broken"] == []


class TestDispatch:
    def test_no_command_prints_help(self, capsys: pytest.CaptureFixture[str]) -> None:
        """Running `kelly` alone prints usage and succeeds."""
        assert main([]) == 0
        assert "usage: kelly" in capsys.readouterr().out

    def test_unknown_command_fails_with_usage(self, capsys: pytest.CaptureFixture[str]) -> None:
        """An unknown subcommand exits with argparse's status 2 and names the choices."""
        with pytest.raises(SystemExit) as info:
            main(["plugns"])
        assert info.value.code == 2
        assert "invalid choice: 'plugns'" in capsys.readouterr().err
