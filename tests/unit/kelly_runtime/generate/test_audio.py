"""Tests of kelly_runtime.generate.audio: reading, mixing, resampling, bad files."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest

from kelly_core.errors import KellyError, KellyWarning
from kelly_runtime.generate.audio import (
    SAMPLE_RATE,
    AudioInfo,
    _check_decoded,
    probe_audio,
    read_audio,
    resample,
    to_mono,
)
from kelly_runtime.generate.audio_header import declared_frames
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
        with pytest.warns(KellyWarning, match="silent"):
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
        """An all-zero file is audio: it reads, with a warning that it is silent."""
        path = write_wav(tmp_path / "z.wav", np.zeros(4000, dtype=np.float32))
        with pytest.warns(KellyWarning, match=r"the audio is silent \(all 4000 frames are zero\)"):
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
        with pytest.raises(AudioError, match="is a folder; expected an audio file"):
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


def _cut(path: Path, keep: float) -> Path:
    data = path.read_bytes()
    path.write_bytes(data[: round(len(data) * keep)])
    return path


def _noise(seconds: float, sr: int = 44100) -> np.ndarray:
    return (0.2 * np.random.default_rng(0).standard_normal(round(seconds * sr))).astype(np.float32)


class TestPartialDecoding:
    def test_header_frames_of_a_cut_wav(self, tmp_path: Path) -> None:
        """The RIFF header still declares the whole file after the cut; libsndfile does not."""
        import soundfile

        path = _cut(write_wav(tmp_path / "a.wav", tone(4.0)), 0.5)
        assert declared_frames(path) == 4 * 22050
        assert soundfile.info(str(path)).frames < 2 * 22050 + 10

    def test_cut_wav_warns(self, tmp_path: Path) -> None:
        """A WAV cut in half reads its first half, with both lengths in the warning."""
        path = _cut(write_wav(tmp_path / "a.wav", tone(4.0)), 0.5)
        with pytest.warns(KellyWarning, match=r"decoded 2\.00 s of the 4\.00 s its header") as rec:
            clip = read_audio(path)
        assert str(path) in str(rec[0].message)
        assert clip.duration == pytest.approx(2.0, abs=1e-3)

    def test_a_long_file_cut_by_less_than_a_second_says_what_is_missing(
        self, tmp_path: Path
    ) -> None:
        """Past 2 min lengths are whole seconds; when both round alike the shortfall shows."""
        rate = 1000
        path = write_wav(tmp_path / "long.wav", np.full(130 * rate, 0.1, np.float32), sr=rate)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) - 2 * 250])  # 250 16-bit frames: 0.25 s
        with pytest.warns(KellyWarning) as rec:
            clip = read_audio(path)
        message = str(rec[0].message)
        assert "decoded 2 min 10 s (0.25 s less) of the 2 min 10 s its header declares" in message
        assert clip.duration == pytest.approx(129.75, abs=1e-3)

    @pytest.mark.parametrize(
        ("fmt", "short", "warns"),
        [
            ("OGG", 10, False),
            ("OGG", 960, False),
            ("OGG", 961, True),
            ("MP3", 2304, False),
            ("MP3", 2305, True),
            ("WAV", 1, True),
            ("FLAC", 1, True),
        ],
    )
    def test_decoders_may_fall_short_by_their_formats_slack(
        self, tmp_path: Path, fmt: str, short: int, warns: bool
    ) -> None:
        """An Opus end trim (Ogg) or MP3 padding is no damage; any shortfall of WAV is."""
        info = AudioInfo(
            path=tmp_path / "a",
            sample_rate=48000,
            channels=1,
            format=fmt,
            frames=48000,
            declared_frames=48000,
        )
        samples = np.full(48000 - short, 0.1, dtype=np.float32)
        with warnings.catch_warnings(record=True) as rec:
            warnings.simplefilter("always")
            _check_decoded(info, samples, 48000 - short, None)
        assert any("its header declares" in str(w.message) for w in rec) is warns

    def test_cut_aiff_warns(self, tmp_path: Path) -> None:
        """AIFF's COMM chunk gives the declared length the same way."""
        import soundfile

        path = tmp_path / "a.aiff"
        soundfile.write(str(path), tone(2.0), SAMPLE_RATE, format="AIFF", subtype="PCM_16")
        with pytest.warns(KellyWarning, match=r"of the 2\.00 s its header declares"):
            read_audio(_cut(path, 0.5))

    def test_header_only_is_an_error(self, tmp_path: Path) -> None:
        """A WAV cut right after its header decodes to nothing: an error with the length."""
        path = write_wav(tmp_path / "a.wav", tone(4.0))
        path.write_bytes(path.read_bytes()[:44])
        with pytest.raises(AudioError, match=r"decodes to nothing of the 4\.00 s its header"):
            read_audio(path)

    def test_cut_flac_keeps_what_decoded(self, tmp_path: Path) -> None:
        """A FLAC file cut short stops its decoder part-way: the blocks decoded before are
        kept, with the decoder's reason and both lengths (it used to be refused whole)."""
        import soundfile

        path = tmp_path / "a.flac"
        soundfile.write(str(path), _noise(10.0), 44100)
        with pytest.warns(KellyWarning, match=r"of the 10\.00 s its header declares \(") as rec:
            clip = read_audio(_cut(path, 0.5))
        assert "decoded 2.97 s" in str(rec[0].message)
        assert clip.duration == pytest.approx(131072 / 44100, abs=0.01)

    def test_cut_mp3_warns(self, tmp_path: Path) -> None:
        """An MP3 whose Xing header declares 10 s, cut in half, warns with both lengths."""
        import soundfile

        if "MP3" not in soundfile.available_formats():
            pytest.skip("this libsndfile writes no MP3")
        path = tmp_path / "a.mp3"
        soundfile.write(str(path), _noise(10.0), 44100, format="MP3")
        with pytest.warns(KellyWarning, match=r"of the 10\.00 s its header declares"):
            clip = read_audio(_cut(path, 0.5))
        assert 3.0 < clip.duration < 7.0

    def test_whole_files_do_not_warn(self, tmp_path: Path) -> None:
        """An intact WAV, FLAC and MP3 decode exactly what they declare: no warning (the
        suite turns any warning into an error)."""
        import soundfile

        for name, fmt in (("a.wav", "WAV"), ("a.flac", "FLAC"), ("a.mp3", "MP3")):
            if fmt not in soundfile.available_formats():
                continue
            path = tmp_path / name
            soundfile.write(str(path), _noise(3.0), 44100, format=fmt)
            assert read_audio(path).duration == pytest.approx(3.0, abs=0.01)

    def test_probe_reads_the_header_only(self, tmp_path: Path) -> None:
        """probe_audio gives rate, channels, format and the declared length."""
        path = _cut(write_wav(tmp_path / "a.wav", np.stack([tone(4.0)] * 2, axis=1)), 0.5)
        info = probe_audio(path)
        assert isinstance(info, AudioInfo)
        assert (info.sample_rate, info.channels, info.format) == (SAMPLE_RATE, 2, "WAV")
        assert info.declared_frames == 4 * SAMPLE_RATE
        assert info.duration == pytest.approx(4.0)

    def test_over_the_limit(self, tmp_path: Path) -> None:
        """A file over max_seconds is refused from its header, naming the length."""
        path = write_wav(tmp_path / "a.wav", tone(3.0))
        with pytest.raises(AudioError, match=r"the audio is 3\.00 s long; at most 2\.5 s is"):
            read_audio(path, max_seconds=2.5)
        with pytest.raises(AudioError, match="at most"):
            probe_audio(path, max_seconds=2.5)


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
