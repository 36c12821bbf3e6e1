"""pluggy hook specifications: how a plugin tells Kelly what it provides.

A plugin is a module (or object) with functions marked ``@hookimpl`` and named like the
specs below, listed under the ``kelly.plugins`` entry-point group.
"""

from __future__ import annotations

from pathlib import Path

import pluggy

from kelly_core.entries import (
    BackendEntry,
    CommandEntry,
    DatasetEntry,
    ExporterEntry,
    ModelEntry,
)

__all__ = ["PROJECT", "hookimpl", "hookspec"]

PROJECT = "kelly"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)


@hookspec
def kelly_models() -> list[ModelEntry]:
    """Return the models this plugin provides; called once, when the registry loads."""
    raise NotImplementedError


@hookspec
def kelly_datasets() -> list[DatasetEntry]:
    """Return the dataset readers this plugin provides; called once, when the registry loads."""
    raise NotImplementedError


@hookspec
def kelly_exporters() -> list[ExporterEntry]:
    """Return the model file formats this plugin provides; called once, when the registry loads."""
    raise NotImplementedError


@hookspec
def kelly_backends() -> list[BackendEntry]:
    """Return the inference backends this plugin provides; called once, when the registry loads."""
    raise NotImplementedError


@hookspec
def kelly_commands() -> list[CommandEntry]:
    """Return the ``kelly`` subcommands this plugin provides; called once, on registry load."""
    raise NotImplementedError


@hookspec(firstresult=True)
def kelly_guess_dataset(root: Path) -> str | None:
    """Return the name of a dataset reader that understands ``root``, or None.

    Stops at the first non-None result.

    :param root: An existing folder chosen by the user.
    """
    raise NotImplementedError
