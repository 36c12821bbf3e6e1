"""The EmotionRecognizer probe's transformations on a real chorale (fast parts only).

The probe itself (fluidsynth renderings, a trained model) is
``tests/benchmarks/emotion_probe.py``; here: its major→minor flip turns a real major
chorale minor for the key-profile labeller while keeping everything else, and its
scoring averages decoded emotion after the settling windows.
"""

from __future__ import annotations

import numpy as np
import pytest

from kelly_core.encodings.emotion import encode_emotions
from kelly_models.datasets.labeller import mode_score
from tests.benchmarks.emotion_probe import chorale_notes, emotion, shift, to_minor

pytest.importorskip("music21")


def _histogram(notes: list[tuple[int, float, float, int]]) -> np.ndarray:
    hist = np.zeros(12)
    for pitch, start, end, _ in notes:
        hist[pitch % 12] += end - start
    return hist


def test_minor_flip_on_a_real_chorale() -> None:
    """A major chorale reads major; the flipped notes read minor, same rhythm and voices."""
    ((name, tonic, notes),) = chorale_notes(1, 32.0)
    assert len(notes) > 40, name
    flipped = to_minor(notes, tonic)
    assert mode_score(_histogram(notes)[None])[0] > 0
    assert mode_score(_histogram(flipped)[None])[0] < 0
    assert [n[1:] for n in flipped] == [n[1:] for n in notes]
    moved = [(a[0] - b[0]) for a, b in zip(notes, flipped, strict=True)]
    assert set(moved) <= {0, 1}
    assert 0.1 < np.mean(moved) < 0.5  # only the 3rd and 6th degrees
    assert [n[0] for n in shift(notes, 12)] == [n[0] + 12 for n in notes]


class _Constant:
    """A stand-in model answering a fixed emotion code per window."""

    def __init__(self, points: np.ndarray) -> None:
        self.codes = encode_emotions(points)
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def run(self, frames: np.ndarray) -> np.ndarray:
        assert frames.shape[1] == 128
        return self.codes[: len(frames)]


def test_scoring_skips_settling_windows() -> None:
    """Mean decoded (valence, arousal) over the windows after ``settle`` seconds."""
    points = np.array([[-0.9, -0.9]] * 4 + [[0.5, 0.25]] * 16)
    model = _Constant(points)
    audio = 0.1 * np.random.default_rng(0).normal(size=22050 * 11)
    va = emotion(model, audio, seconds=10.0, settle=2.0)
    np.testing.assert_allclose(va, [0.5, 0.25], atol=0.02)
    assert model.resets == 1
