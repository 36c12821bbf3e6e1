"""The frozen training configuration shared by the loop, the checkpoints and the CLI."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any, Final, Literal, TypeAlias, get_args

import attrs

__all__ = [
    "DEVICES",
    "RANGES",
    "SCHEDULES",
    "DeviceName",
    "ScheduleName",
    "TrainConfig",
    "describe_range",
    "in_range",
]

ScheduleName: TypeAlias = Literal["constant", "step", "cosine", "plateau"]
DeviceName: TypeAlias = Literal["auto", "cpu", "cuda", "mps"]

SCHEDULES: Final[tuple[ScheduleName, ...]] = get_args(ScheduleName)
DEVICES: Final[tuple[DeviceName, ...]] = get_args(DeviceName)

MAX_SEED: Final = 2**64 - 1
RANGES: Final[Mapping[str, tuple[float, float]]] = {
    "epochs": (1, 10_000),
    "batch_size": (1, 4096),
    "window": (1, 4096),
    "learning_rate": (0.0, 10.0),
    "weight_decay": (0.0, 1.0),
    "grad_clip": (0.0, 1e6),
    "step_size": (1, 10_000),
    "gamma": (0.0, 1.0),
    "patience": (0, 10_000),
    "min_delta": (0.0, 1e3),
    "min_epochs": (1, 10_000),
    "smooth_epochs": (1, 1000),
    "folds": (1, 100),
    "seed": (0, MAX_SEED),
    "val_split": (0.0, 0.5),
    "steps_per_epoch": (0, 10_000_000),
    "keep_last": (1, 1000),
    "checkpoint_every": (0, 10_000_000),
}
"""Each numeric field's range, inclusive but for the ends in :data:`OPEN_ENDS`; ``kelly
train`` checks its options against the same numbers while it parses them."""
OPEN_ENDS: Final[Mapping[str, Literal["low", "high"]]] = {
    "learning_rate": "low",
    "gamma": "low",
    "val_split": "high",
}
"""The fields whose range excludes one end: a learning rate > 0, a val_split < 0.5."""


def describe_range(name: str) -> str:
    """``"an integer in 1..10000"`` or ``"a finite number > 0 and <= 10"`` for field ``name``."""
    low, high = RANGES[name]
    if isinstance(low, int) and isinstance(high, int):
        return f"an integer in {low}..{high}"
    open_end = OPEN_ENDS.get(name)
    above = f"> {low:g}" if open_end == "low" else f">= {low:g}"
    below = f"< {high:g}" if open_end == "high" else f"<= {high:g}"
    return f"a finite number {above} and {below}"


def in_range(name: str, value: object) -> bool:
    """Whether ``value`` fits field ``name``: an int (not a bool) for an integer field, a
    finite int or float for a number field, within :data:`RANGES`."""
    low, high = RANGES[name]
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    if isinstance(low, int) and isinstance(high, int) and not isinstance(value, int):
        return False
    if not math.isfinite(value):
        return False
    open_end = OPEN_ENDS.get(name)
    above = value > low if open_end == "low" else value >= low
    below = value < high if open_end == "high" else value <= high
    return above and below


def _ranged(instance: object, attribute: attrs.Attribute[Any], value: Any) -> None:
    if not in_range(attribute.name, value):
        raise ValueError(
            f"'{attribute.name}' must be {describe_range(attribute.name)}, got {value!r}"
        )


@attrs.frozen(kw_only=True)
class TrainConfig:
    """How one model is trained; everything that changes the result is here.

    Saved in every checkpoint: ``--resume`` refuses a checkpoint written with a different
    configuration (other than ``epochs``, which may be raised to train longer).
    """

    epochs: int = attrs.field(default=30, validator=_ranged)
    """Passes over the training sequences."""
    batch_size: int = attrs.field(default=8, validator=_ranged)
    """Sequences per batch."""
    window: int = attrs.field(default=16, validator=_ranged)
    """Truncated-BPTT window in steps: gradients flow back at most this far; the LSTM
    state is carried (detached) from one window to the next of the same sequence."""
    learning_rate: float = attrs.field(default=3e-3, validator=_ranged)
    """Adam's initial learning rate."""
    weight_decay: float = attrs.field(default=0.0, validator=_ranged)
    """Adam's L2 penalty."""
    grad_clip: float = attrs.field(default=1.0, validator=_ranged)
    """Clip the gradient's global norm to this (0 disables)."""
    schedule: ScheduleName = attrs.field(
        default="cosine", validator=attrs.validators.in_(SCHEDULES)
    )
    """Learning-rate schedule, stepped once per epoch (see :mod:`.schedules`)."""
    step_size: int = attrs.field(default=10, validator=_ranged)
    """``step`` schedule: epochs between decays."""
    gamma: float = attrs.field(default=0.5, validator=_ranged)
    """``step`` and ``plateau`` schedules: decay factor."""
    patience: int = attrs.field(default=5, validator=_ranged)
    """Early stopping: epochs without validation improvement before stopping (0: never)."""
    min_delta: float = attrs.field(default=1e-4, validator=_ranged)
    """Early stopping: smallest decrease of the validation loss that counts."""
    min_epochs: int = attrs.field(default=15, validator=_ranged)
    """Early stopping: epochs always trained; none before this is kept as the best (capped
    at ``epochs``). 15 outlasts the flat start of the EmotionRecognizer's validation loss
    (near 0.164 for its first 8-15 epochs on seeds 2 and 3), which with 5 stopped it at a
    constant output."""
    smooth_epochs: int = attrs.field(default=3, validator=_ranged)
    """Early stopping: validation losses averaged into the criterion (1: the raw loss)."""
    folds: int = attrs.field(default=1, validator=_ranged)
    """K-fold cross-validation by file: train K models, each tested on one K-th of the
    files; metrics are the mean (and spread) over the folds (1: one train/validation/test
    split)."""
    augment_keys: bool = False
    """Train on every training sequence transposed into all 12 keys (HarmonyPredictor,
    MelodyTransformer, DynamicsEngine); the exported file is then ``"absolute"``."""
    seed: int = attrs.field(default=0, validator=_ranged)
    """Seeds weights, data order and the validation split."""
    val_split: float = attrs.field(default=0.15, validator=_ranged)
    """Share of sequences held out for validation (and again for test) when the dataset
    marks no splits itself."""
    steps_per_epoch: int = attrs.field(default=0, validator=_ranged)
    """Stop an epoch after this many batches (0: the whole training set); for quick runs."""
    keep_last: int = attrs.field(default=2, validator=_ranged)
    """Checkpoints kept besides ``best.pt``."""
    checkpoint_every: int = attrs.field(default=0, validator=_ranged)
    """Also checkpoint every this many batches inside an epoch (0: at epoch ends only)."""

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready dict of every field."""
        return attrs.asdict(self)

    def resume_key(self) -> dict[str, object]:
        """Return the fields a resumed run must share with the checkpoint (all but epochs)."""
        data = self.to_dict()
        data.pop("epochs")
        return data
