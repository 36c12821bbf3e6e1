"""The "strongest baseline", said one way in ``kelly train`` and ``kelly evaluate``.

The strongest baseline is the best baseline value of each metric: the lowest loss and the
highest headline metric, each named by the baseline that holds it. When the unigram has
the lowest loss and the bigram the best top-1, neither is called "the strongest" alone.
"""

from __future__ import annotations

import math
from pathlib import Path

from kelly_models.training.evaluate_command import Evaluation, format_evaluations
from kelly_models.training.report import ModelReport, strongest_of
from kelly_models.training.summary import baseline_table, verdict_line

SPLIT = {
    "loss": 2.0,
    "top1": 0.30,
    "unigram_loss": 2.1,
    "unigram_top1": 0.20,
    "bigram_loss": 2.6,
    "bigram_top1": 0.35,
    "baseline_loss": 2.1,
    "baseline_top1": 0.35,
}
"""The unigram has the lowest loss, the bigram the best top-1; the model beats neither
on both."""


def _evaluation(scores: dict[str, float]) -> Evaluation:
    return Evaluation(
        model="HarmonyPredictor",
        file=Path("harmonypredictor.json"),
        dataset="chords",
        headline="top1",
        baseline="bigram",
        baseline_source="training run",
        tonal_reference="tonic",
        scores=scores,
    )


def _report(scores: dict[str, float]) -> ModelReport:
    return ModelReport(
        model="HarmonyPredictor",
        dataset="chords",
        synthetic=False,
        epochs=3,
        best_epoch=1,
        stopped_early=False,
        train_loss=1.0,
        val_loss=1.0,
        test=scores,
        headline="top1",
        baseline="bigram",
        baselines=("unigram", "bigram"),
        parameters=10,
        file=Path("harmonypredictor.json"),
        file_bytes=100,
        seconds=1.0,
        epoch_seconds=0.5,
    )


def test_strongest_of_each_metric() -> None:
    assert strongest_of(SPLIT, ["unigram", "bigram"], "loss", lower=True) == "unigram"
    assert strongest_of(SPLIT, ["unigram", "bigram"], "top1", lower=False) == "bigram"
    tie = {"a_loss": 1.0, "b_loss": 1.0, "c_loss": math.nan}
    assert strongest_of(tie, ["c", "a", "b"], "loss", lower=True) == "a"
    assert strongest_of({"c_loss": math.nan}, ["c"], "loss", lower=True) is None


def test_evaluate_names_the_strongest_of_each_metric() -> None:
    """The table marks the unigram as the strongest in loss and the bigram in top-1, the
    verdict names both with their values, and the definition is printed."""
    evaluation = _evaluation(SPLIT)
    assert evaluation.loss_baseline == "unigram"
    assert evaluation.to_dict()["loss_baseline"] == "unigram"
    assert not evaluation.beats_baseline  # loss 2.0 < 2.1 but top1 0.30 < 0.35
    text = format_evaluations([evaluation])
    assert "  unigram (strongest loss) " in text
    assert "  bigram (strongest top1) " in text
    assert (
        "  -> does NOT beat its strongest baseline: top1 0.300 vs 0.350 (bigram), "
        "loss 2.0000 vs 2.1000 (unigram)\n"
    ) in text
    assert "the lowest loss and the highest top1" in text


def test_one_baseline_holding_both_is_the_strongest() -> None:
    scores = {**SPLIT, "unigram_loss": 2.7, "baseline_loss": 2.6, "top1": 0.4}
    evaluation = _evaluation(scores)
    assert evaluation.beats_baseline
    text = format_evaluations([evaluation])
    assert "  bigram (strongest) " in text
    assert "unigram (strongest" not in text
    assert "-> beats its strongest baseline: top1 0.400 vs 0.350 (bigram), loss" in text


def test_train_summary_says_the_same() -> None:
    """``kelly train``'s baseline table and verdict name the baseline of each value."""
    report = _report(SPLIT)
    assert report.loss_baseline == "unigram"
    table = baseline_table([report])
    assert "unigram (strongest loss)" in table
    assert "bigram (strongest top1)" in table
    assert verdict_line([report]) == (
        "NOT better than the strongest baseline: HarmonyPredictor (top1 0.300 vs bigram "
        "0.350, loss 2.0000 vs unigram 2.1000)"
    )
