"""Tests for key-relative transposition of pitch, pitch-class and chord vectors."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.encodings.chords import NO_CHORD, chord_pitch_classes, reduce_chord
from kelly_core.encodings.tonal import (
    estimate_key,
    key_correlations,
    to_reference,
    tonic_shift,
    transpose_chord,
    transpose_chords,
    transpose_pitch_classes,
    transpose_pitches,
    trusted_key,
)

semitones = st.integers(-24, 24)


@pytest.mark.parametrize(
    ("tonic", "shift"), [(0, 0), (7, -5), (9, -3), (5, 5), (6, 6), (11, -1), (2, 2), (21, -3)]
)
def test_tonic_shift_is_the_nearest_transposition(tonic: int, shift: int) -> None:
    assert tonic_shift(tonic) == shift


@given(st.integers(0, 63), semitones)
def test_transposed_chord_has_the_transposed_pitch_classes(index: int, s: int) -> None:
    moved = transpose_chord(index, s)
    want = sorted((pc + s) % 12 for pc in chord_pitch_classes(index))
    assert sorted(chord_pitch_classes(moved)) == want
    assert transpose_chord(moved, -s) == index


def test_transpose_chord_examples() -> None:
    a_minor = reduce_chord("Am")
    assert transpose_chord(reduce_chord("Cm"), 9) == a_minor
    assert transpose_chord(reduce_chord("G7"), -7) == reduce_chord("C7")
    assert transpose_chord(NO_CHORD, 5) == NO_CHORD
    assert transpose_chord(reduce_chord("Bdim7"), 1) == reduce_chord("Cdim7")
    with pytest.raises(ValueError, match="out of range"):
        transpose_chord(64, 1)


@given(st.lists(st.floats(0, 1), min_size=64, max_size=64), semitones)
def test_transpose_chords_moves_mass_to_the_transposed_class(probs: list[float], s: int) -> None:
    dist = np.array(probs, dtype=np.float32)
    moved = transpose_chords(dist, s)
    for i in range(64):
        assert moved[transpose_chord(i, s)] == dist[i]
    np.testing.assert_array_equal(transpose_chords(moved, -s), dist)


def test_transpose_pitches_shifts_and_drops_out_of_range() -> None:
    notes = np.zeros((2, 128), dtype=np.float32)
    notes[0, 60] = 1.0
    notes[1, 125] = 0.5
    up = transpose_pitches(notes, 3)
    assert up[0, 63] == 1.0
    assert up[1].sum() == 0.0  # 128 is off the keyboard
    down = transpose_pitches(notes, -61)
    assert down[0].sum() == 0.0
    assert down[1, 64] == 0.5
    assert transpose_pitches(notes, 200).sum() == 0.0


def test_transpose_pitch_classes_rotates() -> None:
    c_major = np.zeros(12, dtype=np.float32)
    c_major[[0, 4, 7]] = 1.0
    a_major = transpose_pitch_classes(c_major, 9)
    assert set(np.flatnonzero(a_major)) == {9, 1, 4}


def _scale_histogram(tonic: int, minor: bool) -> np.ndarray:
    steps = (0, 2, 3, 5, 7, 8, 11) if minor else (0, 2, 4, 5, 7, 9, 11)
    hist = np.zeros(12)
    for weight, step in zip((3.0, 1, 1, 1, 2, 1, 1), steps, strict=True):
        hist[(tonic + step) % 12] = weight  # tonic and fifth weighted as in real melodies
    return hist


@given(st.integers(0, 11), st.booleans())
def test_estimate_key_finds_the_scale_of_a_weighted_histogram(tonic: int, minor: bool) -> None:
    assert estimate_key(_scale_histogram(tonic, minor)) == (tonic, minor)


def test_estimate_key_of_nothing_is_c_major() -> None:
    assert estimate_key(np.zeros(12)) == (0, False)
    assert not np.any(key_correlations(np.zeros(12)))


def test_trusted_key_rejects_a_default_c_major_signature_on_a_minor_piece() -> None:
    f_sharp_minor = _scale_histogram(6, True)
    assert trusted_key(f_sharp_minor, 6, True)
    assert not trusted_key(f_sharp_minor, 0, False)
    # the relative major shares every pitch class and sits close in correlation
    assert trusted_key(_scale_histogram(9, False), 9, False)


def test_to_reference_undoes_tonic_shift() -> None:
    assert [to_reference(t) for t in (0, 7, 9, 5, 6)] == [0, 5, 3, -5, -6]
    for tonic in range(12):
        assert (tonic + to_reference(tonic)) % 12 == 0
