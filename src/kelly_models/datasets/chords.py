"""Chord progressions (Kelly's JSON format) -> HarmonyPredictor examples.

Files: every ``*.json`` below the root. A file holds ``{"progressions": [...]}`` or a bare
list of progressions; a progression is an object with

- ``"chords"``: chord symbols (pop ``"Am7"`` or Harte ``"A:min7"``, ``"N"``), or
  ``"numerals"`` with ``"key"`` (``["ii7", "V7", "I"]`` in ``"C"``);
- optional emotion: ``"valence"`` and ``"arousal"`` in [-1, 1]; else ``"mood"`` (a tag or
  a list of tags from :data:`MOOD_TAGS`, averaged); else derived from the chords
  (valence = 0.6 × (major − minor-family chords) / chords, arousal 0);
- optional ``"key"`` for ``"chords"`` too (``"G"``, ``"e"``, ``"Bb major"``);
- optional ``"split"`` (train/validation/test; default: sha1 of file name and position).

Classes are **relative to the key's tonic** (root 0 = tonic; the convention of
:mod:`kelly_core.encodings.tonal`): numerals directly, chord symbols moved from the given
``"key"``, else from the Krumhansl–Schmuckler estimate over the chords' pitch classes
(:func:`kelly_core.encodings.tonal.estimate_key`). ``key_relative=False`` keeps absolute
roots.

One example per progression, one step per chord: inputs ``(T, 128)`` =
``harmony_context(emotion code, one-hot of the previous chord)`` (``N`` before the first),
targets ``(T, 64)`` one-hot of the chord. A file with a malformed chord, numeral or mood
is skipped with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final, cast

import numpy as np

from kelly_core.encodings.chords import (
    NO_CHORD,
    chord_one_hot,
    chord_pitch_classes,
    reduce_chord,
    reduce_roman,
)
from kelly_core.encodings.context import harmony_context
from kelly_core.encodings.emotion import encode_emotion
from kelly_core.encodings.roman import parse_key
from kelly_core.encodings.tonal import estimate_key, transpose_chord
from kelly_core.records import Example, Split
from kelly_models.datasets.base import SPLITS, ArrayDataset, hash_split
from kelly_models.datasets.cache import process_files
from kelly_models.datasets.common import require_root
from kelly_models.datasets.paths import inside_root

__all__ = ["MOOD_TAGS", "READER_VERSION", "open_chords", "progression_example"]

READER_VERSION: Final = 2
MOOD_TAGS: Final[Mapping[str, tuple[float, float]]] = {
    "happy": (0.8, 0.5), "joyful": (0.8, 0.6), "uplifting": (0.7, 0.5),
    "triumphant": (0.7, 0.7), "energetic": (0.4, 0.8), "epic": (0.3, 0.8),
    "hopeful": (0.5, 0.1), "romantic": (0.6, -0.2), "calm": (0.4, -0.6),
    "peaceful": (0.5, -0.7), "relaxed": (0.5, -0.5), "dreamy": (0.3, -0.4),
    "nostalgic": (0.0, -0.3), "mysterious": (-0.2, 0.0), "melancholic": (-0.5, -0.3),
    "sad": (-0.7, -0.4), "dark": (-0.6, 0.1), "tense": (-0.5, 0.6), "anxious": (-0.6, 0.5),
    "angry": (-0.7, 0.8),
}  # fmt: skip
"""Mood tag -> (valence, arousal), after the circumplex model (Russell 1980)."""


def progression_example(
    classes: Sequence[int], valence: float, arousal: float, *, source: str, split: Split
) -> Example:
    """Build the example of one progression of chord classes."""
    code = encode_emotion(valence, arousal)
    previous = [NO_CHORD, *classes[:-1]]
    inputs = np.stack([harmony_context(code, chord_one_hot(p)) for p in previous])
    targets = np.stack([chord_one_hot(c) for c in classes])
    return Example(inputs=inputs, targets=targets, source=source, split=split)


def _emotion(entry: Mapping[str, object], classes: Sequence[int]) -> tuple[float, float]:
    if "valence" in entry and "arousal" in entry:
        v, a = float(cast(float, entry["valence"])), float(cast(float, entry["arousal"]))
        if not (-1 <= v <= 1 and -1 <= a <= 1):
            raise ValueError(f"valence/arousal must lie in [-1, 1], got {v}, {a}")
        return v, a
    mood = entry.get("mood")
    if mood is not None:
        tags = [mood] if isinstance(mood, str) else list(cast(Sequence[str], mood))
        unknown = [t for t in tags if str(t).lower() not in MOOD_TAGS]
        if unknown or not tags:
            raise ValueError(f"unknown mood {unknown!r}; known: {', '.join(MOOD_TAGS)}")
        points = np.array([MOOD_TAGS[str(t).lower()] for t in tags])
        return float(points[:, 0].mean()), float(points[:, 1].mean())
    major = sum(1 for c in classes if c < NO_CHORD and c % 5 in (0, 3, 4))
    minor = sum(1 for c in classes if c < NO_CHORD and c % 5 in (1, 2)) + sum(
        1 for c in classes if c > NO_CHORD
    )
    return 0.6 * (major - minor) / max(len(classes), 1), 0.0


def _to_tonic(classes: Sequence[int], key: object) -> list[int]:
    """Move absolute chord classes so that the tonic of ``key`` (or the estimate) is root 0."""
    if key is not None:
        tonic, _ = parse_key(str(key))
    else:
        histogram = np.zeros(12)
        for c in classes:
            for pc in chord_pitch_classes(c):
                histogram[pc] += 1.0
        tonic, _ = estimate_key(histogram)
    return [transpose_chord(c, -tonic) for c in classes]


def read_chords_file(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one JSON file -> one example per progression."""
    document = json.loads(path.read_text(encoding="utf-8"))
    entries = document.get("progressions") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise ValueError("expected a list of progressions or {'progressions': [...]}")
    out: list[Example] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise ValueError(f"progression {position} is not an object")
        relative = bool(options.get("key_relative", True))
        if "chords" in entry:
            classes = [reduce_chord(str(s)) for s in entry["chords"]]
            if relative and classes:
                classes = _to_tonic(classes, entry.get("key"))
        elif "numerals" in entry and "key" in entry:
            key = str(entry["key"])
            classes = [reduce_roman(str(n), key, key_relative=relative) for n in entry["numerals"]]
        else:
            raise ValueError(f"progression {position}: needs 'chords' or 'numerals' and 'key'")
        if not classes:
            raise ValueError(f"progression {position} is empty")
        valence, arousal = _emotion(entry, classes)
        split = entry.get("split", hash_split(f"{path.name}:{position}"))
        if split not in SPLITS:
            raise ValueError(f"progression {position}: split {split!r} is not one of {SPLITS}")
        out.append(
            progression_example(
                classes, valence, arousal, source=f"{path}#{position}", split=cast(Split, split)
            )
        )
    return out


def open_chords(
    root: Path | None,
    *,
    key_relative: bool = True,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """Open a folder of chord-progression JSON files.

    :param key_relative: Chords relative to the key's tonic (default); False: absolute.
    """
    folder = require_root(root, "chords")
    files, refused = inside_root(folder, sorted(folder.rglob("*.json")))
    files = files[:limit]
    items, skipped = process_files(
        files,
        read_chords_file,
        reader="chords",
        version=READER_VERSION,
        options={"key_relative": bool(key_relative)},
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
    )
    return ArrayDataset(
        "HarmonyPredictor",
        items,
        refused + skipped,
        name="chords",
        tonal_reference="tonic" if key_relative else "absolute",
    )
