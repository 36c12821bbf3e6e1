"""What "good" means for each model: its loss, its task metrics and its trivial baseline.

========================  ==============================  =================================
task                      loss                            metrics (baselines)
========================  ==============================  =================================
``emotion``               MSE on the 64-value code        valence/arousal MAE and CCC after
                                                          decoding; song-level (static) R²
                                                          of valence and arousal (mean)
``notes``                 binary cross-entropy            note F1 of the k most probable
                                                          pitches a frame, k = mean notes
                                                          per training frame; F1 at 0.5;
                                                          distinct top-1 pitches (prior,
                                                          emotion_bin, previous)
``classes``               cross-entropy (log_softmax of   top-1/top-3/top-5, NLL in nats
                          the logits, or log of clamped   (unigram, bigram)
                          probabilities) vs the target
                          distribution
``regression``            MSE                             R², CCC, MAE (mean)
========================  ==============================  =================================

The baselines are fitted on the training split (:mod:`.baselines`); the strongest
baseline's value of each metric is reported as ``baseline_<metric>``.

:func:`task_for` picks the task from the spec: ``output_name`` ``"emotion"`` (size 64),
``"notes"``, or a final softmax; anything else is regression, so a third-party model
trains with no new code.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Final, Literal, TypeAlias

import attrs
import numpy as np
import numpy.typing as npt
import torch
import torch.nn.functional as F  # noqa: N812  # conventional alias

from kelly_core.arrays import FloatArray
from kelly_core.specs import ModelSpec
from kelly_models.training import metrics as m
from kelly_models.training.adapter import Outputs
from kelly_models.training.baselines import Baseline

__all__ = ["BASELINES", "PROBABILITY_FLOOR", "Baseline", "Task", "TaskKind", "task_for"]

TaskKind: TypeAlias = Literal["emotion", "notes", "classes", "regression"]

PROBABILITY_FLOOR: Final = 1e-7
"""Probabilities are clamped to [floor, 1] before the log: a softmax output that
underflows to 0 gives a finite loss (-log 1e-7 ~ 16.1) instead of inf."""

EmotionDecoder: TypeAlias = Callable[[FloatArray], FloatArray]


def _decoder() -> EmotionDecoder:
    from kelly_core.encodings.emotion import decode_emotions

    return decode_emotions


@attrs.frozen(kw_only=True)
class Task:
    """Loss and metrics of one model's task."""

    kind: TaskKind
    headline: str
    """The metric the summary compares with its baseline (higher is better)."""
    decode_emotion: Callable[[], EmotionDecoder] = _decoder
    """Returns the emotion-code decoder ``(N, 64) -> (N, 2)``; imported on first use."""

    def loss(self, outputs: Outputs, targets: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        """Return the mean loss over the masked steps.

        :param outputs: Model outputs ``(B, T, out)`` (with logits when available).
        :param targets: ``(B, T, out)``.
        :param mask: ``(B, T)``, 1.0 on steps that count.
        """
        per_step = self.step_losses(outputs, targets)
        return (per_step * mask).sum() / mask.sum().clamp_min(1.0)

    def step_losses(self, outputs: Outputs, targets: torch.Tensor) -> torch.Tensor:
        """Return the loss of every step, ``(B, T)``.

        Uses the logits when the model exposes them (``log_softmax``, BCE with logits);
        otherwise the probabilities, clamped to [:data:`PROBABILITY_FLOOR`, 1].
        """
        logits = None if outputs.logits is None else outputs.logits.float()
        values = outputs.values.float()
        if self.kind == "notes":
            if logits is not None:
                return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(
                    -1
                )
            return F.binary_cross_entropy(values.clamp(0.0, 1.0), targets, reduction="none").mean(
                -1
            )
        if self.kind == "classes":
            if logits is not None:
                logs = F.log_softmax(logits, dim=-1)
            else:
                logs = values.clamp(PROBABILITY_FLOOR, 1.0).log()
            return -(targets * logs).sum(dim=-1)
        return ((values - targets) ** 2).mean(dim=-1)

    def numpy_loss(self, outputs: FloatArray, targets: FloatArray) -> float:
        """The same loss on numpy frames ``(N, out)`` (used to score the baseline)."""
        with torch.no_grad():
            losses = self.step_losses(Outputs(torch.from_numpy(outputs)), torch.from_numpy(targets))
        return float(losses.double().mean()) if losses.numel() else math.nan

    def evaluate(
        self,
        predictions: FloatArray,
        targets: FloatArray,
        baseline: Baseline,
        *,
        inputs: FloatArray | None = None,
        lengths: Sequence[int] | None = None,
    ) -> dict[str, float]:
        """Return the task metrics, each baseline's, and the strongest baseline's.

        A baseline's metric is ``<baseline>_<metric>`` (``bigram_top1``); the strongest value
        over the baselines is ``baseline_<metric>`` (``baseline_top1``, ``baseline_loss``).

        :param predictions: Model outputs ``(N, out)`` on held-out frames.
        :param targets: Their targets ``(N, out)``.
        :param baseline: Training-split statistics (see :class:`.baselines.Baseline`).
        :param inputs: The frames' inputs ``(N, in)``, for baselines that read them (bigram,
            emotion bins); without them those baselines are left out.
        :param lengths: Frames per sequence (in order), for song-level (static) emotion
            metrics.
        """
        scores: dict[str, float] = {"loss": self.numpy_loss(predictions, targets)}
        if self.kind == "notes":
            self._notes(scores, predictions, targets, baseline, inputs)
        elif self.kind == "classes":
            self._classes(scores, predictions, targets, baseline, inputs)
        else:
            self._regression(scores, predictions, targets, baseline, lengths)
        return scores

    def baseline_names(self, scores: Mapping[str, float]) -> list[str]:
        """The baselines present in ``scores``, in :data:`BASELINES` order."""
        return [b for b in BASELINES[self.kind] if f"{b}_{self.headline}" in scores]

    def strongest_baseline(self, scores: Mapping[str, float]) -> str:
        """The baseline with the best headline metric in ``scores`` (ties: the first)."""
        names = self.baseline_names(scores)
        if not names:
            return BASELINES[self.kind][0]
        return max(names, key=lambda b: _finite(scores[f"{b}_{self.headline}"]))

    def _best(self, scores: dict[str, float], metric: str, *, lower: bool = False) -> None:
        values = [
            scores[f"{b}_{metric}"] for b in BASELINES[self.kind] if f"{b}_{metric}" in scores
        ]
        finite = [v for v in values if math.isfinite(v)]
        if finite:
            scores[f"baseline_{metric}"] = min(finite) if lower else max(finite)
        elif values:
            scores[f"baseline_{metric}"] = math.nan

    def _notes(
        self,
        scores: dict[str, float],
        predictions: FloatArray,
        targets: FloatArray,
        baseline: Baseline,
        inputs: FloatArray | None,
    ) -> None:
        rows, k = targets.shape[0], baseline.active
        scores["note_f1_at_half"] = m.f1_score(predictions, targets)
        scores["note_f1"] = m.f1_score(m.top_k_labels(predictions, k), targets)
        scores["distinct_top1"] = float(len(np.unique(np.argmax(predictions, axis=1))))
        prior = baseline.mean.astype(np.float64)
        guesses: dict[str, FloatArray] = {
            "prior": np.broadcast_to(prior.astype(np.float32), targets.shape).copy()
        }
        if inputs is not None:
            for name, guess in (
                ("emotion_bin", baseline.predict_bins(inputs)),
                ("previous", baseline.predict_previous(inputs)),
            ):
                if guess is not None:
                    guesses[name] = guess
        for name, guess in guesses.items():
            soft = np.clip(guess, 1e-4, 1 - 1e-4).astype(np.float32)
            scores[f"{name}_loss"] = self.numpy_loss(soft, targets)
            on = (
                m.prior_top_k_notes(prior, rows, k) if name == "prior" else m.top_k_labels(guess, k)
            )
            scores[f"{name}_note_f1"] = m.f1_score(on, targets)
            scores[f"{name}_note_f1_at_half"] = m.f1_score(guess, targets)
        for metric in ("note_f1", "note_f1_at_half"):
            self._best(scores, metric)
        self._best(scores, "loss", lower=True)

    def _classes(
        self,
        scores: dict[str, float],
        predictions: FloatArray,
        targets: FloatArray,
        baseline: Baseline,
        inputs: FloatArray | None,
    ) -> None:
        labels = np.argmax(targets, axis=1)
        scores["nll"] = scores["loss"]
        unigram = baseline.unigram if baseline.unigram is not None else baseline.mean
        guesses: dict[str, FloatArray] = {
            "unigram": np.broadcast_to(unigram.astype(np.float32), targets.shape).copy()
        }
        bigram = None if inputs is None else baseline.predict_bigram(inputs)
        if bigram is not None:
            guesses["bigram"] = bigram
        for k in (1, 3, 5):
            scores[f"top{k}"] = m.top_k_accuracy(predictions, labels, k)
        for name, guess in guesses.items():
            scores[f"{name}_nll"] = self.numpy_loss(guess, targets)
            scores[f"{name}_loss"] = scores[f"{name}_nll"]
            for k in (1, 3, 5):
                scores[f"{name}_top{k}"] = m.top_k_accuracy(guess, labels, k)
        for metric in ("top1", "top3", "top5"):
            self._best(scores, metric)
        for metric in ("nll", "loss"):
            self._best(scores, metric, lower=True)

    def _regression(
        self,
        scores: dict[str, float],
        predictions: FloatArray,
        targets: FloatArray,
        baseline: Baseline,
        lengths: Sequence[int] | None,
    ) -> None:
        mean_guess = np.broadcast_to(baseline.mean, targets.shape).copy()
        for name, guess in (("", predictions), ("mean_", mean_guess)):
            if name:
                scores[f"{name}loss"] = self.numpy_loss(guess, targets)
            scores[f"{name}mse"] = m.mean_squared_error(guess, targets)
            scores[f"{name}r2"] = m.r2_score(guess, targets)
            if self.kind == "regression":
                scores[f"{name}mae"] = m.mean_absolute_error(guess, targets)
                scores[f"{name}ccc"] = _column_ccc(guess, targets)
        if self.kind == "emotion":
            decode = self.decode_emotion()
            truth = decode(targets)
            for name, guess in (("", predictions), ("mean_", mean_guess)):
                va = decode(np.ascontiguousarray(guess, dtype=np.float32))
                for axis, label in enumerate(("valence", "arousal")):
                    scores[f"{name}{label}_mae"] = m.mean_absolute_error(
                        va[:, axis], truth[:, axis]
                    )
                    scores[f"{name}{label}_ccc"] = m.ccc(va[:, axis], truth[:, axis])
                    if lengths is not None and len(lengths) >= 2:
                        songs_p, songs_t = (
                            _song_means(va[:, axis], lengths),
                            _song_means(truth[:, axis], lengths),
                        )
                        scores[f"{name}static_{label}_r2"] = m.r2_score(songs_p, songs_t)
                scores[f"{name}ccc"] = (
                    scores[f"{name}valence_ccc"] + scores[f"{name}arousal_ccc"]
                ) / 2
        for key in [k for k in scores if k.startswith("mean_")]:
            scores[f"baseline_{key[5:]}"] = scores[key]


def _finite(value: float) -> float:
    return value if math.isfinite(value) else -math.inf


def _column_ccc(predicted: FloatArray, actual: FloatArray) -> float:
    """Mean CCC over the columns of ``(N, out)`` arrays whose targets vary (NaN if none)."""
    values = [
        m.ccc(predicted[:, j], actual[:, j])
        for j in range(actual.shape[1])
        if float(np.var(actual[:, j])) > 0.0
    ]
    return float(np.mean(values)) if values else math.nan


def _song_means(values: np.ndarray, lengths: Sequence[int]) -> np.ndarray:
    bounds = np.cumsum([0, *lengths])
    return np.array([values[a:b].mean() for a, b in itertools.pairwise(bounds)])


BASELINES: Final[Mapping[TaskKind, tuple[str, ...]]] = {
    "emotion": ("mean",),
    "notes": ("prior", "emotion_bin", "previous"),
    "classes": ("unigram", "bigram"),
    "regression": ("mean",),
}
"""The baselines of each task (see :mod:`.baselines`)."""

_HEADLINE: Final[Mapping[TaskKind, str]] = {
    "emotion": "ccc",
    "notes": "note_f1",
    "classes": "top1",
    "regression": "r2",
}


def task_for(spec: ModelSpec, *, decoder: Callable[[], EmotionDecoder] | None = None) -> Task:
    """Return the task of a model, chosen from its spec (see the module docstring)."""
    last = spec.layers[-1]
    kind: TaskKind
    if spec.output_name == "emotion" and spec.output_size == 64:
        kind = "emotion"
    elif spec.output_name == "notes":
        kind = "notes"
    elif last.kind == "dense" and last.activation == "softmax":
        kind = "classes"
    else:
        kind = "regression"
    if decoder is None:
        return Task(kind=kind, headline=_HEADLINE[kind])
    return Task(kind=kind, headline=_HEADLINE[kind], decode_emotion=decoder)


def masked_rows(values: npt.NDArray[np.float32], mask: npt.NDArray[np.float32]) -> FloatArray:
    """Return the rows of ``values`` ``(B, T, F)`` where ``mask`` ``(B, T)`` is set: ``(N, F)``."""
    return np.ascontiguousarray(values[mask > 0.5], dtype=np.float32)
