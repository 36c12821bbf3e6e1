"""Rendered music for the EmotionRecognizer: one real piece through mma or music21,
fluidsynth, the emotion frame and the cache (a few seconds)."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.emotion import decode_emotions
from kelly_core.encodings.emotion_frame import EMOTION_FRAME_SIZE
from kelly_models.datasets import emotion_rendered
from kelly_models.datasets.emotion_data import open_emotion
from kelly_models.datasets.emotion_rendered import CLIPS_PER_PIECE, open_rendered_emotion
from kelly_models.listening.render import SOUNDFONT

pytestmark = pytest.mark.skipif(
    shutil.which("fluidsynth") is None or shutil.which("mma") is None or not SOUNDFONT.is_file(),
    reason="fluidsynth, mma or the FluidR3 GM SoundFont is not installed",
)
pytest.importorskip("music21")


def test_one_piece_renders_four_labelled_clips_and_is_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two tempos x two modes: the parallel clip's valence has the other sign, the faster
    clips the higher arousal; nothing is rendered before a clip is read; the second
    opening reads the cache."""
    data = open_rendered_emotion(pieces=1, render_seed=3, cache_dir=tmp_path, workers=1)
    assert len(data) == CLIPS_PER_PIECE == 4
    assert not any(tmp_path.rglob("*.npz"))  # lazy
    clips = [data[i] for i in range(4)]
    assert len(list(tmp_path.rglob("*.npz"))) == 1
    points = [decode_emotions(c.targets) for c in clips]
    for clip, va in zip(clips, points, strict=True):
        assert clip.inputs.shape == (29, EMOTION_FRAME_SIZE)
        assert np.isfinite(clip.inputs).all()
        np.testing.assert_allclose(va, va[:1].repeat(len(va), axis=0), atol=1e-6)
    slow, slow_flipped, fast, fast_flipped = (p[0] for p in points)
    assert slow[0] * slow_flipped[0] < 0
    assert fast[0] * fast_flipped[0] < 0
    assert slow[1] == pytest.approx(slow_flipped[1], abs=1e-3)
    assert fast[1] > slow[1]
    assert len({c.split for c in clips}) == 1
    assert not np.allclose(clips[0].inputs, clips[1].inputs)

    def no_render(*args: object) -> None:
        raise AssertionError("rendered again")

    monkeypatch.setattr(emotion_rendered, "_build", no_render)
    again = open_rendered_emotion(pieces=1, render_seed=3, cache_dir=tmp_path, workers=1)
    np.testing.assert_array_equal(again[2].inputs, clips[2].inputs)


def test_the_mix_puts_generated_items_first_and_reads_no_music_for_them(tmp_path: Path) -> None:
    """``--max-items`` within the generated items renders nothing."""
    data = open_emotion(items=3, steps=4, pieces=2, cache_dir=tmp_path, workers=1)
    assert len(data) == 3 + 2 * CLIPS_PER_PIECE
    assert [data[i].inputs.shape for i in range(3)] == [(4, EMOTION_FRAME_SIZE)] * 3
    assert not any(tmp_path.rglob("*.npz"))
