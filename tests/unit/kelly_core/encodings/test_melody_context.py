"""Tests for the MelodyTransformer's melody context and the notes the pipeline feeds back."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kelly_core.encodings.context import (
    MELODY_HISTORY,
    NO_PREVIOUS_PITCH,
    melody_context,
    melody_contexts,
    previous_top_pitches,
)
from kelly_core.encodings.emotion import coarse_emotion, coarse_emotions, decode_coarse_emotions
from kelly_core.encodings.melody import melody_feedback
from kelly_core.errors import BackendError

unit = st.floats(-1.0, 1.0, allow_nan=False)


def _notes(*pitches: int) -> np.ndarray:
    row = np.zeros(128, dtype=np.float32)
    row[list(pitches)] = 1.0
    return row


class TestMelodyContext:
    def test_layout_hand_worked(self) -> None:
        """E4 + G4 last beat, beat 2 of the bar, the song sounding C, E, G over a C bass."""
        coarse = coarse_emotion(0.5, -0.25)
        history = _notes(64, 67)[None]
        song = np.zeros(24, dtype=np.float32)
        song[[0, 4, 7]] = [1.0, 0.6, 0.8]
        song[12] = 1.0
        ctx = melody_context(coarse, 2, history, song)
        assert ctx.shape == (64,)
        np.testing.assert_array_equal(ctx[:16], coarse)
        np.testing.assert_array_equal(ctx[16:20], [0, 0, 1, 0])
        assert np.flatnonzero(ctx[20:32]).tolist() == [7]  # top pitch G
        assert np.flatnonzero(ctx[32:40]).tolist() == [4]  # octave 4 (G4 = 67)
        np.testing.assert_allclose(ctx[40:52][[0, 4, 7]], [1.0, 0.6, 0.8])  # song chroma
        assert np.flatnonzero(ctx[52:64]).tolist() == [0]  # song bass C
        assert previous_top_pitches(ctx[None])[0] == 67
        assert not melody_context(coarse, 2, history)[40:].any()  # nothing heard

    def test_rest_gives_no_previous_pitch(self) -> None:
        ctx = melody_context(coarse_emotion(0, 0), 0, np.zeros((MELODY_HISTORY, 128)))
        assert not ctx[20:].any()
        assert previous_top_pitches(ctx[None])[0] == NO_PREVIOUS_PITCH

    def test_octave_slots_clip_at_the_ends(self) -> None:
        for pitch, slot in ((5, 0), (23, 0), (24, 1), (107, 7), (127, 7)):
            history = np.zeros((MELODY_HISTORY, 128))
            history[0, pitch] = 1
            ctx = melody_context(coarse_emotion(0, 0), 0, history)
            assert int(np.argmax(ctx[32:40])) == slot, pitch

    def test_wrong_history_shape(self) -> None:
        with pytest.raises(BackendError, match="history"):
            melody_context(coarse_emotion(0, 0), 0, np.zeros((3, 128)))
        with pytest.raises(BackendError, match="heard"):
            melody_context(coarse_emotion(0, 0), 0, np.zeros((1, 128)), np.zeros(12))

    @settings(max_examples=40, deadline=None)
    @given(
        notes=hnp.arrays(np.float32, st.tuples(st.integers(1, 24), st.just(128)),
                         elements=st.sampled_from([0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.0])),
        seed=st.integers(0, 2**16),
    )  # fmt: skip
    def test_teacher_forcing_equals_stepping(self, notes: np.ndarray, seed: int) -> None:
        """The batch function equals stepping beat by beat with the true notes fed back."""
        rng = np.random.default_rng(seed)
        coarse = coarse_emotions(rng.uniform(-1, 1, (len(notes), 2)))
        beats = rng.integers(0, 9, len(notes))
        song = rng.random((len(notes), 24)).astype(np.float32)
        batch = melody_contexts(coarse, beats, notes, song)
        history = np.zeros((MELODY_HISTORY, 128), dtype=np.float32)
        for t in range(len(notes)):
            np.testing.assert_array_equal(
                batch[t], melody_context(coarse[t], int(beats[t]), history, song[t])
            )
            history[0] = notes[t]

    @given(st.integers(24, 107))
    def test_previous_pitch_round_trip(self, pitch: int) -> None:
        notes = np.stack([_notes(pitch), _notes(pitch - 12)])
        ctx = melody_contexts(coarse_emotions(np.zeros((2, 2))), [0, 1], notes)
        assert previous_top_pitches(ctx).tolist() == [NO_PREVIOUS_PITCH, pitch]


class TestCoarseDecode:
    @given(unit, unit)
    def test_round_trip(self, valence: float, arousal: float) -> None:
        decoded = decode_coarse_emotions(coarse_emotion(valence, arousal)[None])[0]
        np.testing.assert_allclose(decoded, [valence, arousal], atol=0.05)

    def test_noisy_code_still_decodes(self) -> None:
        rng = np.random.default_rng(0)
        points = rng.uniform(-0.9, 0.9, (200, 2))
        noisy = coarse_emotions(points) + rng.normal(0, 0.05, (200, 16))
        assert float(np.abs(decode_coarse_emotions(noisy) - points).mean()) < 0.1


class TestFeedback:
    def test_pitches_at_threshold(self) -> None:
        probs = np.full(128, 0.01)
        probs[[60, 64]] = [0.7, 0.5]
        assert np.flatnonzero(melody_feedback(probs)).tolist() == [60, 64]

    def test_none_at_threshold_but_sounding_gives_argmax(self) -> None:
        probs = np.full(128, 0.001)
        probs[[62, 65, 67]] = [0.3, 0.35, 0.2]  # 1 - 0.7*0.65*0.8*(0.999**125) ~ 0.67
        assert np.flatnonzero(melody_feedback(probs)).tolist() == [65]

    def test_silent_beat_rests(self) -> None:
        probs = np.full(128, 0.001)
        probs[60] = 0.3  # sounds with probability ~0.36 < 0.5
        assert not melody_feedback(probs).any()
