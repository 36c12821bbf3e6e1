"""Tests of kelly_runtime.generate.beats: the beat grid, detection, meter and the tempo map."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.logmel import offline_log_mel
from kelly_runtime.generate.arrange import BeatStyle, arrange
from kelly_runtime.generate.beats import BeatGrid, detect_beats
from kelly_runtime.generate.keys import Key, PitchRange
from kelly_runtime.generate.midi import midi_bytes, score_to_midi

SR = 22050
TOL = 0.05
"""Seconds a detected click may be off: a click's flux peaks ~35 ms before its onset
reaches the window centre (on piano the median offset was under 10 ms)."""


class TestGrid:
    def test_lead_in_is_one_partial_beat(self) -> None:
        """Beats from 0.3 s every 0.5 s, downbeat on the 2nd: one lead-in of 0.3 s, written
        as 2 sixteenths (0.6 beat rounds to 0.5), never several squeezed beats."""
        grid = BeatGrid.from_beats(0.3 + 0.5 * np.arange(12), duration=6.3, phase=1)
        assert grid.first == 1
        assert grid.times[0] == 0.0
        assert grid.played[0] == pytest.approx(0.3)
        assert grid.lead == 0.5
        assert grid.first_downbeat == 2
        assert grid.beat_in_bar(grid.first) == 3
        assert grid.pickup == 3
        assert grid.bar_of(2) == 1
        assert grid.tempo == pytest.approx(120.0)
        assert grid.played[-1] < 6.3

    def test_first_beat_near_zero_moves_to_zero(self) -> None:
        """A first beat less than half a sixteenth after 0 s becomes the start: no lead-in."""
        grid = BeatGrid.from_beats(0.02 + 0.5 * np.arange(8), duration=4.1)
        assert grid.first == 0
        assert grid.lead == 0.0
        assert grid.times[0] == 0.0
        assert grid.times[1] == pytest.approx(0.52)

    def test_extended_backwards_at_the_median_interval(self) -> None:
        """Beats missed before the first detected one are filled in at the same spacing."""
        grid = BeatGrid.from_beats(1.0 + 0.4 * np.arange(10), duration=5.0, phase=0)
        assert grid.played[0] == pytest.approx(0.2)
        assert np.allclose(np.diff(grid.played), 0.4)

    def test_three_beats_per_bar(self) -> None:
        """A 3/4 grid: downbeats every third beat, bars counted in threes."""
        grid = BeatGrid.from_beats(0.5 * np.arange(1, 13), duration=6.5, phase=2, beats_per_bar=3)
        downbeats = [i for i in range(grid.first, grid.times.size) if grid.beat_in_bar(i) == 0]
        assert np.diff(downbeats).tolist() == [3] * (len(downbeats) - 1)
        assert grid.bars == -(-(grid.beats + grid.pickup) // 3)

    def test_steady_with_bars(self) -> None:
        """--tempo 90 --bars 2: eight beats of 2/3 s from the anchor."""
        grid = BeatGrid.steady(90.0, duration=30.0, start=0.0, beats=8)
        assert grid.beats == 8
        assert np.allclose(np.diff(grid.played), 60.0 / 90.0)
        assert grid.tempo == 90.0

    @settings(max_examples=40, deadline=None)
    @given(
        st.floats(0.0, 2.0),
        st.floats(0.3, 1.2),
        st.integers(2, 4),
        st.integers(0, 3),
        st.integers(8, 40),
    )
    def test_grid_invariants(
        self, start: float, period: float, per_bar: int, phase: int, count: int
    ) -> None:
        """Times increase from 0, every detected beat is played, bars have ``per_bar``
        beats, and a lead-in is one beat at most."""
        beats = start + period * np.arange(count)
        grid = BeatGrid.from_beats(
            beats, duration=float(beats[-1] + period), phase=phase % per_bar, beats_per_bar=per_bar
        )
        assert grid.times[0] == 0.0
        assert np.all(np.diff(grid.times) > 0)
        assert grid.first in (0, 1)
        assert grid.times[grid.first] <= period + 1e-9
        for t in beats:  # a first beat within half a sixteenth of the start moves to 0 s
            assert np.min(np.abs(grid.played - t)) < period / 8 + 1e-9
        downbeats = [i for i in range(grid.first, grid.times.size) if grid.beat_in_bar(i) == 0]
        assert all((b - downbeats[0]) % per_bar == 0 for b in downbeats)
        marked = float(beats[phase % per_bar])
        assert min(abs(float(grid.times[i]) - marked) for i in downbeats) < period / 8 + 1e-9


def _clicks(times: np.ndarray, accents: set[int], seconds: float) -> np.ndarray:
    """Clicks at ``times``: the indices in ``accents`` low and loud, the others high."""
    audio = np.zeros(int(SR * seconds), dtype=np.float32)
    t = np.arange(int(0.05 * SR)) / SR
    for k, onset in enumerate(times):
        freq, amp = (80.0, 0.9) if k in accents else (1500.0, 0.3)
        burst = amp * np.sin(2 * np.pi * freq * t) * np.exp(-t * 60)
        i = int(onset * SR)
        audio[i : i + burst.size] += burst[: audio.size - i].astype(np.float32)
    return audio


def _detect(audio: np.ndarray, **kwargs: object) -> BeatGrid:
    """Detection with the onset rules (``tracker=None``) unless a tracker is given."""
    options: dict[str, object] = {"tracker": None, **kwargs}
    return detect_beats(
        audio,
        sr=SR,
        spectrum=offline_log_mel(audio, SR),
        spectrum_hop=512,
        duration=audio.size / SR,
        **options,  # type: ignore[arg-type]
    )


class TestDetection:
    def test_click_track_tempo_beats_and_bars(self) -> None:
        """Clicks at 100 BPM, every 4th low: 100 BPM, beats within 50 ms, 4/4, the
        accented clicks as downbeats."""
        times = 0.25 + 0.6 * np.arange(30)
        grid = _detect(_clicks(times, {k for k in range(30) if k % 4 == 2}, 18.5))
        assert grid.detected
        assert grid.tempo == pytest.approx(100.0, rel=0.02)
        for onset in times[1:-1]:
            assert np.min(np.abs(grid.played - onset)) < TOL
        assert grid.beats_per_bar == 4
        downbeat = grid.times[grid.first_downbeat]
        assert np.min(np.abs(times[2::4] - downbeat)) < TOL

    def test_waltz_is_three_beats_per_bar(self) -> None:
        """Every 3rd click low and loud at 150 BPM: three beats per bar, phase on them."""
        times = 0.1 + 0.4 * np.arange(45)
        grid = _detect(_clicks(times, {k for k in range(45) if k % 3 == 1}, 18.5))
        assert grid.beats_per_bar == 3
        downbeat = grid.times[grid.first_downbeat]
        assert np.min(np.abs(times[1::3] - downbeat)) < TOL

    def test_meter_override(self) -> None:
        """--meter 4 on the waltz: four beats per bar, the beats themselves unchanged."""
        times = 0.1 + 0.4 * np.arange(45)
        grid = _detect(_clicks(times, {k for k in range(45) if k % 3 == 1}, 18.5), meter=4)
        assert grid.beats_per_bar == 4
        assert grid.tempo == pytest.approx(150.0, rel=0.02)

    def test_swing_stays_on_the_beat(self) -> None:
        """Swung eighths (the off-beat at 2/3 of the beat, softer): beats on the beat, not
        on the triplet position."""
        beats = 0.2 + 0.5 * np.arange(36)
        offbeats = beats + 0.5 * 2 / 3
        audio = _clicks(beats, set(range(0, 36, 2)), 18.5) + 0.5 * _clicks(offbeats, set(), 18.5)
        grid = _detect(audio)
        hits = [np.min(np.abs(grid.played - b)) < TOL for b in beats[2:-2]]
        assert np.mean(hits) > 0.9
        assert grid.tempo == pytest.approx(120.0, rel=0.03)

    def test_tempo_change_is_followed(self) -> None:
        """90 BPM for 12 s, then 120 BPM: beats follow both parts within 50 ms."""
        first = 0.3 + (60 / 90) * np.arange(18)
        second = first[-1] + 0.5 * np.arange(1, 25)
        times = np.concatenate([first, second])
        grid = _detect(_clicks(times, set(range(0, times.size, 4)), times[-1] + 0.6))
        hits = [np.min(np.abs(grid.played - t)) < TOL for t in times[1:-1]]
        assert np.mean(hits) > 0.9

    def test_no_drift_at_a_tempo_between_frame_periods(self) -> None:
        """120 BPM is 43.07 onset frames per beat: after 60 s the beats are still on the
        clicks (a grid at a quantised period would be 0.8 s off)."""
        times = 0.2 + 0.5 * np.arange(120)
        grid = _detect(_clicks(times, set(range(0, 120, 4)), 60.5))
        late = times[-20:-1]
        assert max(np.min(np.abs(grid.played - t)) for t in late) < TOL

    def test_tempo_hint_picks_the_metrical_level(self) -> None:
        """Clicks every 0.375 s, every other one low and loud (quarters at 80 BPM with
        eighths between). The shipped LSTM tracker hears every click (160 BPM), the
        onset rules every other one (80): a hint moves each to the other level, with the
        beats still on clicks."""
        from kelly_runtime.generate.activations import LSTM_TRACKER_FILE as TRACKER_FILE

        times = 0.2 + 0.375 * np.arange(64)
        audio = _clicks(times, set(range(0, 64, 2)), 24.5)
        assert _detect(audio, tracker=TRACKER_FILE).tempo == pytest.approx(160.0, rel=0.02)
        slow = _detect(audio, tracker=TRACKER_FILE, tempo_hint=80.0)
        assert slow.detected
        assert slow.tempo == pytest.approx(80.0, rel=0.02)
        for beat in slow.played[1:-1]:  # every other click (the tracker hears them alike)
            assert np.min(np.abs(times - beat)) < TOL
        assert _detect(audio).tempo == pytest.approx(80.0, rel=0.02)
        fast = _detect(audio, tempo_hint=160.0)
        assert fast.tempo == pytest.approx(160.0, rel=0.02)
        for onset in times[2:-2]:
            assert np.min(np.abs(fast.played - onset)) < TOL

    def test_tempo_hint_with_no_beats_gives_its_steady_grid(self) -> None:
        """Silence with a 90 BPM hint: a steady grid at 90, not the default 120."""
        grid = _detect(np.zeros(SR * 4, dtype=np.float32), tempo_hint=90.0)
        assert not grid.detected
        assert grid.tempo == pytest.approx(90.0)

    def test_tempo_and_tempo_hint_together_are_refused(self) -> None:
        with pytest.raises(ValueError, match="not both"):
            _detect(np.zeros(SR * 4, dtype=np.float32), tempo=90.0, tempo_hint=90.0)

    def test_silence_gives_a_steady_grid(self) -> None:
        """No onsets: a steady 120 BPM grid, marked as not detected."""
        grid = _detect(np.zeros(SR * 4, dtype=np.float32))
        assert not grid.detected
        assert grid.tempo == pytest.approx(120.0)


class TestTempoMap:
    def _midi(self, grid: BeatGrid) -> object:
        pretty_midi = pytest.importorskip("pretty_midi")
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
            lead=grid.lead,
            beats_per_bar=grid.beats_per_bar,
        )
        return pretty_midi.PrettyMIDI(io.BytesIO(midi_bytes(score_to_midi(score))))

    def test_midi_beats_are_the_grid(self) -> None:
        """The written MIDI's quarter notes after the lead-in are the grid's played beats
        to 1 ms, and the lead-in's tempo is the detected one (no squeezed beats)."""
        rng = np.random.default_rng(1)
        played = np.cumsum(rng.uniform(0.45, 0.55, 12)) + 0.2
        grid = BeatGrid.from_beats(played, duration=float(played[-1] + 0.5), phase=0)
        midi = self._midi(grid)
        lead_ticks = round(grid.lead * 480)
        got = [midi.tick_to_time(lead_ticks + 480 * i) for i in range(grid.beats)]  # type: ignore[attr-defined]
        np.testing.assert_allclose(got, grid.played, atol=1e-3)
        _, tempi = midi.get_tempo_changes()  # type: ignore[attr-defined]
        assert tempi.max() / tempi.min() < 1.5
        melody = next(i for i in midi.instruments if i.name == "melody")  # type: ignore[attr-defined]
        assert melody.notes[0].start == pytest.approx(grid.played[0], abs=1e-3)

    def test_bar_lines_on_the_downbeats(self) -> None:
        """3/4 with a pickup: a pickup time signature, then 3/4 at the first downbeat;
        pretty_midi's downbeats are the grid's."""
        played = 0.3 + 0.5 * np.arange(14)
        grid = BeatGrid.from_beats(played, duration=7.3, phase=1, beats_per_bar=3)
        midi = self._midi(grid)
        signatures = midi.time_signature_changes  # type: ignore[attr-defined]
        assert (signatures[-1].numerator, signatures[-1].denominator) == (3, 4)
        assert signatures[-1].time == pytest.approx(float(played[1]), abs=1e-3)
        assert (signatures[0].numerator, signatures[0].denominator) == (3, 8)  # 0.5 + 1 beat
        expected = [float(grid.times[i]) for i in range(grid.first_downbeat, grid.times.size, 3)]
        got = midi.get_downbeats()[1:]  # type: ignore[attr-defined]
        np.testing.assert_allclose(got[: len(expected)], expected, atol=1e-3)


class TestShippedTracker:
    def test_files_load(self) -> None:
        """The package ships the convolutional tracker (its layout, trained by the
        command) and the LSTM pair: valid RTNeural JSON holding BeatTracker's table."""
        import json

        from kelly_core.beat_tcn import CHANNELS, DILATIONS, KERNEL, from_document
        from kelly_core.listening import BEAT_TRACKER_SPEC, LOOKAHEAD_FRAMES
        from kelly_runtime.generate.activations import (
            BACKWARD_TRACKER_FILE,
            LSTM_TRACKER_FILE,
            TRACKER_FILE,
        )
        from kelly_runtime.loading import read_model

        tcn = from_document(json.loads(TRACKER_FILE.read_text()), path=TRACKER_FILE)
        assert (tcn.channels, tcn.kernel, tcn.dilations) == (CHANNELS, KERNEL, DILATIONS)
        assert tcn.metadata["architecture"] == "tcn"
        assert tcn.metadata["pieces"] == 498
        loaded = read_model(LSTM_TRACKER_FILE, model="BeatTracker")
        assert loaded.spec == BEAT_TRACKER_SPEC
        assert loaded.metadata["lookahead_frames"] == LOOKAHEAD_FRAMES
        backward = read_model(BACKWARD_TRACKER_FILE, model="BeatTracker")
        assert backward.spec == BEAT_TRACKER_SPEC
        assert backward.metadata["direction"] == "backward"

    def test_tracker_finds_click_beats_and_the_rules_stand_in(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        """With the shipped tracker the beats of a click track are found; a missing file
        puts the onset rules in its place with a warning naming it."""
        from kelly_runtime.generate.activations import TRACKER_FILE, activations

        times = 0.25 + 0.6 * np.arange(30)
        audio = _clicks(times, set(range(2, 30, 4)), 18.5)
        grid = _detect(audio, tracker=TRACKER_FILE)
        assert grid.tempo == pytest.approx(100.0, rel=0.02)
        assert max(np.min(np.abs(grid.played - t)) for t in times[1:-1]) < TOL
        assert activations(audio, SR).source == "tcn"  # the shipped default
        from kelly_runtime.generate.activations import LSTM_TRACKER_FILE

        lstm = _detect(audio, tracker=LSTM_TRACKER_FILE)
        assert lstm.tempo == pytest.approx(100.0, rel=0.02)
        assert activations(audio, SR, tracker=LSTM_TRACKER_FILE).source == "trackers"
        missing = tmp_path / "none.json"
        with caplog.at_level("WARNING"):
            found = activations(audio, SR, tracker=missing)
        assert found.source == "rules"
        assert "none.json" in caplog.text
