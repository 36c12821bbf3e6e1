"""Tests for kelly_models.training.command: options, model names, device choice."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest
import torch

from kelly_core.errors import KellyError, UnknownNameError
from kelly_core.registry import Registry
from kelly_models import plugin as models_plugin
from kelly_models.training.command import TrainCommand, resolve_model_names
from kelly_models.training.run import pick_device

REGISTRY = Registry(plugins=[models_plugin])


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kelly train")
    TrainCommand(REGISTRY).configure(parser)
    return parser


class TestOptions:
    def test_short_aliases(self) -> None:
        """The original's short flags still work, each declared once."""
        args = _parser().parse_args(
            ["-d", "data", "-o", "out", "-e", "3", "-b", "8", "-s", "5", "-m", "emotionrecognizer"]
        )
        assert (str(args.datasets_dir), str(args.output), args.epochs) == ("data", "out", 3)
        assert (args.batch_size, args.seed, args.models) == (8, 5, ["emotionrecognizer"])

    def test_no_duplicate_flags(self) -> None:
        """Every option string belongs to one action (the original crashed on a second -d)."""
        strings = [s for a in _parser()._actions for s in a.option_strings]
        assert len(strings) == len(set(strings))

    def test_synthetic_excludes_datasets_dir(self) -> None:
        """--synthetic and --datasets-dir cannot be combined."""
        with pytest.raises(SystemExit):
            _parser().parse_args(["--synthetic", "-d", "x", "-o", "out"])

    def test_output_required(self) -> None:
        """--output is required."""
        with pytest.raises(SystemExit):
            _parser().parse_args(["--synthetic"])

    def test_out_of_range_refused_while_parsing(self) -> None:
        """--epochs 0 is refused by the parser itself, naming the flag and the range."""
        with pytest.raises(KellyError, match=r"^--epochs: expected an integer in 1\.\.10000"):
            _parser().parse_args(["-o", "out", "--epochs", "0"])

    def test_invalid_value_is_kelly_error(self, tmp_path: Path) -> None:
        """A value TrainConfig refuses (given past the parser) becomes a KellyError naming
        the flag (exit status 2 from the CLI)."""
        args = _parser().parse_args(["-o", str(tmp_path / "out")])
        args.epochs = 0
        with pytest.raises(
            KellyError, match=r"invalid option: --epochs must be an integer in 1\.\.10000, got 0$"
        ):
            TrainCommand(REGISTRY).run(args)


class TestModelNames:
    def test_case_insensitive(self) -> None:
        """File stems and any case map to the model names, in the given order, once each."""
        names = resolve_model_names(
            REGISTRY, ["grooveprEDICTOR", "EmotionRecognizer", "emotionrecognizer"]
        )
        assert names == ["GroovePredictor", "EmotionRecognizer"]

    def test_default_all(self) -> None:
        """No --models means all five, in pipeline order."""
        assert resolve_model_names(REGISTRY, None) == list(REGISTRY.model_names())

    def test_unknown(self) -> None:
        """An unknown name raises UnknownNameError with a suggestion."""
        with pytest.raises(UnknownNameError) as info:
            resolve_model_names(REGISTRY, ["EmotionRecogniser"])
        assert info.value.suggestion == "EmotionRecognizer"


class TestPickDevice:
    def test_cpu(self) -> None:
        """cpu is always available."""
        assert pick_device("cpu") == torch.device("cpu")

    def test_auto(self) -> None:
        """auto picks cuda, then mps, then cpu."""
        expected = (
            "cuda"
            if torch.cuda.is_available()
            else "mps"
            if torch.backends.mps.is_available()
            else "cpu"
        )
        assert pick_device("auto").type == expected

    @pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
    def test_missing_cuda(self) -> None:
        """Asking for an absent device is a clear error."""
        with pytest.raises(KellyError, match="not available"):
            pick_device("cuda")
