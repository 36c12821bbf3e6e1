"""Transposition augmentation moves exactly the pitch-bearing parts of each model's data."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.encodings.chords import chord_index
from kelly_core.encodings.context import melody_contexts, previous_top_pitches
from kelly_core.encodings.emotion import coarse_emotions
from kelly_core.encodings.tonal import transpose_chord
from kelly_models.training.augment import augment_keys, transpose_sequence
from kelly_models.training.sequences import SequenceSet


@given(st.integers(-5, 6), st.integers(0, 59))
def test_harmony_previous_and_target_move_together(shift: int, chord: int) -> None:
    x = np.zeros((1, 128), dtype=np.float32)
    x[0, :64] = 0.5  # emotion half: kept
    x[0, 64 + chord] = 1.0
    y = np.zeros((1, 64), dtype=np.float32)
    y[0, chord] = 1.0
    moved_x, moved_y = transpose_sequence("HarmonyPredictor", x, y, shift)
    assert np.all(moved_x[0, :64] == 0.5)
    assert int(moved_x[0, 64:].argmax()) == transpose_chord(chord, shift)
    assert int(moved_y[0].argmax()) == transpose_chord(chord, shift)


def test_melody_and_dynamics() -> None:
    y = np.zeros((2, 128), dtype=np.float32)
    y[:, 60] = 1.0
    _, moved = transpose_sequence("MelodyTransformer", np.zeros((2, 64), np.float32), y, 7)
    assert moved[:, 67].all()
    assert moved.sum() == 2
    x = np.zeros((1, 32), dtype=np.float32)
    x[0, 20] = 1.0  # pitch class C in the last 12 columns
    moved_x, _ = transpose_sequence("DynamicsEngine", x, np.zeros((1, 16), np.float32), 2)
    assert moved_x[0, 22] == 1.0
    assert moved_x[0, 20] == 0.0


def test_melody_history_moves_with_the_notes() -> None:
    """The melody context's note history is rebuilt from the moved notes; emotion and beat stay."""
    notes = np.zeros((3, 128), dtype=np.float32)
    notes[[0, 1, 2], [60, 64, 67]] = 1.0
    coarse = coarse_emotions(np.array([[0.5, -0.5]] * 3))
    x = melody_contexts(coarse, np.array([1, 2, 3]), notes)
    moved_x, moved_y = transpose_sequence("MelodyTransformer", x, notes, 2)
    np.testing.assert_array_equal(moved_x, melody_contexts(coarse, np.array([1, 2, 3]), moved_y))
    assert previous_top_pitches(moved_x).tolist() == [128, 62, 66]


def test_augment_keys_adds_eleven_copies_for_pitch_models_only() -> None:
    x = np.zeros((3, 128), dtype=np.float32)
    x[:, 64 + chord_index(0, "maj")] = 1.0
    data = SequenceSet(inputs=(x,), targets=(np.eye(64, dtype=np.float32)[[0, 35, 0]],),
                       sources=("a.json#0",))  # fmt: skip
    out = augment_keys("HarmonyPredictor", data)
    assert len(out) == 12
    roots = {int(t[0].argmax()) // 5 for t in out.targets}
    assert roots == set(range(12))
    assert out.sources[1].startswith("a.json#0@")
    assert augment_keys("GroovePredictor", data) is data
