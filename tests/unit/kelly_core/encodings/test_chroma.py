"""Tests for the chroma front end: pitch classes at every octave, streaming equals offline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.chroma import (
    BASS,
    CHROMA,
    DEFAULT_CHROMA,
    BeatChromaAccumulator,
    StreamingChroma,
    beat_chroma,
    frame_times,
    heard_late,
    offline_chroma,
    relative_to_tonic,
    semitone_filterbank,
)

SR = 22050


def _tones(pitches: list[int], seconds: float = 1.5, harmonics: int = 1) -> np.ndarray:
    """A sum of notes (MIDI pitches), each with ``harmonics`` partials of falling amplitude."""
    t = np.arange(round(SR * seconds)) / SR
    x = np.zeros_like(t)
    for pitch in pitches:
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        for h in range(1, harmonics + 1):
            x += 0.2 / h * np.sin(2 * np.pi * h * f0 * t)
    return x


class TestOffline:
    @pytest.mark.parametrize("pitch", [36, 38, 40, 45, 52, 60, 67, 71, 83, 94])
    def test_a_tone_lands_in_its_pitch_class(self, pitch: int) -> None:
        """C2, D2, E2 (where mel bands are wider than a semitone) up to A#6: their class is 1."""
        frames = offline_chroma(_tones([pitch]), SR)
        mean = frames[:, CHROMA].mean(axis=0)
        assert int(np.argmax(mean)) == pitch % 12
        assert mean[pitch % 12] == pytest.approx(1.0, abs=1e-6)
        others = np.delete(mean, pitch % 12)
        assert others.max() < 0.45  # the neighbours get some leakage, far less
        bass = frames[:, BASS].mean(axis=0)
        if pitch < 60:  # C2..B3: the bass columns, unnormalised (0.2 amplitude: about 0.22)
            assert int(np.argmax(bass)) == pitch % 12
            assert 0.15 < bass[pitch % 12] < 0.3
        elif pitch > 61:  # C4 still touches B3's triangle
            assert bass.max() < 0.01

    def test_major_and_minor_triads_differ_in_the_third(self) -> None:
        """C major (C E G) puts E above Eb; C minor (C Eb G) the other way round."""
        major = offline_chroma(_tones([48, 52, 55, 60], harmonics=4), SR)[:, CHROMA].mean(axis=0)
        minor = offline_chroma(_tones([48, 51, 55, 60], harmonics=4), SR)[:, CHROMA].mean(axis=0)
        assert major[4] > 0.3 > 0.05 > major[3]
        assert minor[3] > 0.3 > 0.05 > minor[4]
        for chroma in (major, minor):
            assert chroma[0] == pytest.approx(1.0)  # C doubled at the octave
            assert chroma[7] > 0.3
            assert chroma[[1, 2, 5, 6, 8, 9, 10, 11]].max() < 0.15

    def test_broadband_noise_does_not_hide_a_tone(self) -> None:
        """Loud white noise (a cymbal's spectrum) over a quieter tone: the tone still wins."""
        rng = np.random.default_rng(0)
        x = _tones([57]) + 0.1 * rng.standard_normal(int(1.5 * SR))
        mean = offline_chroma(x, SR)[:, CHROMA].mean(axis=0)
        assert int(np.argmax(mean)) == 9
        assert mean[9] > 2 * np.delete(mean, 9).max()

    def test_shape_silence_and_scale(self) -> None:
        """Frame count as the log-mel's; silence is 0; a quiet tone keeps its shape."""
        n = SR * 2
        out = offline_chroma(np.zeros(n), SR)
        assert out.shape == (1 + (n - 8192) // 2048, 24)
        assert not out.any()
        assert offline_chroma(np.zeros(8191), SR).shape == (0, 24)
        loud = offline_chroma(_tones([60]), SR)[:, CHROMA]
        quiet = offline_chroma(1e-5 * _tones([60]), SR)[:, CHROMA]
        assert loud.max() == pytest.approx(1.0)
        assert 0.0 < quiet.max() < 0.1  # under the floor: proportionally smaller
        np.testing.assert_allclose(quiet / quiet.max(), loud / loud.max(), atol=1e-3)

    def test_wrong_rate(self) -> None:
        with pytest.raises(ValueError, match="22050"):
            offline_chroma(np.zeros(10000), 44100)

    def test_filterbank_bands_are_centred_on_their_pitch(self) -> None:
        """Each band's strongest FFT bin is the one nearest its pitch's frequency."""
        bank = semitone_filterbank()
        assert bank.shape == (60, 4097)
        freqs = np.fft.rfftfreq(8192, 1 / SR)
        for band in (0, 33, 59):
            f = 440.0 * 2 ** ((36 + band - 69) / 12)
            assert int(np.argmax(bank[band])) == int(np.argmin(np.abs(freqs - f)))


def _frames(count: int, seed: int) -> np.ndarray:
    return np.random.default_rng(seed).random((count, 24)).astype(np.float32)


class TestStreaming:
    @settings(max_examples=12)
    @given(st.lists(st.integers(1, 9000), min_size=1, max_size=8), st.integers(0, 100))
    def test_equals_offline(self, chunks: list[int], seed: int) -> None:
        """Pushing any chunking gives the offline frames."""
        rng = np.random.default_rng(seed)
        x = _tones([45, 64, 69], seconds=sum(chunks) / SR)
        x = x + 0.01 * rng.standard_normal(len(x))
        stream = StreamingChroma()
        parts, i = [], 0
        for n in chunks:
            parts.append(stream.push(x[i : i + n]))
            i += n
        np.testing.assert_allclose(np.concatenate(parts), offline_chroma(x, SR), atol=1e-6)

    def test_reset(self) -> None:
        stream = StreamingChroma()
        stream.push(np.ones(5000))
        stream.reset()
        x = _tones([50])
        np.testing.assert_allclose(stream.push(x), offline_chroma(x, SR), atol=1e-6)


class TestBeatChroma:
    def test_means_of_the_frames_centred_in_each_beat(self) -> None:
        """Frame k's centre is 4096/22050 + k·2048/22050 s; beats average theirs."""
        frames = _frames(40, 1)
        times = frame_times(40)
        assert times[0] == pytest.approx(4096 / SR)
        beats = np.array([times[3] - 0.01, times[10] - 0.01, times[10] + 0.001])
        out = beat_chroma(frames, beats, end=float(times[20]))
        np.testing.assert_allclose(out[0], frames[3:10].mean(axis=0), atol=1e-6)
        np.testing.assert_allclose(out[1], frames[10], atol=1e-6)  # one frame
        np.testing.assert_allclose(out[2], frames[11:20].mean(axis=0), atol=1e-6)
        through = beat_chroma(frames, beats)  # no end: through the last frame
        np.testing.assert_allclose(through[2], frames[11:].mean(axis=0), atol=1e-6)

    def test_beats_without_frames_are_zero(self) -> None:
        frames = _frames(10, 2) + 0.5
        assert not beat_chroma(frames, [0.0, 0.01, 0.02], end=0.1).any()  # before 0.186 s
        out = beat_chroma(frames, [0.0, 100.0])
        np.testing.assert_allclose(out[0], frames.mean(axis=0), atol=1e-6)
        assert not out[1].any()  # after the last frame
        with pytest.raises(ValueError, match="decrease"):
            beat_chroma(frames, [1.0, 0.5])

    @settings(max_examples=25)
    @given(
        st.lists(st.floats(0.05, 1.5), min_size=1, max_size=12),
        st.lists(st.integers(0, 9), min_size=1, max_size=10),
        st.integers(0, 50),
    )
    def test_accumulator_equals_offline(
        self, gaps: list[float], chunks: list[int], seed: int
    ) -> None:
        """Marks ahead of the frames and frames pushed in any chunking give beat_chroma."""
        frames = _frames(sum(chunks), seed)
        starts = np.cumsum(gaps)
        acc = BeatChromaAccumulator()
        for start in starts:
            acc.mark(float(start))
        parts, i = [], 0
        for n in chunks:
            parts.append(acc.push(frames[i : i + n]))
            i += n
        parts.append(acc.close())
        got = np.concatenate(parts)
        np.testing.assert_allclose(got, beat_chroma(frames, starts), atol=1e-6)

    def test_accumulator_marked_as_a_host_would(self) -> None:
        """Beats marked while the audio streams (each when its first sample arrives)."""
        x = _tones([40, 55, 59, 64], seconds=6.0, harmonics=3)
        beats = np.arange(0.0, 6.0, 0.5)
        stream, acc = StreamingChroma(), BeatChromaAccumulator()
        out, frames, beat = [], [], 0
        for start in range(0, len(x), 700):
            while beat < len(beats) and beats[beat] * SR < start + 700:
                acc.mark(float(beats[beat]))  # its first sample is in this chunk
                beat += 1
            chunk = stream.push(x[start : start + 700])
            frames.append(chunk)
            out.append(acc.push(chunk))
        out.append(acc.close())
        expected = beat_chroma(np.concatenate(frames), beats)
        np.testing.assert_allclose(np.concatenate(out), expected, atol=1e-6)
        assert int(np.argmax(expected[4, CHROMA])) == 4  # E minor: E is the strongest
        assert int(np.argmax(expected[4, BASS])) == 4  # E2 in the bass
        with pytest.raises(ValueError, match="marked after"):
            acc.mark(1.0)

    def test_relative_to_tonic(self) -> None:
        """Index 0 becomes the tonic: A minor's C (3 above A) moves to index 3."""
        vector = np.zeros(12)
        vector[0] = 1.0
        assert int(np.argmax(relative_to_tonic(vector, 9))) == 3
        np.testing.assert_array_equal(relative_to_tonic(np.eye(12), 0), np.eye(12))
        frame = np.zeros(24)
        frame[[2, 12 + 9]] = 1.0  # D in the chroma, A in the bass
        assert np.flatnonzero(relative_to_tonic(frame, 2)).tolist() == [0, 12 + 7]
        with pytest.raises(ValueError, match="12"):
            relative_to_tonic(np.zeros(11), 0)
        assert DEFAULT_CHROMA.pitches == 60


class TestHeardLate:
    def test_a_zero_latency_player_hears_the_beat_before(self) -> None:
        rows = np.arange(1, 13, dtype=np.float32).reshape(3, 4)
        late = heard_late(rows)
        np.testing.assert_array_equal(late, [[0, 0, 0, 0], rows[0], rows[1]])
        np.testing.assert_array_equal(heard_late(rows, 0), rows)
        assert heard_late(rows, 0) is not rows
        np.testing.assert_array_equal(heard_late(rows, 5), np.zeros((3, 4)))
        assert late.dtype == np.float32

    def test_a_negative_lag_is_refused(self) -> None:
        with pytest.raises(ValueError, match="lag must be >= 0"):
            heard_late(np.zeros((2, 24), np.float32), -1)


def test_offline_chroma_in_blocks_equals_all_frames_at_once() -> None:
    """A clip longer than one block of frames gives, block by block, exactly what the
    whole clip's frames give at once (memory is bounded, values are not changed)."""
    from kelly_core.encodings import chroma as module
    from kelly_core.encodings.framing import offline_frames

    config = module.DEFAULT_CHROMA
    count = module._BLOCK_FRAMES + 37
    rng = np.random.default_rng(5)
    audio = (0.2 * rng.standard_normal(config.n_fft + (count - 1) * config.hop)).astype(np.float32)
    got = module.offline_chroma(audio, config.sr)
    frames = offline_frames(
        audio, config.sr, expected_sr=config.sr, n_fft=config.n_fft, hop=config.hop
    )
    assert got.shape == (count, module.FRAME_WIDTH)
    np.testing.assert_array_equal(got, module._frames_to_chroma(frames, config))
