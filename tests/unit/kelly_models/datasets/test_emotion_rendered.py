"""The EmotionRecognizer's rendered training music keeps clear of the probe's pieces, and
``synthetic-emotion`` mixes its sources as asked.

kelly_models cannot import the probe (a benchmark, not part of the package), so this test
holds the rule of :mod:`kelly_models.datasets.emotion_rendered` against
``tests.benchmarks.emotion_probe``.
"""

from __future__ import annotations

import numpy as np
import pytest

from kelly_core.errors import DatasetError
from kelly_core.records import Example
from kelly_core.registry import default_registry
from kelly_models.datasets.emotion_data import MixedDataset, open_emotion
from kelly_models.datasets.emotion_rendered import _pick, train_pieces
from kelly_models.datasets.inspect import check_known_options, read_options
from kelly_models.listening.charts import Style
from kelly_models.listening.scores import ScoreSpec
from kelly_models.listening.trainset import TRAIN_SCORES, TRAIN_STYLES
from tests.benchmarks.emotion_probe import PROBE_PIECES


def _folder(path: str) -> str:
    return path.split("/")[0]


def test_every_listening_train_piece_is_in_the_pool_once() -> None:
    pool = train_pieces()
    assert len(pool) == len(TRAIN_SCORES) + len(TRAIN_STYLES)
    assert len({name for name, _ in pool}) == len(pool)
    assert {s for _, s in pool if isinstance(s, Style)} == set(TRAIN_STYLES)


def test_no_probe_composer_corpus_folder_or_groove_trains() -> None:
    """The probe's composers, music21 folders and mma grooves are none of the pool's."""
    pool = [source for _, source in train_pieces()]
    probe = [source for _, source in PROBE_PIECES]
    train_scores = [s for s in pool if isinstance(s, ScoreSpec)]
    probe_scores = [s for s in probe if isinstance(s, ScoreSpec)]
    assert len(probe_scores) >= 4
    assert not {s.composer for s in train_scores} & {s.composer for s in probe_scores}
    assert not {_folder(s.path) for s in train_scores} & {_folder(s.path) for s in probe_scores}
    train_grooves = {s.groove.lower() for s in pool if isinstance(s, Style)}
    probe_grooves = {s.groove.lower() for s in probe if isinstance(s, Style)}
    assert len(probe_grooves) >= 4
    assert not train_grooves & probe_grooves


def test_the_probe_has_at_least_eight_pieces_of_both_kinds() -> None:
    assert len(PROBE_PIECES) >= 8
    assert len({name for name, _ in PROBE_PIECES}) == len(PROBE_PIECES)


def test_pick_alternates_scores_and_grooves_and_depends_on_the_seed() -> None:
    first = _pick(10, 0)
    kinds = [isinstance(s, ScoreSpec) for _, s in first]
    assert kinds == [True, False] * 5
    assert [n for n, _ in _pick(10, 1)] != [n for n, _ in first]
    assert [n for n, _ in _pick(4, 0)] == [n for n, _ in first[:4]]


def test_synthetic_only_is_the_generated_items() -> None:
    data = open_emotion(items=3, steps=4, sources=("synthetic",), seed=5)
    assert len(data) == 3
    assert data[0].source.startswith("synthetic-emotion:5:0")
    assert data[-1].source == data[2].source
    with pytest.raises(IndexError):
        data[3]


@pytest.mark.parametrize("sources", [(), ("audio",), ("synthetic", "midi")])
def test_unknown_or_no_source_is_refused_naming_the_option(sources: tuple[str, ...]) -> None:
    with pytest.raises(DatasetError, match="expected one or both of synthetic, rendered") as info:
        open_emotion(items=2, sources=sources)
    assert info.value.field == "--option sources"


def test_out_of_range_pieces_are_refused() -> None:
    with pytest.raises(DatasetError, match="option 'pieces'"):
        open_emotion(items=2, pieces=0)


class _Fixed:
    def __init__(self, tag: str, count: int) -> None:
        self.tag, self.count = tag, count
        self.model_name = "EmotionRecognizer"
        self.skipped = ()

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> Example:
        values = np.full((2, 1), index, dtype=np.float32)
        return Example(inputs=values, targets=values, source=f"{self.tag}{index}", split="train")


def test_mixed_dataset_counts_through_its_parts_in_order() -> None:
    mixed = MixedDataset("EmotionRecognizer", [_Fixed("a", 2), _Fixed("b", 3)], name="m")
    assert len(mixed) == 5
    assert [mixed[i].source for i in range(5)] == ["a0", "a1", "b0", "b1", "b2"]
    assert mixed[-1].source == "b2"
    with pytest.raises(IndexError):
        mixed[5]


def test_kelly_train_reads_the_emotion_options_as_declared() -> None:
    """``-O sources=... -O pieces=N`` reach synthetic-emotion typed; the other synthetic
    readers get only the keys they declare; a bad value names the option."""
    registry = default_registry()
    texts = {"sources": "synthetic,rendered", "pieces": "3", "render_seed": "2", "items": "5"}
    check_known_options(registry, texts)
    assert read_options(registry, "synthetic-emotion", texts) == {
        "sources": ("synthetic", "rendered"),
        "pieces": 3,
        "render_seed": 2,
        "items": 5,
    }
    assert read_options(registry, "synthetic-groove", texts, only_declared=True) == {"items": 5}
    with pytest.raises(DatasetError, match="option 'pieces'"):
        read_options(registry, "synthetic-emotion", {"pieces": "0"})
