"""MAESTRO reader -> DynamicsEngine examples.

Layout: ``maestro-v3.0.0.csv`` (or another ``maestro-v*.csv``) with columns
``canonical_composer, canonical_title, split, year, midi_filename, audio_filename,
duration``; ``midi_filename`` is relative to the root (``2018/MIDI-...midi``). The
official ``split`` column is honoured (``splits=("train",)`` keeps only some). A file
listed several times (other splits, other spellings) is one item, with the split of its
first row; the repeats are reported (:mod:`kelly_models.datasets.listing`). One example
per performance, one step per beat of the MIDI tempo grid (MAESTRO files carry one nominal
tempo, so a "beat" is a fixed 0.5 s slice at 120 BPM, not a musical beat):

- inputs ``(B, 32)``: compact context = coarse emotion of the labeller's (valence,
  arousal) around the beat, beat-in-bar one-hot (``b % 4``), binary pitch-class profile
  of the notes sounding in the beat, relative to the key's tonic (index 0 = tonic; key:
  :func:`kelly_models.datasets.midi.piece_key`; ``key_relative=False`` keeps C = 0);
- targets ``(B, 16)``: expression values (:mod:`kelly_core.encodings.expression`) with
  the sustain (CC64) and soft (CC67) pedals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.encodings.context import compact_contexts
from kelly_core.encodings.emotion import encode_emotions
from kelly_core.encodings.expression import expressions_for_beats, pedal_intervals
from kelly_core.encodings.melody import notes_to_multihot, pitch_class_profile
from kelly_core.encodings.tonal import transpose_pitch_classes
from kelly_core.errors import DatasetError
from kelly_core.records import Example, Split
from kelly_models.datasets.base import ArrayDataset, read_csv_rows
from kelly_models.datasets.cache import read_dataset
from kelly_models.datasets.common import require_root
from kelly_models.datasets.labeller import beat_emotions
from kelly_models.datasets.listing import list_rows
from kelly_models.datasets.midi import load_score, notes_in, piece_key
from kelly_models.datasets.paths import require_inside

__all__ = ["COLUMNS", "READER_VERSION", "find_index", "open_maestro"]

READER_VERSION: Final = 3  # 3: labeller version 2 (tension, articulation)
COLUMNS: Final = (
    "canonical_composer", "canonical_title", "split", "year", "midi_filename",
    "audio_filename", "duration",
)  # fmt: skip


def find_index(root: Path) -> Path:
    """Return the MAESTRO CSV in ``root`` (newest version first).

    :raises DatasetError: If there is none.
    """
    candidates = sorted(root.glob("maestro-v*.csv"), reverse=True)
    if not candidates:
        raise DatasetError(
            "no MAESTRO index file; expected maestro-v3.0.0.csv",
            path=root / "maestro-v3.0.0.csv",
        )
    return candidates[0]


def read_maestro_file(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one performance -> one example."""
    score = load_score(path)
    notes = score.pitched_notes()
    if not notes:
        raise ValueError("no piano notes")
    bounds = score.beat_bounds()
    if len(bounds) < 5:
        raise ValueError("too short: fewer than 4 beats")
    sustain = pedal_intervals(score.controls(64))
    soft = pedal_intervals(score.controls(67))
    targets = expressions_for_beats(notes, bounds, sustain=sustain, soft=soft)
    codes = encode_emotions(beat_emotions(notes, bounds))
    shift = piece_key(score).shift if options.get("key_relative", True) else 0
    sounding = notes_to_multihot(notes_in(notes), bounds)
    profiles = transpose_pitch_classes(
        np.stack([pitch_class_profile(np.nonzero(row)[0]) for row in sounding]), shift
    )
    inputs = compact_contexts(codes, np.arange(len(profiles)) % 4, profiles)
    return [Example(inputs=inputs, targets=targets, source=str(path))]


def open_maestro(
    root: Path | None,
    *,
    splits: Sequence[str] | None = None,
    key_relative: bool = True,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """Open a MAESTRO folder (the one holding ``maestro-v3.0.0.csv``).

    :param splits: Keep only these official splits (default: all).
    :param key_relative: Pitch classes relative to the key's tonic (default); False: C = 0.
    :raises DatasetError: If the CSV is missing or lacks a column (at once, naming both).
    """
    folder = require_root(root, "maestro")
    index = require_inside(folder, find_index(folder))
    rows = read_csv_rows(index, COLUMNS, nonempty=("split", "midi_filename"))
    unique, refused = list_rows(folder, index, rows, column="midi_filename", what="MIDI file")
    wanted = set(splits) if splits is not None else None
    kept = [e for e in unique if wanted is None or e.split in wanted]
    split_of: dict[Path, Split] = {e.path: e.split for e in kept}
    return read_dataset(
        [e.path for e in kept],
        read_maestro_file,
        model="DynamicsEngine",
        name="maestro",
        reader="maestro",
        version=READER_VERSION,
        key_relative=key_relative,
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        refused=refused,
        splits=split_of,
    )
