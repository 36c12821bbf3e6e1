"""Dataset readers: non-finite and out-of-range labels, duplicates, file kinds, sizes and
skip reasons. Every bad row or file is reported (``Dataset.skipped``), none is used."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from kelly_core.cli import main
from kelly_core.errors import DatasetError
from kelly_models.datasets.chords import open_chords
from kelly_models.datasets.deam import open_deam, read_dynamic, read_static
from kelly_models.datasets.groove_midi import open_groove
from kelly_models.datasets.lakh import open_lakh
from kelly_models.datasets.maestro import open_maestro
from tests.unit.kelly_models.datasets.helpers import (
    write_deam,
    write_groove,
    write_lakh,
    write_maestro,
)

_STATIC_HEADER = "song_id, valence_mean, valence_std, arousal_mean, arousal_std\n"
_RAW = re.compile(
    r"Error\b|\(\)|NoneType|list index|arg is an empty|division by zero|has no attribute"
    r"|not subscriptable|codec can't|\[Errno|Symlink loop"
)


@contextlib.contextmanager
def _fifo(path: Path) -> Iterator[Path]:
    """A named pipe at ``path``. A reader that opens it is released at once (it reads an
    empty file), so a reader that would wait forever fails its assertions instead."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.mkfifo(path)
    stop = threading.Event()

    def release() -> None:
        while not stop.is_set():
            try:
                fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
            except OSError:  # no reader has it open
                stop.wait(0.02)
                continue
            os.close(fd)

    thread = threading.Thread(target=release, daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()


def _reasons(ds: object) -> list[str]:
    return [s.reason for s in ds.skipped]  # type: ignore[attr-defined]


class TestNonFiniteAndOutOfRangeLabels:
    def test_static_rows_skipped_with_reasons(self, tmp_path: Path) -> None:
        path = tmp_path / "static.csv"
        path.write_text(
            _STATIC_HEADER + "2, nan, 1, 3, 1\n3, inf, 1, 3, 1\n4, 5, 1, -inf, 1\n"
            "5, 0.5, 1, 3, 1\n6, 5, 1, 9.5, 1\n7, 5, 1, 5, 1\n8, abc, 1, 5, 1\n"
            "9, NaN, 1, 5, 1\n",
            encoding="utf-8",
        )
        labels, skipped = read_static(path)
        assert labels == {"7": (0.0, 0.0)}
        assert [s.reason for s in skipped] == [
            "static.csv line 2: song 2: valence_mean nan is not a finite number; "
            "expected a rating in 1..9",
            "static.csv line 3: song 3: valence_mean inf is not a finite number; "
            "expected a rating in 1..9",
            "static.csv line 4: song 4: arousal_mean -inf is not a finite number; "
            "expected a rating in 1..9",
            "static.csv line 5: song 5: valence_mean 0.5 is outside the rating scale; "
            "expected 1..9",
            "static.csv line 6: song 6: arousal_mean 9.5 is outside the rating scale; "
            "expected 1..9",
            "static.csv line 8: song 8: valence_mean 'abc' is not a number; "
            "expected a rating in 1..9",
            "static.csv line 9: song 9: valence_mean NaN is not a finite number; "
            "expected a rating in 1..9",
        ]
        assert all(s.path == path for s in skipped)

    def test_dynamic_rows_skipped_with_reasons(self, tmp_path: Path) -> None:
        path = tmp_path / "arousal.csv"
        path.write_text(
            "song_id,sample_15000ms,sample_15500ms\n2,0.1,nan\n3,0.2,1.5\n4,-inf,0\n5,0.3,0.4\n",
            encoding="utf-8",
        )
        series, skipped = read_dynamic(path)
        assert series == {"5": {15000: 0.3, 15500: 0.4}}
        assert [s.reason for s in skipped] == [
            "arousal.csv line 2: song 2: sample_15500ms nan is not a finite number; "
            "expected a value in [-1, 1]; the song's dynamic row is not used",
            "arousal.csv line 3: song 3: sample_15500ms 1.5 is outside [-1, 1]; "
            "the song's dynamic row is not used",
            "arousal.csv line 4: song 4: sample_15000ms -inf is not a finite number; "
            "expected a value in [-1, 1]; the song's dynamic row is not used",
        ]

    def test_open_deam_keeps_nan_out_of_the_targets(self, tmp_path: Path) -> None:
        """A NaN dynamic cell drops that row (the song keeps its static rating); a NaN
        static rating of a song without dynamic rows leaves it without labels."""
        paths = write_deam(tmp_path)
        arousal = paths["dynamic"] / "arousal.csv"
        arousal.write_text(arousal.read_text().replace("0.3", "nan", 1))
        static = paths["static"] / "static_annotations_averaged_songs_2000_2058.csv"
        static.write_text(_STATIC_HEADER + "4, inf, 1, 4, 1\n")
        ds = open_deam(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        assert all(np.isfinite(ds[i].targets).all() for i in range(len(ds)))
        songs = sorted(Path(ds[i].source).stem for i in range(len(ds)))
        assert songs == ["2", "3"]
        reasons = _reasons(ds)
        assert any("song 2: sample_16000ms nan is not a finite number" in r for r in reasons)
        assert any("song 4: valence_mean inf is not a finite number" in r for r in reasons)
        assert "song 4: no static or dynamic annotation" in reasons

    def test_inspect_prints_the_skipped_rows(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        paths = write_deam(tmp_path)
        static = paths["static"] / "static_annotations_averaged_songs_2000_2058.csv"
        static.write_text(_STATIC_HEADER + "4, nan, 1, 4, 1\n")
        argv = ["data", "inspect", "--dataset", "deam", "--root", str(tmp_path), "-O", "workers=1"]
        assert main([*argv, "-O", f"cache_dir={tmp_path / 'cache'}"]) == 0
        out = capsys.readouterr().out
        assert (
            f"    {static}: static_annotations_averaged_songs_2000_2058.csv line 2: song 4: "
            "valence_mean nan is not a finite number; expected a rating in 1..9\n"
        ) in out
        assert "  non-finite values: none\n" in out
        assert "nan" not in out.split("  targets ")[1].split("\n")[0]


class TestDuplicateIds:
    def test_static_duplicate_keeps_the_first_and_names_the_conflict(self, tmp_path: Path) -> None:
        path = tmp_path / "static.csv"
        path.write_text(_STATIC_HEADER + "7, 5, 1, 5, 1\n7.0, 9, 1, 1, 1\n", encoding="utf-8")
        labels, skipped = read_static(path)
        assert labels == {"7": (0.0, 0.0)}
        assert [s.reason for s in skipped] == [
            "static.csv line 3: song 7 is listed again (first on line 2; valence/arousal "
            "ratings 5, 5 there, 9, 1 here); kept line 2"
        ]

    def test_dynamic_duplicate_keeps_the_first(self, tmp_path: Path) -> None:
        path = tmp_path / "valence.csv"
        path.write_text("song_id,sample_15000ms\n2,0.5\n2,-0.5\n", encoding="utf-8")
        series, skipped = read_dynamic(path)
        assert series == {"2": {15000: 0.5}}
        assert [s.reason for s in skipped] == [
            "valence.csv line 3: song 2 is listed again (first on line 2); kept line 2"
        ]

    def test_deam_static_files_and_audio_duplicates(self, tmp_path: Path) -> None:
        paths = write_deam(tmp_path)
        second = paths["static"] / "static_annotations_averaged_songs_2000_2058.csv"
        second.write_text(_STATIC_HEADER + "4, 6, 1, 4, 1\n2, 1, 1, 1, 1\n")
        shutil.copy(paths["audio"] / "2.mp3", paths["audio"] / "02.mp3")
        ds = open_deam(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        songs = sorted(Path(ds[i].source).name for i in range(len(ds)))
        assert songs == ["2.mp3", "3.mp3", "4.mp3"]
        reasons = {s.path.name: s.reason for s in ds.skipped}
        assert reasons["02.mp3"] == (
            "another audio file of song 2; kept DEAM_audio/MEMD_audio/2.mp3"
        )
        assert reasons[second.name] == (
            f"{second.name} line 3: song 2 is listed again (first in "
            "static_annotations_averaged_songs_1_2000.csv line 2; valence/arousal ratings "
            "7, 3 there, 1, 1 here); kept the first"
        )


def _maestro_with_rows(root: Path, rows: str) -> Path:
    index = write_maestro(root)
    index.write_text(index.read_text() + rows)
    return index


class TestDuplicateIndexRows:
    _SPELLINGS = (
        "C,T,test,2018,2018/./MIDI-Unprocessed_0.midi,x.wav,1\n"
        "C,T,validation,2018,2018//MIDI-Unprocessed_0.midi,x.wav,1\n"
        "C,T,test,2018,./2017/../2018/MIDI-Unprocessed_0.midi,x.wav,1\n"
    )

    def test_maestro_one_item_per_file(self, tmp_path: Path) -> None:
        _maestro_with_rows(tmp_path, self._SPELLINGS)
        ds = open_maestro(tmp_path, use_cache=False, workers=1)
        assert len(ds) == 2
        assert [ds[i].split for i in range(2)] == ["train", "test"]
        (dup,) = [r for r in _reasons(ds) if "listed" in r]
        assert dup == (
            "maestro-v3.0.0.csv lines 2, 5, 6, 7: '2018/MIDI-Unprocessed_0.midi' is listed "
            "4 times (also as '2018/./MIDI-Unprocessed_0.midi', "
            "'2018//MIDI-Unprocessed_0.midi', './2017/../2018/MIDI-Unprocessed_0.midi'; "
            "splits train, test, validation); kept line 2 (train)"
        )

    def test_maestro_split_filter_uses_the_first_listing(self, tmp_path: Path) -> None:
        _maestro_with_rows(tmp_path, self._SPELLINGS)
        only_test = open_maestro(tmp_path, splits=("test",), use_cache=False, workers=1)
        assert [Path(only_test[i].source).name for i in range(len(only_test))] == [
            "MIDI-Unprocessed_1.midi"
        ]

    def test_groove_one_item_per_file(self, tmp_path: Path) -> None:
        index = write_groove(tmp_path)
        name = "drummer1/session1/1_funk_100_beat_4-4.mid"
        extra = (
            f"d,s,9,funk,100,beat,4-4,{name},,9.6,test\n"
            f"d,s,9,funk,100,beat,4-4,./{name},,9.6,validation\n"
        )
        index.write_text(index.read_text() + extra)
        ds = open_groove(tmp_path, use_cache=False, workers=1)
        assert len(ds) == 1
        assert ds[0].split == "train"
        assert _reasons(ds) == [
            f"info.csv lines 2, 5, 6: {name!r} is listed 3 times (also as './{name}'; "
            "splits train, test, validation); kept line 2 (train)"
        ]

    def test_walked_links_and_hard_links_count_once(self, tmp_path: Path) -> None:
        files = write_lakh(tmp_path)
        alone = len(open_lakh(tmp_path, use_cache=False, workers=1))
        (tmp_path / "lmd_full" / "0" / "link.mid").symlink_to(files["full"])
        (tmp_path / "lmd_x").mkdir()
        os.link(files["matched"], tmp_path / "lmd_x" / "hard.mid")
        ds = open_lakh(tmp_path, use_cache=False, workers=1)
        assert len(ds) == alone == 2
        reasons = {s.path.name: s.reason for s in ds.skipped}
        assert reasons["link.mid"] == (
            f"same file as {files['full'].relative_to(tmp_path)}; read once"
        )
        assert reasons["hard.mid"].startswith("same file as ")


class TestFileKinds:
    def test_index_that_is_a_fifo_or_a_folder(self, tmp_path: Path) -> None:
        index = write_maestro(tmp_path)
        index.unlink()
        with _fifo(index), pytest.raises(DatasetError) as info:
            open_maestro(tmp_path, use_cache=False, workers=1)
        assert str(info.value) == f"{index}: is a FIFO (named pipe); expected a CSV file"
        index.unlink()
        index.mkdir()
        with pytest.raises(DatasetError, match=r"is a folder; expected a CSV file$"):
            open_maestro(tmp_path, use_cache=False, workers=1)

    def test_index_row_naming_a_fifo_or_a_folder(self, tmp_path: Path) -> None:
        rows = "C,T,train,2018,2018/pipe.midi,x.wav,1\nC,T,train,2018,2018/dir.midi,x.wav,1\n"
        _maestro_with_rows(tmp_path, rows)
        (tmp_path / "2018" / "dir.midi").mkdir()
        with _fifo(tmp_path / "2018" / "pipe.midi"):
            ds = open_maestro(tmp_path, use_cache=False, workers=1)
        assert len(ds) == 2
        assert (
            "maestro-v3.0.0.csv line 5: '2018/pipe.midi' is a FIFO (named pipe); "
            "expected a MIDI file" in _reasons(ds)
        )
        assert (
            "maestro-v3.0.0.csv line 6: '2018/dir.midi' is a folder; expected a MIDI file"
            in _reasons(ds)
        )

    @pytest.mark.parametrize("reader", ["lakh", "chords", "deam"])
    def test_walked_fifo_is_skipped(self, tmp_path: Path, reader: str) -> None:
        if reader == "lakh":
            write_lakh(tmp_path)
            pipe = tmp_path / "lmd_full" / "p" / "pipe.mid"
        elif reader == "chords":
            (tmp_path / "a.json").write_text('[{"chords": ["C", "G"]}]')
            pipe = tmp_path / "pipe.json"
        else:
            paths = write_deam(tmp_path)
            pipe = paths["audio"] / "7.mp3"
        opener = {"lakh": open_lakh, "chords": open_chords, "deam": open_deam}[reader]
        with _fifo(pipe):
            ds = opener(tmp_path, use_cache=False, workers=1)  # type: ignore[operator]
        reasons = {s.path.name: s.reason for s in ds.skipped}
        assert reasons[pipe.name].startswith("is a FIFO (named pipe); expected ")

    def test_index_outside_the_root_is_refused(self, tmp_path: Path) -> None:
        root = tmp_path / "maestro"
        write_maestro(root)
        elsewhere = tmp_path / "elsewhere.csv"
        (root / "maestro-v3.0.0.csv").rename(elsewhere)
        (root / "maestro-v3.0.0.csv").symlink_to(elsewhere)
        with pytest.raises(DatasetError, match="outside the dataset root"):
            open_maestro(root, use_cache=False, workers=1)


class TestBoundedReads:
    def test_index_larger_than_the_limit(self, tmp_path: Path) -> None:
        index = write_maestro(tmp_path)
        os.truncate(index, 17 * 2**20)  # sparse: no disk used
        with pytest.raises(DatasetError) as info:
            open_maestro(tmp_path, use_cache=False, workers=1)
        assert str(info.value) == (
            f"{index}: is 17825792 bytes; expected a CSV file of at most 16 MiB"
        )

    def test_index_line_longer_than_the_limit(self, tmp_path: Path) -> None:
        index = write_maestro(tmp_path)
        index.write_text(index.read_text() + "C," + "x" * (200 * 1024) + "\n")
        with pytest.raises(DatasetError) as info:
            open_maestro(tmp_path, use_cache=False, workers=1)
        assert str(info.value) == (
            f"{index}: line 5 is 204802 bytes long; expected lines of at most 128 KiB"
        )

    def test_index_with_too_many_cells(self, tmp_path: Path) -> None:
        """Cells are counted as written (a short row under a wide header costs its own)."""
        path = tmp_path / "arousal.csv"
        header = "song_id," + ",".join(f"sample_{15000 + 500 * i}ms" for i in range(2000))
        row = "1," + ",".join(["0"] * 2000) + "\n"  # 2001 cells
        path.write_text(header + "\n" + row * 1999, encoding="utf-8")  # 3999999 cells
        series, repeats = read_dynamic(path)
        assert list(series) == ["1"]
        assert len(repeats) == 1998
        path.write_text(header + "\n" + row * 1999 + "2,0\n", encoding="utf-8")
        with pytest.raises(DatasetError) as info:
            read_dynamic(path)
        assert str(info.value) == (
            f"{path}: more than 4000000 cells by line 2001; expected at most 4000000 cells"
        )

    def test_midi_larger_than_the_limit(self, tmp_path: Path) -> None:
        write_lakh(tmp_path)
        big = tmp_path / "lmd_full" / "f" / "big.mid"
        big.parent.mkdir()
        big.write_bytes(b"MThd")
        os.truncate(big, 9 * 2**20)
        ds = open_lakh(tmp_path, use_cache=False, workers=1)
        reasons = {s.path.name: s.reason for s in ds.skipped}
        assert reasons["big.mid"] == "is 9437184 bytes; expected a MIDI file of at most 8 MiB"


def _midi(division: int, *tracks: bytes) -> bytes:
    header = b"MThd\x00\x00\x00\x06\x00\x01" + len(tracks).to_bytes(2, "big")
    body = b"".join(b"MTrk" + len(t).to_bytes(4, "big") + t for t in tracks)
    return header + division.to_bytes(2, "big") + body


_END = b"\x00\xff\x2f\x00"


class TestSkipReasonsAreSentences:
    @pytest.mark.parametrize(
        ("data", "reason"),
        [
            (
                _midi(0, _END),
                "malformed file: the header's time division (ticks per beat) is 0; "
                "expected 1 to 32767",
            ),
            (
                _midi(480, _END, b""),
                "malformed file: track 2 has no events; expected at least its end-of-track event",
            ),
            (
                _midi(480, b"\x00\x90\x3c\x80" + _END),
                "malformed file: a MIDI data byte is above 127; expected 0 to 127",
            ),
            (b"RIFF0000", "not a MIDI file: it does not start with 'MThd'"),
        ],
    )
    def test_midi_parser_failures(self, tmp_path: Path, data: bytes, reason: str) -> None:
        write_lakh(tmp_path)
        bad = tmp_path / "lmd_full" / "e" / "bad.mid"
        bad.parent.mkdir()
        bad.write_bytes(data)
        ds = open_lakh(tmp_path, use_cache=False, workers=1)
        assert {s.path.name: s.reason for s in ds.skipped}["bad.mid"] == reason

    @pytest.mark.parametrize(
        ("entry", "reason"),
        [
            ('{"chords": ["C"], "valence": null, "arousal": 0}',
             "progression 0: 'valence' is null; expected a number in [-1, 1]"),
            ('{"chords": ["C"], "valence": NaN, "arousal": 0}',
             "progression 0: 'valence' is NaN; expected a number in [-1, 1]"),
            ('{"chords": ["C"], "valence": 0, "arousal": "high"}',
             "progression 0: 'arousal' is \"high\"; expected a number in [-1, 1]"),
            ('{"chords": 5}', "progression 0: 'chords' is 5; expected a list of chord symbols"),
            ('{"numerals": ["I"], "key": 3}', "progression 0: 'key' is 3; expected a key name"),
            ('{"chords": ["C"], "mood": 7}',
             "progression 0: 'mood' is 7; expected a mood tag or a list of mood tags"),
        ],
    )  # fmt: skip
    def test_chord_entry_failures(self, tmp_path: Path, entry: str, reason: str) -> None:
        (tmp_path / "bad.json").write_text(f"[{entry}]")
        (tmp_path / "good.json").write_text('[{"chords": ["C", "G"]}]')
        ds = open_chords(tmp_path, use_cache=False, workers=1)
        assert len(ds) == 1
        assert _reasons(ds) == [reason]

    def test_deeply_nested_json(self, tmp_path: Path) -> None:
        (tmp_path / "deep.json").write_text("[" * 100_000)
        (tmp_path / "good.json").write_text('[{"chords": ["C", "G"]}]')
        ds = open_chords(tmp_path, use_cache=False, workers=1)
        assert _reasons(ds) == ["not valid JSON: nested too deeply to read"]

    def test_index_not_utf8(self, tmp_path: Path) -> None:
        index = write_maestro(tmp_path)
        index.write_bytes(index.read_bytes() + b"C,T,train,2018,\xff.midi,x.wav,1\n")
        with pytest.raises(DatasetError) as info:
            open_maestro(tmp_path, use_cache=False, workers=1)
        assert str(info.value) == (
            f"{index}: line 5 is not UTF-8 text (byte 0xff); expected a UTF-8 CSV file"
        )

    def test_symlink_loop(self, tmp_path: Path) -> None:
        write_lakh(tmp_path)
        (tmp_path / "lmd_full" / "a.mid").symlink_to(tmp_path / "lmd_full" / "b.mid")
        (tmp_path / "lmd_full" / "b.mid").symlink_to(tmp_path / "lmd_full" / "a.mid")
        ds = open_lakh(tmp_path, use_cache=False, workers=1)
        reasons = {s.path.name: s.reason for s in ds.skipped}
        assert reasons["a.mid"] == "symbolic link loop; the path cannot be resolved"
        assert not any(_RAW.search(r) for r in reasons.values())
