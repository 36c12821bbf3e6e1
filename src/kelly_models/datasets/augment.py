"""Random gain for EmotionRecognizer data, so absolute level is not the arousal cue.

Log-mel features use a fixed decibel reference (:mod:`kelly_core.encodings.logmel`), so a
recording's level moves every band by the same number of decibels. A model trained on
data whose level follows arousal learns the level; these augmentations draw a random
gain independent of the labels:

- :func:`apply_gain` / :func:`random_gain` scale audio before the log-mel front end (what
  the synthetic emotion generator does, per segment);
- :func:`gain_log_mel` applies a gain to scaled log-mel values (frames or window means)
  directly: exact for bands above the floor (``amin``, -80 dB), which stay floored;
- :class:`GainAugmented` wraps any EmotionRecognizer dataset (``deam``, a plugin's reader)
  and gives each item a seeded random gain in the feature domain
  (:func:`~kelly_core.encodings.emotion_frame.gain_emotion_frames`: the emotion frame's
  level column), so cached features need not be recomputed.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from kelly_core.arrays import FloatArray, as_float32
from kelly_core.encodings.emotion_frame import gain_emotion_frames
from kelly_core.encodings.logmel import DEFAULT_LOG_MEL, LogMelConfig
from kelly_core.errors import DatasetError
from kelly_core.interfaces import Dataset
from kelly_core.records import Example, SkippedFile

__all__ = [
    "DEFAULT_MAX_GAIN_DB",
    "GainAugmented",
    "apply_gain",
    "gain_log_mel",
    "random_gain",
    "random_gain_db",
]

DEFAULT_MAX_GAIN_DB = 12.0
"""Gains are drawn uniformly from ``[-max_db, +max_db]`` decibels."""


def _check_max(max_db: float) -> float:
    value = float(max_db)
    if not np.isfinite(value) or value < 0:
        raise DatasetError(f"max gain must be a finite number of dB >= 0, got {max_db!r}")
    return value


def random_gain_db(rng: np.random.Generator, max_db: float = DEFAULT_MAX_GAIN_DB) -> float:
    """Draw a gain in decibels, uniform in ``[-max_db, +max_db]``."""
    limit = _check_max(max_db)
    return float(rng.uniform(-limit, limit))


def apply_gain(audio: object, db: float) -> np.ndarray:
    """Return ``audio`` scaled by ``db`` decibels (``10 ** (db / 20)``), same dtype family."""
    samples = np.asarray(audio)
    scaled: np.ndarray = samples * samples.dtype.type(10.0 ** (float(db) / 20.0))
    return scaled


def random_gain(
    audio: object, rng: np.random.Generator, max_db: float = DEFAULT_MAX_GAIN_DB
) -> tuple[np.ndarray, float]:
    """Scale ``audio`` by a random gain; return the scaled audio and the gain in dB."""
    db = random_gain_db(rng, max_db)
    return apply_gain(audio, db), db


def gain_log_mel(
    features: object, db: float | np.ndarray, config: LogMelConfig = DEFAULT_LOG_MEL
) -> FloatArray:
    """Apply a gain of ``db`` decibels to scaled log-mel values.

    ``db`` is one number, or an array broadcast against ``features`` (e.g. ``(frames,
    1)``: one gain per frame or window). A gain adds ``db / db_half_range`` to every
    band; bands at the floor stay there and no band goes below it (what the front end
    gives for audio scaled by the gain, up to bands that were below the floor before a
    positive gain).
    """
    values = np.asarray(features, dtype=np.float64)
    floor = (10.0 * np.log10(config.amin / config.ref) - config.db_center) / config.db_half_range
    floored = values <= floor + 1e-6
    gain = np.asarray(db, dtype=np.float64)
    shifted = np.maximum(values + gain / config.db_half_range, floor)
    return as_float32(np.where(floored, values, shifted))


class GainAugmented:
    """An EmotionRecognizer dataset whose items each get a seeded random gain.

    Item ``i`` is ``dataset[i]`` with ``gain_emotion_frames`` of a gain drawn from
    ``numpy.random.default_rng([seed, i])``, uniform in ``[-max_db, +max_db]``; items of
    the validation and test splits are left as they are unless ``splits`` names them.
    """

    def __init__(
        self,
        dataset: Dataset,
        *,
        max_db: float = DEFAULT_MAX_GAIN_DB,
        seed: int = 0,
        splits: Sequence[str] = ("train",),
        config: LogMelConfig = DEFAULT_LOG_MEL,
    ) -> None:
        if dataset.model_name != "EmotionRecognizer":
            raise DatasetError(
                "gain augmentation applies to emotion frames (EmotionRecognizer data)",
                field="model",
                expected="EmotionRecognizer",
                got=dataset.model_name,
            )
        self._dataset = dataset
        self._max_db = _check_max(max_db)
        self._seed = int(seed)
        self._splits = frozenset(splits)
        self._config = config
        self.name = f"{getattr(dataset, 'name', 'dataset')}+gain"

    @property
    def model_name(self) -> str:
        """Name of the model these examples train (EmotionRecognizer)."""
        return self._dataset.model_name

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        """The wrapped dataset's skipped files."""
        return self._dataset.skipped

    def __len__(self) -> int:
        """Number of items (as the wrapped dataset)."""
        return len(self._dataset)

    def _gain(self, index: int) -> float:
        rng = np.random.default_rng([self._seed, index % len(self)])
        return random_gain_db(rng, self._max_db)

    def __getitem__(self, index: int) -> Example:
        """Return item ``index`` with its gain applied to the inputs."""
        item = self._dataset[index]
        if item.split not in self._splits:
            return item
        db = self._gain(index)
        return Example(
            inputs=gain_emotion_frames(item.inputs, db),
            targets=item.targets,
            source=item.source,
            split=item.split,
        )
