"""What a :class:`~.loop.Trainer` checkpoint holds, and whether a run may resume from one."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING

import torch

from kelly_core.errors import KellyError
from kelly_core.specs import ModelSpec
from kelly_models.training.checkpoint import capture_rng
from kelly_models.training.config import TrainConfig

if TYPE_CHECKING:
    from kelly_models.training.loop import Trainer

__all__ = ["CHECKPOINT_FORMAT", "check_compatible", "checkpoint_state", "cpu_copy", "mapping"]

CHECKPOINT_FORMAT = 1


def checkpoint_state(trainer: Trainer) -> dict[str, object]:
    """Everything a checkpoint holds to resume ``trainer`` bitwise where it stopped."""
    return {
        "format": CHECKPOINT_FORMAT,
        "model": trainer.spec.name,
        "spec_hash": trainer.spec.spec_hash,
        "config": trainer.config.resume_key(),
        "data": trainer.data_fingerprint,
        "epochs": trainer.config.epochs,
        "epoch": trainer.epoch,
        "batch": trainer.batch,
        "order": list(trainer.order) if trainer.order is not None else None,
        "running": list(trainer.running),
        "step": trainer.step,
        "finished": trainer.finished,
        "module": cpu_copy(trainer.module.state_dict()),
        "optimizer": trainer.optimizer.state_dict(),
        "schedule": trainer.schedule.state_dict(),
        "early_stopping": trainer.stopper.state_dict(),
        "history": trainer.history.to_dict(),
        "rng": capture_rng(trainer.shuffle),
    }


def check_compatible(
    path: Path,
    state: Mapping[str, object],
    *,
    spec: ModelSpec,
    config: TrainConfig,
    data_fingerprint: str,
) -> None:
    """Raise a one-line error if the checkpoint at ``path`` is for another format, model,
    data set or settings than the run resuming from it."""
    if state.get("format") != CHECKPOINT_FORMAT:
        raise KellyError(
            "unsupported checkpoint format",
            path=path,
            expected=CHECKPOINT_FORMAT,
            got=state.get("format"),
        )
    if state.get("spec_hash") != spec.spec_hash:
        raise KellyError(
            f"checkpoint is for another architecture of {state.get('model')!r}; "
            "delete the checkpoints folder or train without --resume",
            path=path,
            field="spec_hash",
            expected=spec.spec_hash,
            got=state.get("spec_hash"),
        )
    if state.get("data", data_fingerprint) != data_fingerprint:
        raise KellyError(
            "checkpoint was trained on other data (the training or validation sequences "
            "changed); resume with the same datasets and options, or train without --resume",
            path=path,
            field="data",
            expected=state.get("data"),
            got=data_fingerprint,
        )
    saved = state.get("config")
    wanted = config.resume_key()
    if saved != wanted and isinstance(saved, Mapping):
        changed = sorted(k for k in wanted if saved.get(k) != wanted[k])
        raise KellyError(
            f"checkpoint was written with other settings ({', '.join(changed)}); use the "
            "same options to resume, or train without --resume",
            path=path,
            field="config",
            expected={k: saved.get(k) for k in changed},
            got={k: wanted[k] for k in changed},
        )


def cpu_copy(state: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """A detached CPU copy of a module's state dict."""
    return {k: v.detach().to("cpu", copy=True) for k, v in state.items()}


def mapping(state: Mapping[str, object], key: str, path: Path) -> dict[str, object]:
    """The mapping at ``key`` of a checkpoint; a one-line error if it is missing."""
    value = state.get(key)
    if not isinstance(value, Mapping):
        raise KellyError(f"checkpoint lacks {key!r}", path=path, field=key)
    return dict(value)
