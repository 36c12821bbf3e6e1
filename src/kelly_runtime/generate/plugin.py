"""Registers the ``kelly generate`` command; importing this module imports nothing heavy."""

from __future__ import annotations

from kelly_core.entries import CommandEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_commands"]


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return the generate subcommand."""
    return [
        CommandEntry(
            name="generate",
            factory="kelly_runtime.generate.command:GenerateCommand",
            help="audio in, MIDI out: melody, chords, drums and expression from the five models",
            requires=("pretty_midi", "soundfile"),
        )
    ]
