"""Registers Kelly's five models; importing this module imports neither torch nor a model."""

from __future__ import annotations

from kelly_core.catalog import MODEL_SPECS
from kelly_core.entries import ModelEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_models"]


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
