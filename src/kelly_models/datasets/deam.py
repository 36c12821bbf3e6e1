"""DEAM (MediaEval Database for Emotional Analysis in Music) reader -> EmotionRecognizer.

Layout (found anywhere below the root, so the zip folders' names do not matter):

- audio ``.../MEMD_audio/{song_id}.mp3`` (read with librosa, which uses libsndfile and
  resamples to 22050 Hz);
- static ``static_annotations_averaged_songs_1_2000.csv`` and
  ``static_annotations_averaged_songs_2000_2058.csv`` (columns ``song_id, valence_mean,
  valence_std, arousal_mean, arousal_std``, headers with spaces after the commas;
  ratings 1..9, mapped by ``(x - 5) / 4``);
- dynamic ``arousal.csv`` and ``valence.csv`` in a folder whose name contains
  ``dynamic`` (columns ``song_id, sample_15000ms, sample_15500ms, ...``; rows are ragged:
  shorter songs have fewer or empty cells; values already in [-1, 1]).

One example per song, one step per 0.5 s window (the log-mel front end's windows,
:func:`kelly_core.encodings.logmel.window_means`):

- inputs ``(T, 128)``: the windows' emotion frames
  (:func:`kelly_core.encodings.emotion_frame.offline_emotion_frames`, what the runtime
  streams);
- targets ``(T, 64)``: emotion codes. The annotation at ``t`` ms labels the window
  ``[t - 500, t)`` ms (what the listener had just heard). The first 15 s carry no
  dynamic annotation: ``unannotated="trim"`` (default) starts the sequence at the first
  annotated window; ``"static"`` keeps the first 15 s and labels them with the song's
  static rating. A song without dynamic rows gets its static label on every window.

The emotion frames are cached per audio file; annotations are applied afterwards.
Split: sha1 of the song id, 80/10/10 (DEAM has no official split).

Nothing poisoned or doubled reaches the targets: an annotation row with a label that is
not a finite number in its scale, or a second row of one song, is skipped with the
reason (:mod:`kelly_models.datasets.deam_labels`); so is a second audio file of one song
(``02.mp3`` beside ``2.mp3``). Audio files are read whole, at most ``AUDIO_MAX_BYTES``,
and decoded up to ``AUDIO_MAX_SECONDS`` (:mod:`kelly_models.datasets.common`).
"""

from __future__ import annotations

import io
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

import numpy as np

from kelly_core._optional import require
from kelly_core.constants import WINDOW_S
from kelly_core.encodings.emotion import encode_emotions
from kelly_core.encodings.emotion_frame import EMOTION_FRAME_VERSION, offline_emotion_frames
from kelly_core.encodings.logmel import DEFAULT_LOG_MEL
from kelly_core.errors import DatasetError
from kelly_core.records import Example, SkippedFile
from kelly_models.datasets.base import ArrayDataset, ExampleRef, hash_split
from kelly_models.datasets.cache import log_skipped, process_files
from kelly_models.datasets.common import (
    AUDIO_MAX_BYTES,
    AUDIO_MAX_SECONDS,
    Unusable,
    read_data_file,
    require_root,
)
from kelly_models.datasets.deam_labels import (
    STATIC_COLUMNS,
    Rated,
    merge_static,
    read_dynamic,
    read_rated,
    read_static,
    song_id,
)
from kelly_models.datasets.paths import inside_root, relative_name

__all__ = ["READER_VERSION", "STATIC_COLUMNS", "open_deam", "read_dynamic", "read_static"]

READER_VERSION: Final = 2
STATIC_FILES: Final = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)


def read_deam_audio(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one audio file -> its 0.5 s windows' emotion frames ``(W, 128)`` (targets
    ``(W, 0)``).

    The file is read whole (a regular file of at most ``AUDIO_MAX_BYTES``) and decoded
    from memory, at most ``AUDIO_MAX_SECONDS`` of it.
    """
    librosa = require("librosa", extra="data", purpose="reading DEAM audio")
    data = read_data_file(path, limit=AUDIO_MAX_BYTES, what="audio file")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            audio, sr = librosa.load(
                io.BytesIO(data), sr=DEFAULT_LOG_MEL.sr, mono=True, duration=AUDIO_MAX_SECONDS + 1
            )
    except Exception as exc:  # libsndfile and audioread raise their own kinds
        raise Unusable(
            "not a readable audio file: libsndfile could not decode it; expected MP3 or WAV",
            f"{type(exc).__name__}: {exc}",
        ) from None
    if len(audio) > AUDIO_MAX_SECONDS * int(sr):
        raise Unusable(
            f"longer than {AUDIO_MAX_SECONDS // 60} minutes; expected a song of at most "
            f"{AUDIO_MAX_SECONDS // 60} minutes"
        )
    windows = offline_emotion_frames(np.asarray(audio, dtype=np.float64), int(sr))
    if len(windows) == 0:
        raise Unusable(f"audio shorter than one {WINDOW_S:g} s window")
    return [
        Example(inputs=windows, targets=np.zeros((len(windows), 0), np.float32), source=str(path))
    ]


def _find(root: Path, name: str, *, under: str = "") -> list[Path]:
    return sorted(p for p in root.rglob(name) if under.lower() in str(p.parent).lower())


def _annotations(
    folder: Path,
) -> tuple[
    dict[str, tuple[float, float]],
    dict[str, dict[int, float]],
    dict[str, dict[int, float]],
    list[SkippedFile],
]:
    """Static ratings, arousal and valence series, and every row or file skipped."""
    found = [p for name in STATIC_FILES for p in _find(folder, name)]
    static_files, skipped = inside_root(folder, found, what=None)
    if not static_files:
        raise DatasetError(f"no static annotations; expected {STATIC_FILES[0]}", path=folder)
    rated: list[tuple[Path, dict[str, Rated]]] = []
    for path in static_files:
        ratings, rows = read_rated(path)
        rated.append((path, ratings))
        skipped += rows
    static, repeats = merge_static(rated)
    skipped += repeats
    series: list[dict[str, dict[int, float]]] = []
    for name in ("arousal.csv", "valence.csv"):
        files, outside = inside_root(folder, _find(folder, name, under="dynamic"), what=None)
        values, rows = read_dynamic(files[0]) if files else ({}, [])
        series.append(values)
        skipped += outside + rows
    return static, series[0], series[1], skipped


def _audio_files(folder: Path) -> tuple[list[Path], list[SkippedFile]]:
    """The songs' audio files, one per song id, and the files skipped with reasons."""
    audio_dirs = sorted(p for p in folder.rglob("MEMD_audio") if p.is_dir())
    if not audio_dirs:
        raise DatasetError("no MEMD_audio folder with the songs' .mp3 files", path=folder)
    found = sorted(
        (p for d in audio_dirs for p in d.iterdir() if p.suffix.lower() in (".mp3", ".wav")),
        key=lambda p: (len(p.stem), p.stem),
    )
    files, skipped = inside_root(folder, found, what="audio file")
    first: dict[str, Path] = {}
    kept: list[Path] = []
    for path in files:
        song = song_id(path.stem)
        if first.setdefault(song, path) is path:
            kept.append(path)
        else:
            reason = f"another audio file of song {song}; kept {relative_name(first[song], folder)}"
            skipped.append(SkippedFile(path=path, reason=reason))
    return kept, skipped


def _labels(
    song: str,
    windows: int,
    static: Mapping[str, tuple[float, float]],
    arousal: Mapping[str, Mapping[int, float]],
    valence: Mapping[str, Mapping[int, float]],
    unannotated: str,
) -> tuple[int, np.ndarray]:
    """Return (first window, (T, 2) labels) for one song."""
    a_series, v_series = arousal.get(song, {}), valence.get(song, {})
    times = sorted(set(a_series) & set(v_series))
    if not times:
        if song not in static:
            raise Unusable(f"song {song}: no static or dynamic annotation")
        return 0, np.tile(np.array(static[song]), (windows, 1))
    index = {t: round(t / (1000 * WINDOW_S)) - 1 for t in times}
    usable = [t for t in times if 0 <= index[t] < windows]
    if not usable:
        raise Unusable(f"song {song}: annotations lie beyond the audio")
    first, last = index[usable[0]], index[usable[-1]]
    labels = np.full((last + 1, 2), np.nan)
    for t in usable:
        labels[index[t]] = (v_series[t], a_series[t])
    for w in range(first + 1, last + 1):  # a missing cell inside the row: hold the last value
        if np.isnan(labels[w, 0]):
            labels[w] = labels[w - 1]
    if unannotated == "static":
        fill = static.get(song, tuple(labels[first]))
        labels[:first] = fill
        return 0, labels
    return first, labels[first:]


def open_deam(
    root: Path | None,
    *,
    unannotated: Literal["trim", "static"] = "trim",
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> ArrayDataset:
    """Open a DEAM folder (audio and annotations anywhere below ``root``).

    :raises DatasetError: If no static annotation CSV or no ``MEMD_audio`` folder is
        found, or an annotation CSV is malformed.
    """
    if unannotated not in ("trim", "static"):
        raise DatasetError(f"unannotated must be 'trim' or 'static', got {unannotated!r}")
    folder = require_root(root, "deam")
    static, arousal, valence, refused = _annotations(folder)
    audio, outside = _audio_files(folder)
    refused += outside
    items, skipped = process_files(
        audio,
        read_deam_audio,
        reader="deam",
        version=READER_VERSION,
        options={"frame": EMOTION_FRAME_VERSION, "window_s": WINDOW_S},
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        report=False,
        limit=limit,
    )
    skipped = refused + skipped
    examples: list[Example] = []
    for item in items:
        features = _inputs(item)
        song = song_id(Path(features.source).stem)
        try:
            first, labels = _labels(
                song, len(features.inputs), static, arousal, valence, unannotated
            )
        except Unusable as exc:
            skipped.append(SkippedFile(path=Path(features.source), reason=exc.reason))
            continue
        inputs = features.inputs[first : first + len(labels)]
        examples.append(
            Example(
                inputs=inputs,
                targets=encode_emotions(labels[: len(inputs)]),
                source=features.source,
                split=hash_split(song),
            )
        )
    log_skipped("deam", len(skipped), len(audio) + len(refused))
    return ArrayDataset("EmotionRecognizer", examples, skipped, name="deam")


def _inputs(item: Example | ExampleRef) -> Example:
    if isinstance(item, Example):
        return item
    with np.load(item.path) as data:
        inputs = data[f"inputs_{item.index}"]
    return Example(
        inputs=inputs, targets=np.zeros((len(inputs), 0), np.float32), source=item.source
    )
