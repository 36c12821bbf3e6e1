"""Baselines fitted on the training split: unigram, bigram, emotion bins, mean; the ablation."""

from __future__ import annotations

import math

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.encodings.chords import NO_CHORD
from kelly_core.encodings.context import melody_contexts
from kelly_core.encodings.emotion import coarse_emotions, encode_emotions
from kelly_models.training.baselines import Baseline, emotion_bins
from kelly_models.training.evaluate import shuffle_emotion
from kelly_models.training.sequences import SequenceSet
from kelly_models.training.tasks import task_for


def _harmony(chords: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """Teacher-forced harmony frames: inputs [emotion 0 | previous one-hot], targets one-hot."""
    previous = [NO_CHORD, *chords[:-1]]
    inputs = np.zeros((len(chords), 128), dtype=np.float32)
    inputs[np.arange(len(chords)), 64 + np.array(previous)] = 1.0
    return inputs, np.eye(64, dtype=np.float32)[chords]


class TestHarmonyBaselines:
    def test_bigram_hand_worked(self) -> None:
        """After C (0) the training split always has G (35): the bigram predicts it."""
        inputs, targets = _harmony([0, 35, 0, 35, 0, 35, 0, 20])
        base = Baseline.fit(targets, inputs, kind="classes")
        assert base.bigram is not None
        assert base.unigram is not None
        # counts: N->0 once, 0->35 three times, 0->20 once, 35->0 three times
        unigram = base.unigram
        assert unigram[0] == pytest.approx((4 + 1) / (8 + 64))
        row = base.bigram[0]
        assert row[35] == pytest.approx((3 + unigram[35]) / (4 + 1))
        assert row.sum() == pytest.approx(1.0, abs=1e-6)
        task = task_for(MODEL_SPECS["HarmonyPredictor"])
        test_in, test_targets = _harmony([0, 35, 0, 35])
        guess = (test_targets * 0.5 + 1 / 128).astype(np.float32)
        scores = task.evaluate(guess, test_targets, base, inputs=test_in)
        # test pairs: N->0, 0->35, 35->0, 0->35; the bigram gets all four
        assert scores["bigram_top1"] == 1.0
        assert scores["unigram_top1"] == 0.5  # always chord 0 (4 of 8 in training)
        assert scores["baseline_top1"] == 1.0
        assert scores["bigram_nll"] < scores["unigram_nll"]
        assert scores["baseline_nll"] == scores["bigram_nll"]
        assert task.strongest_baseline(scores) == "bigram"
        assert scores["nll"] == scores["loss"]

    def test_without_inputs_only_the_unigram(self) -> None:
        _, targets = _harmony([0, 35, 0])
        task = task_for(MODEL_SPECS["HarmonyPredictor"])
        scores = task.evaluate(targets, targets, Baseline.fit(targets, kind="classes"))
        assert "bigram_top1" not in scores
        assert task.baseline_names(scores) == ["unigram"]


class TestMelodyBaselines:
    def test_emotion_bins_follow_the_emotion(self) -> None:
        """Happy frames play E (64), sad ones Eb (63): the bin lookup knows, the prior cannot."""
        coarse = coarse_emotions(np.array([[0.8, 0.0]] * 10 + [[-0.8, 0.0]] * 10))
        targets = np.zeros((20, 128), dtype=np.float32)
        targets[:10, 64] = 1.0
        targets[10:, 63] = 1.0
        inputs = melody_contexts(coarse, np.zeros(20, dtype=int), np.zeros_like(targets))
        base = Baseline.fit(targets, inputs, kind="notes")
        task = task_for(MODEL_SPECS["MelodyTransformer"])
        scores = task.evaluate(targets.copy(), targets, base, inputs=inputs)
        assert scores["emotion_bin_note_f1"] == 1.0
        assert scores["prior_note_f1"] == 0.5
        assert scores["baseline_note_f1"] == 1.0
        assert task.strongest_baseline(scores) == "emotion_bin"
        assert scores["distinct_top1"] == 2.0

    def test_previous_pitch_bigram(self) -> None:
        """C4 is always followed by G4 and G4 by C4: the melodic bigram knows, the bins cannot."""
        targets = np.zeros((40, 128), dtype=np.float32)
        targets[0::2, 60] = 1.0
        targets[1::2, 67] = 1.0
        inputs = melody_contexts(coarse_emotions(np.zeros((40, 2))), np.arange(40) % 4, targets)
        base = Baseline.fit(targets, inputs, kind="notes")
        assert base.previous is not None
        assert base.previous.shape == (129, 128)
        task = task_for(MODEL_SPECS["MelodyTransformer"])
        scores = task.evaluate(np.zeros_like(targets), targets, base, inputs=inputs)
        assert scores["previous_note_f1"] == 1.0  # the rest before the first beat: C4 too
        assert scores["emotion_bin_note_f1"] == 0.5
        assert task.strongest_baseline(scores) == "previous"
        again = Baseline.from_dict(base.to_dict())
        assert again.previous is not None
        np.testing.assert_allclose(again.previous, base.previous, atol=1e-6)

    def test_bins_grid(self) -> None:
        cells = emotion_bins(np.array([[-1.0, -1.0], [1.0, 1.0], [0.0, 0.0], [-0.5, 0.9]]))
        assert cells.tolist() == [0, 24, 12, 1 * 5 + 4]

    def test_round_trip(self) -> None:
        inputs, targets = _harmony([0, 35, 0, 20])
        base = Baseline.fit(targets, inputs, kind="classes")
        again = Baseline.from_dict(base.to_dict())
        assert again.active == base.active
        assert again.bigram is not None
        assert base.bigram is not None
        np.testing.assert_allclose(again.bigram, base.bigram, atol=1e-6)
        with pytest.raises(ValueError, match="mean"):
            Baseline.from_dict({"active": 1})


class TestEmotionStatic:
    def test_song_level_r2(self) -> None:
        """Per-song means predicted exactly score static R² 1; the mean predictor about 0."""
        rng = np.random.default_rng(1)
        songs = [rng.uniform(-0.8, 0.8, size=2) for _ in range(6)]
        frames = np.concatenate([np.tile(s, (5, 1)) for s in songs])
        codes = encode_emotions(frames)
        task = task_for(MODEL_SPECS["EmotionRecognizer"])
        scores = task.evaluate(codes.copy(), codes, Baseline.fit(codes), lengths=[5] * 6)
        assert scores["static_valence_r2"] == pytest.approx(1.0, abs=1e-3)
        assert scores["static_arousal_r2"] == pytest.approx(1.0, abs=1e-3)
        assert scores["baseline_static_valence_r2"] < 0.1
        assert math.isfinite(scores["baseline_ccc"])


class TestRegressionCcc:
    def test_mean_predictor_ccc_zero(self) -> None:
        rng = np.random.default_rng(2)
        targets = rng.uniform(0, 1, size=(40, 16)).astype(np.float32)
        task = task_for(MODEL_SPECS["DynamicsEngine"])
        scores = task.evaluate(targets.copy(), targets, Baseline.fit(targets))
        assert scores["ccc"] == pytest.approx(1.0)
        assert scores["baseline_ccc"] == pytest.approx(0.0, abs=1e-6)
        assert scores["baseline_r2"] < 0.05


class TestShuffle:
    def test_moves_only_the_emotion_columns(self) -> None:
        data = SequenceSet(
            inputs=tuple(np.full((3 + i, 4), float(i), dtype=np.float32) for i in range(4)),
            targets=tuple(np.zeros((3 + i, 2), dtype=np.float32) for i in range(4)),
        )
        shuffled = shuffle_emotion(data, 2, seed=0)
        for i, (before, after) in enumerate(zip(data.inputs, shuffled.inputs, strict=True)):
            assert after.shape == before.shape
            assert np.all(after[:, 2:] == i)  # other columns kept
            assert np.all(after[:, :2] != i)  # no sequence keeps its own emotion
        assert shuffled.targets is data.targets
