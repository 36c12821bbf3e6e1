"""The listening benchmark's ``extra`` split: recordings of packages no other split uses,
picked by a stated rule, read from folders and zip archives alike."""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.benchmarks.listening import corpus, recordings


def test_the_split_holds_only_recordings_of_other_packages() -> None:
    scores, styles, extra = corpus.SPLITS[corpus.EXTRA]
    assert scores == ()
    assert styles == ()
    assert len(extra) == 23
    others = {r.package for r in corpus.DEV_RECORDINGS + corpus.TEST_RECORDINGS}
    assert {r.package for r in extra}.isdisjoint(others)
    assert len({r.name for r in extra}) == len(extra)
    jobs = corpus._jobs(corpus.EXTRA, 0)
    assert [j.name for j in jobs] == [r.name for r in extra]


@given(
    durations=st.lists(st.floats(0.0, 900.0), max_size=40),
    most=st.integers(1, 8),
)
def test_pick_files_keeps_long_files_evenly_from_the_first(
    durations: list[float], most: int
) -> None:
    named = [(f"f{i:02d}.ogg", seconds) for i, seconds in enumerate(durations)]
    kept = [name for name, seconds in named if seconds >= 60.0]
    picked = recordings.pick_files(named, most=most)
    assert len(picked) <= most
    assert set(picked) <= set(kept)
    assert picked == sorted(picked)
    if kept:
        assert picked[0] == kept[0]
        step = -(-len(kept) // most)
        assert [kept.index(name) for name in picked] == list(range(0, len(kept), step))[:most]
    else:
        assert picked == []


def _installed(package: str) -> bool:
    return bool(recordings.package_files(package))


@pytest.mark.parametrize("package", sorted({r.package for r in corpus.EXTRA_RECORDINGS}))
def test_the_rule_picks_the_listed_files(package: str) -> None:
    if not _installed(package):
        pytest.skip(f"{package} is not installed (apt-get install {package})")
    import soundfile

    durations = []
    for name in recordings.package_files(package):
        data = recordings.find_recording(package, name)
        assert data is not None
        durations.append((name, float(soundfile.info(io.BytesIO(data)).duration)))
    listed = [r.file for r in corpus.EXTRA_RECORDINGS if r.package == package]
    assert recordings.pick_files(durations) == listed


def test_archives_and_folders_are_read_alike(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    archive = tmp_path / "music.pk3"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("sound/cdtracks/b.ogg", b"bee")
        zipped.writestr("sound/cdtracks/a.ogg", b"ay")
        zipped.writestr("sound/other/c.ogg", b"sea")
        zipped.writestr("sound/cdtracks/readme.txt", b"text")
    folder = tmp_path / "music"
    (folder / "album").mkdir(parents=True)
    (folder / "album" / "t1.opus").write_bytes(b"one")
    (folder / "t0.mp3").write_bytes(b"zero")
    (folder / "cover.png").write_bytes(b"png")
    monkeypatch.setitem(recordings._ARCHIVES, "nexuiz-music", (archive, "sound/cdtracks/"))
    monkeypatch.setitem(recordings._FOLDERS, "asc-music", folder)
    assert recordings.package_files("nexuiz-music") == ["a.ogg", "b.ogg"]
    assert recordings.find_recording("nexuiz-music", "b.ogg") == b"bee"
    assert recordings.find_recording("nexuiz-music", "c.ogg") is None
    assert recordings.package_files("asc-music") == ["album/t1.opus", "t0.mp3"]
    assert recordings.find_recording("asc-music", "album/t1.opus") == b"one"
    monkeypatch.setitem(recordings._ARCHIVES, "nexuiz-music", (tmp_path / "gone.pk3", "x/"))
    assert recordings.package_files("nexuiz-music") == []
    assert recordings.find_recording("nexuiz-music", "a.ogg") is None
