"""The baselines every model is set beside, fitted on the training split only.

=============  ==============================================================================
task           baselines (name: what it predicts for every held-out frame)
=============  ==============================================================================
``classes``    ``unigram``: the training chord frequencies (one pseudo-count per class);
               ``bigram``: the training frequencies of the chord following the previous chord
               (read from the input's previous-chord half), with one pseudo-count spread by
               the unigram (a Dirichlet prior, so an unseen previous chord falls back to it)
``notes``      ``prior``: each pitch's training frequency (the k most frequent pitches on);
               ``emotion_bin``: the pitch frequencies of the training frames whose decoded
               emotion (the melody context's coarse code) falls in the same cell of a 5×5
               valence×arousal grid (the prior where a cell is empty);
               ``previous``: a melodic bigram, the pitch frequencies of the training frames
               whose previous beat had the same top pitch (read from the melody context;
               a rest is a state of its own), with one pseudo-frame of the prior
``emotion``,   ``mean``: the mean training target frame
``regression``
=============  ==============================================================================

A baseline is plain arrays, saved beside a run's metrics (:meth:`Baseline.to_dict`), so
``kelly evaluate`` scores a model on another collection against the baselines of the data
it was trained on.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Final, TypeAlias

import attrs
import numpy as np

from kelly_core.arrays import FloatArray

__all__ = ["EMOTION_BINS", "Baseline", "emotion_bins"]

EMOTION_BINS: Final = 5
"""Cells per axis of the valence×arousal grid of the ``emotion_bin`` baseline."""
_CHORD_SIZE: Final = 64
_CONTEXT_SIZE: Final = 128
_PITCH_STATES: Final = 129

EmotionDecoder: TypeAlias = Callable[[FloatArray], FloatArray]


def emotion_bins(valence_arousal: np.ndarray) -> np.ndarray:
    """Return the grid cell ``(N,)`` in ``0..24`` of ``(N, 2)`` (valence, arousal) in [-1, 1]."""
    va = np.asarray(valence_arousal, dtype=np.float64)
    cells = np.clip(np.floor((va + 1.0) / 2.0 * EMOTION_BINS), 0, EMOTION_BINS - 1).astype(int)
    result: np.ndarray = cells[:, 0] * EMOTION_BINS + cells[:, 1]
    return result


def _decode(inputs: FloatArray) -> FloatArray:
    """(valence, arousal) ``(N, 2)`` of melody contexts ``(N, 64)``: their coarse code."""
    from kelly_core.encodings.context import MELODY_EMOTION
    from kelly_core.encodings.emotion import decode_coarse_emotions

    return decode_coarse_emotions(np.ascontiguousarray(inputs[:, MELODY_EMOTION], dtype=np.float32))


def _previous_pitches(inputs: FloatArray) -> np.ndarray:
    from kelly_core.encodings.context import previous_top_pitches

    return previous_top_pitches(inputs)


def _array(value: object) -> FloatArray | None:
    return None if value is None else np.asarray(value, dtype=np.float32)


@attrs.frozen(kw_only=True, eq=False)
class Baseline:
    """Statistics of the training split that the baselines predict from."""

    mean: FloatArray
    """Mean target frame ``(out,)``: the ``mean`` baseline (and the notes prior)."""
    active: int
    """Mean number of labels on per frame, rounded (notes baselines turn this many on)."""
    unigram: FloatArray | None = None
    """``(64,)`` smoothed chord frequencies (chord tasks)."""
    bigram: FloatArray | None = None
    """``(64, 64)``: row = previous chord, the smoothed distribution of the next one."""
    bins: FloatArray | None = None
    """``(25, out)`` per-cell label frequencies of the ``emotion_bin`` baseline (notes)."""
    previous: FloatArray | None = None
    """``(129, out)``: row = previous beat's top pitch (128 = rest), the ``previous``
    baseline's label frequencies (notes)."""

    @classmethod
    def fit(
        cls,
        targets: FloatArray,
        inputs: FloatArray | None = None,
        *,
        kind: str = "regression",
        decoder: EmotionDecoder = _decode,
    ) -> Baseline:
        """Fit every baseline of ``kind`` on training frames ``(N, in)`` -> ``(N, out)``.

        Without ``inputs`` only the input-free baselines (mean, prior, unigram) are fitted.
        """
        mean = targets.mean(axis=0, dtype=np.float64).astype(np.float32)
        active = round(float(np.mean(np.sum(targets >= 0.5, axis=1)))) if len(targets) else 0
        unigram = bigram = bins = previous = None
        if kind == "classes":
            classes = targets.shape[1]
            counts = targets.sum(axis=0, dtype=np.float64)
            unigram = ((counts + 1.0) / (counts.sum() + classes)).astype(np.float32)
            if inputs is not None and inputs.shape[1] == _CONTEXT_SIZE and classes == _CHORD_SIZE:
                previous = np.argmax(inputs[:, _CHORD_SIZE:], axis=1)
                pair = np.zeros((classes, classes))
                np.add.at(pair, previous, targets.astype(np.float64))
                smoothed = pair + unigram[None, :]
                bigram = (smoothed / smoothed.sum(axis=1, keepdims=True)).astype(np.float32)
        elif kind == "notes" and inputs is not None and inputs.shape[1] >= 64 and len(targets):
            cells = emotion_bins(decoder(inputs))
            on = (targets >= 0.5).astype(np.float64)
            sums = np.zeros((EMOTION_BINS**2, targets.shape[1]))
            np.add.at(sums, cells, on)
            frames = np.bincount(cells, minlength=EMOTION_BINS**2)[:, None].astype(np.float64)
            prior = on.mean(axis=0)
            # one pseudo-frame of the prior per cell: an empty cell predicts the prior
            bins = ((sums + prior) / (frames + 1.0)).astype(np.float32)
            if inputs.shape[1] == 64:
                states = _previous_pitches(inputs)
                after = np.zeros((_PITCH_STATES, targets.shape[1]))
                np.add.at(after, states, on)
                seen = np.bincount(states, minlength=_PITCH_STATES)[:, None].astype(np.float64)
                previous = ((after + prior) / (seen + 1.0)).astype(np.float32)
        return cls(
            mean=mean, active=active, unigram=unigram, bigram=bigram, bins=bins, previous=previous
        )

    def predict_bigram(self, inputs: FloatArray) -> FloatArray | None:
        """The bigram's distributions ``(N, 64)`` for harmony contexts, or None if unfitted."""
        if self.bigram is None or inputs.shape[1] != _CONTEXT_SIZE:
            return None
        return np.ascontiguousarray(self.bigram[np.argmax(inputs[:, _CHORD_SIZE:], axis=1)])

    def predict_bins(
        self, inputs: FloatArray, decoder: EmotionDecoder = _decode
    ) -> FloatArray | None:
        """The emotion-bin lookup's label frequencies ``(N, out)``, or None if unfitted."""
        if self.bins is None or inputs.shape[1] < 64:
            return None
        return np.ascontiguousarray(self.bins[emotion_bins(decoder(inputs))])

    def predict_previous(self, inputs: FloatArray) -> FloatArray | None:
        """The melodic bigram's label frequencies ``(N, out)``, or None if unfitted."""
        if self.previous is None or inputs.shape[1] != 64:
            return None
        return np.ascontiguousarray(self.previous[_previous_pitches(inputs)])

    def to_dict(self) -> dict[str, object]:
        """Return the baseline as JSON-ready lists (read back by :meth:`from_dict`)."""
        out: dict[str, object] = {"mean": self.mean.tolist(), "active": self.active}
        for name in ("unigram", "bigram", "bins", "previous"):
            value = getattr(self, name)
            if value is not None:
                out[name] = np.round(value.astype(np.float64), 7).tolist()
        return out

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> Baseline:
        """Rebuild a baseline written by :meth:`to_dict`.

        :raises ValueError: If ``mean`` or ``active`` is missing.
        """
        if "mean" not in data or "active" not in data:
            raise ValueError("a baseline needs 'mean' and 'active'")
        mean = np.asarray(data["mean"], dtype=np.float32)
        return cls(
            mean=mean,
            active=int(data["active"]),  # type: ignore[call-overload]  # JSON number
            unigram=_array(data.get("unigram")),
            bigram=_array(data.get("bigram")),
            bins=_array(data.get("bins")),
            previous=_array(data.get("previous")),
        )
