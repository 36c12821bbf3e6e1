"""Rendered pieces -> HarmonyPredictor and MelodyTransformer examples that hear the song.

Root: a folder of pieces as :mod:`kelly_models.listening.pieces` builds them (``kelly
train-beats --build DIR`` builds the beat tracker's train split there, which shares no
composer, mma style, GM program or drum kit with the listening and play-along
benchmarks' test split): ``<name>.json`` (the truth: exact beats, downbeats, beats per
bar, key, tempo, and for mma pieces the chart), ``<name>.wav`` (fluidsynth's rendering,
22050 Hz) and ``<name>.mid``. One example per piece, one step per beat:

- **the song heard**: the audio front end Kelly runs
  (:func:`~kelly_core.encodings.chroma.offline_chroma`, averaged over each true beat by
  :func:`~kelly_core.encodings.chroma.beat_chroma`), made key-relative by
  :func:`~kelly_core.encodings.context.song_harmony`; with the option ``chroma_lag`` 1 a
  beat hears the previous beat's (the zero-latency plugin's view; 0, the default: its
  own, as ``kelly generate`` does);
- **the chord** (HarmonyPredictor's target), relative to the key's tonic: the chart's
  chord for mma pieces (:func:`~kelly_models.datasets.song_harmony.chart_chords`), the
  chord rule over the MIDI's pitched notes for music21 scores
  (:func:`~kelly_models.datasets.song_harmony.reduce_chord`);
- **the melody** (MelodyTransformer's target; music21 scores only, mma charts have
  none): the pitches of the score's first part (the MIDI's first instrument) sounding in
  each beat, moved so the tonic is C (by :func:`~kelly_core.encodings.tonal.tonic_shift`);
- **emotion** (documented, coarse: these pieces carry no emotion labels): valence +0.6
  in a major key, -0.6 in a minor one, 0 without a key; arousal
  ``clip((tempo - 110) / 50, -1, 1)``.

**Split by composer or style** (:func:`piece_group`, :func:`group_split`): a piece's
group is its composer (a folk tune's: its collection), or its mma groove; a group's split
is the sha1 split of its name (80/10/10), except Bach, pinned to ``train``: every
composer and style of ``test`` is held out of training.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any, Final

import numpy as np

from kelly_core._optional import require
from kelly_core.encodings.chords import NUM_CHORDS, parse_pitch_class
from kelly_core.encodings.chroma import beat_chroma, heard_late, offline_chroma
from kelly_core.encodings.context import harmony_contexts, melody_contexts, song_harmony
from kelly_core.encodings.emotion import coarse_emotions
from kelly_core.encodings.melody import notes_to_multihot
from kelly_core.encodings.tonal import tonic_shift, transpose_chord, transpose_pitches
from kelly_core.errors import DatasetError
from kelly_core.records import Example, Split
from kelly_models.datasets.base import ArrayDataset, hash_split
from kelly_models.datasets.cache import read_dataset
from kelly_models.datasets.common import Unusable
from kelly_models.datasets.song_harmony import Note, chart_chords, pitch_weights, reduce_chord

__all__ = [
    "READER_VERSION",
    "group_split",
    "open_rendered_harmony",
    "open_rendered_melody",
    "piece_group",
]

READER_VERSION: Final = 1
_SAMPLE_RATE: Final = 22050
_PINNED: Final[Mapping[str, Split]] = {"Bach": "train"}


def piece_group(record: Mapping[str, Any]) -> str:
    """The composer (a folk tune's collection) or mma groove a piece belongs to."""
    if record.get("source") == "mma":
        return f"mma:{record.get('style')}"
    composer = str(record.get("composer"))
    if composer == "folk":
        return f"folk:{Path(str(record.get('origin'))).stem}"
    return composer


def group_split(group: str) -> Split:
    """The split of every piece of ``group`` (module docstring)."""
    return _PINNED.get(group) or hash_split(group)


def _record(path: Path) -> dict[str, Any]:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise Unusable(f"not a piece record: {exc}") from None
    if not isinstance(record, dict) or not isinstance(record.get("beats"), list):
        raise Unusable("not a piece record: no 'beats' list")
    if len(record["beats"]) < 8:
        raise Unusable(f"{len(record['beats'])} beats; expected at least 8")
    return record


def _heard(path: Path, record: Mapping[str, Any], tonic: int, lag: int) -> np.ndarray:
    """The song harmony heard at each beat ``(B, 24)``, from the rendered audio."""
    soundfile = require("soundfile", extra="data", purpose="reading rendered pieces")
    samples, rate = soundfile.read(str(path.with_suffix(".wav")), dtype="float32")
    if rate != _SAMPLE_RATE:
        raise Unusable(f"sample rate {rate} Hz; expected {_SAMPLE_RATE}")
    mono = samples.mean(axis=1) if samples.ndim == 2 else samples
    beats = np.asarray(record["beats"], dtype=np.float64)
    song = song_harmony(beat_chroma(offline_chroma(mono, rate), beats, end=len(mono) / rate), tonic)
    return heard_late(song, lag)


def _notes(path: Path, first_only: bool = False) -> list[Note]:
    pretty_midi = require("pretty_midi", extra="data", purpose="reading rendered pieces")
    pm = pretty_midi.PrettyMIDI(str(path.with_suffix(".mid")))
    tracks = [i for i in pm.instruments if not i.is_drum]
    if first_only:
        tracks = tracks[:1]
    return [(n.start, n.end, n.pitch, n.velocity) for i in tracks for n in i.notes]


def _bounds(record: Mapping[str, Any]) -> np.ndarray:
    beats = np.asarray(record["beats"], dtype=np.float64)
    step = float(np.median(np.diff(beats)))
    end = min(float(beats[-1]) + step, float(record.get("duration") or beats[-1] + step))
    return np.append(beats, max(end, beats[-1] + 0.01))


def _beats_in_bar(record: Mapping[str, Any]) -> np.ndarray:
    beats = np.asarray(record["beats"], dtype=np.float64)
    per_bar = int(record.get("beats_per_bar") or 4)
    downbeats = record.get("downbeats") or [beats[0]]
    first = int(np.argmin(np.abs(beats - float(downbeats[0]))))
    return np.asarray(np.minimum((np.arange(len(beats)) - first) % per_bar, 3), dtype=np.int64)


def _chords(path: Path, record: Mapping[str, Any], tonic: int) -> np.ndarray:
    """Each beat's chord class, relative to ``tonic``."""
    count = len(record["beats"])
    if record.get("source") == "mma":
        absolute = chart_chords(str(record.get("chart", "")), int(record["beats_per_bar"]))
        absolute = (absolute + absolute[-1:] * count)[:count]
    else:
        weights, basses = pitch_weights(_notes(path), _bounds(record))
        absolute = [reduce_chord(w, b) for w, b in zip(weights, basses, strict=True)]
    return np.asarray([transpose_chord(c, -tonic) for c in absolute], dtype=np.int64)


def _key(record: Mapping[str, Any]) -> tuple[int, float]:
    """The key's tonic pitch class and the valence its mode gives."""
    key = record.get("key")
    if not isinstance(key, str) or ":" not in key:
        return 0, 0.0
    name, mode = key.split(":", 1)
    tonic, _ = parse_pitch_class(name)
    return tonic, (-0.6 if mode.startswith("min") else 0.6)


def read_rendered_piece(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one rendered piece -> one example of ``options["model"]``."""
    record = _record(path)
    model = str(options.get("model"))
    if model == "MelodyTransformer" and record.get("source") == "mma":
        return []
    tonic, valence = _key(record)
    try:
        heard = _heard(path, record, tonic, int(str(options.get("chroma_lag", 0))))
        count = len(heard)
        tempo = float(record.get("tempo") or 110.0)
        arousal = float(np.clip((tempo - 110.0) / 50.0, -1.0, 1.0))
        coarse = coarse_emotions(np.tile([[valence, arousal]], (count, 1)).astype(np.float32))
        beats = _beats_in_bar(record)
        split = group_split(piece_group(record))
        if model == "HarmonyPredictor":
            chords = _chords(path, record, tonic)
            inputs = harmony_contexts(coarse, beats, heard, chords)
            targets = np.eye(NUM_CHORDS, dtype=np.float32)[chords]
        else:
            notes = [(p, s, e) for s, e, p, _ in _notes(path, first_only=True)]
            melody = notes_to_multihot(notes, _bounds(record))
            targets = transpose_pitches(melody, -tonic_shift(tonic))
            inputs = melody_contexts(coarse, beats, targets, heard)
    except (OSError, ValueError, KeyError) as exc:
        raise Unusable(f"unreadable piece: {type(exc).__name__}: {exc}") from None
    return [Example(inputs=inputs, targets=targets, source=str(path), split=split)]


def _open(
    model: str,
    name: str,
    root: Path | None,
    *,
    chroma_lag: int,
    limit: int | None,
    cache_dir: Path | None,
    use_cache: bool,
    workers: int | None,
) -> ArrayDataset:
    if root is None or not Path(root).is_dir():
        raise DatasetError(
            f"dataset {name!r}: folder of rendered pieces not found (build one with "
            "kelly train-beats --build DIR)",
            path=root,
        )
    if chroma_lag not in (0, 1):
        raise DatasetError(
            f"dataset {name!r}: chroma_lag must be 0 or 1, got {chroma_lag}",
            field="chroma_lag",
            expected=(0, 1),
            got=chroma_lag,
        )
    files = sorted(p for p in Path(root).glob("*.json") if p.with_suffix(".wav").is_file())
    return read_dataset(
        files,
        read_rendered_piece,
        model=model,
        name=name,
        reader="rendered",
        version=READER_VERSION,
        key_relative=True,
        options={"model": model, "chroma_lag": chroma_lag},
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
    )


def open_rendered_harmony(
    root: Path | None = None,
    *,
    chroma_lag: int = 0,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """HarmonyPredictor examples of the rendered pieces below ``root`` (module docstring)."""
    return _open(
        "HarmonyPredictor",
        "rendered-harmony",
        root,
        chroma_lag=chroma_lag,
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
    )


def open_rendered_melody(
    root: Path | None = None,
    *,
    chroma_lag: int = 0,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """MelodyTransformer examples of the rendered music21 scores below ``root``."""
    return _open(
        "MelodyTransformer",
        "rendered-melody",
        root,
        chroma_lag=chroma_lag,
        limit=limit,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
    )
