"""The beat tracker's training: rendered music with exact beats in, an RTNeural file out.

:mod:`.corpus` reads a folder of rendered pieces (``<name>.wav`` + ``<name>.json``);
:mod:`.train` fits :data:`kelly_core.listening.BEAT_TRACKER_SPEC` to them; :mod:`.command`
is ``kelly train-beats``. The pieces are made by :mod:`.pieces` (music21 excerpts from
:mod:`.scores`, mma charts from :mod:`.charts`, rendered with their truth by
:mod:`.render`), shared with the listening benchmark; :mod:`.trainset` is the train split.
"""

from __future__ import annotations

__all__: list[str] = []
