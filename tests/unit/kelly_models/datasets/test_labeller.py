"""Tests for the symbolic emotion labeller."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_models.datasets.labeller import (
    beat_emotions,
    emotion_from_features,
    legato_ratios,
    mode_score,
    piece_emotion,
    sounding_pairs,
)

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)


def _scale_notes(
    scale: tuple[int, ...], tonic: int, beat: float, velocity: int
) -> list[tuple[int, float, float, int]]:
    degrees = [0, 2, 4, 0, 1, 2, 3, 4, 5, 4, 2, 0, 4, 2, 0, 0]
    return [
        (60 + tonic + scale[d], i * beat, (i + 1) * beat, velocity) for i, d in enumerate(degrees)
    ]


class TestMode:
    def test_major_minor(self) -> None:
        """Major melodies score positive, minor ones negative, in every key."""
        for tonic in range(12):
            major = np.zeros((1, 12))
            minor = np.zeros((1, 12))
            for p, s, e, _ in _scale_notes(MAJOR, tonic, 0.5, 80):
                major[0, p % 12] += e - s
            for p, s, e, _ in _scale_notes(MINOR, tonic, 0.5, 80):
                minor[0, p % 12] += e - s
            assert mode_score(major)[0] > 0
            assert mode_score(minor)[0] < 0

    def test_empty(self) -> None:
        """No notes: mode 0."""
        assert mode_score(np.zeros((1, 12)))[0] == 0.0


class TestEmotion:
    def test_piece(self) -> None:
        """Major → positive valence; fast and loud → higher arousal."""
        calm = piece_emotion(_scale_notes(MAJOR, 0, 1.0, 50), 60.0, 16.0)
        wild = piece_emotion(_scale_notes(MAJOR, 0, 0.25, 120), 160.0, 4.0)
        sad = piece_emotion(_scale_notes(MINOR, 0, 1.0, 50), 60.0, 16.0)
        assert calm[0] > 0.3
        assert sad[0] < -0.3
        assert wild[1] > calm[1] + 0.5

    def test_beats(self) -> None:
        """Per-beat labels have one row per beat, inside the square."""
        notes = _scale_notes(MAJOR, 2, 0.5, 90)
        labels = beat_emotions(notes, np.arange(17) * 0.5)
        assert labels.shape == (16, 2)
        assert np.all(np.abs(labels) <= 1)
        assert labels[:, 0].mean() > 0
        drums = beat_emotions(notes, np.arange(5) * 2.0, pitched=False, beats_per_step=4)
        assert drums.shape == (4, 2)


Note = tuple[int, float, float, int]


def _chords(voicing: tuple[int, ...], together: bool) -> list[Note]:
    """Four 2 s chords of ``voicing`` over C3, sounding together or one note after another
    (the same pitch-class durations either way)."""
    notes: list[Note] = []
    for k in range(4):
        for v, step in enumerate(voicing):
            start = 2.0 * k + (0.0 if together else 2.0 * v / len(voicing))
            length = 2.0 if together else 2.0 / len(voicing)
            notes.append((48 + step, start, start + length, 70))
    return notes


_NOTE = st.tuples(
    st.integers(21, 108),
    st.floats(0.0, 8.0, allow_nan=False),
    st.floats(0.0, 3.0, allow_nan=False),
    st.integers(1, 127),
).map(lambda n: (n[0], n[1], n[1] + n[2], n[3]))


class TestTension:
    def test_intervals(self) -> None:
        """Semitones, major sevenths and tritones sounding together are dissonant; a triad
        in any inversion is not; notes one after another do not sound together."""
        _, length, clash = sounding_pairs(_chords((0, 4, 7), True)[:3])
        assert length.tolist() == [2.0, 2.0, 2.0]
        assert not clash.any()
        _, length, clash = sounding_pairs([(60, 0, 1, 80), (71, 0.5, 2, 80), (66, 0, 1, 80)])
        assert length.tolist() == [1.0, 0.5, 0.5]  # 60-66, 60-71, 66-71
        assert clash.tolist() == [True, True, False]  # tritone, major 7th, fourth
        assert len(sounding_pairs(_chords((0, 4, 7), False))[0]) == 0

    def test_clusters_lower_valence(self) -> None:
        """The same pitch-class histogram (up to scale): clusters sounding together are
        labelled lower valence than the same notes one after another; a triad is not."""
        for voicing in ((0, 1, 2), (0, 6, 11), (4, 5, 7), (0, 4, 7, 10)):
            clashing = piece_emotion(_chords(voicing, True), 120.0, 8.0)
            apart = piece_emotion(_chords(voicing, False), 120.0, 8.0)
            assert clashing[0] < apart[0] - 0.1
            assert clashing[1] >= apart[1] - 0.2  # arousal: only the articulation differs
        consonant = piece_emotion(_chords((0, 4, 7), True), 120.0, 8.0)
        spread = piece_emotion(_chords((0, 4, 7), False), 120.0, 8.0)
        assert consonant[0] == spread[0] > 0.5  # no clash either way: no tension

    def test_beats(self) -> None:
        """Per beat too: a beat whose window holds the whole passage scores lower valence
        with the clusters sounding together."""
        bounds = np.arange(17) * 0.5
        clashing = beat_emotions(_chords((0, 1, 6), True), bounds)
        apart = beat_emotions(_chords((0, 1, 6), False), bounds)
        assert clashing[8, 0] < apart[8, 0] - 0.1


class TestArticulation:
    def test_ratios(self) -> None:
        """Each note's sounding time over the time to the next onset, capped at 1; the
        last onset's notes have none."""
        notes = [(60, 0.0, 0.25, 80), (64, 0.0, 2.0, 80), (67, 1.0, 1.5, 80), (72, 2.0, 3, 80)]
        starts, ratios = legato_ratios(notes)
        assert starts.tolist() == [0.0, 0.0, 1.0]
        assert ratios.tolist() == [0.25, 1.0, 0.5]

    def test_staccato_raises_arousal(self) -> None:
        """The same onsets at the same tempo: staccato is labelled higher arousal than
        legato, with the same valence."""
        legato = _scale_notes(MAJOR, 0, 0.5, 80)
        staccato = [(p, s, s + 0.1, v) for p, s, _, v in legato]
        for bpm in (70.0, 120.0, 170.0):
            smooth = piece_emotion(legato, bpm, 8.0)
            short = piece_emotion(staccato, bpm, 8.0)
            assert short[1] > smooth[1] + 0.1
            assert short[0] == smooth[0]
        bounds = np.arange(17) * 0.5
        gap = beat_emotions(staccato, bounds)[:, 1] - beat_emotions(legato, bounds)[:, 1]
        assert np.all(gap > 0.1)

    def test_drums_ignore_it(self) -> None:
        """Drum hits (``pitched=False``) carry no articulation or tension."""
        hits = [(36, 0.5 * i, 0.5 * i + 0.01, 90) for i in range(16)]
        held = [(36, 0.5 * i, 0.5 * i + 0.5, 90) for i in range(16)]
        bounds = np.arange(5) * 2.0
        short = beat_emotions(hits, bounds, window_beats=4, pitched=False, beats_per_step=4)
        long = beat_emotions(held, bounds, window_beats=4, pitched=False, beats_per_step=4)
        assert np.array_equal(short, long)


def _formula(dissonance: float = 0.0, legato: float = 0.75) -> np.ndarray:
    """The formula at mode 0.05, 120 BPM, 4 onsets/s, velocity 80."""
    args = (np.array([0.05]), np.array([120.0]), np.array([4.0]), np.array([80.0]))
    out: np.ndarray = emotion_from_features(*args, dissonance=dissonance, legato=legato)[0]
    return out


class TestFormula:
    def test_defaults_are_neutral(self) -> None:
        """Without tension and articulation the formula is the earlier one; the terms
        move valence down by up to 0.2 and arousal by up to ±0.15."""
        base = _formula()
        expected_v = 0.8 * np.tanh(0.5) + 0.2 * 0.2
        assert np.allclose(base, [expected_v, 0.4 * 0.2])
        tense = _formula(dissonance=1.0)
        assert np.isclose(tense[0], expected_v - 0.2)
        assert tense[1] == base[1]
        short = _formula(legato=0.0)
        assert np.isclose(short[1], base[1] + 0.15)
        assert short[0] == base[0]

    @settings(max_examples=60, deadline=None)
    @given(st.lists(_NOTE, max_size=40), st.floats(30.0, 250.0))
    def test_bounded(self, notes: list[Note], bpm: float) -> None:
        """Any notes at any tempo: labels inside the square, per piece and per beat."""
        valence, arousal = piece_emotion(notes, bpm, 12.0)
        assert -1 <= valence <= 1
        assert -1 <= arousal <= 1
        labels = beat_emotions(notes, np.arange(25) * 0.5)
        assert labels.shape == (24, 2)
        assert np.all(np.abs(labels) <= 1)
        assert np.all(np.isfinite(labels))
