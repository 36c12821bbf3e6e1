"""Fitting the beat tracker (:data:`kelly_core.listening.BEAT_TRACKER_SPEC`).

- **Items**: random crops of :attr:`BeatTrainConfig.crop` frames (12 s) from the training
  pieces, each followed by the :data:`~kelly_core.listening.LOOKAHEAD_FRAMES` frames after
  it (zeros past a piece's end); the loss is binary cross-entropy between the outputs
  shifted back by the look-ahead and the targets (:mod:`.corpus`), the downbeat column
  weighted :attr:`BeatTrainConfig.downbeat_weight` times the beat column (downbeats are
  a quarter to a third of the beats: their signal is sparser).
- **Optimiser**: Adam at :attr:`BeatTrainConfig.learning_rate`, halved when the validation
  score has not improved for two epochs, once the score has first reached 0.3 (before
  that the network predicts every frame at the targets' mean, for 4 to 8 epochs or
  more, and halving the rate there kept one run at the mean for 14 epochs); gradients
  clipped to norm 1.
- **Validation**: whole held-out pieces run forward; their beat activation decoded by the
  same decoder ``kelly generate`` uses (:func:`kelly_core.barpointer.decode_beats`) is
  scored by the beat F-measure (±70 ms, beats in the first 5 s ignored, as mir_eval
  does, :func:`beat_score`); the weights of the best epoch are kept.
- Deterministic for a seed on one machine (torch's CPU kernels, one thread per run).
"""

from __future__ import annotations

import contextlib
import logging
import zlib
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

import attrs
import numpy as np
import numpy.typing as npt
import torch

from kelly_core.arrays import FloatArray
from kelly_core.barpointer import choose_meter, decode_beats
from kelly_core.encodings.onsets import DEFAULT_ONSETS, frame_seconds
from kelly_core.listening import (
    BEAT_TRACKER_SPEC,
    LOOKAHEAD_FRAMES,
    activation_at,
    align_activations,
)
from kelly_models.build import build_network
from kelly_models.listening.corpus import Piece
from kelly_models.network import SpecNetwork

__all__ = [
    "BeatTrainConfig",
    "EpochLoop",
    "Scorer",
    "TrainedTracker",
    "beat_score",
    "crop_batch",
    "f_measure",
    "fit",
    "prepare",
    "split_pieces",
    "track",
]

logger = logging.getLogger(__name__)

Scorer = Callable[[FloatArray, Piece], float]
"""Scores a piece's ``(frames, 2)`` activations against its beats (higher is better)."""


def beat_score(activations: FloatArray, piece: Piece) -> float:
    """Mean of the beat and downbeat F-measures: beats decoded from the beat column, bars
    by :func:`kelly_core.barpointer.choose_meter` on the downbeat column at the beats."""
    frames = decode_beats(activations[:, 0], DEFAULT_ONSETS.fps)
    times = frame_seconds(frames)
    if frames.size == 0:
        return 0.0
    meter = choose_meter(activation_at(activations[:, 1], frames))
    downbeats = times[meter.phase :: meter.beats_per_bar]
    return 0.5 * f_measure(piece.beats, times) + 0.5 * f_measure(piece.downbeats, downbeats)


_LEARNING = 0.3
"""A validation score above which the network has left the targets' mean."""


@attrs.frozen(kw_only=True)
class BeatTrainConfig:
    """Settings of :func:`fit`."""

    epochs: int = attrs.field(default=30, validator=attrs.validators.ge(1))
    crop: int = attrs.field(default=1024, validator=attrs.validators.ge(64))
    """Frames per training item (12 s at 86 frames per second)."""
    batch_size: int = attrs.field(default=16, validator=attrs.validators.ge(1))
    learning_rate: float = attrs.field(default=2e-3, validator=attrs.validators.gt(0.0))
    seed: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    steps_per_epoch: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    """Batches between two validations."""
    patience: int = attrs.field(default=6, validator=attrs.validators.ge(1))
    """Epochs without a better validation score before training stops."""
    min_epochs: int = attrs.field(default=15, validator=attrs.validators.ge(1))
    """Epochs trained before ``patience`` may stop the run: the network first predicts
    every frame at the targets' mean for a few epochs (4 to 8 seen), which the patience
    alone would take for the end of learning."""
    downbeat_weight: float = attrs.field(default=2.0, validator=attrs.validators.gt(0.0))
    """Weight of the downbeat column's loss (the beat column's is 1)."""
    val_fraction: float = attrs.field(
        default=0.1, validator=[attrs.validators.gt(0.0), attrs.validators.lt(1.0)]
    )


N = TypeVar("N", bound=torch.nn.Module)


@attrs.frozen(kw_only=True, eq=False)
class TrainedTracker(Generic[N]):
    """The fitted network (either tracker's) and how it got there."""

    network: N
    best_epoch: int
    best_score: float
    history: tuple[tuple[float, float], ...]
    """Per epoch: mean training loss, validation score."""


def split_pieces(pieces: Sequence[Piece], fraction: float) -> tuple[list[Piece], list[Piece]]:
    """Training and validation pieces, by a hash of each name (stable across runs)."""
    val = [p for p in pieces if zlib.crc32(p.name.encode()) % 1000 < fraction * 1000]
    train = [p for p in pieces if p not in val]
    if not val and len(train) > 1:
        val, train = train[-1:], train[:-1]
    return train, val


def prepare(
    pieces: Sequence[Piece], *, val_fraction: float, seed: int
) -> tuple[list[Piece], list[Piece], np.random.Generator]:
    """Training and validation pieces (:func:`split_pieces`), torch seeded with ``seed``,
    and the generator :func:`crop_batch` draws from.

    :raises ValueError: If either share would be empty.
    """
    train, val = split_pieces(pieces, val_fraction)
    if not train or not val:
        raise ValueError(f"need at least two pieces, got {len(pieces)}")
    torch.manual_seed(seed)
    return train, val, np.random.default_rng(seed)


def crop_batch(
    pieces: Sequence[Piece],
    *,
    batch_size: int,
    crop: int,
    rng: np.random.Generator,
    lookahead: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """``batch_size`` random crops: inputs of ``crop + lookahead`` frames and targets of
    ``crop`` frames from the same start (zeros past a piece's end); pieces drawn in
    proportion to their length."""
    width = BEAT_TRACKER_SPEC.input_size
    x = np.zeros((batch_size, crop + lookahead, width), dtype=np.float32)
    y = np.zeros((batch_size, crop, 2), dtype=np.float32)
    lengths = np.array([p.features.shape[0] for p in pieces], dtype=np.float64)
    chosen = rng.choice(len(pieces), size=batch_size, p=lengths / lengths.sum())
    for row, index in enumerate(chosen):
        piece = pieces[int(index)]
        start = int(rng.integers(0, max(1, piece.features.shape[0] - crop)))
        part = piece.features[start : start + crop + lookahead]
        x[row, : part.shape[0]] = part
        target = piece.targets[start : start + crop]
        y[row, : target.shape[0]] = target
    return torch.from_numpy(x), torch.from_numpy(y)


def track(network: SpecNetwork, features: FloatArray) -> FloatArray:
    """The network's ``(frames, 2)`` activations for a whole piece's ``(frames, 104)``."""
    padded = np.concatenate(
        [features, np.zeros((LOOKAHEAD_FRAMES, features.shape[1]), dtype=np.float32)]
    )
    with torch.no_grad():
        out = network(torch.from_numpy(padded[None]))[0].numpy()
    return align_activations(out)


def fit(
    pieces: Sequence[Piece],
    config: BeatTrainConfig,
    score: Scorer = beat_score,
    *,
    progress: Callable[[str], None] = logger.info,
) -> TrainedTracker[SpecNetwork]:
    """Train a fresh network on ``pieces`` (a share held out for validation).

    Runs on one torch thread (restored after): the network is small, and on a busy
    2-core machine a second thread made each step 16 times slower (measured).
    """
    train, val, rng = prepare(pieces, val_fraction=config.val_fraction, seed=config.seed)
    network = build_network(BEAT_TRACKER_SPEC, seed=config.seed)
    loop = EpochLoop(
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        learning_rate=config.learning_rate,
        plateau=1,
        downbeat_weight=config.downbeat_weight,
        schedule_from=lambda value, epoch: value >= _LEARNING or epoch >= config.min_epochs,
        stop=lambda epoch, best: epoch - best >= config.patience and epoch >= config.min_epochs,
    )
    return loop.run(
        network,
        batch=lambda: crop_batch(
            train,
            batch_size=config.batch_size,
            crop=config.crop,
            rng=rng,
            lookahead=LOOKAHEAD_FRAMES,
        ),
        forward=lambda x: network(x)[:, LOOKAHEAD_FRAMES:],
        validate=lambda: float(np.mean([score(track(network, p.features), p) for p in val])),
        progress=progress,
    )


@attrs.frozen(kw_only=True)
class EpochLoop:
    """The training loop both beat trackers share: Adam, the learning rate halved when
    the validation score has not improved for ``plateau`` epochs (once ``schedule_from``
    allows it), gradients clipped to norm 1, binary cross-entropy with the downbeat
    column weighted ``downbeat_weight`` times the beat column; the best epoch's weights
    are put back at the end. Runs on one torch thread (restored after)."""

    epochs: int
    steps_per_epoch: int
    learning_rate: float
    plateau: int
    downbeat_weight: float
    schedule_from: Callable[[float, int], bool] = lambda value, epoch: True
    """Whether the schedule may look at this epoch's ``(score, epoch)``."""
    stop: Callable[[int, int], bool] = lambda epoch, best: False
    """Whether to stop after ``epoch`` when the best so far was ``best``."""

    def run(
        self,
        network: N,
        *,
        batch: Callable[[], tuple[torch.Tensor, torch.Tensor]],
        forward: Callable[[torch.Tensor], torch.Tensor],
        validate: Callable[[], float],
        progress: Callable[[str], None],
    ) -> TrainedTracker[N]:
        """Train ``network``; return it with its best epoch's weights."""
        with _one_torch_thread():
            optimiser = torch.optim.Adam(network.parameters(), lr=self.learning_rate)
            schedule = torch.optim.lr_scheduler.ReduceLROnPlateau(
                optimiser, mode="max", factor=0.5, patience=self.plateau
            )
            weights = torch.tensor([1.0, self.downbeat_weight]) / (1.0 + self.downbeat_weight) * 2
            best = (-1.0, 0, {k: v.clone() for k, v in network.state_dict().items()})
            history: list[tuple[float, float]] = []
            for epoch in range(1, self.epochs + 1):
                network.train()
                losses = []
                for _ in range(self.steps_per_epoch):
                    x, y = batch()
                    loss = (
                        torch.nn.functional.binary_cross_entropy(forward(x), y, reduction="none")
                        * weights
                    ).mean()
                    optimiser.zero_grad()
                    loss.backward()  # type: ignore[no-untyped-call]  # torch stub
                    torch.nn.utils.clip_grad_norm_(network.parameters(), 1.0)
                    optimiser.step()
                    losses.append(float(loss.detach()))
                network.eval()
                value = validate()
                if self.schedule_from(value, epoch):
                    schedule.step(value)  # (the LSTM: not while it predicts the mean)
                history.append((float(np.mean(losses)), value))
                progress(f"epoch {epoch}: loss {history[-1][0]:.4f}, validation score {value:.3f}")
                if value > best[0]:
                    best = (value, epoch, {k: v.clone() for k, v in network.state_dict().items()})
                elif self.stop(epoch, best[1]):
                    break
            network.load_state_dict(best[2])
            network.eval()
            return TrainedTracker(
                network=network, best_epoch=best[1], best_score=best[0], history=tuple(history)
            )


@contextlib.contextmanager
def _one_torch_thread() -> Iterator[None]:
    """One torch thread inside, the previous count restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)


def f_measure(
    reference: npt.ArrayLike, estimated: npt.ArrayLike, *, window: float = 0.07, skip: float = 5.0
) -> float:
    """Beat F-measure: beats matched one to one within ``window`` s, those before ``skip``
    s ignored (mir_eval's conventions)."""
    ref = np.asarray(reference, dtype=np.float64)
    est = np.asarray(estimated, dtype=np.float64)
    ref, est = ref[ref >= skip], est[est >= skip]
    if ref.size == 0 or est.size == 0:
        return 0.0
    used = np.zeros(est.size, dtype=bool)
    hits = 0
    for beat in ref:
        distance = np.abs(est - beat)
        distance[used] = np.inf
        nearest = int(np.argmin(distance))
        if distance[nearest] <= window + 1e-9:  # mir_eval compares ref ± window
            used[nearest] = True
            hits += 1
    precision, recall = hits / est.size, hits / ref.size
    return 0.0 if hits == 0 else 2 * precision * recall / (precision + recall)
