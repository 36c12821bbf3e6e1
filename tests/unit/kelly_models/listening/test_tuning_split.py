"""The listening benchmark's tune split keeps clear of the test split and the training split,
and its pieces keep their names and seeds (so the docs' tune-split figures can be rebuilt)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelly_models.listening.charts import Style
from kelly_models.listening.pieces import piece_seed
from kelly_models.listening.scores import ScoreSpec
from kelly_models.listening.trainset import TRAIN_PALETTE, TRAIN_SCORES, TRAIN_STYLES, train_jobs
from tests.benchmarks.listening import corpus, tuning


def _scores() -> list[ScoreSpec]:
    return [s for _, s in tuning.tune_sources() if isinstance(s, ScoreSpec)]


def _styles() -> list[Style]:
    return [s for name, s in tuning.tune_sources() if isinstance(s, Style) and name.endswith("-0")]


def test_scores_share_no_path_or_tune_with_test_or_training() -> None:
    scores = _scores()
    assert len(scores) > 100, "the split has hundreds of scores"
    held = set(corpus.held_out()["music21_paths"])
    assert {s.path for s in scores}.isdisjoint(held)
    test_composers = {s.composer for s in corpus.TEST_SCORES}
    assert {s.composer for s in scores}.isdisjoint(test_composers)
    trained = {(s.path, s.meter, s.number) for s in TRAIN_SCORES}
    assert {(s.path, s.meter, s.number) for s in scores}.isdisjoint(trained)
    dev = {s.path for s in corpus.DEV_SCORES}
    assert {s.path for s in scores}.isdisjoint(dev)


@pytest.mark.skipif(
    not (tuning.MMA_LIB_DIR / "casio").is_dir(), reason="mma's style libraries not installed"
)
def test_grooves_are_none_of_the_benchmark_or_training_grooves() -> None:
    styles = _styles()
    assert len(styles) > 50, "mma's other libraries give dozens of grooves"
    names = {s.groove.lower() for s in styles}
    assert len(names) == len(styles), "each groove once"
    others = corpus.TEST_STYLES + corpus.DEV_STYLES + tuple(TRAIN_STYLES)
    assert names.isdisjoint(s.groove.lower() for s in others)
    assert {s.slug for s in styles}.isdisjoint(s.slug for s in others)
    assert all(s.time in (3, 4, 6) for s in styles)


def test_jobs_use_the_training_sounds_and_name_seeds() -> None:
    jobs = corpus._jobs(corpus.TUNE, 0)
    assert [j.name for j in jobs] == [name for name, _ in tuning.tune_sources()]
    assert len({j.name for j in jobs}) == len(jobs)
    assert {j.name for j in jobs}.isdisjoint(j.name for j in train_jobs())
    assert all(j.palette == TRAIN_PALETTE and j.split == "tune" for j in jobs)
    assert all(j.seed == piece_seed(j.name, 0) for j in jobs)
    assert corpus._jobs(corpus.TUNE, 1)[0].seed != jobs[0].seed


def test_a_style_library_is_read_for_its_groove_and_time(tmp_path: Path) -> None:
    folder = tmp_path / "casio"
    folder.mkdir()
    (folder / "kwela.mma").write_text("Time 4\nDefGroove Kwela\n")
    (folder / "mywaltz.mma").write_text("Time 3\nDefGroove MyWaltz\n")  # banned name
    (folder / "odd.mma").write_text("Time 5\nDefGroove Odd\n")  # no 5/4 grooves
    (folder / "kwelaintro.mma").write_text("Time 4\nDefGroove KwelaIntro\n")
    (folder / "again.mma").write_text("Time 4\nDefGroove Kwela\n")  # a groove once
    styles = tuning._styles(tmp_path)
    assert [(s.groove, s.time, s.meter) for s in styles] == [("Kwela", 4, "4/4")]
