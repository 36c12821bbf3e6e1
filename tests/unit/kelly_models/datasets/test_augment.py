"""Random gain: audio and log-mel gains agree, the dataset wrapper, bad settings."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_core.encodings.emotion_frame import EMOTION_FRAME_COLUMNS
from kelly_core.encodings.logmel import offline_log_mel
from kelly_core.errors import DatasetError
from kelly_models.datasets.augment import (
    GainAugmented,
    apply_gain,
    gain_log_mel,
    random_gain,
    random_gain_db,
)
from kelly_models.datasets.synthetic import synthetic_emotion, synthetic_groove

SR = 22050


def _chord(seconds: float = 1.0) -> np.ndarray:
    """A C major triad over soft noise (energy in every band)."""
    t = np.arange(int(seconds * SR)) / SR
    tones = np.sin(2 * np.pi * np.outer(t, (261.6, 329.6, 392.0))).sum(axis=1)
    noise: np.ndarray = 0.1 * tones + 0.01 * np.random.default_rng(0).normal(size=len(t))
    return noise


class TestGain:
    @pytest.mark.parametrize("db", [-12.0, 6.5, 12.0])
    def test_log_mel_gain_matches_audio_gain(self, db: float) -> None:
        """A gain on the features equals the front end run on the scaled audio (above the
        floor: +-db/60 per band)."""
        audio = _chord()
        plain = offline_log_mel(audio, SR)
        scaled = offline_log_mel(apply_gain(audio, db), SR)
        above = (plain > -0.99) & (scaled > -0.99)
        assert above.mean() > 0.5
        np.testing.assert_allclose(gain_log_mel(plain, db)[above], scaled[above], atol=1e-5)
        assert np.allclose(scaled[above] - plain[above], db / 60, atol=1e-5)

    def test_floor_stays(self) -> None:
        """Floored bands stay floored; no band goes below the floor."""
        features = np.array([[-1.0, -0.5, 0.2]], dtype=np.float32)
        out = gain_log_mel(features, -40.0)
        assert out[0, 0] == pytest.approx(-1.0)
        assert out.min() >= -1.0 - 1e-6
        assert out[0, 2] == pytest.approx(0.2 - 40 / 60)

    def test_per_row_gains(self) -> None:
        """An array of gains applies one gain per row (frame or window), floor kept."""
        features = np.array([[-1.0, 0.0, 0.3], [-0.2, 0.1, 0.5]], dtype=np.float32)
        out = gain_log_mel(features, np.array([[6.0], [-12.0]]))
        np.testing.assert_allclose(out[0], [-1.0, 0.1, 0.4], atol=1e-6)
        np.testing.assert_allclose(out[1], [-0.4, -0.1, 0.3], atol=1e-6)

    def test_random_gain_range(self) -> None:
        """Uniform in +-max_db, both signs, the audio scaled by the drawn gain."""
        rng = np.random.default_rng(0)
        draws = np.array([random_gain_db(rng, 12.0) for _ in range(500)])
        assert -12 <= draws.min() < -10
        assert 10 < draws.max() <= 12
        audio, db = random_gain(np.ones(4), rng, 12.0)
        np.testing.assert_allclose(audio, 10 ** (db / 20))
        with pytest.raises(DatasetError):
            random_gain_db(rng, -1.0)


class TestGainAugmented:
    def test_wraps_emotion_dataset(self) -> None:
        """Training items get a seeded gain; other splits are untouched; labels kept."""
        base = synthetic_emotion(items=10, steps=4)
        wrapped = GainAugmented(base, max_db=12.0, seed=3)
        assert len(wrapped) == 10
        assert wrapped.model_name == "EmotionRecognizer"
        shifts = []
        for i in range(10):
            plain, aug = base[i], wrapped[i]
            np.testing.assert_array_equal(aug.targets, plain.targets)
            if plain.split != "train":
                np.testing.assert_array_equal(aug.inputs, plain.inputs)
                continue
            level = EMOTION_FRAME_COLUMNS["level"]
            rest = np.delete(aug.inputs - plain.inputs, level.start, axis=1)
            np.testing.assert_array_equal(rest, 0.0)  # a gain moves the level only
            shift = (aug.inputs - plain.inputs)[:, level][plain.inputs[:, level] > -0.95]
            assert np.ptp(shift) < 1e-4  # one gain per item
            shifts.append(float(shift.mean()))
        assert max(np.abs(shifts)) <= 12 / 60 + 1e-4
        assert len({round(s, 4) for s in shifts}) == len(shifts)  # drawn per item
        again = GainAugmented(base, max_db=12.0, seed=3)[0]
        np.testing.assert_array_equal(again.inputs, wrapped[0].inputs)

    def test_refuses_other_models(self) -> None:
        """Only emotion frames can take a gain."""
        with pytest.raises(DatasetError, match="EmotionRecognizer"):
            GainAugmented(synthetic_groove(items=2))
