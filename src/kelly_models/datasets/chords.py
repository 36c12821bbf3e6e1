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

One example per progression, one step per chord (taken as one beat): inputs ``(T, 128)``
the teacher-forced :func:`~kelly_core.encodings.context.harmony_contexts` (the song heard:
the chord itself through the note-to-chroma model; ``N`` before the first chord), targets
``(T, 64)`` one-hot of the chord. A file with a malformed chord, numeral or mood,
or an emotion that is not a finite number in [-1, 1] (``NaN``, ``null``, ``"high"``), is
skipped with the reason naming the progression and the field.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.constants import BEATS_PER_BAR
from kelly_core.encodings.chords import (
    NO_CHORD,
    chord_one_hot,
    chord_pitch_classes,
    reduce_chord,
    reduce_roman,
)
from kelly_core.encodings.context import harmony_contexts
from kelly_core.encodings.emotion import coarse_emotion
from kelly_core.encodings.roman import parse_key
from kelly_core.encodings.tonal import estimate_key, transpose_chord
from kelly_core.errors import DatasetError
from kelly_core.records import Example, Split
from kelly_models.datasets.base import SPLITS, ArrayDataset, hash_split
from kelly_models.datasets.cache import read_dataset
from kelly_models.datasets.common import JSON_MAX_BYTES, Unusable, read_data_file, require_root
from kelly_models.datasets.paths import inside_root
from kelly_models.datasets.song_harmony import chord_chroma

__all__ = ["MOOD_TAGS", "READER_VERSION", "open_chords", "progression_example"]

READER_VERSION: Final = 4
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
    """Build the example of one progression of chord classes, one chord per beat: the
    song heard is each chord through the note-to-chroma model
    (:func:`~kelly_models.datasets.song_harmony.chord_chroma`), beats counted in fours."""
    coarse = np.tile(coarse_emotion(valence, arousal), (len(classes), 1))
    beats = np.arange(len(classes)) % BEATS_PER_BAR
    inputs = harmony_contexts(coarse, beats, chord_chroma(classes), classes)
    targets = np.stack([chord_one_hot(c) for c in classes])
    return Example(inputs=inputs, targets=targets, source=source, split=split)


def _shown(value: object) -> str:
    """``value`` as JSON would write it (``null``, ``NaN``, ``"high"``), shortened."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _wrong(position: int, key: str, value: object, expected: str) -> Unusable:
    return Unusable(f"progression {position}: {key!r} is {_shown(value)}; expected {expected}")


def _unit(entry: Mapping[str, object], key: str, position: int) -> float:
    value = entry[key]
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(position, key, value, "a number in [-1, 1]")
    number = float(value)
    if not (math.isfinite(number) and -1.0 <= number <= 1.0):
        raise _wrong(position, key, value, "a number in [-1, 1]")
    return number


def _emotion(
    entry: Mapping[str, object], classes: Sequence[int], position: int = 0
) -> tuple[float, float]:
    if "valence" in entry and "arousal" in entry:
        return _unit(entry, "valence", position), _unit(entry, "arousal", position)
    mood = entry.get("mood")
    if mood is not None:
        tags = [mood] if isinstance(mood, str) else mood
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise _wrong(position, "mood", mood, "a mood tag or a list of mood tags")
        unknown = [t for t in tags if t.lower() not in MOOD_TAGS]
        if unknown or not tags:
            raise Unusable(
                f"progression {position}: unknown mood {unknown!r}; known: {', '.join(MOOD_TAGS)}"
            )
        points = np.array([MOOD_TAGS[t.lower()] for t in tags])
        return float(points[:, 0].mean()), float(points[:, 1].mean())
    major = sum(1 for c in classes if c < NO_CHORD and c % 5 in (0, 3, 4))
    minor = sum(1 for c in classes if c < NO_CHORD and c % 5 in (1, 2)) + sum(
        1 for c in classes if c > NO_CHORD
    )
    return 0.6 * (major - minor) / max(len(classes), 1), 0.0


def _to_tonic(classes: Sequence[int], key: str | None) -> list[int]:
    """Move absolute chord classes so that the tonic of ``key`` (or the estimate) is root 0."""
    if key is not None:
        tonic, _ = parse_key(key)
    else:
        histogram = np.zeros(12)
        for c in classes:
            for pc in chord_pitch_classes(c):
                histogram[pc] += 1.0
        tonic, _ = estimate_key(histogram)
    return [transpose_chord(c, -tonic) for c in classes]


def _document(path: Path) -> object:
    data = read_data_file(path, limit=JSON_MAX_BYTES, what="JSON file")
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise Unusable(f"not UTF-8 text (byte 0x{byte:02x} at offset {exc.start})") from None
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno} column {exc.colno}"
        raise Unusable(f"not valid JSON: {exc.msg} at {where}") from None
    except ValueError:  # an integer literal longer than Python's 4300-digit limit
        raise Unusable("not valid JSON: a number too long to read (over 4300 digits)") from None
    except RecursionError:
        raise Unusable("not valid JSON: nested too deeply to read") from None


def _strings(entry: Mapping[str, object], key: str, position: int, expected: str) -> list[str]:
    value = entry[key]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _wrong(position, key, value, expected)
    return value


def _classes(entry: Mapping[str, object], position: int, relative: bool) -> list[int]:
    key = entry.get("key")
    if key is not None and not isinstance(key, str):
        raise _wrong(position, "key", key, "a key name")
    try:
        if "chords" in entry:
            symbols = _strings(entry, "chords", position, "a list of chord symbols")
            classes = [reduce_chord(s) for s in symbols]
            return _to_tonic(classes, key) if relative and classes else classes
        if "numerals" in entry and key is not None:
            numerals = _strings(entry, "numerals", position, "a list of Roman numerals")
            return [reduce_roman(n, key, key_relative=relative) for n in numerals]
    except DatasetError as exc:
        raise Unusable(f"progression {position}: {exc.reason}") from None
    raise Unusable(f"progression {position}: needs 'chords' or 'numerals' and 'key'")


def read_chords_file(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one JSON file -> one example per progression."""
    document = _document(path)
    entries = document.get("progressions") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise Unusable("expected a list of progressions or {'progressions': [...]}")
    relative = bool(options.get("key_relative", True))
    out: list[Example] = []
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise Unusable(f"progression {position} is not an object")
        classes = _classes(entry, position, relative)
        if not classes:
            raise Unusable(f"progression {position} is empty")
        valence, arousal = _emotion(entry, classes, position)
        split = entry.get("split", hash_split(f"{path.name}:{position}"))
        if not isinstance(split, str) or split not in SPLITS:
            raise _wrong(position, "split", split, f"one of {', '.join(SPLITS)}")
        out.append(
            progression_example(classes, valence, arousal, source=f"{path}#{position}", split=split)
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
    files, refused = inside_root(folder, sorted(folder.rglob("*.json")), what="JSON file")
    return read_dataset(
        files,
        read_chords_file,
        model="HarmonyPredictor",
        name="chords",
        reader="chords",
        version=READER_VERSION,
        key_relative=key_relative,
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        refused=refused,
    )
