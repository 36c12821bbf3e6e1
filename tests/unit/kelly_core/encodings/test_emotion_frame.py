"""Tests for the emotion frame: its windows, streaming equals offline, and what it hears
(gain in the level only, mode whatever the key, tempo and onset rate)."""

from __future__ import annotations

import functools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.emotion_cues import (
    MODE_CUES,
    TEMPO_BINS,
    tempo_bin_lags,
    tempo_cues,
    triad_correlations,
)
from kelly_core.encodings.emotion_frame import (
    EMOTION_FRAME_COLUMNS,
    EMOTION_FRAME_SIZE,
    StreamingEmotionFrames,
    offline_emotion_frames,
)
from kelly_core.encodings.logmel import frames_per_window, offline_log_mel, window_means

SR = 22050
COLUMNS = EMOTION_FRAME_COLUMNS


def _note(pitch: float, seconds: float, gain: float = 0.15) -> np.ndarray:
    """A decaying note with three partials."""
    t = np.arange(round(SR * seconds)) / SR
    f0 = 440.0 * 2 ** ((pitch - 69) / 12)
    tone = sum(np.sin(2 * np.pi * h * f0 * t) / h for h in (1, 2, 3))
    return gain * tone * np.exp(-2.0 * t)


def _progression(tonic: int, minor: bool, bpm: float = 120.0, bars: int = 6) -> np.ndarray:
    """I - IV - V - I (i - iv - V - i in minor) as block chords, a chord per beat, a bass."""
    beat = 60.0 / bpm
    third = 3 if minor else 4
    chords = [(0, third, 7), (5, 5 + third, 12), (7, 11, 14), (0, third, 7)]
    parts = []
    for _ in range(bars):
        for root, *rest in chords:
            pitches = [60 + tonic + root, *(60 + tonic + p for p in rest)]
            notes = [_note(p, beat) for p in pitches] + [_note(36 + tonic + root, beat, 0.3)]
            parts.append(np.sum(notes, axis=0))
    out: np.ndarray = np.concatenate(parts)
    return out


@functools.lru_cache(maxsize=1)
def _mixed() -> np.ndarray:
    """Four seconds with tones, silence and noise bursts (every code path)."""
    rng = np.random.default_rng(3)
    x = np.concatenate([_progression(2, False, bars=1), np.zeros(SR // 2)])
    x[SR : SR + 2000] += 0.3 * rng.standard_normal(2000)
    return np.concatenate([x, 0.05 * rng.standard_normal(SR)])


class TestWindows:
    @given(seconds=st.floats(0.0, 3.0))
    @settings(max_examples=15, deadline=None)
    def test_as_many_frames_as_window_means(self, seconds: float) -> None:
        """A clip gives one frame per log-mel window mean (incomplete last window dropped)."""
        audio = 0.1 * np.sin(np.arange(round(SR * seconds)) * 0.05)
        frames = offline_emotion_frames(audio, SR)
        expected = window_means(offline_log_mel(audio, SR), frames_per_window()).shape[0]
        assert frames.shape == (expected, EMOTION_FRAME_SIZE)
        assert frames.dtype == np.float32

    def test_columns_tile_the_frame(self) -> None:
        """Every column belongs to exactly one named value (groups aside)."""
        owners = np.zeros(EMOTION_FRAME_SIZE, dtype=int)
        for name, part in COLUMNS.items():
            if name not in ("rhythm", "mode"):
                owners[part] += 1
        assert owners.tolist() == [1] * EMOTION_FRAME_SIZE
        assert COLUMNS["shape"] == slice(0, 64)
        assert COLUMNS["mode"].stop - COLUMNS["mode"].start == len(MODE_CUES)

    def test_other_sample_rate_refused(self) -> None:
        with pytest.raises(ValueError, match="22050 Hz"):
            offline_emotion_frames(np.zeros(44100), 44100)

    def test_silence(self) -> None:
        """Silence: level at the floor, every other value 0."""
        frames = offline_emotion_frames(np.zeros(2 * SR), SR)
        assert frames.shape[0] == 3
        np.testing.assert_allclose(frames[:, COLUMNS["level"]], -1.0, atol=1e-6)
        rest = np.delete(frames, COLUMNS["level"].start, axis=1)
        np.testing.assert_allclose(rest, 0.0, atol=1e-6)


class TestStreaming:
    @given(cuts=st.lists(st.integers(1, 30000), min_size=1, max_size=12))
    @settings(max_examples=12, deadline=None)
    def test_any_chunking_gives_the_offline_frames(self, cuts: list[int]) -> None:
        audio = _mixed()
        expected = offline_emotion_frames(audio, SR)
        stream = StreamingEmotionFrames()
        parts, start = [], 0
        for cut in [*cuts, audio.shape[0]]:
            parts.append(stream.push(audio[start : start + cut]))
            start += cut
        parts.append(stream.push(audio[start:]))
        np.testing.assert_allclose(np.concatenate(parts), expected, atol=1e-5, rtol=0)

    def test_reset_starts_again(self) -> None:
        stream = StreamingEmotionFrames()
        first = stream.push(_mixed())
        stream.reset()
        np.testing.assert_array_equal(stream.push(_mixed()), first)


class TestCues:
    def test_gain_moves_the_level_not_the_shape_or_mode(self) -> None:
        """-12 dB: level down by 12/60, the shape, rhythm and mode nearly unchanged."""
        audio = _progression(0, False, bars=3)
        loud = offline_emotion_frames(audio, SR)[2:]
        quiet = offline_emotion_frames(audio * 10 ** (-12 / 20), SR)[2:]
        level = COLUMNS["level"]
        np.testing.assert_allclose(loud[:, level] - quiet[:, level], 0.2, atol=0.01)
        for name in ("shape", "mode", "tonic_chroma"):
            part = COLUMNS[name]
            assert np.abs(loud[:, part] - quiet[:, part]).mean() < 0.02, name

    @pytest.mark.parametrize("tonic", [0, 3, 7, 10])
    def test_major_and_minor_apart_in_every_key(self, tonic: int) -> None:
        """The parallel minor of the same progression: key, triad and tonic-mode evidence
        all lower, and the minor third at the tonic above the major third."""
        major = offline_emotion_frames(_progression(tonic, False), SR)[8:].mean(axis=0)
        minor = offline_emotion_frames(_progression(tonic, True), SR)[8:].mean(axis=0)
        for name in ("key_mode", "triad_mode", "tonic_mode"):
            part = COLUMNS[name]
            assert major[part][0] > 0.08 > -0.08 > minor[part][0], name
        part = COLUMNS["window_triad_mode"]  # the minor's V is major: one chord in four
        assert major[part][0] > 0.05 > -0.05 > minor[part][0]
        chroma = COLUMNS["tonic_chroma"]
        assert major[chroma][4] > major[chroma][3] + 0.2
        assert minor[chroma][3] > minor[chroma][4] + 0.15

    @pytest.mark.parametrize("bpm", [75.0, 100.0, 150.0])
    def test_tempo_and_onset_rate_of_a_click_track(self, bpm: float) -> None:
        """Clicks at ``bpm``: the tempo column within a bin of it, the onset rate at
        ``bpm / 60`` per second (scaled by 1/10), a clear pulse."""
        click = np.zeros(round(SR * 60 / bpm))
        click[:200] = np.random.default_rng(0).standard_normal(200) * 0.3
        frames = offline_emotion_frames(np.tile(click, int(bpm / 6)), SR)[14:]
        tempo = frames[:, COLUMNS["tempo"]].mean()
        assert abs(tempo * 1.6 - np.log2(bpm / 120)) < np.log2(6) / 11
        rate = frames[:, COLUMNS["onset_rate"]].mean()
        assert abs(rate - bpm / 600) < 0.03
        assert frames[:, COLUMNS["pulse_clarity"]].mean() > 0.5

    def test_tempo_bins_each_hold_a_lag(self) -> None:
        """Every bin reads at least one lag, the lags fall as the tempo rises."""
        bins = tempo_bin_lags(SR / 512)
        assert len(bins) == TEMPO_BINS
        assert all(bins)
        assert [max(b) for b in bins] == sorted((max(b) for b in bins), reverse=True)
        assert min(bins[-1]) == 10
        assert max(bins[0]) > 60

    def test_constant_curve_has_no_tempo(self) -> None:
        np.testing.assert_array_equal(tempo_cues(np.ones(300), 43.0), np.zeros(2 + TEMPO_BINS))

    def test_triads(self) -> None:
        """A minor triad: minor fits best (1), its relative major's triad does not."""
        chroma = np.zeros(12)
        chroma[[9, 0, 4]] = 1.0
        fits = triad_correlations(chroma)
        assert fits["minor"] == pytest.approx(1.0)
        assert fits["major"] < fits["minor"] - 0.4
        assert triad_correlations(np.ones(12)) == dict.fromkeys(fits, 0.0)
