"""Tests for the chord vocabulary and the reduction of chord symbols."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.encodings.chords import (
    C_MAJOR,
    CHORD_VOCABULARY,
    NO_CHORD,
    chord_index,
    chord_label,
    chord_one_hot,
    chord_pitch_classes,
    reduce_chord,
    reduce_roman,
)
from kelly_core.encodings.roman import parse_key
from kelly_core.errors import DatasetError

ROOTS = ["C", "C#", "Db", "D", "D#", "Eb", "E", "F", "F#", "Gb", "G", "G#", "Ab", "A", "Bb", "B"]
POP_QUALITIES = [
    "", "m", "min", "dim", "aug", "+", "7", "maj7", "M7", "m7", "m7b5", "ø", "dim7", "o7", "6",
    "m6", "9", "m9", "maj9", "13", "sus4", "sus2", "7sus4", "5", "add9", "7b9", "7#9", "mM7",
    "7#5", "aug7", "11", "-7", "-",
]  # fmt: skip
HARTE = [
    "maj", "min", "dim", "aug", "maj7", "min7", "7", "dim7", "hdim7", "minmaj7", "maj6", "min6",
    "9", "maj9", "min9", "sus2", "sus4", "11", "13", "1", "5",
]  # fmt: skip
NUMERALS = [
    "I", "ii", "iii", "IV", "V", "vi", "viio", "V7", "ii7", "viio7", "viiø7", "I6", "V65", "IV64",
    "V43", "V42", "bVII", "bVI", "bIII", "#iv", "N6", "It6", "Ger65", "Fr43", "Cad64", "V7/V",
    "viio7/V", "V/ii", "IV/IV", "III+", "i", "iv", "VI", "VII", "V9", "IM7", "V7[no5]",
]  # fmt: skip
KEYS = ["C", "a", "F", "Bb", "f#", "E-", "c#", "G major", "d minor", "Am"]


class TestVocabulary:
    def test_size_and_unique(self) -> None:
        """64 distinct labels with N and C major at documented places."""
        assert len(CHORD_VOCABULARY) == 64
        assert len(set(CHORD_VOCABULARY)) == 64
        assert chord_label(NO_CHORD) == "N"
        assert chord_label(C_MAJOR) == "C:maj"

    def test_pitch_classes(self) -> None:
        """Classes have the pitch classes of their chord."""
        assert chord_pitch_classes(chord_index(7, "dom7")) == (2, 5, 7, 11)
        assert chord_pitch_classes(chord_index(9, "min")) == (0, 4, 9)
        assert chord_pitch_classes(NO_CHORD) == ()
        assert chord_pitch_classes(chord_index(11, "dim7")) == (2, 5, 8, 11)

    def test_one_hot(self) -> None:
        """chord_one_hot is a float32 one-hot of length 64."""
        vec = chord_one_hot(5)
        assert vec.shape == (64,)
        assert vec.sum() == 1.0
        assert vec[5] == 1.0

    def test_out_of_range(self) -> None:
        """A class outside 0..63 raises DatasetError."""
        with pytest.raises(DatasetError):
            chord_label(64)

    @given(st.integers(0, 63))
    def test_idempotent(self, index: int) -> None:
        """Reducing a class label gives the class back."""
        assert reduce_chord(chord_label(index)) == index


class TestReduceChord:
    @pytest.mark.parametrize(
        ("symbol", "label"),
        [
            ("C", "C:maj"), ("Am", "A:min"), ("F#dim", "F#:dim"), ("Bb7", "Bb:7"),
            ("Cmaj7", "C:maj"), ("C:maj7", "C:maj"), ("A:min/5", "A:min"), ("N", "N"),
            ("X", "N"), ("C:(3,5,b7)", "C:7"), ("Bm7b5", "B:dim"), ("Bdim7", "D:dim7"),
            ("G7b9", "G:7"), ("Dsus4", "D:maj"), ("C/E", "C:maj"), ("Ebm7/Bb", "Eb:min"),
            ("E:hdim7", "E:dim"), ("C:min(*b3,3)", "C:maj"), ("Caug", "C:aug"),
        ],
    )  # fmt: skip
    def test_examples(self, symbol: str, label: str) -> None:
        """Documented reductions."""
        assert chord_label(reduce_chord(symbol)) == label

    @given(
        st.sampled_from(ROOTS), st.sampled_from(POP_QUALITIES), st.sampled_from(["", "/E", "/Bb"])
    )
    def test_total_pop(self, root: str, quality: str, bass: str) -> None:
        """Every well-formed pop symbol maps to a class with the right root or N."""
        index = reduce_chord(root + quality + bass)
        assert 0 <= index < 64

    @given(st.sampled_from(ROOTS), st.sampled_from(HARTE), st.sampled_from(["", "/3", "/b7"]))
    def test_total_harte(self, root: str, shorthand: str, bass: str) -> None:
        """Every Harte shorthand maps to a class."""
        assert 0 <= reduce_chord(f"{root}:{shorthand}{bass}") < 64

    @pytest.mark.parametrize("bad", ["", "H7", "Cxyz", "C:foo", "C:(3,q)", "C/Z"])
    def test_malformed(self, bad: str) -> None:
        """Malformed symbols raise DatasetError (a ValueError)."""
        with pytest.raises(DatasetError):
            reduce_chord(bad)


class TestReduceRoman:
    @pytest.mark.parametrize(
        ("numeral", "key", "label"),
        [
            ("V7", "C", "G:7"), ("ii", "C", "D:min"), ("bVII", "F", "Eb:maj"),
            ("viio7", "a", "D:dim7"), ("V7/V", "C", "D:7"), ("V/ii", "C", "A:maj"),
            ("It6", "a", "F:7"), ("N6", "c", "C#:maj"), ("I7", "C", "C:maj"),
            ("VII", "a", "G:maj"), ("viiø7", "C", "B:dim"), ("V", "a", "E:maj"),
            ("iv64", "f#", "B:min"), ("V65", "B-", "F:7"), ("III+", "a", "C:aug"),
        ],
    )  # fmt: skip
    def test_examples(self, numeral: str, key: str, label: str) -> None:
        """Documented Roman-numeral reductions."""
        assert chord_label(reduce_roman(numeral, key)) == label

    @given(st.sampled_from(NUMERALS), st.sampled_from(KEYS))
    def test_total(self, numeral: str, key: str) -> None:
        """Every numeral of the grammar reduces in every key."""
        assert 0 <= reduce_roman(numeral, key) < 64

    @pytest.mark.parametrize(
        ("numeral", "key"), [("Q", "C"), ("VIII", "C"), ("V", "H"), ("V", "C dorian")]
    )
    def test_malformed(self, numeral: str, key: str) -> None:
        """Malformed numerals and keys raise DatasetError."""
        with pytest.raises(DatasetError):
            reduce_roman(numeral, key)

    def test_parse_key(self) -> None:
        """Lower case and minor suffixes mean minor."""
        assert parse_key("a") == (9, True)
        assert parse_key("Bb major") == (10, False)
        assert parse_key("E-") == (3, False)
        assert parse_key("c# minor") == (1, True)
