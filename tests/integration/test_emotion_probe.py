"""The EmotionRecognizer probe's parts on real pieces (short clips, a stand-in model).

The probe itself (ten pieces, a trained model) is ``tests/benchmarks/emotion_probe.py``;
here: its variants change what they say on a real score, its scoring averages decoded
emotion after the settling windows, its effects and verdict follow their definitions,
and one piece runs end to end through fluidsynth.
"""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from kelly_core.encodings.emotion import encode_emotions
from kelly_core.encodings.emotion_frame import EMOTION_FRAME_SIZE
from kelly_models.datasets.emotion_music import estimated_key, label
from kelly_models.datasets.labeller import mode_score
from kelly_models.listening.render import SOUNDFONT
from tests.benchmarks.emotion_probe import (
    PROBE_PIECES,
    effects,
    emotion,
    probe_music,
    probe_piece,
    summary,
    variants,
)

pytest.importorskip("music21")


def _histogram(notes: list[tuple[int, float, float, int]]) -> np.ndarray:
    hist = np.zeros(12)
    for pitch, start, end, _ in notes:
        hist[pitch % 12] += end - start
    return hist


def test_variants_of_a_real_score() -> None:
    """Mozart K. 545 with drums: parallel minor by its own key, 1.5x, octaves."""
    name, spec = PROBE_PIECES[0]
    music = probe_music(name, spec, 8.0)
    assert music.has_drums
    assert len(music.pitched) > 20
    assert estimated_key(music) == (0, True)  # C major
    made = variants(music)
    minor = made["parallel"][0]
    assert mode_score(_histogram(music.pitched)[None])[0] > 0
    assert mode_score(_histogram(minor.pitched)[None])[0] < 0
    assert [n[1:] for n in minor.pitched] == [n[1:] for n in music.pitched]
    assert minor.parts[-1] == music.parts[-1]  # the drums are not transposed
    assert label(minor)[0] < label(music)[0] - 1.0
    assert made["tempo x1.5"][0].bpm == pytest.approx(1.5 * music.bpm)
    assert [n[0] % 12 for n in made["octave up"][0].pitched] == [n[0] % 12 for n in music.pitched]
    assert made["+12 dB"] == (music, 12.0)
    assert made["-12 dB"] == (music, -12.0)


class _Constant:
    """A stand-in model answering a fixed emotion code per window."""

    def __init__(self, points: np.ndarray) -> None:
        self.codes = encode_emotions(points)
        self.resets = 0

    def reset(self) -> None:
        self.resets += 1

    def run(self, frames: np.ndarray) -> np.ndarray:
        assert frames.shape[1] == EMOTION_FRAME_SIZE
        return self.codes[: len(frames)]


def test_scoring_skips_settling_windows() -> None:
    """Mean decoded (valence, arousal) over the windows after ``settle`` seconds."""
    points = np.array([[-0.9, -0.9]] * 4 + [[0.5, 0.25]] * 36)
    model = _Constant(points)
    audio = (0.1 * np.random.default_rng(0).normal(size=22050 * 11)).astype(np.float32)
    va = emotion(model, audio, seconds=10.0, settle=2.0)
    np.testing.assert_allclose(va, [0.5, 0.25], atol=0.02)
    assert model.resets == 1


def test_effects_point_the_way_of_the_key() -> None:
    va = {
        "base": np.array([0.4, 0.1]),
        "parallel": np.array([-0.1, 0.1]),
        "tempo x1.5": np.array([0.45, 0.4]),
        "+12 dB": np.array([0.4, 0.15]),
        "-12 dB": np.array([0.4, 0.02]),
        "octave up": np.array([0.5, 0.1]),
        "octave down": np.array([0.25, 0.1]),
    }
    major = effects(va, major=True)
    assert major == pytest.approx({"mode": 0.5, "tempo": 0.3, "gain": 0.08, "octave": 0.15})
    assert effects(va, major=False)["mode"] == pytest.approx(-0.5)


def test_summary_passes_only_when_all_four_hold() -> None:
    good = {"mode": 0.5, "tempo": 0.3, "gain": 0.1, "octave": 0.2}
    rows = [{"effects": good}, {"effects": {**good, "mode": 0.1, "octave": 0.3}}]
    result = summary(rows)
    assert result["mean"] == pytest.approx({"mode": 0.3, "tempo": 0.3, "gain": 0.1, "octave": 0.25})
    assert result["passed"]
    assert result["pieces_passing"] == {"mode": 1, "tempo": 2, "gain": 2, "octave": 1}
    loud = summary([{"effects": {**good, "gain": 0.4}}])
    assert not loud["passed"]
    assert loud["checks"]["+-12 dB moves arousal less than tempo"] is False
    assert not summary([{"effects": {**good, "mode": 0.19}}])["passed"]


@pytest.mark.skipif(
    shutil.which("fluidsynth") is None or not SOUNDFONT.is_file(),
    reason="fluidsynth or the FluidR3 GM SoundFont is not installed",
)
def test_one_piece_end_to_end_with_a_constant_model() -> None:
    """A constant model hears no change: every effect is 0; the row names the key."""
    model = _Constant(np.tile([[0.3, -0.2]], (40, 1)))
    name, spec = PROBE_PIECES[0]
    row = probe_piece(model, name, spec, seconds=6.0, settle=1.0)
    assert row["key"] == "0:major"
    assert row["effects"] == pytest.approx(dict.fromkeys(("mode", "tempo", "gain", "octave"), 0.0))
    assert row["base"] == pytest.approx([0.3, -0.2], abs=0.02)
    assert model.resets == 7
