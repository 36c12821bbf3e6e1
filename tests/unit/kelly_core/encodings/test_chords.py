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

# Independent expectations (music theory, not the module's tables): each spelled root's
# pitch class, and the class quality each symbol's quality must reduce to.
ROOT_PC = {
    "C": 0, "C#": 1, "Db": 1, "D": 2, "D#": 3, "Eb": 3, "E": 4, "F": 5, "F#": 6, "Gb": 6,
    "G": 7, "G#": 8, "Ab": 8, "A": 9, "Bb": 10, "B": 11,
}  # fmt: skip
LABEL_ROOTS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
POP_CLASS = {
    "": "maj", "m": "min", "min": "min", "dim": "dim", "aug": "aug", "+": "aug", "7": "7",
    "maj7": "maj", "M7": "maj", "m7": "min", "m7b5": "dim", "ø": "dim", "dim7": "dim7",
    "o7": "dim7", "6": "maj", "m6": "min", "9": "7", "m9": "min", "maj9": "maj", "13": "7",
    "sus4": "maj", "sus2": "maj", "7sus4": "maj", "5": "maj", "add9": "maj", "7b9": "7",
    "7#9": "7", "mM7": "min", "7#5": "aug", "aug7": "aug", "11": "7", "-7": "min", "-": "min",
}  # fmt: skip
HARTE_CLASS = {
    "maj": "maj", "min": "min", "dim": "dim", "aug": "aug", "maj7": "maj", "min7": "min",
    "7": "7", "dim7": "dim7", "hdim7": "dim", "minmaj7": "min", "maj6": "maj", "min6": "min",
    "9": "7", "maj9": "maj", "min9": "min", "sus2": "maj", "sus4": "maj", "11": "7",
    "13": "7", "1": "maj", "5": "maj",
}  # fmt: skip


def _expected_label(root: str, quality: str) -> str:
    """The label a chord on ``root`` of class quality ``quality`` must reduce to; the
    dim7 chords on roots r, r + 3, r + 6, r + 9 share the label of the lowest root."""
    pc = ROOT_PC[root]
    if quality == "dim7":
        return f"{LABEL_ROOTS[pc % 3]}:dim7"
    return f"{LABEL_ROOTS[pc]}:{quality}"


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
        """Every well-formed pop symbol maps to the class of its root and quality."""
        label = chord_label(reduce_chord(root + quality + bass))
        assert label == _expected_label(root, POP_CLASS[quality])

    @given(st.sampled_from(ROOTS), st.sampled_from(HARTE), st.sampled_from(["", "/3", "/b7"]))
    def test_total_harte(self, root: str, shorthand: str, bass: str) -> None:
        """Every Harte shorthand maps to the class of its root and quality."""
        label = chord_label(reduce_chord(f"{root}:{shorthand}{bass}"))
        assert label == _expected_label(root, HARTE_CLASS[shorthand])

    def test_tables_cover_the_symbols(self) -> None:
        """The expectation tables above name every quality the totality tests draw."""
        assert set(POP_CLASS) == set(POP_QUALITIES)
        assert set(HARTE_CLASS) == set(HARTE)

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
            ("V6/5", "B-", "F:7"), ("I6/4", "G", "G:maj"), ("V4/2/IV", "C", "C:7"),
            ("viio4/3/vi", "C", "D:dim7"),
        ],
    )  # fmt: skip
    def test_examples(self, numeral: str, key: str, label: str) -> None:
        """Documented Roman-numeral reductions."""
        assert chord_label(reduce_roman(numeral, key)) == label

    def test_total_against_music21(self) -> None:
        """Every numeral of the grammar in every key reduces to a class whose root music21
        also names and whose notes are all in music21's chord; the augmented sixths, which
        music21 roots elsewhere, become the dominant seventh on their bass (flat 6), as
        documented."""
        music21 = pytest.importorskip("music21")
        names = ("C", "C#", "D", "E-", "E", "F", "F#", "G", "A-", "A", "B-", "B")
        for key in KEYS:
            tonic, minor = parse_key(key)
            m21_key = music21.key.Key(names[tonic].lower() if minor else names[tonic])
            for numeral in NUMERALS:
                index = reduce_roman(numeral, key)
                ours = set(chord_pitch_classes(index))
                chord = music21.roman.RomanNumeral(numeral.replace("[no5]", ""), m21_key)
                theirs = {p.pitchClass for p in chord.pitches}
                where = f"{numeral} in {key}: {chord_label(index)}"
                if numeral in ("It6", "Ger65", "Fr43"):
                    flat_six = (tonic + 8) % 12
                    assert chord.bass().pitchClass == flat_six, where
                    assert chord_label(index) == f"{LABEL_ROOTS[flat_six]}:7", where
                    continue
                assert ours <= theirs, where
                if index < 61:  # a dim7 class's label names one of four possible roots
                    root = LABEL_ROOTS[chord.root().pitchClass]
                    assert chord_label(index).split(":")[0] == root, where
                else:
                    assert chord.root().pitchClass in ours, where

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
