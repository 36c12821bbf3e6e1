"""Tests for kelly_models.training.sequences."""

from __future__ import annotations

import attrs
import numpy as np
import pytest
import torch

from kelly_core.errors import DatasetError
from kelly_core.records import Example
from kelly_models.training.sequences import (
    MIN_SPLIT_FILES,
    SequenceSet,
    collate,
    file_of,
    fold_splits,
    load_examples,
    split_examples,
)
from tests.unit.kelly_models.training.helpers import TinyDataset, tiny_examples, tiny_spec

SPEC = tiny_spec()


class TestCollate:
    def test_pads_and_masks(self) -> None:
        """Shorter sequences are zero-padded and masked out."""
        data = SequenceSet.from_examples(tiny_examples(SPEC, 3, length=6))  # lengths 6, 5, 4
        batch = collate(data, [2, 0])
        assert batch.inputs.shape == (2, 6, SPEC.input_size)
        assert batch.mask.sum(dim=1).tolist() == [4.0, 6.0]
        assert torch.equal(batch.inputs[0, 4:], torch.zeros(2, SPEC.input_size))
        np.testing.assert_array_equal(batch.targets[1].numpy(), data.targets[0])


class TestLoadExamples:
    def test_max_items(self) -> None:
        """max_items reads only the first N examples."""
        dataset = TinyDataset(tiny_examples(SPEC, 5))
        assert len(load_examples(dataset, SPEC, max_items=2)) == 2
        assert len(load_examples(dataset, SPEC)) == 5

    def test_wrong_size(self) -> None:
        """An example that does not fit the spec raises DatasetError."""
        other = tiny_spec(in_size=3)
        dataset = TinyDataset(tiny_examples(other, 1))
        with pytest.raises(DatasetError, match="does not fit"):
            load_examples(dataset, SPEC)

    def test_item_that_is_not_an_example(self) -> None:
        """A plugin's ``(inputs, targets)`` tuple is a one-line DatasetError, not an
        AttributeError deep in training."""
        good = tiny_examples(SPEC, 2)
        items: list[object] = [good[0], (good[1].inputs, good[1].targets)]
        dataset = TinyDataset(items)  # type: ignore[arg-type]
        with pytest.raises(DatasetError) as info:
            load_examples(dataset, SPEC)
        assert info.value.field == "[1]"
        assert str(info.value).startswith("[1]: the dataset returned a tuple for item 1")


class TestSplit:
    def test_carves_validation_and_test(self) -> None:
        """Unsplit data is divided by val_split, deterministically, without overlap."""
        examples = tiny_examples(SPEC, 20)
        splits = split_examples(examples, val_split=0.15, seed=0)
        sizes = {k: len(v) for k, v in splits.items()}
        assert sizes == {"train": 14, "validation": 3, "test": 3}
        sources = [e.source for v in splits.values() for e in v]
        assert sorted(sources) == sorted(e.source for e in examples)
        again = split_examples(examples, val_split=0.15, seed=0)
        assert [e.source for e in again["test"]] == [e.source for e in splits["test"]]

    def test_keeps_dataset_splits(self) -> None:
        """Splits marked by the dataset are used as they are."""
        examples = [
            *tiny_examples(SPEC, 4),
            *tiny_examples(SPEC, 2, split="validation"),
            *tiny_examples(SPEC, 1, split="test"),
        ]
        splits = split_examples(examples, val_split=0.15, seed=0)
        assert [len(splits[k]) for k in ("train", "validation", "test")] == [4, 2, 1]

    def test_missing_validation_taken_from_train(self) -> None:
        """A dataset with only train and test splits gets validation carved from train."""
        examples = [*tiny_examples(SPEC, 10), *tiny_examples(SPEC, 2, split="test")]
        splits = split_examples(examples, val_split=0.2, seed=0)
        # 20 % of 10 files is 2, raised to MIN_SPLIT_FILES (3) since there are >= 9
        assert [len(splits[k]) for k in ("train", "validation", "test")] == [7, 3, 2]

    def test_tiny_dataset_reuses(self) -> None:
        """One sequence trains and also serves as validation and test."""
        splits = split_examples(tiny_examples(SPEC, 1), val_split=0.15, seed=0)
        assert len(splits["train"]) == len(splits["validation"]) == len(splits["test"]) == 1

    def test_empty(self) -> None:
        """No examples at all raises DatasetError."""
        with pytest.raises(DatasetError, match="no training"):
            split_examples([], val_split=0.1, seed=0)


class TestFileSplits:
    def _by_file(self, files: int, per_file: int) -> list[Example]:
        out = []
        for f in range(files):
            for ex in tiny_examples(SPEC, per_file):
                out.append(attrs.evolve(ex, source=f"song{f}.json#{ex.source}"))
        return out

    def test_a_file_never_straddles_splits(self) -> None:
        examples = self._by_file(12, 3)
        splits = split_examples(examples, val_split=0.1, seed=0)
        seen = [{file_of(e) for e in splits[k]} for k in ("train", "validation", "test")]
        assert not seen[0] & seen[1]
        assert not seen[0] & seen[2]
        assert not seen[1] & seen[2]
        assert len(seen[1]) == len(seen[2]) == MIN_SPLIT_FILES  # 10 % of 12 raised to 3

    def test_warns_about_a_two_file_split(self, caplog: pytest.LogCaptureFixture) -> None:
        examples = [*tiny_examples(SPEC, 6), *tiny_examples(SPEC, 2, split="test")]
        split_examples(examples, val_split=0.3, seed=0)
        assert "the test split holds 2 files" in caplog.text

    def test_folds_cover_every_file_once(self) -> None:
        examples = self._by_file(10, 2)
        folds = fold_splits(examples, 5, val_split=0.15, seed=0)
        tested = [file_of(e) for fold in folds for e in fold["test"]]
        assert sorted(set(tested)) == sorted({file_of(e) for e in examples})
        assert len(tested) == len(examples)
        for fold in folds:
            assert not {file_of(e) for e in fold["test"]} & {file_of(e) for e in fold["train"]}
        with pytest.raises(DatasetError, match="needs at least 12 files"):
            fold_splits(examples, 6, val_split=0.15, seed=0)
