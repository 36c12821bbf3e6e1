"""The beat tracker's training: rendered music with exact beats in, an RTNeural file out.

:mod:`.corpus` reads a folder of rendered pieces (``<name>.wav`` + ``<name>.json``);
:mod:`.train` fits :data:`kelly_core.listening.BEAT_TRACKER_SPEC` to them; :mod:`.command`
is ``kelly train-beats``.
"""

from __future__ import annotations

__all__: list[str] = []
