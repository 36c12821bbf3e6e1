"""``kelly generate`` through kelly_core.cli.main: outputs, determinism, bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kelly_core.cli import main
from kelly_runtime.generate import read_audio
from tests.unit.kelly_runtime.generate.helpers import tone, write_wav

pytest.importorskip("pretty_midi")
pytest.importorskip("soundfile")


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    """A 3 s stereo 44.1 kHz file (mixing and resampling both needed)."""
    x = tone(3.0, sr=44100, freq=330.0)
    return write_wav(tmp_path / "in.wav", np.stack([x, 0.5 * x], axis=1), sr=44100)


class TestGenerateCommand:
    def test_writes_midi_and_side_outputs(
        self,
        wav: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Exit 0, a MIDI file, a JSON side output, a PNG; no --models: the shipped models."""
        out = tmp_path / "o" / "out.mid"
        argv = ["generate", str(wav), "-o", str(out), "--emotion-json", str(tmp_path / "e.json")]
        argv += ["--tempo", "120"]
        assert main([*argv, "--plot", str(tmp_path / "p.png")]) == 0
        assert out.read_bytes()[:4] == b"MThd"
        doc = json.loads((tmp_path / "e.json").read_text())
        assert len(doc["emotion"]) == 5  # 3 s, last window incomplete (frames not centred)
        assert len(doc["chords"]) == len(doc["beat_times"]) in (5, 6)
        assert np.allclose(np.diff(doc["beat_times"]), 0.5)
        assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"
        err = capsys.readouterr().err + "\n".join(caplog.messages)  # warnings: logging
        assert "kelly generate: using Kelly's shipped reference models (" in err
        assert "running on fallback" not in err

    def test_csv_side_output(self, wav: Path, tmp_path: Path) -> None:
        """--emotion-csv writes one row per beat after the header."""
        csv_path = tmp_path / "e.csv"
        assert (
            main(
                [
                    "generate",
                    str(wav),
                    "-o",
                    str(tmp_path / "a.mid"),
                    "--emotion-csv",
                    str(csv_path),
                    "--tempo",
                    "120",
                ]
            )
            == 0
        )
        lines = csv_path.read_text().splitlines()
        assert lines[0] == "time,valence,arousal,chord"
        assert len(lines) in (1 + 5, 1 + 6)
        times = [float(line.split(",")[0]) for line in lines[1:]]
        assert np.allclose(np.diff(times), 0.5, atol=1e-5)

    def test_same_seed_same_bytes(self, wav: Path, tmp_path: Path) -> None:
        """Same seed and input: byte-identical files; another seed: a different file."""
        paths = [tmp_path / f"{n}.mid" for n in ("a", "b", "c")]
        for path, seed in zip(paths, ("7", "7", "8"), strict=True):
            assert main(["generate", str(wav), "-o", str(path), "--seed", seed, "--bars", "4"]) == 0
        assert paths[0].read_bytes() == paths[1].read_bytes()
        assert paths[0].read_bytes() != paths[2].read_bytes()

    @pytest.mark.parametrize(
        ("content", "match"),
        [(b"", "empty file"), (b"RIFF not really a wave file" * 10, "not a readable audio file")],
    )
    def test_bad_audio(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: bytes, match: str
    ) -> None:
        """An empty or non-audio file: exit 2, one error line naming the file, no output."""
        bad = tmp_path / "bad.wav"
        bad.write_bytes(content)
        out = tmp_path / "out.mid"
        assert main(["generate", str(bad), "-o", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("kelly: error: ")
        assert str(bad) in err
        assert match in err
        assert "Traceback" not in err
        assert not out.exists()

    def test_missing_file(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        """A missing input file: exit 2 and 'file not found'."""
        assert main(["generate", str(tmp_path / "no.wav"), "-o", str(tmp_path / "o.mid")]) == 2
        assert "file not found" in capsys.readouterr().err

    @pytest.mark.parametrize(
        ("args", "match"),
        [
            (["--key", "H minor"], "cannot read key"),
            (["--range", "80-60"], "low <= high"),
            (["--temperature", "0"], "temperature"),
            (["--tempo", "5"], "tempo"),
            (["--tempo-hint", "500"], "--tempo-hint"),
            (["--key", "C", "--range", "61-61"], "no pitch"),
        ],
    )
    def test_bad_options(
        self,
        wav: Path,
        tmp_path: Path,
        capsys: pytest.CaptureFixture[str],
        args: list[str],
        match: str,
    ) -> None:
        """Malformed options: exit 2 with a one-line message, no traceback."""
        assert main(["generate", str(wav), "-o", str(tmp_path / "o.mid"), *args]) == 2
        err = capsys.readouterr().err
        assert match in err
        assert "Traceback" not in err

    def test_wrong_output_suffix(self, wav: Path, tmp_path: Path) -> None:
        """An output that is not .mid is refused before any work."""
        assert main(["generate", str(wav), "-o", str(tmp_path / "o.wav")]) == 2

    def test_silence(self, tmp_path: Path) -> None:
        """A silent file still gives music (neutral emotion), as long as the audio."""
        from kelly_runtime.generate.midi import read_midi

        silent = write_wav(tmp_path / "z.wav", np.zeros(2 * 22050, dtype=np.float32))
        out = tmp_path / "z.mid"
        assert main(["generate", str(silent), "-o", str(out)]) == 0
        assert read_midi(out).get_end_time() == pytest.approx(2.0, rel=0.15)


class TestManyFiles:
    def test_output_dir_reports_bad_file_and_goes_on(
        self, wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """A bad file among good ones: the good ones are written, the bad one is named with
        its reason, and the exit status is 1."""
        bad = tmp_path / "bad.wav"
        bad.write_bytes(b"not audio at all" * 20)
        other = tmp_path / "second.wav"
        other.write_bytes(wav.read_bytes())
        out = tmp_path / "out"
        assert main(["generate", str(wav), str(bad), str(other), "--output-dir", str(out)]) == 1
        assert sorted(p.name for p in out.iterdir()) == ["in.mid", "second.mid"]
        err = capsys.readouterr().err
        assert f"{bad}" in err
        assert "not a readable audio file" in err
        assert "1 of 3 files failed" in err
        assert "BPM" in err  # what was detected, per file
        assert "key" in err

    def test_all_good_exit_zero(self, wav: Path, tmp_path: Path) -> None:
        """Every file succeeding gives exit status 0."""
        assert main(["generate", str(wav), "--output-dir", str(tmp_path / "o")]) == 0
        assert (tmp_path / "o" / "in.mid").read_bytes()[:4] == b"MThd"

    def test_dash_o_with_many_inputs_is_an_error(self, wav: Path, tmp_path: Path) -> None:
        """-o with two inputs is refused with exit status 2."""
        assert main(["generate", str(wav), str(wav), "-o", str(tmp_path / "a.mid")]) == 2


class TestPreview:
    def test_preview_mixes_song_and_midi(self, wav: Path, tmp_path: Path) -> None:
        """The preview holds the song plus the rendered MIDI: louder than the song alone
        where the accompaniment plays."""
        import shutil

        import soundfile

        if shutil.which("fluidsynth") is None:
            pytest.skip("fluidsynth is not installed (apt-get install fluidsynth)")
        mix = tmp_path / "mix.wav"
        assert (
            main(["generate", str(wav), "-o", str(tmp_path / "a.mid"), "--preview", str(mix)]) == 0
        )
        data, rate = soundfile.read(str(mix), dtype="float32")
        assert rate == 22050
        song = read_audio(wav).samples
        assert data.shape[0] >= song.shape[0]
        assert float(np.abs(data).max()) <= 1.0
        part = data[: song.shape[0]].astype(np.float64)
        gain = float(part @ song) / float(song @ song)
        residual = part - gain * song
        assert gain > 0.05  # the song is in the mix
        assert float(residual @ residual) > 0.05 * float(part @ part)  # and the accompaniment

    def test_missing_fluidsynth_names_the_package(
        self,
        wav: Path,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        """Without fluidsynth the error is one line naming the packages to install."""
        import shutil

        monkeypatch.setattr(shutil, "which", lambda name: None)
        code = main(
            [
                "generate",
                str(wav),
                "-o",
                str(tmp_path / "a.mid"),
                "--preview",
                str(tmp_path / "m.wav"),
            ]
        )
        assert code != 0
        err = capsys.readouterr().err
        assert "fluidsynth" in err
        assert "fluid-soundfont-gm" in err
        assert "Traceback" not in err


def test_zero_latency_flag_plays_each_chord_a_beat_late(tmp_path: Path) -> None:
    """--zero-latency: the chords of each beat are the offline chords of the beat before
    (bars of C, F, G and A minor at 120 BPM; the first beat hears silence)."""
    from tests.unit.kelly_runtime.generate.test_playalong import changes_wav

    wav = changes_wav(tmp_path / "bars.wav", repeats=1)
    chords = {}
    for name, extra in (("offline", []), ("late", ["--zero-latency"])):
        csv_path = tmp_path / f"{name}.csv"
        argv = ["generate", str(wav), "-o", str(tmp_path / f"{name}.mid"), "--fallback"]
        argv += ["--tempo", "120", "--key", "C", "--emotion-csv", str(csv_path), *extra]
        assert main(argv) == 0
        chords[name] = [line.split(",")[3] for line in csv_path.read_text().splitlines()[1:]]
    inside = len(chords["offline"]) - 1  # the beat at the audio's very end is silent
    assert len(set(chords["offline"][:inside])) == 4
    assert chords["late"][1:inside] == chords["offline"][: inside - 1]


def test_tempo_hint_sets_the_level_of_the_beats(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Quarters at 80 BPM with eighths between, which the shipped tracker counts as 160
    BPM beats: --tempo-hint 80 writes 80 BPM, its bars of four quarters, through the CLI
    and the API alike."""
    from kelly_runtime.generate import GenerateOptions, generate
    from kelly_runtime.generate.midi import read_midi
    from tests.unit.kelly_runtime.generate.test_beats import _clicks

    times = 0.2 + 0.375 * np.arange(64)
    wav = write_wav(tmp_path / "clicks.wav", _clicks(times, set(range(0, 64, 2)), 24.5))
    tempi, said = {}, {}
    for name, extra in (("plain", []), ("hinted", ["--tempo-hint", "80"])):
        out = tmp_path / f"{name}.mid"
        assert main(["generate", str(wav), "-o", str(out), "--fallback", *extra]) == 0
        midi = read_midi(out)
        beats = [midi.tick_to_time(k * midi.resolution) for k in range(8, 24)]
        tempi[name] = 60.0 / float(np.median(np.diff(beats)))
        said[name] = capsys.readouterr().err
    assert tempi["plain"] == pytest.approx(160.0, rel=0.03)
    assert tempi["hinted"] == pytest.approx(80.0, rel=0.03)
    assert "161.5 BPM" in said["plain"]
    assert "79.5 BPM" in said["hinted"]
    with pytest.raises(SystemExit) as refused:
        main(["generate", str(wav), "-o", str(out), "--tempo", "80", "--tempo-hint", "80"])
    assert refused.value.code == 2
    assert "not allowed with argument --tempo" in capsys.readouterr().err
    result = generate(wav, None, GenerateOptions(tempo_hint=80.0))
    assert result.tempo == pytest.approx(80.0, rel=0.03)


@pytest.mark.parametrize(
    ("kwargs", "field", "match"),
    [
        ({"tempo_hint": 5.0}, "tempo_hint", "tempo hint must be within 20..400 BPM"),
        ({"tempo_hint": float("nan")}, "tempo_hint", "tempo hint must be within"),
        ({"tempo": 5.0}, "tempo", "tempo must be within 20..400 BPM"),
        ({"tempo": 90.0, "tempo_hint": 90.0}, "tempo_hint", "not both"),
    ],
)
def test_tempo_hint_option_is_checked(kwargs: dict[str, Any], field: str, match: str) -> None:
    """GenerateOptions names the field and the range; a hint and a steady tempo clash."""
    from kelly_runtime.generate import GenerateOptions
    from kelly_runtime.generate.errors import GenerateOptionError

    with pytest.raises(GenerateOptionError, match=match) as info:
        GenerateOptions(**kwargs)
    assert info.value.field == field
