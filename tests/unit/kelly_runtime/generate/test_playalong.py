"""Tests of kelly_runtime.generate.playalong: chords and notes that follow the song's chroma."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from kelly_core.encodings.chords import NO_CHORD, chord_index, chord_one_hot
from kelly_core.errors import BackendError
from kelly_runtime.generate import GenerateOptions, generate
from kelly_runtime.generate.keys import Key
from kelly_runtime.generate.playalong import (
    BAR_LINE_BEATS,
    KEEP_BONUS,
    NO_CHORD_ABOVE,
    RECENT_BEATS,
    BeatHearing,
    PlayAlong,
    StreamHearing,
    choose_chords,
    chord_fit,
    hear_beat,
    hear_stream,
    song_safe,
    voice_for_song,
)
from kelly_runtime.generate.render import render
from kelly_runtime.generate.result import GenerationResult
from tests.unit.kelly_runtime.generate.helpers import SR, write_wav
from tests.unit.kelly_runtime.generate.test_render import outputs

pytest.importorskip("pretty_midi")

C = Key.parse("C")
C_MAJ, A_MIN, F_MAJ, G_MAJ = (
    chord_index(r, q) for r, q in ((0, "maj"), (9, "min"), (5, "maj"), (7, "maj"))
)


def beat(*pcs: int, bass: int | None = None, level: float = 1.0) -> np.ndarray:
    """One beat's chroma row (24,): ``pcs`` at ``level``, the bass at ``bass``."""
    row = np.zeros(24, dtype=np.float32)
    row[list(pcs)] = level
    if bass is not None:
        row[12 + bass] = 1.0
    return row


class TestChooseChords:
    def test_the_song_outweighs_a_small_model_preference(self) -> None:
        """An A minor triad sounding in C major gives A:min though the model says C:maj."""
        dist = np.zeros((1, 64), dtype=np.float32)
        dist[0, C_MAJ], dist[0, A_MIN] = 0.40, 0.35
        chroma = beat(9, 0, 4, bass=9)[None]
        assert choose_chords(dist, chroma, [C], no_chord_above=0.5) == [A_MIN]
        assert choose_chords(dist, None, [C], no_chord_above=0.5) == [C_MAJ]  # the model alone

    def test_a_silent_beat_follows_the_model(self) -> None:
        dist = np.tile(chord_one_hot(G_MAJ), (2, 1)).astype(np.float32)
        chroma = np.zeros((2, 24), dtype=np.float32)
        assert choose_chords(dist, chroma, [C, C], no_chord_above=0.5) == [G_MAJ, G_MAJ]

    def test_no_chord_only_when_the_model_says_so(self) -> None:
        dist = np.tile(chord_one_hot(NO_CHORD), (1, 1)).astype(np.float32)
        assert choose_chords(dist, beat(0, 4, 7)[None], [C], no_chord_above=0.5) == [NO_CHORD]

    def test_a_chord_outside_the_key_when_the_song_plays_it(self) -> None:
        """D major (F# sounding) in C major: outside the key, chosen because it fits."""
        dist = np.tile(chord_one_hot(C_MAJ), (1, 1)).astype(np.float32)
        assert choose_chords(dist, beat(2, 6, 9, bass=2)[None], [C], no_chord_above=0.5) == [
            chord_index(2, "maj")
        ]

    def test_keeps_its_chord_through_a_near_tie_but_changes_with_the_song(self) -> None:
        """C E G with a faint A, then the A a little louder than the G: a near tie between
        C major and A minor keeps C major; a clear F major beat changes it."""
        dist = np.zeros((4, 64), dtype=np.float32)  # the model has no say
        first = beat(0, 4, 7)
        first[9] = 0.3
        tie = beat(0, 4)
        tie[7], tie[9] = 0.5, 0.55
        fits = chord_fit(tie)
        assert 0.0 < fits[A_MIN] - fits[C_MAJ] < KEEP_BONUS  # the premise: a near tie
        chroma = np.stack([first, tie, tie, beat(5, 9, 0, bass=5)])
        assert choose_chords(dist, chroma, [C] * 4, no_chord_above=0.5) == [
            C_MAJ,
            C_MAJ,
            C_MAJ,
            F_MAJ,
        ]


class TestHearing:
    def test_the_weaker_of_two_strong_neighbours_is_avoided(self) -> None:
        row = beat(4, 7)  # E and G strong
        row[5] = 0.6  # F strong too, but weaker than its neighbour E
        heard = hear_beat(row)
        assert heard.strong == frozenset({4, 5, 7})
        assert heard.avoid == frozenset({3, 5, 6, 8})
        assert voice_for_song((5, 9, 0), heard) == (9, 0)

    def test_near_silence_avoids_nothing(self) -> None:
        assert hear_beat(beat(0, 4, 7, level=0.05)) == BeatHearing()

    @settings(max_examples=60, deadline=None)
    @given(arrays(np.float32, 24, elements=st.floats(0.0, 1.0, width=32)))
    def test_avoided_is_a_semitone_below_a_louder_strong_one(self, row: np.ndarray) -> None:
        heard = hear_beat(row)
        upper = row[:12]
        expected = {
            (pc + d) % 12
            for pc in heard.strong
            for d in (1, 11)
            if upper[(pc + d) % 12] < upper[pc]
        }
        assert heard.avoid == expected
        if upper.max() >= 0.1:
            assert int(np.argmax(upper)) in heard.strong - heard.avoid
        pitches = np.arange(48, 84, dtype=np.int64)
        safe = song_safe(pitches, heard)
        assert safe.size > 0
        if len(heard.avoid) < 12:
            assert not {int(p) % 12 for p in safe} & heard.avoid


class TestHearStream:
    def test_inside_a_bar_the_recent_beats_are_avoided(self) -> None:
        """E sounded two beats ago, G last: inside the bar F and Eb (E's neighbours) stay
        avoided though the last beat alone would allow them; E sounded RECENT_BEATS ago no
        longer counts."""
        assert RECENT_BEATS == 5
        chroma = np.stack([np.zeros(24, np.float32), beat(4), *[beat(7)] * 5])
        heard = hear_stream(chroma, [0, 1, 2, 3, 1, 2, 3])
        assert hear_beat(chroma[2]).avoid == frozenset({6, 8})
        assert heard[2].avoid == frozenset({3, 5, 6, 8})
        assert heard[2].strong == frozenset({7})
        assert heard[5].avoid == frozenset({3, 5, 6, 8})  # E heard 4 beats before
        assert heard[6].avoid == frozenset({6, 8})  # E heard 5 beats before: forgotten

    def test_a_bar_line_avoids_what_the_last_bars_sounded(self) -> None:
        """C# sounded BAR_LINE_BEATS - 1 beats before a bar's first beat: its neighbours are
        avoided there, not on the beat after it (inside the bar)."""
        rows = [beat(1), *[beat(7)] * (BAR_LINE_BEATS - 1), beat(7)]
        places = [i % 4 for i in range(1, len(rows) + 1)]
        places[BAR_LINE_BEATS - 1], places[BAR_LINE_BEATS] = 0, 1
        heard = hear_stream(np.stack(rows), places)
        assert {0, 2} <= heard[BAR_LINE_BEATS - 1].avoid
        assert heard[BAR_LINE_BEATS].avoid == frozenset({6, 8})

    def test_a_bar_line_forgets_what_sounded_longer_ago(self) -> None:
        """C# sounded BAR_LINE_BEATS beats before a bar line (one more than it remembers),
        then only G: at the bar line C# is forgotten, only G's neighbours are avoided."""
        assert BAR_LINE_BEATS == 16
        rows = [beat(1), *[beat(7)] * BAR_LINE_BEATS]
        places = [1] * BAR_LINE_BEATS + [0]
        heard = hear_stream(np.stack(rows), places)
        assert heard[-1].avoid == frozenset({6, 8})
        assert heard[-2].avoid == frozenset({6, 8})  # inside the bar: the last 5 only

    def test_reset_forgets_every_beat_heard(self) -> None:
        ear = StreamHearing()
        ear.hear(beat(1), 1)
        assert {0, 2} <= ear.hear(beat(7), 1).avoid
        ear.reset()
        assert ear.hear(beat(7), 0).avoid == frozenset({6, 8})

    def test_places_must_match_the_beats(self) -> None:
        with pytest.raises(ValueError, match="expected 2 places"):
            hear_stream(np.zeros((2, 24), np.float32), [0])


class TestPlayAlong:
    def test_the_stream_makes_the_choices_of_a_whole_piece(self) -> None:
        """Beat by beat, PlayAlong gives the chords of choose_chords and, at zero latency,
        the hearing of hear_stream; its tones are the chord's without the avoided ones."""
        rng = np.random.default_rng(7)
        beats = 40
        dist = rng.dirichlet(np.ones(64) * 0.3, size=beats).astype(np.float32)
        dist[5] = chord_one_hot(NO_CHORD)
        chroma = (rng.random((beats, 24)) ** 3).astype(np.float32)
        chroma[9] = 0.0
        keys = [C] * 20 + [Key.parse("A minor")] * 20
        places = [i % 3 for i in range(beats)]
        player = PlayAlong(zero_latency=True)
        played = [player.step(dist[i], chroma[i], keys[i], places[i]) for i in range(beats)]
        assert [p.chord for p in played] == choose_chords(dist, chroma, keys)
        assert played[5].chord == NO_CHORD
        assert played[5].tones == ()
        assert [p.hearing for p in played] == hear_stream(chroma, places)
        for p in played:
            assert not set(p.tones) & p.hearing.avoid
        assert len({p.chord for p in played}) > 3  # it follows the random song

    def test_own_beat_hears_only_the_beat(self) -> None:
        player = PlayAlong()
        first = player.step(chord_one_hot(C_MAJ), beat(1), C, 0)
        second = player.step(chord_one_hot(C_MAJ), beat(7), C, 1)
        assert {0, 2} <= first.hearing.avoid
        assert second.hearing.avoid == frozenset({6, 8})

    def test_silence_leaves_the_model_to_choose_in_the_key(self) -> None:
        dist = np.zeros(64, np.float32)
        dist[chord_index(2, "maj")], dist[G_MAJ] = 0.5, 0.4  # D major is not in C major
        played = PlayAlong(zero_latency=True).step(dist, None, C, 0)
        assert played.chord == G_MAJ
        assert played.tones == (7, 11, 2)
        assert played.hearing == BeatHearing()

    def test_no_chord_above_the_threshold_and_reset(self) -> None:
        dist = np.zeros(64, np.float32)
        dist[NO_CHORD], dist[C_MAJ] = NO_CHORD_ABOVE + 0.01, 0.49
        player = PlayAlong()
        assert player.step(dist, beat(0, 4, 7), C).chord == NO_CHORD
        dist[NO_CHORD], dist[C_MAJ] = NO_CHORD_ABOVE, 0.5
        assert player.step(dist, beat(0, 4, 7), C).chord == C_MAJ
        tie = beat(0, 4)
        tie[7], tie[9] = 0.5, 0.55  # a near tie: the kept chord wins it
        assert player.step(np.zeros(64, np.float32), tie, C).chord == C_MAJ
        player.reset()
        assert player.step(np.zeros(64, np.float32), tie, C).chord == A_MIN

    def test_bad_input_is_refused_and_changes_nothing(self) -> None:
        with pytest.raises(BackendError, match="chords: expected shape"):
            PlayAlong().step(np.zeros(12, np.float32), None, C)
        with pytest.raises(BackendError, match="beat chroma: expected shape"):
            PlayAlong().step(np.zeros(64, np.float32), np.zeros(12, np.float32), C)
        player = PlayAlong(zero_latency=True)
        bad = beat(0, 4, 7)
        bad[3] = np.nan
        with pytest.raises(BackendError, match="beat chroma: expected finite values"):
            player.step(chord_one_hot(C_MAJ), bad, C, 0)
        with pytest.raises(BackendError, match="chords: expected finite values"):
            player.step(np.full(64, np.inf, np.float32), beat(1), C, 0)
        assert player.step(chord_one_hot(C_MAJ), beat(7), C, 1).hearing.avoid == frozenset({6, 8})


class TestRender:
    def test_zero_latency_keeps_off_the_semitones_of_the_recent_beats(self) -> None:
        """Beats alternate C# and G under a C major chord: hearing each beat's own chroma,
        the G beats' voicing keeps C; at zero latency (C# heard a beat or two ago) C, a
        semitone from C#, is in no voicing, and the melody keeps off C, D, F# and Ab."""
        base = outputs(beats=16, chord=C_MAJ)
        rows = np.stack([beat(7) if i % 2 else beat(1) for i in range(16)])
        own = attrs.evolve(base, beat_chroma=rows)
        late = attrs.evolve(own, zero_latency=True)
        options = GenerateOptions(seed=1)
        tracks = render(own, options, audio_duration=8.0).midi.instruments
        stream = render(late, options, audio_duration=8.0).midi.instruments
        own_chords = {n.pitch % 12 for n in tracks[1].notes}
        late_chords = {n.pitch % 12 for n in stream[1].notes if n.start >= 0.5}
        assert 0 in own_chords  # own beat: C sounds in the G beats' voicing
        assert late_chords
        assert 0 not in late_chords
        assert {n.pitch % 12 for n in stream[0].notes if n.start >= 0.5}.isdisjoint({0, 2, 6, 8})

    def test_melody_keeps_off_a_semitone_from_what_the_song_sounds(self) -> None:
        """The song sounds D, F# and B strongly; no chord plays, so only the song's chroma can
        keep the C major melody off C, C#, Eb, F, G and Bb: it plays D, E, A and B."""
        chords = np.tile(chord_one_hot(NO_CHORD), (32, 1)).astype(np.float32)
        deaf = outputs(beats=32, chords=chords)
        hearing = attrs.evolve(deaf, beat_chroma=np.tile(beat(2, 6, 11), (32, 1)))
        options = GenerateOptions(seed=3)
        heard = render(hearing, options, audio_duration=16.0).midi.instruments[0].notes
        played = render(deaf, options, audio_duration=16.0).midi.instruments[0].notes
        assert heard
        assert {n.pitch % 12 for n in heard} <= {2, 4, 9, 11}
        assert {n.pitch % 12 for n in played} - {2, 4, 9, 11}  # without the chroma it does


def _bar(root: int, upper: tuple[int, ...], seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * SR)) / SR
    decay = np.exp(-1.5 * t)

    def note(pitch: int, amp: float) -> np.ndarray:
        f = 440.0 * 2 ** ((pitch - 69) / 12)
        return amp * decay * sum(0.5**k * np.sin(2 * np.pi * f * (k + 1) * t) for k in range(3))

    return note(36 + root, 0.5) + sum(note(p, 0.3) for p in upper)


CHANGES = [(0, (60, 64, 67)), (5, (60, 65, 69)), (7, (59, 62, 67)), (9, (60, 64, 69))]
"""Bars of C, F, G and A minor: (bass, upper notes)."""


def changes_wav(path: Path, repeats: int = 2) -> Path:
    """:data:`CHANGES` ``repeats`` times, a bar of 2 s each (120 BPM in 4/4), as a WAV."""
    audio = np.concatenate([_bar(root, upper, 2.0) for root, upper in CHANGES * repeats])
    return write_wav(path, (0.3 * audio / np.abs(audio).max()).astype(np.float32))


def _runs(result: GenerationResult) -> list[tuple[float, str]]:
    """(time, label) where the chord changes, the silent beat at the audio's end left out."""
    inside = [c for c in result.chords if c.time < result.audio_duration - 0.25]
    runs = [(inside[0].time, inside[0].label)]
    for event in inside[1:]:
        if event.label != runs[-1][1]:
            runs.append((event.time, event.label))
    return runs


def test_fallback_changes_chord_with_the_song_every_bar(tmp_path: Path) -> None:
    """Audio of C, F, G, Am, C, F, G, Am (a bar each at 120 BPM), every stage on fallback
    (whose HarmonyPredictor always says the tonic): the chord changes at every bar line
    to the bar's chord (the beat at the audio's very end, silent, is left out)."""
    wav = changes_wav(tmp_path / "changes.wav")
    result = generate(wav, None, GenerateOptions(tempo=120, key="C", seed=0))
    assert result.fallback_stages  # every stage on its rule
    runs = _runs(result)
    labels = ["C:maj", "F:maj", "G:maj", "A:min"] * 2
    assert [label for _, label in runs] == labels
    assert all(abs(t - 2.0 * round(t / 2.0)) < 0.05 for t, _ in runs[1:])  # at bar lines


def test_zero_latency_changes_chord_a_beat_after_the_song(tmp_path: Path) -> None:
    """The same audio with ``zero_latency``: each beat hears the previous one, so every
    change comes one beat (0.5 s) after the bar line, to the same chords; offline the
    changes are on the bar lines."""
    wav = changes_wav(tmp_path / "late.wav")
    late = generate(wav, None, GenerateOptions(tempo=120, key="C", seed=0, zero_latency=True))
    runs = _runs(late)
    assert [label for _, label in runs] == ["C:maj", "F:maj", "G:maj", "A:min"] * 2
    assert all(abs(t - 2.0 * round(t / 2.0) - 0.5) < 0.05 for t, _ in runs[1:])  # a beat late


def test_zero_latency_must_be_a_bool() -> None:
    with pytest.raises(TypeError):
        GenerateOptions(zero_latency="yes")  # type: ignore[arg-type]
