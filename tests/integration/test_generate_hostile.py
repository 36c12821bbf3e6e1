"""``kelly generate`` on hostile runs: same-named inputs, outputs over inputs, audio that
decodes partly, audio too long for one MIDI file, and the messages it prints."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.cli import main
from kelly_runtime.generate.audio import MAX_AUDIO_S
from kelly_runtime.generate.options import MAX_BARS, MAX_BEATS
from tests.unit.kelly_runtime.generate.helpers import tone, write_wav

pytest.importorskip("pretty_midi")
pytest.importorskip("soundfile")


def _lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip()]


def _stderr(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    """What ``kelly`` writes to stderr: direct writes, and the log lines (warnings go
    through logging, which pytest captures instead of stderr)."""
    return capsys.readouterr().err + "\n".join(caplog.messages)


def _no_audio_read(monkeypatch: pytest.MonkeyPatch) -> None:
    import kelly_runtime.generate.command as command

    def never(*args: object, **kwargs: object) -> None:
        raise AssertionError("the audio was decoded before the run was checked")

    monkeypatch.setattr(command, "read_audio", never)


class TestSameNames:
    def test_same_stems_get_numbered_names(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """a/same.wav and b/same.wav write same.mid and same-2.mid (and their side outputs),
        each equal to the file a run of that input alone writes."""
        first = write_wav(_folder(tmp_path / "a") / "same.wav", tone(3.0, freq=330.0))
        second = write_wav(_folder(tmp_path / "b") / "same.wav", tone(3.0, freq=523.0, amp=0.5))
        out = tmp_path / "out"
        argv = ["generate", str(first), str(second), "--output-dir", str(out), "--tempo", "120"]
        assert main([*argv, "--emotion-json", "x"]) == 0
        names = sorted(p.name for p in out.iterdir())
        assert names == ["same-2.json", "same-2.mid", "same.json", "same.mid"]
        err = capsys.readouterr().err
        assert f"{first}:" in err
        assert f"{second}:" in err
        for source, name in ((first, "same.mid"), (second, "same-2.mid")):
            alone = tmp_path / f"alone-{name}"
            assert main(["generate", str(source), "-o", str(alone), "--tempo", "120"]) == 0
            assert (out / name).read_bytes() == alone.read_bytes()
        assert (out / "same.mid").read_bytes() != (out / "same-2.mid").read_bytes()

    def test_output_over_an_input_is_refused_before_any_work(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """--preview naming the input itself: refused in one line, the input untouched."""
        song = write_wav(tmp_path / "song.wav", tone(1.0))
        before = song.read_bytes()
        _no_audio_read(monkeypatch)
        argv = ["generate", str(song), "-o", str(tmp_path / "s.mid"), "--preview", str(song)]
        assert main(argv) == 2
        (line,) = _lines(capsys.readouterr().err)
        assert line.startswith("kelly: error: ")
        assert "would overwrite the input" in line
        assert song.read_bytes() == before

    def test_two_outputs_at_one_path_are_refused(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """-o and --emotion-json naming one file: refused before any work."""
        song = write_wav(tmp_path / "song.wav", tone(1.0))
        _no_audio_read(monkeypatch)
        out = str(tmp_path / "s.mid")
        assert main(["generate", str(song), "-o", out, "--emotion-json", out]) == 2
        (line,) = _lines(capsys.readouterr().err)
        assert "two outputs of this run would be written to one file" in line


def _folder(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


class TestPartialAudio:
    def test_truncated_wav_warns_with_both_lengths(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """A WAV cut to half its header's length: a warning says 2 s of the 4 s declared
        were decoded, and the MIDI covers those 2 s."""
        path = write_wav(tmp_path / "cut.wav", tone(4.0))
        data = path.read_bytes()
        path.write_bytes(data[: 44 + (len(data) - 44) // 2])
        out = tmp_path / "cut.mid"
        assert main(["generate", str(path), "-o", str(out), "--tempo", "120"]) == 0
        err = _stderr(capsys, caplog)
        assert (
            f"kelly: warning: {path}: decoded 2.00 s of the 4.00 s its header declares "
            "(the file is truncated or damaged)"
        ) in err
        from kelly_runtime.generate.midi import read_midi

        assert read_midi(out).get_end_time() == pytest.approx(2.0, abs=0.6)

    def test_truncated_to_silence_is_an_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A WAV whose decoded part is all zeros and short of its header: nothing usable,
        one error line with both lengths, no MIDI."""
        path = write_wav(tmp_path / "z.wav", np.zeros(4 * 22050, dtype=np.float32))
        data = path.read_bytes()
        path.write_bytes(data[: 44 + 22050 * 2])
        out = tmp_path / "z.mid"
        assert main(["generate", str(path), "-o", str(out)]) == 2
        (line,) = _lines(capsys.readouterr().err)
        assert "decodes to 1.00 s of silence of the 4.00 s its header declares" in line
        assert not out.exists()


class TestLongAudio:
    def test_over_the_limit_is_refused_from_the_header(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """An hour and a minute of audio (at 1 kHz, 8 bits: 3.7 MB) is refused with the limit
        before a sample is decoded."""
        import soundfile

        path = tmp_path / "long.wav"
        seconds = int(MAX_AUDIO_S) + 60
        with soundfile.SoundFile(
            str(path), "w", samplerate=1000, channels=1, subtype="PCM_U8", format="WAV"
        ) as handle:
            handle.write(np.zeros(seconds * 1000, dtype=np.float32))
        _no_audio_read(monkeypatch)
        assert main(["generate", str(path), "-o", str(tmp_path / "l.mid")]) == 2
        (line,) = _lines(capsys.readouterr().err)
        assert line == (
            f"kelly: error: {path}: the audio is 1 h 01 min 00 s long; at most 60 min is read "
            "(memory and one MIDI file's length are bounded); cut the file into parts"
        )

    def test_tempo_too_fast_for_the_length_is_refused_before_decoding(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """51 minutes at --tempo 400 is 20,400 beats: over one MIDI file's 20,000."""
        import soundfile

        path = tmp_path / "long.wav"
        with soundfile.SoundFile(
            str(path), "w", samplerate=1000, channels=1, subtype="PCM_U8", format="WAV"
        ) as handle:
            handle.write(np.zeros(51 * 60 * 1000, dtype=np.float32))
        _no_audio_read(monkeypatch)
        argv = ["generate", str(path), "-o", str(tmp_path / "l.mid"), "--tempo", "400"]
        assert main(argv) == 2
        (line,) = _lines(capsys.readouterr().err)
        assert "51.0 min at 400 BPM is 20,400 beats; a MIDI file holds at most 20,000" in line

    def test_longest_music_reads_back_in_pretty_midi_and_mido(self, tmp_path: Path) -> None:
        """The most beats a run can make (--bars 5000 at 400 BPM: 20,000 beats, 50 min)
        give a file whose largest tick pretty_midi accepts, and mido reads it."""
        import mido
        import pretty_midi

        from kelly_runtime.generate import GenerateOptions, generate
        from kelly_runtime.generate.audio import AudioClip

        assert MAX_BARS * 4 == MAX_BEATS
        clip = AudioClip(samples=tone(1.0), sample_rate=22050)
        options = GenerateOptions(bars=MAX_BARS, tempo=400.0, key="C")
        path = generate(clip, options=options).write(tmp_path / "long.mid")
        ticks = max(sum(m.time for m in track) for track in mido.MidiFile(str(path)).tracks)
        assert 9_000_000 < ticks < pretty_midi.pretty_midi.MAX_TICK
        assert pretty_midi.PrettyMIDI(str(path)).get_end_time() == pytest.approx(3000.0, abs=2.0)


class TestMessages:
    def test_no_tempo_flag_is_not_claimed(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Silence has no beats: the steady grid is not attributed to --tempo, and the
        silence and the fallback are warnings with Kelly's prefix."""
        silent = write_wav(tmp_path / "z.wav", np.zeros(2 * 22050, dtype=np.float32))
        assert main(["generate", str(silent), "-o", str(tmp_path / "z.mid"), "--fallback"]) == 0
        err = _stderr(capsys, caplog)
        assert "(--tempo)" not in err
        assert "beats on a steady 120 BPM grid (no beats detected)" in err
        assert f"kelly: warning: {silent}: the audio is silent" in err
        assert "kelly: warning: running on fallback for 5 of 5 stages" in err
        assert "kelly generate: running on fallback" not in err

    def test_stage_warnings_have_the_prefix(
        self,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """An invalid model file in --models: its warning line starts with kelly: warning:."""
        song = write_wav(tmp_path / "s.wav", tone(1.0))
        models = _folder(tmp_path / "models")
        (models / "emotionrecognizer.json").write_text("{}", encoding="utf-8")
        argv = ["generate", str(song), "-o", str(tmp_path / "s.mid"), "--models", str(models)]
        assert main([*argv, "--tempo", "120"]) == 0
        warned = [line for line in _lines(_stderr(capsys, caplog)) if "EmotionRecognizer:" in line]
        assert warned
        assert all(line.startswith("kelly: warning: ") for line in warned)
