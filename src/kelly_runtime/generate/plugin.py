"""Registers the ``kelly generate`` command; importing this module imports nothing heavy."""

from __future__ import annotations

from kelly_core.entries import CommandEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["REQUIRES", "kelly_commands"]

REQUIRES = ("pretty_midi", "soundfile", "soxr")
"""Modules every ``kelly generate`` run needs (MIDI out, audio in, resampling); a run
with ``--plot`` needs matplotlib too (checked with these before any work)."""


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return the generate subcommand."""
    return [
        CommandEntry(
            name="generate",
            factory="kelly_runtime.generate.command:GenerateCommand",
            help="audio in, MIDI out: melody, chords, drums and expression from the five models",
            requires=REQUIRES,
        )
    ]
