"""What "good" means for each model: its loss, its task metrics and its trivial baseline.

========================  ==============================  =================================
task                      loss                            metrics (baseline)
========================  ==============================  =================================
``emotion``               MSE on the 64-value code        valence/arousal MAE and CCC after
                                                          decoding (predict the training mean)
``notes``                 binary cross-entropy            note F1 of the k most probable
                                                          pitches a frame, k = mean notes
                                                          per training frame (the k most
                                                          frequent training pitches); also
                                                          F1 at threshold 0.5
``classes``               cross-entropy (log_softmax of   top-1/top-5 (most frequent
                          the logits, or log of clamped   training chords)
                          probabilities) vs the target
                          distribution
``regression``            MSE                             R², MAE (the training mean)
========================  ==============================  =================================

:func:`task_for` picks the task from the spec: ``output_name`` ``"emotion"`` (size 64),
``"notes"``, or a final softmax; anything else is regression, so a third-party model
trains with no new code.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
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

__all__ = ["PROBABILITY_FLOOR", "Baseline", "Task", "TaskKind", "task_for"]

TaskKind: TypeAlias = Literal["emotion", "notes", "classes", "regression"]

PROBABILITY_FLOOR: Final = 1e-7
"""Probabilities are clamped to [floor, 1] before the log: a softmax output that
underflows to 0 gives a finite loss (-log 1e-7 ~ 16.1) instead of inf."""

EmotionDecoder: TypeAlias = Callable[[FloatArray], FloatArray]


@attrs.frozen(kw_only=True)
class Baseline:
    """Statistics of the training targets that the trivial baseline predicts from."""

    mean: FloatArray
    """Mean target frame ``(out,)``: the regression and emotion baseline."""
    active: int
    """Mean number of labels on per frame, rounded (notes baseline)."""

    @classmethod
    def fit(cls, targets: FloatArray) -> Baseline:
        """Compute the statistics from training targets ``(N, out)``."""
        mean = targets.mean(axis=0, dtype=np.float64).astype(np.float32)
        active = round(float(np.mean(np.sum(targets >= 0.5, axis=1)))) if len(targets) else 0
        return cls(mean=mean, active=active)


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
        self, predictions: FloatArray, targets: FloatArray, baseline: Baseline
    ) -> dict[str, float]:
        """Return the task metrics and the baseline's, as ``name`` and ``baseline_name``.

        :param predictions: Model outputs ``(N, out)`` on held-out frames.
        :param targets: Their targets ``(N, out)``.
        :param baseline: Training-target statistics (see :class:`Baseline`).
        """
        rows = targets.shape[0]
        scores: dict[str, float] = {"loss": self.numpy_loss(predictions, targets)}
        if self.kind == "notes":
            prior = baseline.mean.astype(np.float64)
            soft = np.clip(prior, 1e-4, 1 - 1e-4).astype(np.float32)
            guess = np.broadcast_to(soft, targets.shape).copy()
            scores["baseline_loss"] = self.numpy_loss(guess, targets)
            scores["note_f1_at_half"] = m.f1_score(predictions, targets)
            prior_guess = m.prior_top_k_notes(prior, rows, baseline.active)
            scores["note_f1"] = m.f1_score(m.top_k_labels(predictions, baseline.active), targets)
            scores["baseline_note_f1"] = m.f1_score(prior_guess, targets)
            return scores
        mean_guess = np.broadcast_to(baseline.mean, targets.shape).copy()
        scores["baseline_loss"] = self.numpy_loss(mean_guess, targets)
        if self.kind == "classes":
            labels = np.argmax(targets, axis=1)
            freq = np.broadcast_to(baseline.mean.astype(np.float64), targets.shape)
            for k in (1, 5):
                scores[f"top{k}"] = m.top_k_accuracy(predictions, labels, k)
                scores[f"baseline_top{k}"] = m.top_k_accuracy(freq, labels, k)
            return scores
        scores["mse"] = m.mean_squared_error(predictions, targets)
        scores["baseline_mse"] = m.mean_squared_error(mean_guess, targets)
        scores["r2"] = m.r2_score(predictions, targets)
        scores["baseline_r2"] = m.r2_score(mean_guess, targets)
        if self.kind == "emotion":
            decode = self.decode_emotion()
            truth = decode(targets)
            for name, guess in (("", predictions), ("baseline_", mean_guess)):
                va = decode(np.ascontiguousarray(guess, dtype=np.float32))
                for axis, label in enumerate(("valence", "arousal")):
                    scores[f"{name}{label}_mae"] = m.mean_absolute_error(
                        va[:, axis], truth[:, axis]
                    )
                    scores[f"{name}{label}_ccc"] = m.ccc(va[:, axis], truth[:, axis])
                scores[f"{name}ccc"] = (
                    scores[f"{name}valence_ccc"] + scores[f"{name}arousal_ccc"]
                ) / 2
        else:
            scores["mae"] = m.mean_absolute_error(predictions, targets)
            scores["baseline_mae"] = m.mean_absolute_error(mean_guess, targets)
        return scores


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
