"""Lakh MIDI (LMD) reader -> MelodyTransformer examples.

Layouts: ``lmd_full/<md5[0]>/<md5>.mid`` and ``lmd_matched/<A>/<B>/<C>/<MSD_ID>/<md5>.mid``
(also ``lmd_aligned``); ``root`` may be either folder or their parent: every ``*.mid``
below it is read. One example per file, one step per beat (pretty_midi beats):

- inputs ``(B, 64)``: the melody context of each beat
  (:func:`kelly_core.encodings.context.melody_contexts`): the coarse emotion code of the
  labeller's (valence, arousal) for a 16-beat window around the beat
  (:mod:`kelly_models.datasets.labeller`), the beat's position in its bar (from the file's
  downbeats), and the true melody of the four beats before it (teacher forcing);
- targets ``(B, 128)``: melody multi-hot per beat, **relative to the key's tonic**: the
  piece is moved to C (major or minor, the mode is kept) by the nearest transposition
  (:func:`kelly_core.encodings.tonal.to_reference`). The key is the file's first key
  signature when it fits the notes (:func:`kelly_core.encodings.tonal.trusted_key`), else
  the Krumhansl–Schmuckler estimate over every pitched note
  (:func:`kelly_models.datasets.midi.piece_key`). ``key_relative=False`` keeps absolute
  pitches.

Melody track rule: among non-drum tracks with at least ``min_notes`` notes, prefer tracks
whose name contains melody/vocal/voice/lead/solo; among those (or all, if none is named
so), the tracks whose notes overlap another note of the same track at most 20% of the
time ("mostly monophonic"), else all; then the highest mean pitch. The chosen track is
reduced to its top line (skyline: a note is dropped while a higher note sounds).
Split: sha1 of the MSD id (lmd_matched) or the md5 (lmd_full), 80/10/10, so all matched
versions of one song share a split. Files without a usable melody are skipped.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

from kelly_core.encodings.context import melody_contexts
from kelly_core.encodings.emotion import coarse_emotions
from kelly_core.encodings.melody import notes_to_multihot
from kelly_core.records import Example
from kelly_models.datasets.base import ArrayDataset, hash_split
from kelly_models.datasets.cache import read_dataset
from kelly_models.datasets.common import check_option_ranges, opt_int, require_root
from kelly_models.datasets.labeller import beat_emotions
from kelly_models.datasets.midi import MidiTrack, load_score, piece_key, transpose_notes
from kelly_models.datasets.paths import inside_root

__all__ = ["READER_VERSION", "open_lakh", "pick_melody", "skyline"]

READER_VERSION: Final = 4  # 4: labeller version 2 (tension, articulation)
_NAMED: Final = re.compile(r"melod|vocal|voice|lead|solo", re.IGNORECASE)
_MSD_ID: Final = re.compile(r"^TR[A-Z0-9]{16}$")


def _overlap_ratio(notes: Sequence[tuple[int, float, float, int]]) -> float:
    ordered = sorted(notes, key=lambda n: n[1])
    overlapping, latest_end = 0, float("-inf")
    for _, start, end, _ in ordered:
        if start < latest_end - 1e-3:
            overlapping += 1
        latest_end = max(latest_end, end)
    return overlapping / max(len(ordered), 1)


def pick_melody(tracks: Sequence[MidiTrack], *, min_notes: int = 16) -> MidiTrack | None:
    """Choose the melody track by the documented rule, or None if no track qualifies."""
    candidates = [t for t in tracks if not t.is_drum and len(t.notes) >= min_notes]
    if not candidates:
        return None
    named = [t for t in candidates if _NAMED.search(t.name)]
    pool = named or candidates
    mono = [t for t in pool if _overlap_ratio(t.notes) <= 0.2]
    pool = mono or pool
    return max(pool, key=lambda t: sum(n[0] for n in t.notes) / len(t.notes))


def skyline(notes: Sequence[tuple[int, float, float, int]]) -> list[tuple[int, float, float]]:
    """Keep the top line: cut every note where a higher note is sounding."""
    ordered = sorted(notes, key=lambda n: (n[1], -n[0]))
    out: list[tuple[int, float, float]] = []
    for pitch, start, end, _ in ordered:
        if out and out[-1][2] > start + 1e-3:
            prev = out[-1]
            if prev[0] >= pitch:
                continue
            out[-1] = (prev[0], prev[1], start)
            if out[-1][2] - out[-1][1] <= 1e-3:
                out.pop()
        out.append((pitch, start, end))
    return out


def _split_key(path: Path) -> str:
    msd = path.parent.name
    return msd if _MSD_ID.match(msd) else path.stem


def read_lakh_file(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one Lakh MIDI file -> one example (raises on unusable files)."""
    score = load_score(path)
    melody = pick_melody(score.tracks, min_notes=opt_int(options, "min_notes"))
    if melody is None:
        raise ValueError("no melody track (no non-drum track with enough notes)")
    bounds = score.beat_bounds()
    if len(bounds) < 9:
        raise ValueError(f"too short: {max(len(bounds) - 1, 0)} beats, expected >= 8")
    shift = piece_key(score).shift if options.get("key_relative", True) else 0
    targets = notes_to_multihot(skyline(transpose_notes(melody.notes, shift)), bounds)
    labels = beat_emotions(score.pitched_notes(), bounds)
    return [
        Example(
            inputs=melody_contexts(coarse_emotions(labels), score.beats_in_bar(), targets),
            targets=targets,
            source=str(path),
            split=hash_split(_split_key(path)),
        )
    ]


def find_midi_files(root: Path) -> list[Path]:
    """All ``*.mid``/``*.midi`` files below ``root``, sorted."""
    return sorted(p for p in root.rglob("*") if p.suffix.lower() in (".mid", ".midi"))


def open_lakh(
    root: Path | None,
    *,
    min_notes: int = 16,
    key_relative: bool = True,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """Open a Lakh MIDI folder (``lmd_full``, ``lmd_matched`` or their parent).

    :param key_relative: Move every piece to the reference tonic C (default); False keeps
        absolute pitches.
    :param limit: Read only the first ``limit`` files (sorted), for quick runs.
    """
    check_option_ranges("lakh", {"min_notes": min_notes, "limit": limit, "workers": workers})
    folder = require_root(root, "lakh")
    files, refused = inside_root(folder, find_midi_files(folder), what="MIDI file")
    return read_dataset(
        files,
        read_lakh_file,
        model="MelodyTransformer",
        name="lakh",
        reader="lakh",
        version=READER_VERSION,
        key_relative=key_relative,
        options={"min_notes": min_notes},
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        refused=refused,
    )
