"""Registers ``kelly train``, ``kelly evaluate``, ``kelly train-reference`` and
``kelly train-beats``; importing this imports no torch, no loop."""

from __future__ import annotations

from kelly_core.entries import CommandEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_commands"]


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return the training subcommands."""
    return [
        CommandEntry(
            name="train",
            factory="kelly_models.training.command:TrainCommand",
            help="train the models (on datasets or synthetic data), export them, report metrics",
            requires=("torch", "matplotlib"),
        ),
        CommandEntry(
            name="evaluate",
            factory="kelly_models.training.evaluate_command:EvaluateCommand",
            help="score exported models on a dataset beside their baselines, with an "
            "emotion-shuffle ablation",
            requires=("torch",),
        ),
        CommandEntry(
            name="train-reference",
            factory="kelly_models.training.reference:TrainReferenceCommand",
            help="train the five reference models that ship with Kelly (rendered music "
            "where it exists, synthetic data elsewhere), write them compactly, --install them",
            requires=("torch", "matplotlib"),
        ),
        CommandEntry(
            name="train-beats",
            factory="kelly_models.listening.command:TrainBeatsCommand",
            help="train the beat tracker on rendered music and write its JSON file",
            requires=("torch", "soundfile"),
        ),
    ]
