"""Tests for the log-mel front end: librosa conventions, streaming equals offline."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.logmel import (
    LogMelConfig,
    StreamingLogMel,
    WindowAverager,
    frames_per_window,
    mel_filterbank,
    offline_log_mel,
    window_means,
)

SR = 22050


def _clip(seconds: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(int(SR * seconds)) / SR
    return 0.5 * np.sin(2 * np.pi * 440 * t) + 0.05 * rng.normal(size=len(t))


class TestOffline:
    def test_matches_librosa(self) -> None:
        """Equals librosa's melspectrogram (center=False) through the documented dB map."""
        librosa = pytest.importorskip("librosa")
        x = _clip(1.0)
        ours = offline_log_mel(x, SR)
        mel = librosa.feature.melspectrogram(
            y=x, sr=SR, n_fft=2048, hop_length=512, n_mels=128, center=False, power=2.0
        )
        ref = (10 * np.log10(np.maximum(mel, 1e-8)) + 20) / 60
        np.testing.assert_allclose(ours, ref.T, atol=1e-4)

    def test_filterbank_matches_librosa(self) -> None:
        """The numpy Slaney filterbank equals librosa.filters.mel."""
        librosa = pytest.importorskip("librosa")
        np.testing.assert_allclose(
            mel_filterbank(LogMelConfig()),
            librosa.filters.mel(sr=SR, n_fft=2048, n_mels=128),
            atol=1e-7,
        )

    def test_shape_and_range(self) -> None:
        """Frames count 1 + (N - n_fft) // hop; silence maps to -1."""
        out = offline_log_mel(np.zeros(SR), SR)
        assert out.shape == (1 + (SR - 2048) // 512, 128)
        assert np.all(out == -1.0)
        assert offline_log_mel(np.zeros(100), SR).shape == (0, 128)

    def test_wrong_rate(self) -> None:
        """Audio at another rate is refused."""
        with pytest.raises(ValueError, match="22050"):
            offline_log_mel(np.zeros(4096), 44100)


class TestStreaming:
    @settings(max_examples=15)
    @given(st.lists(st.integers(1, 5000), min_size=1, max_size=12), st.integers(0, 100))
    def test_equals_offline(self, chunks: list[int], seed: int) -> None:
        """Pushing any chunking gives the offline frames within 1e-4."""
        x = _clip(sum(chunks) / SR + 0.01, seed)[: sum(chunks)]
        stream = StreamingLogMel()
        parts, i = [], 0
        for n in chunks:
            parts.append(stream.push(x[i : i + n]))
            i += n
        np.testing.assert_allclose(np.concatenate(parts), offline_log_mel(x, SR), atol=1e-4)

    def test_reset(self) -> None:
        """After reset the stream starts over: a new clip gives its own offline frames."""
        stream = StreamingLogMel()
        stream.push(_clip(0.2, seed=1)[:3000])
        stream.reset()
        x = _clip(0.3, seed=2)
        frames = stream.push(x)
        expected = offline_log_mel(x, SR)
        assert frames.shape == expected.shape
        np.testing.assert_allclose(frames, expected, atol=1e-4)


class TestWindows:
    def test_means(self) -> None:
        """0.5 s windows of fractional frame counts; streaming equals offline."""
        per = frames_per_window()
        assert per == pytest.approx(21.533, abs=1e-3)
        frames = np.arange(100, dtype=float)[:, None] * np.ones((1, 3))
        means = window_means(frames, per)
        assert means.shape == (4, 3)
        assert means[0, 0] == pytest.approx(np.mean(np.arange(22)))
        averager = WindowAverager(per)
        streamed = np.concatenate([averager.push(frames[:30]), averager.push(frames[30:])])
        np.testing.assert_allclose(streamed, means)

    @settings(max_examples=20)
    @given(
        st.lists(st.integers(0, 40), min_size=1, max_size=8),
        st.floats(1.0, 25.0),
        st.integers(0, 100),
    )
    def test_averager_round_trip(self, chunks: list[int], per: float, seed: int) -> None:
        """Property: frames pushed in any chunks give the offline window means, each the
        mean of the frames k with floor(k / per) = w (computed here frame by frame); after
        reset the averager gives the same windows again."""
        frames = np.random.default_rng(seed).normal(size=(sum(chunks), 3))
        averager = WindowAverager(per)
        for _ in range(2):
            parts, i = [], 0
            for n in chunks:
                parts.append(averager.push(frames[i : i + n]))
                i += n
            streamed = np.concatenate(parts)
            count = int(np.floor(len(frames) / per + 1e-9))
            windows = [int(np.floor(k / per + 1e-9)) for k in range(len(frames))]
            expected = [
                frames[[k for k in range(len(frames)) if windows[k] == w]].mean(axis=0)
                for w in range(count)
            ]
            assert streamed.shape == (count, 3)
            if count:
                np.testing.assert_allclose(streamed, expected, atol=1e-5)
            np.testing.assert_allclose(streamed, window_means(frames, per), atol=1e-6)
            averager.reset()
