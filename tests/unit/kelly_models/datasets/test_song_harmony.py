"""The chord rule, chart chords and the note-to-chroma model of the song harmony module."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_core.encodings.chords import NO_CHORD, chord_index, chord_label
from kelly_models.datasets.song_harmony import (
    FIFTH_LEAK,
    chart_chords,
    chord_chroma,
    note_chroma,
    pitch_weights,
    reduce_chord,
)


def _weights(**by_pc: float) -> np.ndarray:
    out = np.zeros(12)
    for name, value in by_pc.items():
        out[int(name[1:])] = value
    return out


class TestChordRule:
    def test_triads(self) -> None:
        assert chord_label(reduce_chord(_weights(p0=1, p4=1, p7=1), 0)) == "C:maj"
        assert chord_label(reduce_chord(_weights(p9=1, p0=0.5, p4=1), 9)) == "A:min"
        assert chord_label(reduce_chord(_weights(p11=1, p2=1, p5=1), 11)) == "B:dim"

    def test_dominant_seventh_needs_its_seventh(self) -> None:
        """G B D with F at half the root's length is G7; with less it stays G major."""
        assert chord_label(reduce_chord(_weights(p7=1, p11=1, p2=1, p5=0.5), 7)) == "G:7"
        assert chord_label(reduce_chord(_weights(p7=1, p11=1, p2=1, p5=0.4), 7)) == "G:maj"

    def test_tie_goes_to_the_bass(self) -> None:
        """C and E alone fit C major and A minor alike: the bass decides."""
        both = _weights(p0=1, p4=1)
        assert chord_label(reduce_chord(both, 9)) == "A:min"
        assert chord_label(reduce_chord(both, 0)) == "C:maj"

    def test_one_pitch_class_is_no_chord(self) -> None:
        assert reduce_chord(_weights(p0=3), 0) == NO_CHORD
        assert reduce_chord(np.zeros(12), None) == NO_CHORD

    def test_pitch_weights_and_bass(self) -> None:
        """Seconds per pitch class in each beat; the bass is the lowest note sounding."""
        notes = [(0.0, 1.0, 48, 90), (0.5, 1.5, 64, 90), (1.2, 2.0, 67, 90)]
        weights, basses = pitch_weights(notes, np.array([0.0, 1.0, 2.0]))
        np.testing.assert_allclose(weights[0, [0, 4]], [1.0, 0.5])
        np.testing.assert_allclose(weights[1, [4, 7]], [0.5, 0.8])
        assert basses == [0, 4]


class TestChartChords:
    def test_bars_and_half_bars(self) -> None:
        chart = "RndSeed 1\nTempo 120\nKeySig F minor\nGroove Strut\n1 Fm\n2 Bbm / C7 /\n"
        labels = [chord_label(c) for c in chart_chords(chart, 4)]
        assert labels == ["F:min"] * 4 + ["Bb:min"] * 2 + ["C:7"] * 2

    def test_three_beats_to_a_bar_of_six_tokens(self) -> None:
        """A 6/8 chart counted in two dotted beats: the second chord starts half way."""
        assert chart_chords("1 C / / G / /\n", 2) == [chord_index(0, "maj"), chord_index(7, "maj")]

    def test_unknown_symbol(self) -> None:
        with pytest.raises(ValueError, match="Cmaj9"):
            chart_chords("1 Cmaj9\n", 4)


class TestNoteChroma:
    def test_chord_tones_fifth_leak_and_bass(self) -> None:
        """C3 (bass band) and E4 through one beat: C is the largest (1), E on its scale,
        the fifths above them leak FIFTH_LEAK; only C3 is in the bass."""
        chroma = note_chroma([(0.0, 1.0, 48, 127), (0.0, 1.0, 64, 127)], np.array([0.0, 1.0]))
        assert chroma.shape == (1, 24)
        assert chroma[0, 0] == pytest.approx(1.0)
        assert chroma[0, 4] == pytest.approx(1.0)
        assert chroma[0, 7] == pytest.approx(FIFTH_LEAK)
        assert chroma[0, 11] == pytest.approx(FIFTH_LEAK)
        assert np.flatnonzero(chroma[0, 12:]).tolist() == [0]

    def test_chord_chroma(self) -> None:
        """A chord's tones sound, its root loudest (also in the bass); N is silence."""
        chroma = chord_chroma([chord_index(9, "min"), NO_CHORD])
        assert int(np.argmax(chroma[0, :12])) == 9
        assert set(np.flatnonzero(chroma[0, :12] >= 0.5)) == {0, 4, 9}
        assert np.flatnonzero(chroma[0, 12:]).tolist() == [9]
        assert not chroma[1].any()
