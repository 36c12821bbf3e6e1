"""Tests of kelly_runtime.generate.beats: the beat grid, detection, and the MIDI tempo map."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.logmel import offline_log_mel
from kelly_runtime.generate.arrange import BeatStyle, arrange
from kelly_runtime.generate.beats import BeatGrid, detect_beats
from kelly_runtime.generate.keys import Key, PitchRange
from kelly_runtime.generate.midi import midi_bytes, score_to_midi

pytest.importorskip("librosa")


class TestGrid:
    def test_lead_in_puts_first_downbeat_on_a_bar_line(self) -> None:
        """Beats from 0.3 s every 0.5 s with the downbeat on the 2nd: a 3-beat lead-in."""
        grid = BeatGrid.from_beats(0.3 + 0.5 * np.arange(12), duration=6.3, phase=1)
        assert grid.first == 3
        assert grid.times[0] == 0.0
        assert grid.played[0] == pytest.approx(0.3)
        assert grid.first_downbeat == 4
        assert grid.beat_in_bar(grid.first) == 3
        assert grid.pickup == 3
        assert grid.bar_of(4) == 1
        assert grid.tempo == pytest.approx(120.0)
        assert grid.played[-1] < 6.3

    def test_extended_backwards_at_the_median_interval(self) -> None:
        """Beats missed before the first detected one are filled in at the same spacing."""
        grid = BeatGrid.from_beats(1.0 + 0.4 * np.arange(10), duration=5.0, phase=0)
        assert grid.played[0] == pytest.approx(0.2)
        assert np.allclose(np.diff(grid.played), 0.4)

    def test_steady_with_bars(self) -> None:
        """--tempo 90 --bars 2: eight beats of 2/3 s from the anchor."""
        grid = BeatGrid.steady(90.0, duration=30.0, start=0.0, beats=8)
        assert grid.beats == 8
        assert np.allclose(np.diff(grid.played), 60.0 / 90.0)
        assert grid.tempo == 90.0

    @settings(max_examples=30, deadline=None)
    @given(
        st.floats(0.0, 2.0),
        st.floats(0.3, 1.2),
        st.integers(0, 3),
        st.integers(4, 40),
    )
    def test_grid_invariants(self, start: float, period: float, phase: int, count: int) -> None:
        """Times increase from 0, every played beat is a detected one, bars are in fours."""
        beats = start + period * np.arange(count)
        grid = BeatGrid.from_beats(beats, duration=float(beats[-1] + period), phase=phase)
        assert grid.times[0] == 0.0
        assert np.all(np.diff(grid.times) > 0)
        for t in beats:  # a first beat within 5 ms of the start is moved to 0 s
            assert np.min(np.abs(grid.played - t)) < 0.005 + 1e-9
        downbeats = [i for i in range(grid.first, grid.times.size) if grid.beat_in_bar(i) == 0]
        assert all((b - downbeats[0]) % 4 == 0 for b in downbeats)


class TestDetection:
    def test_click_track_tempo_and_beats(self) -> None:
        """Clicks at 100 BPM (accent every 4th, low) give 100 BPM, beats within 50 ms
        (uncentred frames put them ~35 ms early), the accented clicks as downbeats."""
        sr = 22050
        audio = np.zeros(sr * 12, dtype=np.float32)
        times = 0.25 + 0.6 * np.arange(19)
        t = np.arange(int(0.05 * sr)) / sr
        for k, onset in enumerate(times):
            freq, amp = (80.0, 0.9) if k % 4 == 2 else (1500.0, 0.3)
            burst = amp * np.sin(2 * np.pi * freq * t) * np.exp(-t * 60)
            i = int(onset * sr)
            audio[i : i + burst.size] += burst.astype(np.float32)
        frames = offline_log_mel(audio, sr)
        grid = detect_beats(frames, sr=sr, hop=512, duration=12.0)
        assert grid.detected
        assert grid.tempo == pytest.approx(100.0, rel=0.02)
        for onset in times[2:-2]:
            assert np.min(np.abs(grid.played - onset)) < 0.05
        downbeat = grid.times[grid.first_downbeat]
        assert np.min(np.abs(times[2::4] - downbeat)) < 0.05

    def test_silence_gives_a_steady_grid(self) -> None:
        """No onsets: a steady 120 BPM grid, marked as not detected."""
        frames = offline_log_mel(np.zeros(22050 * 4, dtype=np.float32), 22050)
        grid = detect_beats(frames, sr=22050, hop=512, duration=4.0)
        assert not grid.detected
        assert grid.tempo == pytest.approx(120.0)


class TestTempoMap:
    def test_midi_beats_are_the_grid(self) -> None:
        """The written MIDI's beats (its tempo map) are the grid's times to 1 ms."""
        pretty_midi = pytest.importorskip("pretty_midi")
        rng = np.random.default_rng(1)
        played = np.cumsum(rng.uniform(0.45, 0.55, 12)) + 0.2
        grid = BeatGrid.from_beats(played, duration=float(played[-1] + 0.5), phase=0)
        beats = grid.beats
        score = arrange(
            tempo=grid.tempo,
            notes=np.full((beats, 128), 0.5, dtype=np.float32),
            chords=[(0, 4, 7)] * beats,
            styles=[BeatStyle()] * beats,
            grooves=[],
            key=Key.parse("C"),
            pitch_range=PitchRange(low=60, high=72),
            temperature=1.0,
            rng=np.random.default_rng(0),
            beat_times=grid.played,
            end=grid.end,
            pickup=grid.pickup,
            lead_in=tuple(float(t) for t in grid.times[: grid.first]),
        )
        import io

        midi = pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(score_to_midi(score))))
        got = midi.get_beats()[: grid.times.size]
        np.testing.assert_allclose(got, grid.times, atol=1e-3)
        melody = next(i for i in midi.instruments if i.name == "melody")
        assert melody.notes[0].start == pytest.approx(grid.played[0], abs=1e-3)
