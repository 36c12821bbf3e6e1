"""Tests of kelly_runtime.generate.audio: reading, mixing, resampling, bad files."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.errors import KellyError
from kelly_runtime.generate.audio import SAMPLE_RATE, read_audio, resample, to_mono
from kelly_runtime.generate.errors import AudioError
from tests.unit.kelly_runtime.generate.helpers import tone, write_wav

pytest.importorskip("soundfile")


class TestReadAudio:
    def test_mono_at_target_rate(self, tmp_path: Path) -> None:
        """A mono 22050 Hz file reads back unchanged in length and rate."""
        path = write_wav(tmp_path / "a.wav", tone(1.0))
        clip = read_audio(path)
        assert clip.sample_rate == SAMPLE_RATE
        assert clip.samples.dtype == np.float32
        assert clip.samples.shape == (SAMPLE_RATE,)
        assert clip.duration == pytest.approx(1.0)
        assert clip.path == path
        assert not clip.is_silent

    def test_stereo_is_mixed_to_mono(self, tmp_path: Path) -> None:
        """Opposite-phase channels average to silence; the channel count is recorded."""
        x = tone(0.5)
        path = write_wav(tmp_path / "s.wav", np.stack([x, -x], axis=1), subtype="FLOAT")
        clip = read_audio(path)
        assert clip.source_channels == 2
        assert clip.samples.ndim == 1
        assert np.abs(clip.samples).max() < 1e-6

    def test_other_rate_is_resampled(self, tmp_path: Path) -> None:
        """A 44.1 kHz file comes back at 22050 Hz with the same duration and pitch."""
        sr = 44100
        path = write_wav(tmp_path / "hi.wav", tone(1.0, sr=sr, freq=1000.0), sr=sr)
        clip = read_audio(path)
        assert clip.source_sample_rate == sr
        assert clip.sample_rate == SAMPLE_RATE
        assert clip.duration == pytest.approx(1.0, abs=1e-3)
        spectrum = np.abs(np.fft.rfft(clip.samples))
        peak_hz = np.argmax(spectrum) * SAMPLE_RATE / clip.samples.size
        assert peak_hz == pytest.approx(1000.0, abs=3.0)

    def test_flac_and_ogg(self, tmp_path: Path) -> None:
        """FLAC and OGG/Vorbis files read through the same function."""
        x = tone(0.5)
        for name in ("a.flac", "a.ogg"):
            path = tmp_path / name
            import soundfile

            soundfile.write(str(path), x, SAMPLE_RATE)
            clip = read_audio(path)
            assert clip.duration == pytest.approx(0.5, abs=0.01)

    def test_silence_is_valid(self, tmp_path: Path) -> None:
        """An all-zero file is audio: it reads, and says it is silent."""
        path = write_wav(tmp_path / "z.wav", np.zeros(4000, dtype=np.float32))
        assert read_audio(path).is_silent

    @pytest.mark.parametrize(
        ("content", "match"),
        [
            (b"", "empty file"),
            (b"this is not audio at all, just text\n" * 20, "not a readable audio file"),
        ],
    )
    def test_bad_files(self, tmp_path: Path, content: bytes, match: str) -> None:
        """An empty or non-audio file raises AudioError naming the file."""
        path = tmp_path / "bad.wav"
        path.write_bytes(content)
        with pytest.raises(AudioError, match=match) as info:
            read_audio(path)
        assert info.value.path == path
        assert isinstance(info.value, KellyError)
        assert str(path) in str(info.value)

    def test_missing_file_and_folder(self, tmp_path: Path) -> None:
        """A missing path and a folder raise AudioError, not OSError."""
        with pytest.raises(AudioError, match="file not found"):
            read_audio(tmp_path / "nope.wav")
        with pytest.raises(AudioError, match="not a file"):
            read_audio(tmp_path)

    def test_no_samples(self, tmp_path: Path) -> None:
        """A valid header with zero frames is refused."""
        path = write_wav(tmp_path / "empty.wav", np.zeros(0, dtype=np.float32))
        with pytest.raises(AudioError, match="no samples"):
            read_audio(path)

    def test_nan_samples(self, tmp_path: Path) -> None:
        """A float file holding NaN is refused."""
        x = tone(0.1)
        x[10] = np.nan
        path = write_wav(tmp_path / "nan.wav", x, subtype="FLOAT")
        with pytest.raises(AudioError, match="NaN"):
            read_audio(path)


class TestHelpers:
    def test_to_mono(self) -> None:
        """Channels are averaged; a vector passes through as float32."""
        data = np.array([[1.0, 0.0], [0.5, 0.5]], dtype=np.float32)
        np.testing.assert_allclose(to_mono(data), [0.5, 0.5])
        assert to_mono(np.ones(3)).dtype == np.float32

    def test_resample_same_rate_is_identity(self) -> None:
        """Equal rates return the input."""
        x = tone(0.1)
        assert resample(x, SAMPLE_RATE) is x

    def test_resample_length(self) -> None:
        """16 kHz to 22050 Hz scales the length by the ratio."""
        x = tone(1.0, sr=16000)
        assert resample(x, 16000).shape[0] == pytest.approx(22050, abs=2)
