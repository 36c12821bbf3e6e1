"""Tests for kelly_models.training.loop: training, early stopping, crash and resume."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.errors import KellyError
from kelly_models.training.checkpoint import CheckpointManager, read_number
from kelly_models.training.config import TrainConfig
from kelly_models.training.evaluate import evaluate_loss
from kelly_models.training.history import History
from kelly_models.training.loop import FitResult, StepEvent, Trainer
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


def _fit_recorded(
    folder: Path, config: TrainConfig = CONFIG, *, resume: bool = True
) -> tuple[FitResult, list[StepEvent], torch.nn.Module]:
    """Fit with checkpoints in ``folder``; return the result and every batch's event."""
    module = tiny_network(SPEC, seed=4)
    events: list[StepEvent] = []
    trainer = Trainer(
        module,
        SPEC,
        task_for(SPEC),
        config,
        checkpoints=CheckpointManager(folder / "ck", keep_last=2),
        callbacks=[events.append],
        progress=False,
    )
    return trainer.fit(TRAIN, VAL, resume=resume), events, module


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


HEADS = {
    "regression": tiny_spec(),
    "classes": tiny_spec(last="softmax"),  # trained from the logits (log_softmax)
    "notes": tiny_spec(last="sigmoid", output="notes"),  # from the logits (BCE)
}
"""One small LSTM spec per way the loop computes a loss."""


def _windowed_and_whole(
    window: int, batch_size: int, length: int, seed: int, head: str = "regression"
) -> tuple[float, float]:
    """One epoch at a learning rate of 1e-12 (weights barely move): the training loss it
    reports, window by window with the state carried, and the loss of the untouched
    initial weights run over each whole sequence from a zero state."""
    spec = HEADS[head]
    examples = tiny_examples(spec, 5, length=length, seed=seed)
    train = SequenceSet.from_examples(examples)
    config = TrainConfig(
        epochs=1, batch_size=batch_size, window=window, learning_rate=1e-12, seed=seed
    )
    module = tiny_network(spec, seed=seed)
    task = task_for(spec)
    assert task.kind == head
    whole = evaluate_loss(module, task, train, device=torch.device("cpu"), batch_size=5)
    trainer = Trainer(module, spec, task, config, progress=False)
    trainer.fit(train, train)
    return trainer.history.series["train_loss"][0], whole


class TestTruncatedBptt:
    @pytest.mark.parametrize("head", list(HEADS))
    def test_windowed_loss_equals_whole_sequence_loss(self, head: str) -> None:
        """Windows of 3 steps with the LSTM state carried see what one whole pass sees
        (1e-8 apart). Resetting the state at each window edge moves the windowed loss
        about 4e-3 away (0.28813 against 0.28918 for the regression head)."""
        windowed, whole = _windowed_and_whole(3, batch_size=2, length=12, seed=0, head=head)
        assert windowed == pytest.approx(whole, rel=1e-5, abs=1e-7)

    def test_state_reset_would_be_visible(self) -> None:
        """The comparison above can fail: a zero state mid-sequence changes the outputs."""
        module = tiny_network(SPEC, seed=0)
        x = torch.from_numpy(np.stack([e.inputs[:10] for e in tiny_examples(SPEC, 2)]))
        with torch.no_grad():
            whole = module(x)
            first, _ = module.run(x[:, :3])
            fresh, _ = module.run(x[:, 3:])
        assert float((whole[:, 3:] - fresh).abs().max()) > 1e-3
        torch.testing.assert_close(whole[:, :3], first)

    @settings(max_examples=10)
    @given(
        window=st.integers(1, 7),
        batch_size=st.integers(1, 5),
        length=st.integers(4, 13),
        seed=st.integers(0, 2**10),
        head=st.sampled_from(list(HEADS)),
    )
    def test_any_window_equals_whole_sequence(
        self, window: int, batch_size: int, length: int, seed: int, head: str
    ) -> None:
        """Property: for any window, batch size, ragged lengths and loss, the windowed loss
        of an epoch that does not move the weights equals the whole-sequence loss."""
        windowed, whole = _windowed_and_whole(window, batch_size, length, seed, head)
        assert windowed == pytest.approx(whole, rel=1e-5, abs=1e-7)


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

    @pytest.mark.parametrize(("crash_at", "every"), [(12, 0), (14, 1), (17, 2)])
    def test_resume_starts_where_the_latest_checkpoint_left_off(
        self, tmp_path: Path, crash_at: int, every: int
    ) -> None:
        """The resumed run reports the newest checkpoint, and runs exactly the batches after
        it, its first step counting on from the checkpoint's step (not from 0)."""
        config = attrs.evolve(CONFIG, checkpoint_every=every)
        _, all_events, reference = _fit_recorded(tmp_path / "ref", config, resume=False)
        with pytest.raises(CrashError):
            _fit(tmp_path / "run", config, crash_at=crash_at)
        manager = CheckpointManager(tmp_path / "run" / "ck")
        latest = manager.checkpoints()[-1]
        saved = manager.load(latest)
        result, events, resumed = _fit_recorded(tmp_path / "run", config)
        assert result.resumed_from == latest
        done = 3 * read_number(saved, "epoch", int) + read_number(saved, "batch", int)
        assert 0 < done < len(all_events)  # batches per epoch: 3
        assert all_events[done - 1].step == read_number(saved, "step", int)
        assert [(e.epoch, e.batch, e.step) for e in events] == [
            (e.epoch, e.batch, e.step) for e in all_events[done:]
        ]
        assert result.steps == all_events[-1].step
        assert _same_weights(reference, resumed)

    def test_resume_finished_run_trains_no_more(self, tmp_path: Path) -> None:
        """Resuming a finished run only reloads the best weights: no batch runs."""
        first, _ = _fit(tmp_path)
        latest = CheckpointManager(tmp_path / "ck").checkpoints()[-1]
        result, events, again = _fit_recorded(tmp_path)
        assert events == []
        assert result.resumed_from == latest
        assert result.epochs == CONFIG.epochs
        assert _same_weights(first, again)
        assert len(result.history) == CONFIG.epochs

    def test_resume_more_epochs(self, tmp_path: Path) -> None:
        """Raising --epochs on resume continues training from the last epoch: only epochs
        3 and 4 run, their steps counting on from the 27 of the first run."""
        config = attrs.evolve(CONFIG, schedule="constant")
        _, first, _ = _fit_recorded(tmp_path, config, resume=False)
        result, events, _ = _fit_recorded(tmp_path, attrs.evolve(config, epochs=5))
        assert first[-1].step == 27
        assert {e.epoch for e in events} == {3, 4}
        assert len(events) == 2 * 3
        assert events[0].step == 27 + 3
        assert len(result.history) == 5
        assert result.resumed_from is not None

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
