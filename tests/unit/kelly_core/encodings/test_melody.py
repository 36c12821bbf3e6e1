"""Tests for melody multi-hot targets and pitch-class profiles."""

from __future__ import annotations

import numpy as np

from kelly_core.encodings.melody import (
    melody_pitch_classes,
    notes_to_multihot,
    pitch_class_profile,
)


class TestNotesToMultihot:
    def test_beats(self) -> None:
        """A note marks each beat it overlaps, not the one it ends on."""
        beats = np.array([0.0, 0.5, 1.0, 1.5])
        out = notes_to_multihot([(60, 0.0, 1.0), (64, 0.6, 0.7), (200, 0.0, 1.0)], beats)
        assert out.shape == (3, 128)
        assert out.dtype == np.float32
        assert out[:, 60].tolist() == [1.0, 1.0, 0.0]
        assert out[:, 64].tolist() == [0.0, 1.0, 0.0]
        assert out.sum() == 3.0

    def test_empty(self) -> None:
        """No beats or no notes give zeros."""
        assert notes_to_multihot([], np.array([0.0, 1.0])).sum() == 0
        assert notes_to_multihot([(60, 0.0, 1.0)], np.array([0.0])).shape == (0, 128)


class TestPitchClasses:
    def test_threshold(self) -> None:
        """Pitches at or above the threshold mark their pitch class."""
        probs = np.zeros(128)
        probs[[60, 74]] = [0.9, 0.5]
        probs[65] = 0.49
        assert np.nonzero(melody_pitch_classes(probs, 0.5))[0].tolist() == [0, 2]

    def test_profile(self) -> None:
        """The profile of notes is binary per pitch class."""
        assert pitch_class_profile([60, 72, 67]).tolist() == [1] + [0] * 6 + [1] + [0] * 4
