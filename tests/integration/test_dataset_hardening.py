"""Hostile dataset layouts: nothing outside the root is read, every skip says why."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from kelly_core.cli import main
from kelly_models.datasets.chords import open_chords
from kelly_models.datasets.deam import open_deam
from kelly_models.datasets.groove_midi import open_groove
from kelly_models.datasets.lakh import open_lakh
from kelly_models.datasets.maestro import open_maestro
from kelly_models.datasets.paths import index_path
from tests.unit.kelly_models.datasets.helpers import (
    write_deam,
    write_groove,
    write_lakh,
    write_maestro,
    write_midi,
)

_ROW = 'Composer,"Bad",train,2018,{name},x.wav,1.0\n'


def _outside_midi(tmp_path: Path) -> Path:
    """A valid MIDI file outside the dataset root (it must never be read)."""
    return write_midi(
        tmp_path / "outside" / "secret.mid",
        [("Piano", 0, False, [(60 + i % 5, i * 0.5, i * 0.5 + 0.4, 80) for i in range(40)])],
    )


class TestIndexRows:
    @pytest.mark.parametrize(
        ("name", "reason"),
        [
            ("/etc/passwd", "absolute path '/etc/passwd'"),
            ("../outside/secret.mid", "outside the dataset root"),
            ("2018/\x00evil.midi", "contains a NUL byte"),
        ],
    )
    def test_maestro_row_outside_root_is_skipped_not_read(
        self, tmp_path: Path, name: str, reason: str
    ) -> None:
        root = tmp_path / "maestro"
        index = write_maestro(root)
        secret = _outside_midi(tmp_path)
        index.write_text(index.read_text() + _ROW.format(name=name))
        before = secret.stat().st_atime_ns
        ds = open_maestro(root, use_cache=False, workers=1)
        assert len(ds) == 2  # the two good performances, not the outside file
        refused = [s for s in ds.skipped if s.path == index]
        assert len(refused) == 1
        assert reason in refused[0].reason
        assert refused[0].reason.startswith("maestro-v3.0.0.csv line 5: ")
        assert all("secret" not in s for s in (ds[i].source for i in range(len(ds))))
        assert secret.stat().st_atime_ns == before

    def test_groove_row_through_a_symlink_outside(self, tmp_path: Path) -> None:
        root = tmp_path / "groove"
        index = write_groove(root)
        secret = _outside_midi(tmp_path)
        (root / "drummer9").symlink_to(secret.parent, target_is_directory=True)
        row = "drummer9,s,9,funk,120,beat,4-4,drummer9/secret.mid,x.wav,9.0,test\n"
        index.write_text(index.read_text() + row)
        ds = open_groove(root, use_cache=False, workers=1)
        assert len(ds) == 1
        assert ["outside the dataset root" in s.reason for s in ds.skipped] == [True]

    def test_index_path_accepts_inside_names(self, tmp_path: Path) -> None:
        assert index_path(tmp_path, "a/b.mid") == (tmp_path / "a" / "b.mid", "")
        assert index_path(tmp_path, "a/../b.mid") == (tmp_path / "a/../b.mid", "")
        assert index_path(tmp_path, "")[1] == "empty file name"


class TestFoundFiles:
    def test_lakh_symlinks_outside_are_not_followed(self, tmp_path: Path) -> None:
        root = tmp_path / "lakh"
        write_lakh(root)
        inside = open_lakh(root, use_cache=False, workers=1)
        secret = _outside_midi(tmp_path)
        (root / "lmd_full" / "z").mkdir(parents=True, exist_ok=True)
        (root / "lmd_full" / "z" / "zz.mid").symlink_to(secret)
        (root / "linked").symlink_to(secret.parent, target_is_directory=True)
        ds = open_lakh(root, use_cache=False, workers=1)
        assert len(ds) == len(inside)
        outside = [s for s in ds.skipped if "outside the dataset root" in s.reason]
        assert [s.path.name for s in outside] == ["zz.mid"]  # linked/ itself is not walked
        assert not any("secret" in ds[i].source for i in range(len(ds)))

    def test_chords_symlink_outside(self, tmp_path: Path) -> None:
        root = tmp_path / "chords"
        root.mkdir()
        (root / "a.json").write_text('[{"chords": ["C", "G"]}]')
        secret = tmp_path / "secret.json"
        secret.write_text('[{"chords": ["Am", "E"]}]')
        (root / "b.json").symlink_to(secret)
        ds = open_chords(root, use_cache=False, workers=1)
        assert len(ds) == 1
        assert [s.path.name for s in ds.skipped] == ["b.json"]

    def test_deam_audio_link_outside_and_the_counts_agree(
        self, tmp_path: Path, caplog: pytest.LogCaptureFixture
    ) -> None:
        root = tmp_path / "deam"
        paths = write_deam(root)
        outside = tmp_path / "elsewhere.mp3"
        outside.write_bytes((paths["audio"] / "2.mp3").read_bytes())
        (paths["audio"] / "9.mp3").symlink_to(outside)
        with caplog.at_level(logging.WARNING):
            ds = open_deam(root, use_cache=False, workers=1)
        assert "9.mp3" in {s.path.name for s in ds.skipped}
        counts = [r.getMessage() for r in caplog.records if "deam: skipped" in r.getMessage()]
        n = len(ds.skipped)
        assert counts == [f"deam: skipped {n} of 5 files or index rows (see Dataset.skipped)"]

    def test_deam_dynamic_value_outside_unit_range(self, tmp_path: Path) -> None:
        """The row is skipped with its reason (the song keeps its static rating)."""
        paths = write_deam(tmp_path)
        arousal = paths["dynamic"] / "arousal.csv"
        arousal.write_text(arousal.read_text().replace("0.3", "3.5", 1))
        ds = open_deam(tmp_path, use_cache=False, workers=1)
        (row,) = [s for s in ds.skipped if s.path == arousal]
        assert row.reason == (
            "arousal.csv line 2: song 2: sample_16000ms 3.5 is outside [-1, 1]; "
            "the song's dynamic row is not used"
        )
        song2 = next(ds[i] for i in range(len(ds)) if Path(ds[i].source).stem == "2")
        assert len(song2.inputs) == 35  # the whole song, labelled with its static rating


class TestSkipReasons:
    def test_truncated_midi_says_truncated(self, tmp_path: Path) -> None:
        root = tmp_path / "lakh"
        files = write_lakh(root)
        good = next(iter(files.values()))
        cut = root / "lmd_full" / "c" / "cut.mid"
        cut.parent.mkdir(parents=True, exist_ok=True)
        cut.write_bytes(good.read_bytes()[:60])
        ds = open_lakh(root, use_cache=False, workers=1)
        (reason,) = [s.reason for s in ds.skipped if s.path == cut]
        assert reason.startswith(("truncated file", "malformed file"))
        assert reason not in ("EOFError:", "EOFError: ")


class TestInspectCommand:
    def test_empty_folder_is_an_error(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["data", "inspect", "--dataset", "lakh", "--root", str(tmp_path)]) == 2
        err = capsys.readouterr().err
        assert f"kelly: error: {tmp_path}: dataset 'lakh' in {tmp_path} has no items" in err
        assert "no files of its layout were found" in err

    @pytest.mark.parametrize(
        ("option", "message"),
        [
            ("items=abc", "option 'items': expected an integer, got 'abc'"),
            ("colour=red", "dataset 'synthetic-groove' has no option 'colour'; its options: "),
            ("items", "expected KEY=VALUE"),
        ],
    )
    def test_bad_options_are_one_line(
        self, option: str, message: str, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["data", "inspect", "--dataset", "synthetic-groove", "-O", option]) == 2
        err = capsys.readouterr().err
        assert err.startswith("kelly: error: ")
        assert message in err
        assert err.count("\n") == 1

    def test_train_on_an_empty_dataset_names_it(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "data" / "lakh").mkdir(parents=True)
        argv = ["train", "-d", str(tmp_path / "data"), "-o", str(tmp_path / "out")]
        argv += ["-m", "MelodyTransformer", "-e", "1", "--no-progress"]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert f"dataset 'lakh' in {tmp_path / 'data' / 'lakh'} has no items" in err
