"""Tests for kelly_models.training.tasks: task choice, losses and baselines."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from kelly_core.catalog import MODEL_SPECS
from kelly_core.encodings.emotion import encode_emotions
from kelly_models.training.adapter import Outputs
from kelly_models.training.tasks import Baseline, task_for


class TestTaskFor:
    @pytest.mark.parametrize(
        ("name", "kind"),
        [
            ("EmotionRecognizer", "emotion"),
            ("MelodyTransformer", "notes"),
            ("HarmonyPredictor", "classes"),
            ("DynamicsEngine", "regression"),
            ("GroovePredictor", "regression"),
        ],
    )
    def test_five_models(self, name: str, kind: str) -> None:
        """Each built-in model gets its task from its spec."""
        assert task_for(MODEL_SPECS[name]).kind == kind


class TestLosses:
    def test_classes_logits_match_probabilities(self) -> None:
        """With logits, the loss equals cross-entropy of the softmax (where it is finite)."""
        task = task_for(MODEL_SPECS["HarmonyPredictor"])
        logits = torch.randn(2, 3, 64, generator=torch.Generator().manual_seed(0))
        targets = torch.nn.functional.one_hot(torch.tensor([[1, 2, 3], [4, 5, 6]]), 64).float()
        probs = torch.softmax(logits, dim=-1)
        with_logits = task.step_losses(Outputs(probs, logits), targets)
        without = task.step_losses(Outputs(probs), targets)
        torch.testing.assert_close(with_logits, without)
        expected = torch.nn.functional.cross_entropy(
            logits.reshape(-1, 64), torch.tensor([1, 2, 3, 4, 5, 6]), reduction="none"
        )
        torch.testing.assert_close(with_logits.reshape(-1), expected)

    def test_classes_underflow_is_finite(self) -> None:
        """A true class whose probability underflows to 0 still gives a finite loss and grad."""
        task = task_for(MODEL_SPECS["HarmonyPredictor"])
        logits = torch.zeros(1, 1, 64)
        logits[..., 0] = 200.0
        logits.requires_grad_(True)
        targets = torch.zeros(1, 1, 64)
        targets[..., 1] = 1.0
        probs = torch.softmax(logits, dim=-1)
        assert float(probs[0, 0, 1].detach()) == 0.0
        loss = task.loss(Outputs(probs, logits), targets, torch.ones(1, 1))
        loss.backward()  # type: ignore[no-untyped-call]  # torch stub
        assert float(loss.detach()) == pytest.approx(200.0)
        assert logits.grad is not None
        assert torch.isfinite(logits.grad).all()
        clamped = task.loss(Outputs(probs.detach()), targets, torch.ones(1, 1))
        assert float(clamped) == pytest.approx(-math.log(1e-7), rel=1e-4)

    def test_mask_excludes_padding(self) -> None:
        """Masked steps do not count in the mean."""
        task = task_for(MODEL_SPECS["GroovePredictor"])
        outputs = torch.zeros(1, 2, 32)
        targets = torch.stack([torch.zeros(32), torch.ones(32)]).unsqueeze(0)
        mask = torch.tensor([[1.0, 0.0]])
        assert float(task.loss(Outputs(outputs), targets, mask)) == 0.0
        assert float(task.loss(Outputs(outputs), targets, torch.ones(1, 2))) == 0.5

    def test_notes_logits_match(self) -> None:
        """BCE with logits equals BCE on the sigmoid."""
        task = task_for(MODEL_SPECS["MelodyTransformer"])
        logits = torch.randn(1, 4, 128, generator=torch.Generator().manual_seed(1))
        targets = (torch.rand(1, 4, 128, generator=torch.Generator().manual_seed(2)) > 0.9).float()
        a = task.step_losses(Outputs(torch.sigmoid(logits), logits), targets)
        b = task.step_losses(Outputs(torch.sigmoid(logits)), targets)
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


class TestEvaluate:
    def test_emotion_perfect_and_baseline(self) -> None:
        """Exact emotion codes score CCC 1; the mean-code baseline scores about 0."""
        rng = np.random.default_rng(0)
        points = rng.uniform(-0.9, 0.9, size=(50, 2))
        codes = encode_emotions(points)
        task = task_for(MODEL_SPECS["EmotionRecognizer"])
        scores = task.evaluate(codes.copy(), codes, Baseline.fit(codes))
        assert scores["loss"] == 0.0
        assert scores["ccc"] == pytest.approx(1.0)
        assert scores["valence_mae"] < 0.05
        assert abs(scores["baseline_ccc"]) < 1e-6
        assert scores["baseline_loss"] > 0.0

    def test_harmony_baseline_is_most_frequent(self) -> None:
        """The harmony baseline's top-1 is the share of the most frequent chord."""
        labels = np.array([3, 3, 3, 7, 9])
        targets = np.eye(64, dtype=np.float32)[labels]
        task = task_for(MODEL_SPECS["HarmonyPredictor"])
        scores = task.evaluate(targets.copy(), targets, Baseline.fit(targets))
        assert scores["top1"] == 1.0
        assert scores["baseline_top1"] == pytest.approx(0.6)
        assert scores["baseline_top5"] == 1.0

    def test_melody_baseline(self) -> None:
        """The notes baseline turns on the most frequent pitches, as many as usual."""
        targets = np.zeros((4, 128), dtype=np.float32)
        targets[:, 60] = 1.0
        targets[:2, 64] = 1.0
        task = task_for(MODEL_SPECS["MelodyTransformer"])
        scores = task.evaluate(targets.copy(), targets, Baseline.fit(targets))
        assert scores["note_f1_at_half"] == 1.0
        # k = round(1.5) = 2: pitches 60 and 64 on everywhere; tp 6, fp 2, fn 0
        assert scores["baseline_note_f1"] == pytest.approx(12 / 14)
        # the model's 2 most probable pitches: 60, 64 where both sound, else 60 and pitch 0
        assert scores["note_f1"] == pytest.approx(12 / 14)
