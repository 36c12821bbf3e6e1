"""Errors of the generate command: an unreadable or unusable audio file, bad options.

Both refine :class:`kelly_core.errors.KellyError`, so the ``kelly`` command line prints
them as one ``kelly: error: ...`` line with exit status 2 instead of a traceback.
"""

from __future__ import annotations

__all__ = ["AudioError", "GenerateOptionError"]

from kelly_core.errors import KellyError


class AudioError(KellyError, ValueError):
    """An audio file cannot be read or holds no usable signal; ``path`` names the file."""


class GenerateOptionError(KellyError, ValueError):
    """A generation option (key, range, tempo, temperature) is malformed or out of range."""
