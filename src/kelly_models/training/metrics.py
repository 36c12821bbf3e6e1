"""Task metrics on numpy arrays, and the trivial baselines each model must beat.

Pure numpy (no torch), so they are tested on hand-worked examples. Every function takes
flattened frames: ``(N, features)`` arrays, one row per (sequence, step) that counts.

========================  ==========================================================
metric                    meaning
========================  ==========================================================
:func:`f1_score`          micro F1 of multi-label predictions (melody notes)
:func:`top_k_accuracy`    share of frames whose true class is in the k most probable
:func:`ccc`               Lin's concordance correlation coefficient of two series
:func:`r2_score`          coefficient of determination, 1 - SSE / SST
:func:`mean_squared_error` mean over every value
========================  ==========================================================
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from kelly_core.errors import SpecError

__all__ = [
    "ccc",
    "f1_score",
    "frequency_prior",
    "mean_absolute_error",
    "mean_squared_error",
    "most_frequent_classes",
    "prior_top_k_notes",
    "r2_score",
    "top_k_accuracy",
    "top_k_labels",
]

_Array = npt.NDArray[np.floating] | npt.NDArray[np.bool_]


def _same_shape(a: npt.NDArray[np.generic], b: npt.NDArray[np.generic]) -> None:
    if a.shape != b.shape:
        raise SpecError(
            f"predictions and targets differ in shape; expected {b.shape}, got {a.shape}",
            field="predictions",
            expected=b.shape,
            got=a.shape,
        )


def f1_score(predicted: _Array, actual: _Array, *, threshold: float = 0.5) -> float:
    """Return the micro F1 of multi-label predictions, in [0, 1].

    Values ``>= threshold`` count as "on" (booleans are used as they are). Counts are
    summed over every frame and label. When nothing is on in either array the prediction
    is perfect and the score is 1.

    :param predicted: ``(N, labels)`` probabilities or booleans.
    :param actual: ``(N, labels)`` targets (0/1 or booleans).
    """
    _same_shape(predicted, actual)
    p: npt.NDArray[np.bool_] = np.asarray(
        predicted if predicted.dtype == np.bool_ else predicted >= threshold, dtype=np.bool_
    )
    a: npt.NDArray[np.bool_] = np.asarray(
        actual if actual.dtype == np.bool_ else actual >= 0.5, dtype=np.bool_
    )
    true_pos = int(np.count_nonzero(p & a))
    false_pos = int(np.count_nonzero(p & ~a))
    false_neg = int(np.count_nonzero(~p & a))
    denominator = 2 * true_pos + false_pos + false_neg
    if denominator == 0:
        return 1.0
    return 2.0 * true_pos / denominator


def top_k_accuracy(
    probabilities: npt.NDArray[np.floating], labels: npt.NDArray[np.integer], k: int
) -> float:
    """Return the share of rows whose label is among the ``k`` highest scores, in [0, 1].

    Ties are broken towards the lower class index (a stable sort of the negated scores).

    :param probabilities: ``(N, classes)`` scores.
    :param labels: ``(N,)`` true class indices.
    """
    if probabilities.ndim != 2 or labels.shape != (probabilities.shape[0],):
        raise SpecError(
            "expected scores (N, classes) and labels (N,)",
            field="labels",
            expected=(probabilities.shape[0],),
            got=labels.shape,
        )
    if len(labels) == 0:
        return float("nan")
    order = np.argsort(-probabilities, axis=1, kind="stable")[:, :k]
    return float(np.mean(np.any(order == labels[:, None], axis=1)))


def ccc(predicted: npt.NDArray[np.floating], actual: npt.NDArray[np.floating]) -> float:
    """Return Lin's concordance correlation coefficient of two 1-D series, in [-1, 1].

    ``2 cov / (var_p + var_a + (mean_p - mean_a)^2)``, population moments. Two identical
    constant series agree perfectly (1); a constant prediction of a varying series gives 0.
    """
    _same_shape(predicted, actual)
    p = predicted.astype(np.float64).ravel()
    a = actual.astype(np.float64).ravel()
    if p.size == 0:
        return float("nan")
    mean_p, mean_a = p.mean(), a.mean()
    covariance = float(np.mean((p - mean_p) * (a - mean_a)))
    denominator = float(p.var() + a.var() + (mean_p - mean_a) ** 2)
    if denominator == 0.0:
        return 1.0
    return 2.0 * covariance / denominator


def r2_score(predicted: npt.NDArray[np.floating], actual: npt.NDArray[np.floating]) -> float:
    """Return 1 - SSE / SST over every value (SST around each column's mean); at most 1.

    ``(N, features)`` or ``(N,)``. Predicting each column's mean scores 0. A constant
    target predicted exactly scores 1 (0 if predicted with any error).
    """
    _same_shape(predicted, actual)
    p = predicted.astype(np.float64)
    a = actual.astype(np.float64)
    if a.size == 0:
        return float("nan")
    sse = float(np.sum((p - a) ** 2))
    sst = float(np.sum((a - a.mean(axis=0)) ** 2))
    if sst == 0.0:
        return 1.0 if sse == 0.0 else 0.0
    return 1.0 - sse / sst


def mean_squared_error(
    predicted: npt.NDArray[np.floating], actual: npt.NDArray[np.floating]
) -> float:
    """Return the mean of the squared differences over every value."""
    _same_shape(predicted, actual)
    return float(np.mean((predicted.astype(np.float64) - actual.astype(np.float64)) ** 2))


def mean_absolute_error(
    predicted: npt.NDArray[np.floating], actual: npt.NDArray[np.floating]
) -> float:
    """Return the mean of the absolute differences over every value."""
    _same_shape(predicted, actual)
    return float(np.mean(np.abs(predicted.astype(np.float64) - actual.astype(np.float64))))


def frequency_prior(targets: npt.NDArray[np.floating]) -> npt.NDArray[np.float64]:
    """Return how often each label is on in ``targets`` ``(N, labels)``: ``(labels,)`` in [0, 1]."""
    if targets.ndim != 2 or targets.shape[0] == 0:
        raise SpecError(
            "expected a non-empty (N, labels) array", field="targets", got=targets.shape
        )
    return np.asarray(np.mean(targets >= 0.5, axis=0), dtype=np.float64)


def prior_top_k_notes(prior: npt.NDArray[np.floating], rows: int, k: int) -> npt.NDArray[np.bool_]:
    """Return the note-frequency baseline: the ``k`` most frequent labels on in every row.

    :param prior: ``(labels,)`` frequencies from :func:`frequency_prior` on training data.
    :param rows: Number of frames to predict.
    :param k: Labels turned on per frame (typically the mean number on in training).
    """
    on = np.zeros(prior.shape, dtype=np.bool_)
    if k > 0:
        on[np.argsort(-prior, kind="stable")[:k]] = True
    return np.broadcast_to(on, (rows, prior.shape[0])).copy()


def top_k_labels(scores: npt.NDArray[np.floating], k: int) -> npt.NDArray[np.bool_]:
    """Return the ``k`` highest-scoring labels of each row turned on: ``(N, labels)`` booleans.

    Ties go to the lower label index. The model-side twin of :func:`prior_top_k_notes`:
    both predict exactly ``k`` notes a frame, so their F1 scores compare like for like.
    """
    on = np.zeros(scores.shape, dtype=np.bool_)
    if k > 0 and scores.size:
        order = np.argsort(-scores, axis=1, kind="stable")[:, :k]
        np.put_along_axis(on, order, True, axis=1)
    return on


def most_frequent_classes(labels: npt.NDArray[np.integer], classes: int) -> npt.NDArray[np.float64]:
    """Return class frequencies ``(classes,)`` of ``labels``: the most-frequent-class baseline.

    Used as scores for every frame, its top-1 is the most frequent class and its top-5 the
    five most frequent.
    """
    counts = np.bincount(labels.astype(np.int64), minlength=classes)[:classes]
    total = counts.sum()
    if not total:
        return np.full(classes, 1.0 / classes)
    return np.asarray(counts / total, dtype=np.float64)
