"""A folder of rendered pieces as the beat tracker's training items.

Each piece is ``<name>.wav`` (mono or stereo; resampled to 22050 Hz if needed) beside
``<name>.json`` holding at least ``"beats"`` and ``"downbeats"`` (seconds, increasing):
the layout the listening benchmark's corpus builder writes. A piece becomes the onset
front end's frames (:func:`kelly_core.encodings.onsets.onset_bands`) and a target per
frame and output (:data:`kelly_core.listening.BEAT_OUTPUTS`): 1 on the frame whose window
centre is nearest the beat, 0.5 on its two neighbours (a beat is not a single frame's
event: the widened target trains faster and makes the network's peaks broader, which the
decoder wants), 0 elsewhere. A downbeat is also a beat.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core._optional import require
from kelly_core.arrays import FloatArray
from kelly_core.encodings.onsets import DEFAULT_ONSETS, OnsetConfig, frame_seconds, onset_bands
from kelly_core.errors import DatasetError
from kelly_core.listening import network_input

__all__ = [
    "Piece",
    "frame_of",
    "frame_targets",
    "load_piece",
    "load_pieces",
    "piece_names",
    "reversed_piece",
]

logger = logging.getLogger(__name__)

_NEIGHBOUR: float = 0.5


@attrs.frozen(kw_only=True, eq=False)
class Piece:
    """One rendered piece: its frames and targets, and its beats for scoring."""

    name: str
    features: FloatArray
    """``(frames, 104)`` onset front-end frames, scaled by
    :func:`kelly_core.listening.network_input`."""
    targets: FloatArray
    """``(frames, 2)`` beat and downbeat targets."""
    beats: npt.NDArray[np.float64]
    downbeats: npt.NDArray[np.float64]


def frame_of(times: npt.ArrayLike, config: OnsetConfig = DEFAULT_ONSETS) -> npt.NDArray[np.int64]:
    """Onset frame whose window centre (``k · hop / sr + n_fft / 2 / sr``) is nearest."""
    seconds = np.asarray(times, dtype=np.float64) - config.n_fft / 2 / config.sr
    frames: npt.NDArray[np.int64] = np.round(seconds * config.fps).astype(np.int64)
    return frames


def frame_targets(
    beats: npt.ArrayLike,
    downbeats: npt.ArrayLike,
    frames: int,
    config: OnsetConfig = DEFAULT_ONSETS,
) -> FloatArray:
    """``(frames, 2)`` targets for beat and downbeat times in seconds (module docstring)."""
    targets = np.zeros((frames, 2), dtype=np.float32)
    for column, times in enumerate((beats, downbeats)):
        index = frame_of(times, config)
        for shift, value in ((-1, _NEIGHBOUR), (1, _NEIGHBOUR), (0, 1.0)):
            near = index + shift
            near = near[(near >= 0) & (near < frames)]
            targets[near, column] = np.maximum(targets[near, column], value)
    targets[:, 0] = np.maximum(targets[:, 0], targets[:, 1])
    return targets


def _times(data: dict[str, object], key: str, path: Path) -> npt.NDArray[np.float64]:
    raw = data.get(key)
    values = np.asarray(raw if isinstance(raw, list) else [], dtype=np.float64)
    if values.ndim != 1 or not np.all(np.isfinite(values)) or np.any(np.diff(values) <= 0):
        raise DatasetError(
            "expected a list of increasing finite seconds",
            path=path,
            field=key,
            expected="increasing seconds",
        )
    return values


def load_piece(wav: Path, config: OnsetConfig = DEFAULT_ONSETS) -> Piece:
    """Read ``wav`` and the ``.json`` beside it.

    :raises DatasetError: If the JSON is missing or its beats are not increasing seconds.
    """
    soundfile = require("soundfile", extra="data", purpose="reading rendered pieces")
    truth = wav.with_suffix(".json")
    try:
        data = json.loads(truth.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise DatasetError(f"cannot read the beats ({exc.__class__.__name__})", path=truth) from exc
    if not isinstance(data, dict):
        raise DatasetError("expected a JSON object", path=truth)
    samples, rate = soundfile.read(str(wav), dtype="float32", always_2d=True)
    mono = samples.mean(axis=1)
    if rate != config.sr:
        resampler = require("soxr", extra="data", purpose="resampling")
        mono = np.asarray(resampler.resample(mono, rate, config.sr), dtype=np.float32)
    features = network_input(onset_bands(mono, config.sr, config))
    beats = _times(data, "beats", truth)
    downbeats = _times(data, "downbeats", truth)
    return Piece(
        name=wav.stem,
        features=features,
        targets=frame_targets(beats, downbeats, features.shape[0], config),
        beats=beats,
        downbeats=downbeats,
    )


def piece_names(folder: Path) -> list[Path]:
    """The ``.wav`` files of ``folder`` that have a ``.json`` beside them, sorted."""
    return sorted(p for p in folder.glob("*.wav") if p.with_suffix(".json").is_file())


def load_pieces(folders: Sequence[Path]) -> Iterator[Piece]:
    """Every piece of ``folders``; a piece that cannot be read is skipped with a warning."""
    for folder in folders:
        for wav in piece_names(folder):
            try:
                yield load_piece(wav)
            except DatasetError as exc:
                logger.warning("skipping %s: %s", wav, exc.reason)


def reversed_piece(piece: Piece, config: OnsetConfig = DEFAULT_ONSETS) -> Piece:
    """``piece`` played backwards in its frames: features and targets in reverse order,
    beat times mirrored (``t -> first + last - t`` for the first and last frame times), for
    training a tracker that runs from the end of a clip to its start."""
    frames = piece.features.shape[0]
    mirror = float(frame_seconds(0, config) + frame_seconds(max(frames - 1, 0), config))
    return Piece(
        name=piece.name,
        features=np.ascontiguousarray(piece.features[::-1]),
        targets=np.ascontiguousarray(piece.targets[::-1]),
        beats=np.sort(mirror - piece.beats),
        downbeats=np.sort(mirror - piece.downbeats),
    )
