"""The frozen training configuration shared by the loop, the checkpoints and the CLI."""

from __future__ import annotations

from typing import Final, Literal, TypeAlias, get_args

import attrs

__all__ = ["DEVICES", "SCHEDULES", "DeviceName", "ScheduleName", "TrainConfig"]

ScheduleName: TypeAlias = Literal["constant", "step", "cosine", "plateau"]
DeviceName: TypeAlias = Literal["auto", "cpu", "cuda", "mps"]

SCHEDULES: Final[tuple[ScheduleName, ...]] = get_args(ScheduleName)
DEVICES: Final[tuple[DeviceName, ...]] = get_args(DeviceName)

_positive = attrs.validators.gt(0)
_non_negative = attrs.validators.ge(0)


@attrs.frozen(kw_only=True)
class TrainConfig:
    """How one model is trained; everything that changes the result is here.

    Saved in every checkpoint: ``--resume`` refuses a checkpoint written with a different
    configuration (other than ``epochs``, which may be raised to train longer).
    """

    epochs: int = attrs.field(default=30, validator=_positive)
    """Passes over the training sequences."""
    batch_size: int = attrs.field(default=8, validator=_positive)
    """Sequences per batch."""
    window: int = attrs.field(default=16, validator=_positive)
    """Truncated-BPTT window in steps: gradients flow back at most this far; the LSTM
    state is carried (detached) from one window to the next of the same sequence."""
    learning_rate: float = attrs.field(default=3e-3, validator=attrs.validators.gt(0.0))
    """Adam's initial learning rate."""
    weight_decay: float = attrs.field(default=0.0, validator=attrs.validators.ge(0.0))
    """Adam's L2 penalty."""
    grad_clip: float = attrs.field(default=1.0, validator=attrs.validators.ge(0.0))
    """Clip the gradient's global norm to this (0 disables)."""
    schedule: ScheduleName = attrs.field(
        default="cosine", validator=attrs.validators.in_(SCHEDULES)
    )
    """Learning-rate schedule, stepped once per epoch (see :mod:`.schedules`)."""
    step_size: int = attrs.field(default=10, validator=_positive)
    """``step`` schedule: epochs between decays."""
    gamma: float = attrs.field(default=0.5, validator=attrs.validators.gt(0.0))
    """``step`` and ``plateau`` schedules: decay factor."""
    patience: int = attrs.field(default=5, validator=_non_negative)
    """Early stopping: epochs without validation improvement before stopping (0: never)."""
    min_delta: float = attrs.field(default=1e-4, validator=attrs.validators.ge(0.0))
    """Early stopping: smallest decrease of the validation loss that counts."""
    min_epochs: int = attrs.field(default=5, validator=_positive)
    """Early stopping: epochs always trained; none before this is kept as the best (capped
    at ``epochs``)."""
    smooth_epochs: int = attrs.field(default=3, validator=_positive)
    """Early stopping: validation losses averaged into the criterion (1: the raw loss)."""
    folds: int = attrs.field(default=1, validator=_positive)
    """K-fold cross-validation by file: train K models, each tested on one K-th of the
    files; metrics are the mean (and spread) over the folds (1: one train/validation/test
    split)."""
    augment_keys: bool = False
    """Train on every training sequence transposed into all 12 keys (HarmonyPredictor,
    MelodyTransformer, DynamicsEngine); the exported file is then ``"absolute"``."""
    seed: int = attrs.field(default=0, validator=_non_negative)
    """Seeds weights, data order and the validation split."""
    val_split: float = attrs.field(
        default=0.15, validator=[attrs.validators.ge(0.0), attrs.validators.lt(0.5)]
    )
    """Share of sequences held out for validation (and again for test) when the dataset
    marks no splits itself."""
    steps_per_epoch: int = attrs.field(default=0, validator=_non_negative)
    """Stop an epoch after this many batches (0: the whole training set); for quick runs."""
    keep_last: int = attrs.field(default=2, validator=_positive)
    """Checkpoints kept besides ``best.pt``."""
    checkpoint_every: int = attrs.field(default=0, validator=_non_negative)
    """Also checkpoint every this many batches inside an epoch (0: at epoch ends only)."""

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict of every field."""
        return attrs.asdict(self)

    def resume_key(self) -> dict[str, object]:
        """Return the fields a resumed run must share with the checkpoint (all but epochs)."""
        data = self.to_dict()
        data.pop("epochs")
        return data
