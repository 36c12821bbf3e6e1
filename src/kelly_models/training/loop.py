"""The training loop: truncated BPTT over sequences, validation, early stopping, resume.

**Sequence training.** A batch holds ``B`` whole sequences ``(B, T, in)``. The loop walks
them in windows of ``config.window`` steps, one optimizer step per window; the LSTM
state at the end of a window is *carried* into the next window of the same sequences
(detached, so gradients stop at the window edge) and reset to zeros at the start of every
batch. The model therefore learns from states that it reaches after long streams, as in
the plugin, which resets once and then steps frame after frame. (The original code fed
one-step sequences with a fresh state every time, so the LSTM never learned to use its
memory.) Validation and test run each sequence whole from a reset state.

**Resume.** The loop touches files only through :class:`~.checkpoint.CheckpointManager`
and :meth:`.History.save`. A checkpoint is saved at each epoch end (and every
``checkpoint_every`` batches), holding weights, optimizer, schedule, early stopping,
history, every RNG state and the epoch's data order. Resuming restores all of them, so on
the CPU with a fixed seed a run killed at any point and resumed ends with weights bitwise
equal to an uninterrupted run (same torch build and thread count).

**Non-finite values.** A window whose loss is NaN or inf stops the run before its
optimizer step, and weights that went non-finite stop it before they are saved: no
checkpoint ever holds them. The one-line error names the model, the step, what went
non-finite and the last good checkpoint. On resume, a checkpoint holding non-finite
weights is passed over with a warning (:meth:`.CheckpointManager.load_latest`).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

import attrs
import numpy as np
import torch

from kelly_core.errors import KellyError
from kelly_core.specs import ModelSpec
from kelly_models.training.adapter import detach_state, forward_sequence
from kelly_models.training.checkpoint import (
    CheckpointManager,
    non_finite,
    read_number,
    restore_rng,
)
from kelly_models.training.config import TrainConfig
from kelly_models.training.early_stopping import EarlyStopping
from kelly_models.training.evaluate import evaluate_loss
from kelly_models.training.history import History
from kelly_models.training.progress import Progress
from kelly_models.training.runfolder import checked
from kelly_models.training.schedules import build_schedule
from kelly_models.training.sequences import Batch, SequenceSet, collate
from kelly_models.training.tasks import Task
from kelly_models.training.trainer_state import (
    check_compatible,
    checkpoint_state,
    cpu_copy,
    mapping,
)

__all__ = ["Callback", "FitResult", "StepEvent", "Trainer"]

logger = logging.getLogger(__name__)


@attrs.frozen(kw_only=True)
class StepEvent:
    """Sent to callbacks after each training batch."""

    model: str
    epoch: int
    """0-based epoch."""
    batch: int
    """0-based batch inside the epoch."""
    step: int
    """Optimizer steps so far (one per window)."""
    loss: float
    """Mean training loss of this batch."""


Callback = Callable[[StepEvent], None]


@attrs.frozen(kw_only=True)
class FitResult:
    """What a finished :meth:`Trainer.fit` reports."""

    epochs: int
    """Epochs completed."""
    best_epoch: int
    best_val_loss: float
    stopped_early: bool
    resumed_from: Path | None
    steps: int
    """Optimizer steps taken over the whole run (resumed part included)."""
    history: History = attrs.field(eq=False)


class Trainer:
    """Trains one model on sequences; see the module docstring.

    :param module: The model, a ``torch.nn.Module`` with ``forward(inputs, state)``.
    :param spec: Its spec (checked against checkpoints by hash).
    :param task: Loss and metrics.
    :param config: Hyper-parameters.
    :param device: Where to train.
    :param checkpoints: Where checkpoints go; None keeps nothing on disk.
    :param history_path: Where the history JSON is written after every epoch, or None.
    :param run_folder: The run folder ``history_path`` is in: no link between them is
        followed (:func:`~.runfolder.check_no_link`); None checks nothing.
    :param callbacks: Called after every batch (a raising callback stops training, which
        is how tests simulate a crash).
    :param progress: Show a progress bar or log lines.
    """

    def __init__(
        self,
        module: torch.nn.Module,
        spec: ModelSpec,
        task: Task,
        config: TrainConfig,
        *,
        device: torch.device | None = None,
        checkpoints: CheckpointManager | None = None,
        history_path: Path | None = None,
        callbacks: Sequence[Callback] = (),
        progress: bool = True,
        run_folder: Path | None = None,
    ) -> None:
        self.run_folder = run_folder
        self.device = device or torch.device("cpu")
        self.module = module.to(self.device)
        self.spec = spec
        self.task = task
        self.config = config
        self.checkpoints = checkpoints
        self.history_path = history_path
        self.callbacks = tuple(callbacks)
        self.progress = progress
        self.optimizer = torch.optim.Adam(
            module.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
        )
        self.schedule = build_schedule(self.optimizer, config)
        self.stopper = EarlyStopping(
            config.patience,
            config.min_delta,
            min_epochs=min(config.min_epochs, config.epochs),
            window=config.smooth_epochs,
        )
        self.history = History(spec.name)
        self.shuffle = np.random.default_rng(config.seed)
        self.epoch = 0
        self.batch = 0
        self.order: list[int] | None = None
        self.running = [0.0, 0.0]  # loss sum, frames, over the current epoch
        self.step = 0
        self.finished = False
        self.best_module: dict[str, torch.Tensor] | None = None
        self.data_fingerprint = ""

    # ----------------------------------------------------------------- public
    def fit(self, train: SequenceSet, val: SequenceSet, *, resume: bool = False) -> FitResult:
        """Train until ``config.epochs`` or early stopping; leave the best weights loaded.

        :param resume: Continue from the newest readable checkpoint, if there is one.
        :raises KellyError: If a checkpoint was written for another spec or configuration.
        """
        self.data_fingerprint = f"{train.fingerprint()}/{val.fingerprint()}"
        resumed_from = self._resume() if resume else None
        if not resume and self.checkpoints is not None:
            self.checkpoints.start_afresh()
        if len(train) == 0:
            raise KellyError("no training sequences", field="train", expected=">= 1", got=0)
        while not self.finished:
            started = time.perf_counter()
            train_loss = self._train_epoch(train)
            val_loss = evaluate_loss(
                self.module, self.task, val, device=self.device, batch_size=self.config.batch_size
            )
            self._check_weights()
            if not math.isfinite(val_loss) and len(val):
                raise self._diverged(
                    f"the validation loss went non-finite ({val_loss}) with finite weights: "
                    "the validation sequences hold NaN or inf values"
                )
            if self.stopper.update(val_loss, self.epoch):
                self.best_module = cpu_copy(self.module.state_dict())
                if self.checkpoints is not None:
                    self.checkpoints.save_best({"module": self.best_module, "epoch": self.epoch})
            self.history.append(
                {
                    "train_loss": train_loss,
                    "val_loss": val_loss,
                    "learning_rate": self.schedule.learning_rate,
                    "epoch_seconds": time.perf_counter() - started,
                }
            )
            logger.info(
                "%s epoch %d/%d: train loss %.5f, val loss %.5f, lr %.2e",
                self.spec.name,
                self.epoch + 1,
                self.config.epochs,
                train_loss,
                val_loss,
                self.schedule.learning_rate,
            )
            self.schedule.step(val_loss)
            self.epoch += 1
            self.batch, self.order, self.running = 0, None, [0.0, 0.0]
            self.finished = self.stopper.should_stop or self.epoch >= self.config.epochs
            self.history.notes.update(
                best_epoch=self.stopper.best_epoch,
                best_val_loss=_finite_or_none(self.stopper.best_raw),
                stopped_early=self.stopper.should_stop,
            )
            self._save()
        if self.best_module is not None:
            self.module.load_state_dict(self.best_module)
        return FitResult(
            epochs=self.epoch,
            best_epoch=self.stopper.best_epoch,
            best_val_loss=self.stopper.best_raw,
            stopped_early=self.stopper.should_stop,
            resumed_from=resumed_from,
            steps=self.step,
            history=self.history,
        )

    # ----------------------------------------------------------------- epochs
    def _train_epoch(self, train: SequenceSet) -> float:
        if self.order is None:
            self.order = [int(i) for i in self.shuffle.permutation(len(train))]
        size = self.config.batch_size
        batches = [self.order[i : i + size] for i in range(0, len(self.order), size)]
        if self.config.steps_per_epoch:
            batches = batches[: self.config.steps_per_epoch]
        self.module.train()
        description = f"{self.spec.name} epoch {self.epoch + 1}/{self.config.epochs}"
        with Progress(len(batches), description, enabled=self.progress) as bar:
            bar.update(self.batch)
            while self.batch < len(batches):
                loss_sum, frames = self._train_batch(
                    collate(train, batches[self.batch]).to(self.device)
                )
                self.running[0] += loss_sum
                self.running[1] += frames
                self.batch += 1
                loss = loss_sum / frames if frames else math.nan
                bar.update(1, loss=loss)
                every = self.config.checkpoint_every
                if every and self.batch % every == 0 and self.batch < len(batches):
                    self._save()
                event = StepEvent(
                    model=self.spec.name,
                    epoch=self.epoch,
                    batch=self.batch - 1,
                    step=self.step,
                    loss=loss,
                )
                for callback in self.callbacks:
                    callback(event)
        return self.running[0] / self.running[1] if self.running[1] else math.nan

    def _train_batch(self, batch: Batch) -> tuple[float, float]:
        """Train on one batch window by window; return (loss sum over frames, frames)."""
        state: object = None
        loss_sum = 0.0
        frame_total = 0.0
        length = batch.inputs.shape[1]
        for start in range(0, length, self.config.window):
            stop = start + self.config.window
            mask = batch.mask[:, start:stop]
            frames = float(mask.sum())
            if frames == 0.0:
                break
            outputs, state = forward_sequence(self.module, batch.inputs[:, start:stop], state)
            loss = self.task.loss(outputs, batch.targets[:, start:stop], mask)
            value = float(loss.detach())
            if not math.isfinite(value):
                raise self._diverged(f"the loss went non-finite ({value})", taking=True)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()  # type: ignore[no-untyped-call]  # torch stub
            if self.config.grad_clip > 0:
                torch.nn.utils.clip_grad_norm_(self.module.parameters(), self.config.grad_clip)
            self.optimizer.step()
            state = detach_state(state)
            self.step += 1
            loss_sum += value * frames
            frame_total += frames
        return loss_sum, frame_total

    # ------------------------------------------------------------ checkpoints
    def _state(self) -> dict[str, object]:
        return checkpoint_state(self)

    def _save(self) -> None:
        self._check_weights()
        if self.checkpoints is not None:
            self.checkpoints.save(self._state(), step=self.step)
        if self.history_path is not None:
            self.history.save(checked(self.history_path, self.run_folder))

    def _check_weights(self) -> None:
        """Stop the run if a weight or optimizer value went non-finite (before any save)."""
        state = {"module": self.module.state_dict(), "optimizer": self.optimizer.state_dict()}
        bad = non_finite(state)
        if bad is not None:
            raise self._diverged(f"the weights went non-finite ({bad} holds NaN or inf)")

    def _diverged(self, what: str, *, taking: bool = False) -> KellyError:
        """The one-line error for a run that went non-finite.

        :param taking: The step about to be taken went wrong (else one already taken).
        """
        last = self.checkpoints.latest_good if self.checkpoints is not None else None
        where = f"last good checkpoint: {last}" if last else "no checkpoint was written before it"
        when = f"at step {self.step + 1}" if taking else f"after step {self.step}"
        return KellyError(
            f"{self.spec.name}: training stopped {when} (epoch {self.epoch + 1}, batch "
            f"{self.batch + 1}): {what}; nothing from this step on was saved; {where} "
            "(lower --lr, or check the data for NaN or inf values)"
        )

    def _resume(self) -> Path | None:
        if self.checkpoints is None:
            return None
        found = self.checkpoints.load_latest()
        if found is None:
            logger.info("%s: no checkpoint to resume from; starting afresh", self.spec.name)
            return None
        path, state = found
        self._check_compatible(path, state)
        self.module.load_state_dict(mapping(state, "module", path))
        self.optimizer.load_state_dict(mapping(state, "optimizer", path))
        self.schedule.load_state_dict(mapping(state, "schedule", path))
        stopping = mapping(state, "early_stopping", path)
        self.stopper.load_state_dict(
            {k: read_number(stopping, k, float) for k in ("best", "best_epoch", "bad_epochs")}
        )
        self.history = History.from_dict(mapping(state, "history", path))
        restore_rng(mapping(state, "rng", path), self.shuffle)
        self.epoch = read_number(state, "epoch", int)
        self.batch = read_number(state, "batch", int)
        order = state["order"]
        self.order = [int(i) for i in order] if isinstance(order, list) else None
        running = state.get("running")
        if not isinstance(running, list) or len(running) != 2:
            raise KellyError("checkpoint lacks 'running'", path=path, field="running")
        self.running = [float(v) for v in running]
        self.step = read_number(state, "step", int)
        self.finished = self.stopper.should_stop or self.epoch >= self.config.epochs
        self.best_module = self.checkpoints.best_weights()
        logger.info(
            "%s: resumed from %s (epoch %d, batch %d)", self.spec.name, path, self.epoch, self.batch
        )
        return path

    def _check_compatible(self, path: Path, state: Mapping[str, object]) -> None:
        check_compatible(
            path, state, spec=self.spec, config=self.config, data_fingerprint=self.data_fingerprint
        )


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
