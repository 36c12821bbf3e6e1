"""Audio in, MIDI out: the generate command and its pieces."""

from __future__ import annotations

__all__: list[str] = []
