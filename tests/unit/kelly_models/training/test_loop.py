"""Tests for kelly_models.training.loop: training, early stopping, crash and resume."""

from __future__ import annotations

from pathlib import Path

import attrs
import pytest
import torch

from kelly_core.errors import KellyError
from kelly_models.training.checkpoint import CheckpointManager
from kelly_models.training.config import TrainConfig
from kelly_models.training.history import History
from kelly_models.training.loop import StepEvent, Trainer
from kelly_models.training.sequences import SequenceSet
from kelly_models.training.tasks import task_for
from tests.unit.kelly_models.training.helpers import tiny_examples, tiny_network, tiny_spec

SPEC = tiny_spec()
EXAMPLES = tiny_examples(SPEC, 14, length=10)
TRAIN = SequenceSet.from_examples(EXAMPLES[:11])
VAL = SequenceSet.from_examples(EXAMPLES[11:])
CONFIG = TrainConfig(epochs=3, batch_size=4, window=4, learning_rate=5e-3, seed=1)


class CrashError(RuntimeError):
    """Raised by a callback to simulate a crash."""


def _fit(
    folder: Path | None,
    config: TrainConfig = CONFIG,
    *,
    crash_at: int | None = None,
    resume: bool = False,
    train: SequenceSet = TRAIN,
) -> tuple[torch.nn.Module, Trainer]:
    module = tiny_network(SPEC, seed=4)

    def crash(event: StepEvent) -> None:
        if crash_at is not None and event.step >= crash_at:
            raise CrashError(f"crash at step {event.step}")

    trainer = Trainer(
        module,
        SPEC,
        task_for(SPEC),
        config,
        checkpoints=None if folder is None else CheckpointManager(folder / "ck", keep_last=2),
        history_path=None if folder is None else folder / "history.json",
        callbacks=[crash],
        progress=False,
    )
    trainer.fit(train, VAL, resume=resume)
    return module, trainer


def _same_weights(a: torch.nn.Module, b: torch.nn.Module) -> bool:
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


class TestTrainer:
    def test_loss_goes_down(self, tmp_path: Path) -> None:
        """Training lowers the validation loss below the first epoch's and writes history."""
        config = attrs.evolve(CONFIG, epochs=8, learning_rate=1e-2, patience=0)
        _, trainer = _fit(tmp_path, config)
        val = trainer.history.series["val_loss"]
        assert len(val) == 8
        assert min(val) < val[0]
        saved = History.load(tmp_path / "history.json")
        assert saved.series["val_loss"] == val
        assert saved.notes["best_epoch"] == val.index(min(val))

    def test_best_weights_loaded(self, tmp_path: Path) -> None:
        """After fit the module holds the best epoch's weights (as saved in best.pt)."""
        module, trainer = _fit(tmp_path)
        best = CheckpointManager(tmp_path / "ck").load(tmp_path / "ck" / "best.pt")
        assert best["epoch"] == trainer.stopper.best_epoch
        saved = best["module"]
        assert isinstance(saved, dict)
        assert all(torch.equal(saved[k], v) for k, v in module.state_dict().items())

    def test_early_stopping(self) -> None:
        """A learning rate of ~0 never improves, so patience 1 stops after epoch 2."""
        config = attrs.evolve(
            CONFIG,
            epochs=10,
            learning_rate=1e-12,
            patience=1,
            min_delta=1.0,
            min_epochs=1,
            smooth_epochs=1,
        )
        _, trainer = _fit(None, config)
        assert trainer.stopper.should_stop
        assert trainer.epoch == 2

    def test_early_stopping_waits_for_min_epochs(self) -> None:
        """With min_epochs 5 the same run trains 5 epochs, keeps epoch 5, stops after 6."""
        config = attrs.evolve(
            CONFIG, epochs=10, learning_rate=1e-12, patience=1, min_delta=1.0, min_epochs=5
        )
        _, trainer = _fit(None, config)
        assert trainer.epoch == 6
        assert trainer.stopper.best_epoch == 4

    def test_steps_per_epoch(self) -> None:
        """steps_per_epoch caps the batches; each batch takes ceil(T / window) steps."""
        config = attrs.evolve(CONFIG, epochs=1, steps_per_epoch=2)
        _, trainer = _fit(None, config)
        assert trainer.step == 2 * 3  # sequences of <= 10 steps in windows of 4

    def test_seed_changes_result(self) -> None:
        """Another seed gives other weights (so the equality tests below can fail)."""
        a, _ = _fit(None)
        b, _ = _fit(None, attrs.evolve(CONFIG, seed=2))
        assert not _same_weights(a, b)


class TestResume:
    @pytest.mark.parametrize(("crash_at", "every"), [(5, 0), (14, 0), (8, 1), (17, 2)])
    def test_crash_then_resume_is_bitwise_equal(
        self, tmp_path: Path, crash_at: int, every: int
    ) -> None:
        """A run crashed mid-epoch and resumed ends with bitwise the same weights and history."""
        config = attrs.evolve(CONFIG, checkpoint_every=every)
        reference, ref_trainer = _fit(tmp_path / "ref", config)
        with pytest.raises(CrashError):
            _fit(tmp_path / "run", config, crash_at=crash_at)
        resumed, trainer = _fit(tmp_path / "run", config, resume=True)
        assert _same_weights(reference, resumed)
        assert trainer.history.series["val_loss"] == ref_trainer.history.series["val_loss"]
        assert trainer.step == ref_trainer.step

    def test_resume_finished_run_trains_no_more(self, tmp_path: Path) -> None:
        """Resuming a finished run only reloads the best weights."""
        first, _ = _fit(tmp_path)
        again, trainer = _fit(tmp_path, resume=True)
        assert _same_weights(first, again)
        assert len(trainer.history) == CONFIG.epochs

    def test_resume_more_epochs(self, tmp_path: Path) -> None:
        """Raising --epochs on resume continues training from the last epoch."""
        config = attrs.evolve(CONFIG, schedule="constant")
        _fit(tmp_path, config)
        _, trainer = _fit(tmp_path, attrs.evolve(config, epochs=5), resume=True)
        assert len(trainer.history) == 5

    def test_resume_without_checkpoint_starts_afresh(self, tmp_path: Path) -> None:
        """--resume with nothing saved trains normally."""
        a, _ = _fit(None)
        b, _ = _fit(tmp_path, resume=True)
        assert _same_weights(a, b)

    def test_other_settings_refused(self, tmp_path: Path) -> None:
        """A checkpoint written with another batch size is not resumed silently."""
        with pytest.raises(CrashError):
            _fit(tmp_path, crash_at=12)  # epoch 0 (9 steps) is checkpointed
        with pytest.raises(KellyError, match="batch_size") as info:
            _fit(tmp_path, attrs.evolve(CONFIG, batch_size=3), resume=True)
        assert info.value.field == "config"

    def test_other_data_refused(self, tmp_path: Path) -> None:
        """A checkpoint trained on other sequences is not resumed silently."""
        with pytest.raises(CrashError):
            _fit(tmp_path, crash_at=12)
        changed = SequenceSet.from_examples(EXAMPLES[:10])  # one training sequence fewer
        with pytest.raises(KellyError, match="other data") as info:
            _fit(tmp_path, resume=True, train=changed)
        assert info.value.field == "data"
        assert info.value.expected != info.value.got


class TestFingerprint:
    def test_changes_with_any_value_and_not_otherwise(self) -> None:
        """The data fingerprint is stable, and changes when one value changes."""
        assert TRAIN.fingerprint() == SequenceSet.from_examples(EXAMPLES[:11]).fingerprint()
        inputs = list(TRAIN.inputs)
        inputs[3] = inputs[3].copy()
        inputs[3][2, 1] += 1e-3
        edited = attrs.evolve(TRAIN, inputs=tuple(inputs))
        assert edited.fingerprint() != TRAIN.fingerprint()
