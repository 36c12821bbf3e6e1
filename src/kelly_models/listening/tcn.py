"""Training the convolutional beat tracker (:mod:`kelly_core.beat_tcn`).

- **Items**: random crops of :attr:`TcnTrainConfig.crop` frames (17.8 s) from the
  training pieces (zeros past a piece's end); binary cross-entropy against the targets
  (:mod:`.corpus`), the downbeat column weighted twice the beat column, as for the LSTM
  tracker (:mod:`.train`).
- **Optimiser**: Adam at :attr:`TcnTrainConfig.learning_rate`, halved when the
  validation score has not improved for :attr:`TcnTrainConfig.plateau` epochs; gradients
  clipped to norm 1; dropout 0.1 after the input convolution and inside each block.
- **Validation**: the held-out pieces (the same split as the LSTM tracker's,
  :func:`~kelly_models.listening.train.split_pieces`) scored by
  :func:`~kelly_models.listening.train.beat_score`; every epoch is trained (no early
  stop: the score wanders for a dozen epochs before it climbs again) and the best
  epoch's weights are kept.
- One torch thread; deterministic for a seed on one machine.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

import attrs
import numpy as np
import torch

from kelly_core.arrays import FloatArray
from kelly_core.beat_tcn import CHANNELS, DILATIONS, INPUT_SIZE, KERNEL, TcnWeights
from kelly_core.listening import BEAT_OUTPUTS
from kelly_models.listening.corpus import Piece
from kelly_models.listening.train import (
    EpochLoop,
    Scorer,
    TrainedTracker,
    beat_score,
    crop_batch,
    prepare,
)

__all__ = ["TcnNetwork", "TcnTrainConfig", "fit_tcn"]

logger = logging.getLogger(__name__)

_DROPOUT = 0.1


@attrs.frozen(kw_only=True)
class TcnTrainConfig:
    """Settings of :func:`fit_tcn`."""

    epochs: int = attrs.field(default=45, validator=attrs.validators.ge(1))
    crop: int = attrs.field(default=1536, validator=attrs.validators.ge(64))
    """Frames per training item (17.8 s at 86 frames per second)."""
    batch_size: int = attrs.field(default=12, validator=attrs.validators.ge(1))
    learning_rate: float = attrs.field(default=2e-3, validator=attrs.validators.gt(0.0))
    seed: int = attrs.field(default=0, validator=attrs.validators.ge(0))
    steps_per_epoch: int = attrs.field(default=100, validator=attrs.validators.ge(1))
    plateau: int = attrs.field(default=2, validator=attrs.validators.ge(1))
    """Epochs without a better validation score before the learning rate is halved."""
    downbeat_weight: float = attrs.field(default=2.0, validator=attrs.validators.gt(0.0))
    val_fraction: float = attrs.field(
        default=0.1, validator=[attrs.validators.gt(0.0), attrs.validators.lt(1.0)]
    )


class _Block(torch.nn.Module):
    def __init__(self, dilation: int) -> None:
        super().__init__()
        self.dilated = torch.nn.Conv1d(
            CHANNELS, CHANNELS, KERNEL, dilation=dilation, padding=dilation * (KERNEL // 2)
        )
        self.mix = torch.nn.Conv1d(CHANNELS, CHANNELS, 1)
        self.drop = torch.nn.Dropout(_DROPOUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out: torch.Tensor = self.mix(self.drop(torch.nn.functional.elu(self.dilated(x))))
        return out


class TcnNetwork(torch.nn.Module):
    """The network of :mod:`kelly_core.beat_tcn` in torch: ``(batch, frames, 104)`` in,
    ``(batch, frames, 2)`` activations out."""

    def __init__(self) -> None:
        super().__init__()
        self.input = torch.nn.Conv1d(INPUT_SIZE, CHANNELS, 1)
        self.blocks = torch.nn.ModuleList([_Block(d) for d in DILATIONS])
        self.output = torch.nn.Conv1d(CHANNELS, len(BEAT_OUTPUTS), 1)
        self.drop = torch.nn.Dropout(_DROPOUT)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.drop(torch.nn.functional.elu(self.input(x.transpose(1, 2))))
        skip = torch.zeros_like(h)
        for block in self.blocks:
            out = block(h)
            h = h + out
            skip = skip + out
        result: torch.Tensor = torch.sigmoid(self.output(torch.nn.functional.elu(skip)))
        return result.transpose(1, 2)

    def weights(self, metadata: dict[str, object] | None = None) -> TcnWeights:
        """The weights as :class:`~kelly_core.beat_tcn.TcnWeights` (for the file)."""

        def arr(t: torch.Tensor | None) -> FloatArray:
            if t is None:
                raise ValueError("a convolution without a bias")
            out: FloatArray = t.detach().cpu().numpy().astype(np.float32)
            return out

        blocks = [b for b in self.blocks if isinstance(b, _Block)]
        return TcnWeights(
            input_weight=arr(self.input.weight)[:, :, 0],
            input_bias=arr(self.input.bias),
            dilated_weight=tuple(arr(b.dilated.weight) for b in blocks),
            dilated_bias=tuple(arr(b.dilated.bias) for b in blocks),
            mix_weight=tuple(arr(b.mix.weight)[:, :, 0] for b in blocks),
            mix_bias=tuple(arr(b.mix.bias) for b in blocks),
            output_weight=arr(self.output.weight)[:, :, 0],
            output_bias=arr(self.output.bias),
            dilations=DILATIONS,
            metadata=dict(metadata or {}),
        )


def _track(network: TcnNetwork, features: FloatArray) -> FloatArray:
    with torch.no_grad():
        out: FloatArray = network(torch.from_numpy(np.asarray(features, np.float32)[None]))[
            0
        ].numpy()
    return out


def fit_tcn(
    pieces: Sequence[Piece],
    config: TcnTrainConfig,
    score: Scorer = beat_score,
    *,
    progress: Callable[[str], None] = logger.info,
) -> TrainedTracker[TcnNetwork]:
    """Train a fresh network on ``pieces`` (a share held out for validation), on one
    torch thread (restored after)."""
    train, val, rng = prepare(pieces, val_fraction=config.val_fraction, seed=config.seed)
    network = TcnNetwork()
    loop = EpochLoop(
        epochs=config.epochs,
        steps_per_epoch=config.steps_per_epoch,
        learning_rate=config.learning_rate,
        plateau=config.plateau,
        downbeat_weight=config.downbeat_weight,
    )
    return loop.run(
        network,
        batch=lambda: crop_batch(train, batch_size=config.batch_size, crop=config.crop, rng=rng),
        forward=network,
        validate=lambda: float(np.mean([score(_track(network, p.features), p) for p in val])),
        progress=progress,
    )
