"""Tests of kelly_runtime.generate.arrange: tracks, voicings, pedal, drums, duration."""

from __future__ import annotations

import numpy as np
import pytest

from kelly_runtime.generate.arrange import (
    BASS_LOW,
    DRUM_HIHAT,
    DRUM_KICK,
    DRUM_SNARE,
    VOICING_LOW,
    BarGroove,
    BeatStyle,
    arrange,
    chord_voicing,
)
from kelly_runtime.generate.keys import Key, PitchRange
from kelly_runtime.generate.score import SOFT_PEDAL, SUSTAIN_PEDAL, Score

STRAIGHT = BarGroove(
    offsets=np.zeros(16, dtype=np.float32),
    velocities=np.array([100, 0, 70, 0, 110, 0, 70, 0] * 2, dtype=np.float32),
)


def _score(beats: int = 8, **overrides: object) -> Score:
    kwargs: dict[str, object] = {
        "tempo": 120.0,
        "notes": np.full((beats, 128), 0.5, dtype=np.float32),
        "chords": [(0, 4, 7)] * beats,
        "styles": [BeatStyle()] * beats,
        "grooves": [STRAIGHT] * (-(-beats // 4)),
        "key": Key.parse("C"),
        "pitch_range": PitchRange(low=60, high=84),
        "temperature": 1.0,
        "rng": np.random.default_rng(0),
    }
    kwargs.update(overrides)
    return arrange(**kwargs)  # type: ignore[arg-type]  # test keyword overrides


class TestChordVoicing:
    def test_c_major(self) -> None:
        """C major: bass C2, then G3 C4 E4 in close position."""
        assert chord_voicing((0, 4, 7)) == (36, 55, 60, 64)

    def test_ranges(self) -> None:
        """Every root's bass is in octave 2, the upper notes within an octave of G3."""
        for root in range(12):
            voicing = chord_voicing((root, (root + 3) % 12, (root + 7) % 12))
            assert BASS_LOW <= voicing[0] < BASS_LOW + 12
            assert voicing[0] % 12 == root
            assert all(VOICING_LOW <= p < VOICING_LOW + 12 for p in voicing[1:])

    def test_no_chord(self) -> None:
        """An empty chord has no notes."""
        assert chord_voicing(()) == ()


class TestArrange:
    def test_three_tracks_and_duration(self) -> None:
        """Melody, chords and drums; the chords end exactly at beats x 60 / tempo."""
        score = _score(8)
        assert [t.name for t in score.tracks] == ["melody", "chords", "drums"]
        assert score.track("drums").is_drum
        assert score.duration == pytest.approx(4.0)
        assert max(n.end for n in score.track("chords").notes) == pytest.approx(4.0)
        assert all(n.end <= 4.0 + 1e-9 for t in score.tracks for n in t.notes)

    def test_melody_in_key_and_range(self) -> None:
        """Every melody pitch belongs to the key and the range."""
        key, rng_ = Key.parse("Eb minor"), PitchRange(low=50, high=70)
        score = _score(16, key=key, pitch_range=rng_)
        pitches = [n.pitch for n in score.track("melody").notes]
        assert pitches
        assert all(key.contains(p) and p in rng_ for p in pitches)

    def test_same_rng_same_score(self) -> None:
        """The same seed gives an equal score; another seed a different melody."""
        a = _score(8, rng=np.random.default_rng(5))
        b = _score(8, rng=np.random.default_rng(5))
        c = _score(8, rng=np.random.default_rng(6))
        assert a == b
        assert a.track("melody") != c.track("melody")

    def test_chord_runs_held_and_split_at_bars(self) -> None:
        """Equal chords hold within a bar and restrike on the next bar."""
        score = _score(8, chords=[(0, 4, 7)] * 6 + [(9, 0, 4)] * 2)
        starts = sorted({n.start for n in score.track("chords").notes})
        assert starts == [0.0, 2.0, 3.0]

    def test_no_chord_is_silent(self) -> None:
        """Beats with no chord leave the chord track empty there."""
        score = _score(4, chords=[()] * 4)
        assert score.track("chords").notes == ()

    def test_eighths_and_articulation(self) -> None:
        """Two notes per beat when asked; durations follow the articulation."""
        style = BeatStyle(notes_per_beat=2, articulation=0.5)
        notes = _score(4, styles=[style] * 4).track("melody").notes
        assert len(notes) == 8
        for note in notes:
            assert note.end - note.start == pytest.approx(0.125)

    def test_velocity_follows_accents(self) -> None:
        """The melody velocity is the accent of its sixteenth (no spread)."""
        style = BeatStyle(accents=(100.0, 20.0, 60.0, 20.0), notes_per_beat=2)
        notes = _score(2, styles=[style] * 2).track("melody").notes
        assert [n.velocity for n in notes] == [100, 60, 100, 60]

    def test_timing_shift(self) -> None:
        """A negative timing moves onsets early (never before zero)."""
        notes = _score(2, styles=[BeatStyle(timing=-0.02)] * 2).track("melody").notes
        assert notes[0].start == 0.0
        assert notes[1].start == pytest.approx(0.48)

    def test_sustain_pedal(self) -> None:
        """The pedal goes down on sustained beats and up after them."""
        styles = [BeatStyle(sustain=True)] * 2 + [BeatStyle()] * 2
        controls = _score(4, styles=styles).track("chords").controls
        assert [(c.number, c.value, c.time) for c in controls] == [
            (SUSTAIN_PEDAL, 127, 0.0),
            (SUSTAIN_PEDAL, 0, 1.0),
        ]

    def test_soft_pedal(self) -> None:
        """The soft pedal (CC67) follows its beats, without re-pedalling at chord changes."""
        styles = [BeatStyle()] + [BeatStyle(soft=True)] * 2 + [BeatStyle()]
        chords = [(0, 4, 7)] * 2 + [(5, 9, 0)] * 2
        controls = _score(4, styles=styles, chords=chords).track("melody").controls
        assert [(c.number, c.value, c.time) for c in controls] == [
            (SOFT_PEDAL, 127, 0.5),
            (SOFT_PEDAL, 0, 1.5),
        ]

    def test_repedal_at_chord_change(self) -> None:
        """Under a held pedal, a chord change lifts and presses it again."""
        styles = [BeatStyle(sustain=True)] * 4
        chords = [(0, 4, 7)] * 2 + [(5, 9, 0)] * 2
        controls = _score(4, styles=styles, chords=chords).track("chords").controls
        values = [(c.value, round(c.time, 3)) for c in controls]
        assert values == [(127, 0.0), (0, 1.0), (127, 1.03), (0, 2.0)]

    def test_drums_follow_groove(self) -> None:
        """Kick on steps 0 and 8, snare on 4 and 12, hi-hat on every hit, micro-timing."""
        offsets = np.zeros(16, dtype=np.float32)
        offsets[2] = 0.4
        groove = BarGroove(offsets=offsets, velocities=STRAIGHT.velocities)
        drums = _score(4, grooves=[groove]).track("drums").notes
        step = 0.125
        kicks = [n.start for n in drums if n.pitch == DRUM_KICK]
        snares = [n.start for n in drums if n.pitch == DRUM_SNARE]
        hats = [n for n in drums if n.pitch == DRUM_HIHAT]
        assert kicks == [0.0, 8 * step]
        assert snares == [4 * step, 12 * step]
        assert len(hats) == 8
        assert hats[1].start == pytest.approx(2.4 * step)
        assert {n.velocity for n in drums if n.pitch == DRUM_SNARE} == {110}

    def test_drums_cut_at_the_end(self) -> None:
        """Steps after the last beat of a partial bar are not played."""
        drums = _score(2, grooves=[STRAIGHT]).track("drums").notes
        assert max(n.start for n in drums) < 1.0

    def test_shape_mismatch(self) -> None:
        """Notes of the wrong shape are refused."""
        with pytest.raises(ValueError, match="expected 4 beats"):
            _score(4, notes=np.zeros((3, 128), dtype=np.float32))
