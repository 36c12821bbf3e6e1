"""Roman-numeral analyses (RomanText ``.rntxt``, read by music21) -> HarmonyPredictor.

Root: a folder of ``.rntxt`` files, or ``None`` for music21's bundled corpus (the
Riemenschneider Bach chorale and Monteverdi madrigal analyses). music21 resolves every
numeral to pitches in its key; Kelly reduces them with
:func:`kelly_core.encodings.chords.classify` (root + intervals), **relative to the local
key's tonic** (root 0 = tonic, mode kept: ``V7`` in G major and in D major are both
``G:7``; a modulation to the dominant re-references the chords to the new tonic), the
convention of :mod:`kelly_core.encodings.tonal`. ``key_relative=False`` keeps absolute
roots. One example per file, one step per numeral. Emotion (documented, coarse: these
analyses have no emotion labels): valence +0.6 while the local key is major, -0.6 while
minor; arousal from the harmonic rhythm, ``clip((chords per measure - 2) / 2, -1, 1)``
over the piece. Each numeral is one step (taken as one beat, counted in fours); the song
heard is the numeral's chord through the note-to-chroma model
(:func:`~kelly_models.datasets.song_harmony.chord_chroma`).
Split: sha1 of the file name, 80/10/10.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core._optional import require
from kelly_core.constants import BEATS_PER_BAR
from kelly_core.encodings.chords import chord_one_hot, classify
from kelly_core.encodings.context import harmony_contexts
from kelly_core.encodings.emotion import coarse_emotions
from kelly_core.errors import DatasetError
from kelly_core.records import Example, SkippedFile
from kelly_models.datasets.base import ArrayDataset, hash_split
from kelly_models.datasets.cache import read_dataset
from kelly_models.datasets.common import RNTXT_MAX_BYTES, Unusable, read_data_file
from kelly_models.datasets.paths import inside_root
from kelly_models.datasets.song_harmony import chord_chroma

__all__ = ["READER_VERSION", "corpus_rntxt_files", "open_rntxt"]

READER_VERSION: Final = 4


def corpus_rntxt_files() -> list[Path]:
    """The ``.rntxt`` files bundled with music21's corpus."""
    music21 = require("music21", extra="music21", purpose="the music21 chord corpus")
    corpus = Path(str(music21.__file__)).parent / "corpus"
    return sorted(corpus.rglob("*.rntxt"))


def _text(path: Path) -> str:
    """The file's text (a regular file of at most ``RNTXT_MAX_BYTES``), parsed as data, so
    a file whose text is a path never makes music21 open that path."""
    data = read_data_file(path, limit=RNTXT_MAX_BYTES, what="RomanText file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        byte = data[exc.start]
        raise Unusable(f"not UTF-8 text (byte 0x{byte:02x} at offset {exc.start})") from None


def read_rntxt_file(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one analysis -> one example."""
    music21 = require("music21", extra="music21", purpose="reading .rntxt analyses")
    relative = bool(options.get("key_relative", True))
    text = _text(path)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            score = music21.converter.parseData(text, format="romanText")
        except music21.exceptions21.Music21Exception as exc:
            first = (str(exc).strip().splitlines() or ["no detail"])[0][:200]
            raise Unusable(f"malformed RomanText: {first}", repr(exc)) from None
        numerals = list(score.recurse().getElementsByClass("RomanNumeral"))
        measures = max(len(list(score.recurse().getElementsByClass("Measure"))), 1)
        classes: list[int] = []
        valence: list[float] = []
        for rn in numerals:
            root = rn.root()
            if root is None:
                continue
            pcs = {int(pc) for pc in rn.pitchClasses}
            key = getattr(rn, "key", None)
            tonic = getattr(getattr(key, "tonic", None), "pitchClass", 0) if relative else 0
            classes.append(
                classify(
                    int(root.pitchClass) - int(tonic),
                    {(pc - int(root.pitchClass)) % 12 for pc in pcs},
                )
            )
            mode = getattr(key, "mode", "major")
            valence.append(-0.6 if mode == "minor" else 0.6)
    if len(classes) < 2:
        raise Unusable("fewer than two Roman numerals; expected a progression")
    arousal = float(np.clip((len(classes) / measures - 2.0) / 2.0, -1, 1))
    coarse = coarse_emotions(np.column_stack([valence, np.full(len(valence), arousal)]))
    beats = np.arange(len(classes)) % BEATS_PER_BAR
    inputs = harmony_contexts(coarse, beats, chord_chroma(classes), classes)
    targets = np.stack([chord_one_hot(c) for c in classes])
    return [Example(inputs=inputs, targets=targets, source=str(path), split=hash_split(path.name))]


def open_rntxt(
    root: Path | None = None,
    *,
    key_relative: bool = True,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """Open ``.rntxt`` analyses below ``root`` (``None``: music21's corpus).

    :param key_relative: Chords relative to the local key's tonic (default); False keeps
        absolute roots.
    """
    refused: list[SkippedFile] = []
    if root is None:
        files = corpus_rntxt_files()
    else:
        if not Path(root).is_dir():
            raise DatasetError("dataset 'music21-chords': folder not found", path=root)
        found = sorted(Path(root).rglob("*.rntxt"))
        files, refused = inside_root(Path(root), found, what="RomanText file")
    return read_dataset(
        files,
        read_rntxt_file,
        model="HarmonyPredictor",
        name="music21-chords",
        reader="rntxt",
        version=READER_VERSION,
        key_relative=key_relative,
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        refused=refused,
    )
