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

One example per song, one step per 0.5 s window (mean of the log-mel frames whose start
lies in it, :func:`kelly_core.encodings.logmel.window_means`):

- inputs ``(T, 128)``: window means of scaled log-mel frames;
- targets ``(T, 64)``: emotion codes. The annotation at ``t`` ms labels the window
  ``[t - 500, t)`` ms (what the listener had just heard). The first 15 s carry no
  dynamic annotation: ``unannotated="trim"`` (default) starts the sequence at the first
  annotated window; ``"static"`` keeps the first 15 s and labels them with the song's
  static rating. A song without dynamic rows gets its static label on every window.

The log-mel window means are cached per audio file; annotations are applied afterwards.
Split: sha1 of the song id, 80/10/10 (DEAM has no official split).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

import numpy as np

from kelly_core._optional import require
from kelly_core.encodings.emotion import deam_static_to_unit, encode_emotions
from kelly_core.encodings.logmel import (
    DEFAULT_LOG_MEL,
    frames_per_window,
    offline_log_mel,
    window_means,
)
from kelly_core.errors import DatasetError
from kelly_core.records import Example, SkippedFile
from kelly_models.datasets.base import ArrayDataset, ExampleRef, hash_split, read_csv_index
from kelly_models.datasets.cache import process_files
from kelly_models.datasets.common import require_root
from kelly_models.datasets.paths import inside_root

__all__ = ["READER_VERSION", "STATIC_COLUMNS", "open_deam", "read_dynamic", "read_static"]

READER_VERSION: Final = 1
STATIC_COLUMNS: Final = ("song_id", "valence_mean", "valence_std", "arousal_mean", "arousal_std")
STATIC_FILES: Final = (
    "static_annotations_averaged_songs_1_2000.csv",
    "static_annotations_averaged_songs_2000_2058.csv",
)
WINDOW_S: Final = 0.5
logger = logging.getLogger(__name__)


def read_static(path: Path) -> dict[str, tuple[float, float]]:
    """Read a static CSV: song id -> (valence, arousal) in [-1, 1].

    :raises DatasetError: On a missing file, column or a non-numeric value.
    """
    out: dict[str, tuple[float, float]] = {}
    for line, row in enumerate(read_csv_index(path, STATIC_COLUMNS), start=2):
        try:
            valence = deam_static_to_unit(float(row["valence_mean"]))
            arousal = deam_static_to_unit(float(row["arousal_mean"]))
        except ValueError as exc:
            raise DatasetError(f"line {line}: {exc}", path=path, field="valence_mean") from exc
        out[_song(row["song_id"])] = (valence, arousal)
    return out


def _song(value: str) -> str:
    text = value.strip()
    return str(int(float(text))) if text.replace(".", "", 1).isdigit() else text


def read_dynamic(path: Path) -> dict[str, dict[int, float]]:
    """Read ``arousal.csv`` or ``valence.csv``: song id -> {time in ms: value}.

    Rows may be ragged (fewer cells, or empty trailing cells); empty cells are skipped.

    :raises DatasetError: On a missing file, no ``song_id`` column or a bad header.
    """
    rows = read_csv_index(path, ("song_id",))
    out: dict[str, dict[int, float]] = {}
    for line, row in enumerate(rows, start=2):
        series: dict[int, float] = {}
        for column, cell in row.items():
            if column == "song_id" or cell == "":
                continue
            if not (column.startswith("sample_") and column.endswith("ms")):
                raise DatasetError(
                    f"unexpected column {column!r}; expected sample_<t>ms", path=path, field=column
                )
            try:
                value = float(cell)
                series[int(column[len("sample_") : -2])] = value
            except ValueError as exc:
                raise DatasetError(f"line {line}: {exc}", path=path, field=column) from exc
            if not -1.0 <= value <= 1.0:  # NaN fails too
                raise DatasetError(
                    f"line {line}: dynamic rating {cell} outside [-1, 1]",
                    path=path,
                    field=column,
                    expected=(-1.0, 1.0),
                    got=value,
                )
        out[_song(row["song_id"])] = series
    return out


def read_deam_audio(path: Path, options: Mapping[str, object]) -> list[Example]:
    """Worker: one audio file -> its 0.5 s window means ``(W, 128)`` (targets ``(W, 0)``)."""
    librosa = require("librosa", extra="data", purpose="reading DEAM audio")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        audio, sr = librosa.load(str(path), sr=DEFAULT_LOG_MEL.sr, mono=True)
    frames = offline_log_mel(np.asarray(audio, dtype=np.float64), int(sr))
    windows = window_means(frames, frames_per_window(DEFAULT_LOG_MEL, WINDOW_S))
    if len(windows) == 0:
        raise ValueError("audio shorter than one 0.5 s window")
    return [
        Example(inputs=windows, targets=np.zeros((len(windows), 0), np.float32), source=str(path))
    ]


def _find(root: Path, name: str, *, under: str = "") -> list[Path]:
    return sorted(p for p in root.rglob(name) if under.lower() in str(p.parent).lower())


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
            raise ValueError(f"song {song}: no static or dynamic annotation")
        return 0, np.tile(np.array(static[song]), (windows, 1))
    index = {t: round(t / (1000 * WINDOW_S)) - 1 for t in times}
    usable = [t for t in times if 0 <= index[t] < windows]
    if not usable:
        raise ValueError(f"song {song}: annotations lie beyond the audio")
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
    static: dict[str, tuple[float, float]] = {}
    static_files, refused = inside_root(
        folder, [p for name in STATIC_FILES for p in _find(folder, name)]
    )
    if not static_files:
        raise DatasetError(f"no static annotations; expected {STATIC_FILES[0]}", path=folder)
    for path in static_files:
        static.update(read_static(path))
    arousal_files, outside_a = inside_root(folder, _find(folder, "arousal.csv", under="dynamic"))
    valence_files, outside_v = inside_root(folder, _find(folder, "valence.csv", under="dynamic"))
    refused += outside_a + outside_v
    arousal = read_dynamic(arousal_files[0]) if arousal_files else {}
    valence = read_dynamic(valence_files[0]) if valence_files else {}
    audio_dirs = sorted(p for p in folder.rglob("MEMD_audio") if p.is_dir())
    if not audio_dirs:
        raise DatasetError("no MEMD_audio folder with the songs' .mp3 files", path=folder)
    audio, outside = inside_root(
        folder,
        sorted(
            (p for d in audio_dirs for p in d.iterdir() if p.suffix.lower() in (".mp3", ".wav")),
            key=lambda p: (len(p.stem), p.stem),
        ),
    )
    refused += outside
    audio = audio[:limit]
    items, skipped = process_files(
        audio,
        read_deam_audio,
        reader="deam",
        version=READER_VERSION,
        options={"log_mel": repr(DEFAULT_LOG_MEL), "window_s": WINDOW_S},
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        report=False,
    )
    skipped = refused + skipped
    examples: list[Example] = []
    for item in items:
        features = _inputs(item)
        song = _song(Path(features.source).stem)
        try:
            first, labels = _labels(
                song, len(features.inputs), static, arousal, valence, unannotated
            )
        except ValueError as exc:
            skipped.append(SkippedFile(path=Path(features.source), reason=str(exc)))
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
    if skipped:
        logger.warning(
            "deam: skipped %d of %d files (see Dataset.skipped)",
            len(skipped),
            len(audio) + len(refused),
        )
    return ArrayDataset("EmotionRecognizer", examples, skipped, name="deam")


def _inputs(item: Example | ExampleRef) -> Example:
    if isinstance(item, Example):
        return item
    with np.load(item.path) as data:
        inputs = data[f"inputs_{item.index}"]
    return Example(
        inputs=inputs, targets=np.zeros((len(inputs), 0), np.float32), source=item.source
    )
