"""The alignment of a RomanText analysis with its score (chord rule benchmark)."""

from __future__ import annotations

from typing import Any

import pytest

from kelly_core.encodings.chords import chord_label

music21: Any = pytest.importorskip("music21")

from tests.benchmarks.chord_rule_vs_analysis import (  # noqa: E402
    _bwv_stem,
    align,
    best_transposition,
    tally,
    transposed,
)

ANALYSIS = """Composer: Test
Title: Pickup
Time Signature: 3/4

m0 b3 C: V
m1 I b3 IV
m2 V7
m3 I
"""
"""A pickup numeral, a change on beat 3 of m1; music21 ends the last bar, m3, after two
beats (completing the pickup's bar); the score's m4 is not analysed."""

# Per bar: the upper part's chords and the bass's notes (MIDI pitch, quarter notes).
UPPER: list[list[tuple[tuple[int, ...], float]]] = [
    [((55, 59, 62), 1.0)],
    [((48, 52, 55), 2.0), ((53, 57, 60), 1.0)],
    [((55, 59, 62, 65), 1.0), ((55, 59, 62), 1.0), ((57, 60, 64), 1.0)],
    [((48, 52, 55), 3.0)],
    [((53, 57, 60), 3.0)],
]
BASS: list[list[tuple[int, float]]] = [
    [(43, 1.0)],
    [(48, 2.0), (41, 1.0)],
    [(43, 2.0), (45, 1.0)],
    [(48, 3.0)],
    [(41, 3.0)],
]


def _score(shift: int = 0) -> Any:
    """The analysed piece moved up ``shift`` semitones; the bass's m1 is overfull (a rest
    past its bar line, as in the madrigal files), so its flattened offsets drift."""
    upper, bass = music21.stream.Part(), music21.stream.Part()
    for number, (chords, notes) in enumerate(zip(UPPER, BASS, strict=True)):
        bars = (music21.stream.Measure(number=number), music21.stream.Measure(number=number))
        for bar in bars:
            if number == 0:
                bar.insert(0, music21.meter.TimeSignature("3/4"))
                bar.paddingLeft = 2.0
        for pitches, length in chords:
            bars[0].append(music21.chord.Chord([p + shift for p in pitches], quarterLength=length))
        for pitch, length in notes:
            bars[1].append(music21.note.Note(pitch + shift, quarterLength=length))
        if number == 1:
            bars[1].append(music21.note.Rest(quarterLength=3.0))
        upper.append(bars[0])
        bass.append(bars[1])
    score = music21.stream.Score()
    score.insert(0, upper)
    score.insert(0, bass)
    return score


def _labels(beats: list[Any]) -> list[tuple[int, int, str | None, str | None, str]]:
    return [
        (
            b.measure,
            b.beat,
            b.figure,
            None if b.analysis is None else chord_label(b.analysis),
            chord_label(b.rule),
        )
        for b in beats
    ]


class TestAlign:
    def test_pickup_change_and_unanalysed_bar(self) -> None:
        """The pickup is beat 3 of m0, IV starts on beat 3 of m1, m3's beat 3 and m4 have no
        numeral; under the analysts' V7 the rule hears G7, G without its seventh, A minor."""
        beats = align(music21.converter.parseData(ANALYSIS, format="romanText"), _score())
        assert _labels(beats) == [
            (0, 3, "V", "G:maj", "G:maj"),
            (1, 1, "I", "C:maj", "C:maj"),
            (1, 2, "I", "C:maj", "C:maj"),
            (1, 3, "IV", "F:maj", "F:maj"),
            (2, 1, "V7", "G:7", "G:7"),
            (2, 2, "V7", "G:7", "G:maj"),
            (2, 3, "V7", "G:7", "A:min"),
            (3, 1, "I", "C:maj", "C:maj"),
            (3, 2, "I", "C:maj", "C:maj"),
            (3, 3, None, None, "C:maj"),
            (4, 1, None, None, "F:maj"),
            (4, 2, None, None, "F:maj"),
            (4, 3, None, None, "F:maj"),
        ]
        counts = tally(beats)
        assert (counts.beats, counts.exact, counts.root, counts.triad) == (9, 7, 8, 8)
        assert (counts.quality, counts.no_chord, counts.refused) == (8, 0, 0)
        assert counts.top(2) == "G:7>G:maj 1, G:7>A:min 1"

    def test_a_transposed_score_is_moved_back(self) -> None:
        """A score a whole tone above its analysis agrees once moved down by 2 (up 10)."""
        beats = align(music21.converter.parseData(ANALYSIS, format="romanText"), _score(shift=2))
        assert tally(beats).exact == 0
        assert best_transposition(beats) == 10
        assert tally(transposed(beats, 10)).exact == 7

    def test_bwv_fields_name_corpus_files(self) -> None:
        assert _bwv_stem("248(2).12") == "bwv248.12-2"
        assert _bwv_stem("41.6s") == "bwv41.6"
        assert _bwv_stem("269") == "bwv269"
