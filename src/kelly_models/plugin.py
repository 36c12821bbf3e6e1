"""Registers Kelly's five models, the ``checkpoint`` format and the ``init``/``export`` commands.

Importing this module imports neither torch nor a model: factories are strings.
"""

from __future__ import annotations

from kelly_core.catalog import MODEL_SPECS
from kelly_core.entries import CommandEntry, ExporterEntry, ModelEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_commands", "kelly_exporters", "kelly_models"]


@hookimpl
def kelly_models() -> list[ModelEntry]:
    """Return the five built-in models, in pipeline order."""
    return [
        ModelEntry(
            name=spec.name,
            spec=spec,
            factory="kelly_models.build:build_model",
            requires=("torch",),
            description=f"{spec.input_name} -> {spec.output_name}",
        )
        for spec in MODEL_SPECS.values()
    ]


@hookimpl
def kelly_exporters() -> list[ExporterEntry]:
    """Return the ``checkpoint`` format (torch ``.pt`` files of one model each)."""
    return [
        ExporterEntry(
            name="checkpoint",
            factory="kelly_models.checkpoint_format:CheckpointExporter",
            suffix=".pt",
            requires=("torch",),
            description="torch checkpoint: spec + state_dict, torch.load(weights_only=True)",
            priority=10,
        )
    ]


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return ``kelly init`` and ``kelly export``."""
    return [
        CommandEntry(
            name="init",
            factory="kelly_models.commands:InitCommand",
            help="write untrained (seeded) checkpoints of the models",
            requires=("torch",),
        ),
        CommandEntry(
            name="export",
            factory="kelly_models.commands:ExportCommand",
            help="export every checkpoint in a folder to a model file format and check it",
            requires=("torch",),
        ),
    ]
