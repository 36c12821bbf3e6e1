"""Real music as notes for the EmotionRecognizer: each transformation changes one thing."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_models.datasets.emotion_music import (
    ANY_MELODIC,
    Music,
    Part,
    at_tempo,
    cut,
    estimated_key,
    label,
    parallel_mode,
    pitch_class,
    programs_for,
    shifted,
    with_drums,
    with_melody,
)

# I-IV-V-I in D major, one chord a bar of four beats at 120 BPM, with a scale melody.
_CHORDS = ((62, 66, 69), (67, 71, 74), (69, 73, 76), (62, 66, 69))
_SCALE = (74, 76, 78, 79, 81, 79, 78, 76, 74, 73, 74, 76, 78, 76, 74, 74)


def _music(tonic: int = 2, major: bool = True) -> Music:
    chords = tuple((p, 2.0 * b, 2.0 * b + 2.0, 70) for b, c in enumerate(_CHORDS) for p in c)
    melody = tuple((p, 0.5 * k, 0.5 * k + 0.5, 90) for k, p in enumerate(_SCALE))
    parts = (Part(ANY_MELODIC, False, melody), Part(48, False, chords))
    beats = tuple(0.5 * k for k in range(16))
    return Music("d-major", parts, beats, 4, 120.0, tonic, major, 8.0)


def test_pitch_class_reads_sharps_and_both_flat_spellings() -> None:
    assert [pitch_class(n) for n in ("C", "C#", "Eb", "B-", "b", "F##")] == [0, 1, 3, 10, 11, 7]


def test_parallel_mode_turns_a_major_piece_minor_for_the_labeller() -> None:
    """Only the 3rd and 6th degrees move, a semitone down; valence changes sign."""
    music = _music()
    minor = parallel_mode(music)
    assert (minor.tonic, minor.major) == (2, False)
    before = [n for part in music.parts for n in part.notes]
    after = [n for part in minor.parts for n in part.notes]
    moved = {(a[0] - b[0], a[0] % 12) for a, b in zip(before, after, strict=True) if a != b}
    assert moved == {(1, 6), (1, 11)}  # F# -> F, B -> Bb
    assert [n[1:] for n in before] == [n[1:] for n in after]
    assert label(music)[0] > 0.5 > -0.5 > label(minor)[0]
    assert label(music)[1] == label(minor)[1]
    back = parallel_mode(minor)
    assert back.major
    assert [n[0] for n in back.pitched] == [n[0] for n in music.pitched]


def test_estimated_key_is_the_key_of_the_notes() -> None:
    assert estimated_key(_music()) == (2, True)
    assert estimated_key(parallel_mode(_music())) == (2, False)
    assert estimated_key(shifted(_music(), 5)) == (7, True)


def test_at_tempo_divides_every_time_and_raises_arousal_only() -> None:
    music = _music()
    fast = at_tempo(music, 1.5)
    assert fast.bpm == pytest.approx(180.0)
    assert fast.length == pytest.approx(8.0 / 1.5)
    assert fast.beats[1] == pytest.approx(0.5 / 1.5)
    assert fast.pitched[3][1] == pytest.approx(music.pitched[3][1] / 1.5)
    assert label(fast)[1] > label(music)[1] + 0.2
    assert label(fast)[0] == pytest.approx(label(music)[0] + 0.2 * 1.0 - 0.2 * 0.2)


@given(st.integers(-36, 36))
@settings(max_examples=30, deadline=None)
def test_shifted_keeps_pitch_classes_in_the_piano_range(semitones: int) -> None:
    music = _music()
    moved = shifted(music, semitones)
    pitches = [n[0] for n in moved.pitched]
    assert all(21 <= p <= 108 for p in pitches)
    assert [p % 12 for p in pitches] == [(n[0] + semitones) % 12 for n in music.pitched]
    assert label(moved) == pytest.approx(label(music))


def test_cut_keeps_the_first_seconds() -> None:
    short = cut(_music(), 3.0)
    assert short.length == 3.0
    assert max(n[2] for n in short.pitched) == 3.0
    assert len(short.beats) == 6


def test_with_drums_puts_a_kit_on_the_beats() -> None:
    drummed = with_drums(_music(), np.random.default_rng(0))
    assert drummed.has_drums
    assert not _music().has_drums
    hits = drummed.parts[-1].notes
    kicks = sorted(n[1] for n in hits if n[0] == 36)
    snares = sorted(n[1] for n in hits if n[0] == 38)
    assert kicks == [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]  # beats 1 and 3
    assert snares == [0.5, 1.5, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]  # beats 2 and 4
    assert len([n for n in hits if n[0] == 42]) == 32  # every half beat
    assert label(drummed) == label(_music())  # drums carry no pitch and no label


def test_with_melody_sings_chord_tones_on_the_beats() -> None:
    """Every on-beat melody note is a tone of the chord sounding there."""
    chords_only = Music("chords", (_music().parts[1],), *_music_fields())
    sung = with_melody(chords_only, np.random.default_rng(3))
    melody = sung.parts[-1].notes
    assert len(melody) >= 16
    on_beat = [n for n in melody if n[1] in chords_only.beats]
    assert len(on_beat) == 16
    for pitch, start, _, _ in on_beat:
        chord = _CHORDS[int(start // 2)]
        assert pitch % 12 in {p % 12 for p in chord}
        assert 62 <= pitch <= 84


def _music_fields() -> tuple[tuple[float, ...], int, float, int, bool, float]:
    m = _music()
    return m.beats, m.beats_per_bar, m.bpm, m.tonic, m.major, m.length


def test_programs_keep_a_parts_family_and_draw_kits() -> None:
    music = with_drums(_music(), np.random.default_rng(0))
    rng = np.random.default_rng(1)
    drawn = [programs_for(music, rng, (0, 3), (8, 40)) for _ in range(40)]
    assert {d[1] // 8 for d in drawn} == {6}  # strings ensemble family kept
    assert {d[1] % 8 for d in drawn} == {0, 3}
    assert {d[2] for d in drawn} == {8, 40}
    assert len({d[0] // 8 for d in drawn}) > 3  # a free part: many families
