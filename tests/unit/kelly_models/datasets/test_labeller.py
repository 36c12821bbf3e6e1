"""Tests for the symbolic emotion labeller."""

from __future__ import annotations

import numpy as np

from kelly_models.datasets.labeller import beat_emotions, mode_score, piece_emotion

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


def _scale_notes(
    scale: tuple[int, ...], tonic: int, beat: float, velocity: int
) -> list[tuple[int, float, float, int]]:
    degrees = [0, 2, 4, 0, 1, 2, 3, 4, 5, 4, 2, 0, 4, 2, 0, 0]
    return [
        (60 + tonic + scale[d], i * beat, (i + 1) * beat, velocity) for i, d in enumerate(degrees)
    ]


class TestMode:
    def test_major_minor(self) -> None:
        """Major melodies score positive, minor ones negative, in every key."""
        for tonic in range(12):
            major = np.zeros((1, 12))
            minor = np.zeros((1, 12))
            for p, s, e, _ in _scale_notes(MAJOR, tonic, 0.5, 80):
                major[0, p % 12] += e - s
            for p, s, e, _ in _scale_notes(MINOR, tonic, 0.5, 80):
                minor[0, p % 12] += e - s
            assert mode_score(major)[0] > 0
            assert mode_score(minor)[0] < 0

    def test_empty(self) -> None:
        """No notes: mode 0."""
        assert mode_score(np.zeros((1, 12)))[0] == 0.0


class TestEmotion:
    def test_piece(self) -> None:
        """Major → positive valence; fast and loud → higher arousal."""
        calm = piece_emotion(_scale_notes(MAJOR, 0, 1.0, 50), 60.0, 16.0)
        wild = piece_emotion(_scale_notes(MAJOR, 0, 0.25, 120), 160.0, 4.0)
        sad = piece_emotion(_scale_notes(MINOR, 0, 1.0, 50), 60.0, 16.0)
        assert calm[0] > 0.3
        assert sad[0] < -0.3
        assert wild[1] > calm[1] + 0.5

    def test_beats(self) -> None:
        """Per-beat labels have one row per beat, inside the square."""
        notes = _scale_notes(MAJOR, 2, 0.5, 90)
        labels = beat_emotions(notes, np.arange(17) * 0.5)
        assert labels.shape == (16, 2)
        assert np.all(np.abs(labels) <= 1)
        assert labels[:, 0].mean() > 0
        drums = beat_emotions(notes, np.arange(5) * 2.0, pitched=False, beats_per_step=4)
        assert drums.shape == (4, 2)
