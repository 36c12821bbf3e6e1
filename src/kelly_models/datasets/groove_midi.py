"""Groove MIDI Dataset (GMD) reader -> GroovePredictor examples.

Layout: ``info.csv`` with columns ``drummer, session, id, style, bpm, beat_type,
time_signature, midi_filename, audio_filename, duration, split``; ``midi_filename`` is
relative to the root (``drummer1/session1/1_funk_80_beat_4-4.mid``). Only rows with
``beat_type == "beat"`` and ``time_signature == "4-4"`` are read (fills are too short to
be grooves); the official ``split`` column is honoured; a file listed several times is
one item (split of its first row), the repeats reported. One example per file, one step
per 4/4 bar from time 0 at the MIDI file's tempo (GMD files carry the session tempo, the
CSV's ``bpm``):

- inputs ``(T, 64)``: emotion code per bar from the labeller (``pitched=False``: valence
  from tempo only, arousal from tempo, hit density and velocity), over a window of 4 bars;
- targets ``(T, 32)``: groove per bar (Roland pitches -> GrooVAE's nine classes,
  loudest hit per sixteenth step, micro-timing offsets).

Trailing bars without any hit are dropped.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.encodings.emotion import encode_emotions
from kelly_core.encodings.groove import groove_from_hits
from kelly_core.records import Example
from kelly_models.datasets.base import ArrayDataset, read_csv_rows
from kelly_models.datasets.cache import read_dataset
from kelly_models.datasets.common import require_root
from kelly_models.datasets.labeller import beat_emotions
from kelly_models.datasets.listing import list_rows
from kelly_models.datasets.midi import load_score
from kelly_models.datasets.paths import require_inside

__all__ = ["COLUMNS", "READER_VERSION", "open_groove"]

READER_VERSION: Final = 1
COLUMNS: Final = (
    "drummer", "session", "id", "style", "bpm", "beat_type", "time_signature",
    "midi_filename", "audio_filename", "duration", "split",
)  # fmt: skip


def read_groove_file(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one drum performance -> one example, bars at the MIDI file's tempo."""
    score = load_score(path)
    hits = score.drum_notes()
    if not hits:
        raise ValueError("no drum hits")
    if len(score.beats) < 2:
        raise ValueError("no tempo grid")
    beat = float(np.median(np.diff(score.beats)))
    bar = 4.0 * beat
    bars = int(np.ceil((max(h[1] for h in hits) + bar / 32) / bar))
    bounds = np.arange(bars + 1) * bar
    triples = [(t, p, v) for p, t, _, v in hits]
    targets = np.stack([groove_from_hits(triples, b * bar, bar) for b in range(bars)])
    has_hit = (targets[:, 16:] > -1).any(axis=1)
    keep = int(np.nonzero(has_hit)[0].max()) + 1
    labels = beat_emotions(hits, bounds, window_beats=4, pitched=False, beats_per_step=4)
    return [
        Example(inputs=encode_emotions(labels[:keep]), targets=targets[:keep], source=str(path))
    ]


def open_groove(
    root: Path | None,
    *,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """Open a Groove MIDI folder (the one holding ``info.csv``).

    :raises DatasetError: If ``info.csv`` is missing or lacks a column.
    """
    folder = require_root(root, "groove")
    index = require_inside(folder, folder / "info.csv")
    rows = read_csv_rows(
        index, COLUMNS, nonempty=("beat_type", "time_signature", "midi_filename", "split")
    )
    beats = [
        (line, row)
        for line, row in rows
        if row["beat_type"] == "beat" and row["time_signature"] == "4-4"
    ]
    kept, refused = list_rows(folder, index, beats, column="midi_filename", what="MIDI file")
    return read_dataset(
        [e.path for e in kept],
        read_groove_file,
        model="GroovePredictor",
        name="groove",
        reader="groove",
        version=READER_VERSION,
        key_relative=None,
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        refused=refused,
        splits={e.path: e.split for e in kept},
    )
