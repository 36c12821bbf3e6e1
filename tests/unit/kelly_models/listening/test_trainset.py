"""The train split keeps clear of the listening benchmark's test split (and dev music).

kelly_models cannot import the benchmark, so this test holds the rule of
:mod:`kelly_models.listening.trainset` against ``tests.benchmarks.listening.corpus``.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kelly_models.listening.pieces import piece_seed
from kelly_models.listening.scores import ScoreSpec
from kelly_models.listening.trainset import (
    RENDERS_PER_GROOVE,
    TRAIN_PALETTE,
    TRAIN_SCORES,
    TRAIN_STYLES,
    train_jobs,
)
from tests.benchmarks.listening import corpus

MMA_LIBRARY = Path("/usr/share/mma/lib/stdlib")


def _folder(path: str) -> str:
    """The music21 corpus folder of a path (``"bach/bwv1.6.mxl"`` → ``"bach"``)."""
    return path.split("/")[0]


def _tune(spec: ScoreSpec) -> tuple[str, str | None, int | None]:
    return (spec.path, spec.meter, spec.number)


class TestDisjointFromTest:
    def test_no_music21_path_folder_or_composer_of_the_test_split(self) -> None:
        """No test path, no test corpus folder, no test composer."""
        held = corpus.held_out()
        paths = {spec.path for spec in TRAIN_SCORES}
        assert held["music21_paths"], "the benchmark lists its test paths"
        assert paths.isdisjoint(held["music21_paths"])
        assert {_folder(p) for p in paths}.isdisjoint(_folder(p) for p in held["music21_paths"])
        test_composers = {spec.composer for spec in corpus.TEST_SCORES}
        assert {spec.composer for spec in TRAIN_SCORES}.isdisjoint(test_composers)

    def test_no_mma_groove_of_the_test_split(self) -> None:
        """Groove names differ, whatever their case or spelling in piece names."""
        held = {groove.lower() for groove in corpus.held_out()["mma_grooves"]}
        assert len(held) == len(corpus.TEST_STYLES)
        train = {style.groove.lower() for style in TRAIN_STYLES}
        assert train.isdisjoint(held)
        assert {s.slug for s in TRAIN_STYLES}.isdisjoint(s.slug for s in corpus.TEST_STYLES)

    def test_no_program_place_or_drum_kit_of_the_test_split(self) -> None:
        """The train palette's program places and kits are none of the test split's."""
        held = corpus.held_out()
        assert set(TRAIN_PALETTE.program_offsets).isdisjoint(held["program_offsets"])
        assert set(TRAIN_PALETTE.drum_kits).isdisjoint(held["drum_kits"])
        assert set(TRAIN_PALETTE.program_offsets) <= set(range(8))

    @pytest.mark.skipif(not MMA_LIBRARY.is_dir(), reason="mma's style library is not installed")
    def test_no_mma_style_file_of_a_benchmark_groove(self) -> None:
        """Each train groove is defined in a style file that defines no benchmark groove."""
        defined: dict[str, set[str]] = {}
        for path in MMA_LIBRARY.glob("*.mma"):
            text = path.read_text(errors="ignore")
            for groove in re.findall(r"^DefGroove\s+(\S+)", text, re.MULTILINE | re.IGNORECASE):
                defined.setdefault(groove.lower(), set()).add(path.stem)
        bench = corpus.TEST_STYLES + corpus.DEV_STYLES
        bench_files = set().union(*(defined[s.groove.lower()] for s in bench))
        for style in TRAIN_STYLES:
            files = defined.get(style.groove.lower())
            assert files, f"mma defines no groove {style.groove}"
            assert files.isdisjoint(bench_files), style.groove


class TestDisjointFromDev:
    def test_no_music21_path_tune_or_groove_of_the_dev_split(self) -> None:
        """Dev is for tuning: the train split takes none of its scores, tunes or grooves."""
        assert {s.path for s in TRAIN_SCORES}.isdisjoint(s.path for s in corpus.DEV_SCORES)
        assert {_tune(s) for s in TRAIN_SCORES}.isdisjoint(_tune(s) for s in corpus.DEV_SCORES)
        dev = {style.groove.lower() for style in corpus.DEV_STYLES}
        assert {style.groove.lower() for style in TRAIN_STYLES}.isdisjoint(dev)


class TestJobs:
    def test_names_unique_and_apart_from_the_benchmark(self) -> None:
        """One job per piece name, none named like a benchmark piece."""
        jobs = train_jobs()
        names = [job.name for job in jobs]
        assert len(names) == len(set(names))
        assert len(jobs) == len(TRAIN_SCORES) + RENDERS_PER_GROOVE * len(TRAIN_STYLES)
        bench = {job.name for split in ("dev", "test") for job in corpus._jobs(split, 0)}
        assert bench
        assert set(names).isdisjoint(bench)
        assert {job.split for job in jobs} == {"train"}

    def test_seeds_follow_the_build_seed(self) -> None:
        """A piece's seed is its name's in the build seed; another build seed moves all."""
        first, other = train_jobs(0), train_jobs(7)
        assert [job.seed for job in first] == [piece_seed(job.name, 0) for job in first]
        assert all(a.seed != b.seed for a, b in zip(first, other, strict=True))
        assert len({job.seed for job in first}) == len(first)
