"""Building rendered pieces: an mma groove and a music21 excerpt of about 8 s each,
their truth records and WAV files, the skip of built pieces, ``kelly train-beats
--build``, and the one-line errors when a program is missing."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from kelly_core.errors import DatasetError, MissingDependencyError
from kelly_core.registry import Registry
from kelly_export import plugin as export_plugin
from kelly_models.listening import command as command_module
from kelly_models.listening import render
from kelly_models.listening.charts import Style
from kelly_models.listening.command import TrainBeatsCommand
from kelly_models.listening.pieces import PieceJob, build_folder, build_groove, piece_seed
from kelly_models.listening.scores import ScoreSpec
from kelly_models.listening.trainset import TRAIN_PALETTE

soundfile = pytest.importorskip("soundfile")
pytest.importorskip("pretty_midi")

WALTZ = Style("Waltz", 3, "3/4", (180.0, 180.0))
"""Eight bars of three beats at 180 BPM: 8 s exactly (a chart has at least 8 bars)."""
CHORALE = ScoreSpec("tiny-bwv66.6", "bach/bwv66.6.mxl", "Bach")


def _tools_missing() -> str | None:
    if shutil.which("fluidsynth") is None or not render.SOUNDFONT.is_file():
        return "fluidsynth or the FluidR3 GM SoundFont is not installed"
    if shutil.which("mma") is None:
        return "mma is not installed"
    return None


def _jobs() -> list[PieceJob]:
    sources = (("tiny-waltz", WALTZ), ("tiny-bwv66.6", CHORALE))
    return [
        PieceJob(name, source, "train", piece_seed(name, 0), TRAIN_PALETTE, (8.0, 8.0))
        for name, source in sources
    ]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    """The two tiny pieces built into a folder (skipped without the programs)."""
    missing = _tools_missing()
    if missing:
        pytest.skip(missing)
    pytest.importorskip("music21")
    folder = tmp_path_factory.mktemp("pieces")
    return folder, build_folder(_jobs(), folder, workers=2)


def _truth(folder: Path, name: str) -> dict[str, Any]:
    record: dict[str, Any] = json.loads((folder / f"{name}.json").read_text())
    return record


def _check_truth(record: dict[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    beats = np.asarray(record["beats"])
    downbeats = np.asarray(record["downbeats"])
    assert beats.size >= 8
    assert np.all(np.diff(beats) > 0)
    assert set(downbeats.tolist()) <= set(beats.tolist())
    per_bar = record["beats_per_bar"]
    assert np.all(np.diff(np.searchsorted(beats, downbeats)) == per_bar)
    assert beats[-1] < record["duration"]
    return beats, downbeats


def _check_wav(folder: Path, name: str, duration: float) -> None:
    info = soundfile.info(str(folder / f"{name}.wav"))
    assert info.samplerate == 22050
    assert info.channels == 1
    # the record's duration is rounded to the millisecond
    assert info.frames == pytest.approx(duration * 22050, abs=0.0005 * 22050 + 1)
    samples, _ = soundfile.read(str(folder / f"{name}.wav"))
    assert float(np.sqrt(np.mean(samples**2))) > 1e-3  # music, not silence


class TestBuild:
    def test_both_pieces_build(self, built: tuple[Path, list[str]]) -> None:
        """No problem reported; every piece has its MIDI, WAV and record."""
        folder, problems = built
        assert problems == []
        assert sorted(p.name for p in folder.iterdir()) == sorted(
            f"{n}{s}" for n in ("tiny-waltz", "tiny-bwv66.6") for s in (".json", ".mid", ".wav")
        )

    def test_groove_truth_and_wav(self, built: tuple[Path, list[str]]) -> None:
        """Eight bars of 3/4 at 180 BPM: 24 beats a third of a second apart, 8 downbeats."""
        folder, _ = built
        record = _truth(folder, "tiny-waltz")
        beats, downbeats = _check_truth(record)
        assert record["beats_per_bar"] == 3
        assert record["tempo"] == pytest.approx(180.0)
        assert beats.size == 24
        assert downbeats.size == 8
        assert np.allclose(np.diff(beats), 1 / 3, atol=1e-3)
        assert record["duration"] == pytest.approx(8.0, abs=0.01)
        assert record["drum_kit"] in TRAIN_PALETTE.drum_kits
        assert record["programs"], "the waltz has pitched parts"
        assert {p % 8 for p in record["programs"]} <= set(TRAIN_PALETTE.program_offsets)
        assert record["key"]
        assert record["key_source"] == "written (mma KeySig and chords)"
        assert (record["split"], record["seed"]) == ("train", piece_seed("tiny-waltz", 0))
        _check_wav(folder, "tiny-waltz", record["duration"])

    def test_score_truth_and_wav(self, built: tuple[Path, list[str]]) -> None:
        """A 4/4 chorale excerpt of whole bars, at least 8 s, at one tempo."""
        folder, _ = built
        record = _truth(folder, "tiny-bwv66.6")
        beats, downbeats = _check_truth(record)
        assert record["beats_per_bar"] == 4
        assert record["meter"] == "4/4"
        assert beats.size == 4 * downbeats.size
        assert np.allclose(np.diff(beats), 60.0 / record["tempo"], atol=1e-3)
        period = 60.0 / record["tempo"]
        assert 8.0 <= record["duration"] < 8.0 + 4 * period + 0.01
        assert record["duration"] == pytest.approx(beats[-1] + period, abs=1e-3)
        assert record["origin"] == "bach/bwv66.6.mxl"
        _check_wav(folder, "tiny-bwv66.6", record["duration"])

    def test_a_second_build_keeps_what_is_built(self, built: tuple[Path, list[str]]) -> None:
        """Pieces built with the same seed are not built again."""
        folder, _ = built
        before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
        assert build_folder(_jobs(), folder) == []
        assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before

    def test_a_chart_renders_the_same_midi_again(
        self, built: tuple[Path, list[str]], tmp_path: Path
    ) -> None:
        """The seed decides the piece: the groove built again is the same MIDI and WAV."""
        folder, _ = built
        job = _jobs()[0]
        rng = np.random.default_rng(job.seed)
        build_groove(WALTZ, rng, tmp_path / job.name, job.palette, job.seconds)
        for suffix in (".mid", ".wav"):
            again = (tmp_path / f"{job.name}{suffix}").read_bytes()
            assert again == (folder / f"{job.name}{suffix}").read_bytes()

    def test_a_drums_only_groove_has_no_key(self, tmp_path: Path) -> None:
        """A style of mma's zoom library that plays drums only: no programs, key null."""
        missing = _tools_missing()
        if missing:
            pytest.skip(missing)
        if not Path("/usr/share/mma/lib/zoom/jazz04.mma").is_file():
            pytest.skip("mma's zoom style library is not installed")
        drums = Style("04JAZZ01", 4, "4/4", (180.0, 180.0))
        record = build_groove(
            drums, np.random.default_rng(0), tmp_path / "drums", TRAIN_PALETTE, (8.0, 8.0)
        )
        assert record["programs"] == []
        assert record["key"] is None
        assert record["key_source"] == "none (drums only)"
        assert record["beats_per_bar"] == 4

    def test_train_beats_build(
        self, built: tuple[Path, list[str]], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """``kelly train-beats --build DIR`` builds (here: keeps) the split and trains on it."""
        folder, _ = built
        monkeypatch.setattr(command_module, "train_jobs", lambda seed: _jobs())
        output = tmp_path / "beattracker.json"
        args = ["--build", str(folder), "-o", str(output), "--epochs", "1"]
        assert _run_command([*args, "--steps-per-epoch", "1"]) == 0
        metadata = json.loads(output.read_text())["metadata"]
        assert metadata["pieces"] == 2
        assert metadata["train_split_seed"] == 0
        assert metadata["trained_on"] == [folder.name]
        assert str(folder.parent) not in output.read_text()


def _run_command(argv: list[str]) -> int:
    command = TrainBeatsCommand(Registry(plugins=[export_plugin]))
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return command.run(parser.parse_args(argv))


class TestErrors:
    def test_no_corpus_and_no_build(self, tmp_path: Path) -> None:
        """Without --corpus or --build the command says what it expected."""
        with pytest.raises(DatasetError, match="expected --corpus DIR or --build DIR"):
            _run_command(["-o", str(tmp_path / "out.json")])

    @pytest.mark.parametrize("tool", ["fluidsynth", "mma"])
    def test_missing_program_is_one_line_naming_the_packages(
        self, tool: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
    ) -> None:
        """--build without fluidsynth or mma: one line with the apt-get command, nothing
        built."""
        real = shutil.which
        monkeypatch.setattr(shutil, "which", lambda name: None if name == tool else real(name))
        folder = tmp_path / "pieces"
        with pytest.raises(MissingDependencyError) as caught:
            _run_command(["--build", str(folder), "-o", str(tmp_path / "out.json")])
        message = str(caught.value)
        assert "\n" not in message
        assert f"the {tool} program" in message
        assert "apt-get install fluidsynth fluid-soundfont-gm mma" in message
        assert not folder.exists()

    def test_missing_soundfont(self, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
        """Rendering without the GM SoundFont names the package too."""
        monkeypatch.setattr(shutil, "which", lambda name: f"/usr/bin/{name}")
        monkeypatch.setattr(render, "SOUNDFONT", tmp_path / "missing.sf2")
        with pytest.raises(MissingDependencyError, match="fluid-soundfont-gm"):
            render.render_wav(tmp_path / "x.mid", tmp_path / "x.wav", gain=0.5, end=1.0)
