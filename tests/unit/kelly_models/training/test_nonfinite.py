"""Non-finite losses and weights: never written as a checkpoint, never resumed from."""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import pytest
import torch

from kelly_core.errors import KellyError, KellyWarning
from kelly_models.training.checkpoint import CheckpointManager
from kelly_models.training.config import TrainConfig
from kelly_models.training.loop import StepEvent, Trainer
from kelly_models.training.sequences import SequenceSet
from kelly_models.training.tasks import task_for
from tests.unit.kelly_models.training.helpers import tiny_examples, tiny_network, tiny_spec

SPEC = tiny_spec()
EXAMPLES = tiny_examples(SPEC, 14, length=10)
TRAIN = SequenceSet.from_examples(EXAMPLES[:11])
VAL = SequenceSet.from_examples(EXAMPLES[11:])
CONFIG = TrainConfig(epochs=3, batch_size=4, window=4, learning_rate=5e-3, seed=1)
"""Three batches of three windows per epoch: nine steps."""


def _trainer(folder: Path, *, poison_at: int | None = None) -> Trainer:
    """A trainer whose callback sets one weight to NaN after step ``poison_at``."""
    module = tiny_network(SPEC, seed=4)

    def poison(event: StepEvent) -> None:
        if poison_at is not None and event.step >= poison_at:
            with torch.no_grad():
                next(module.parameters()).view(-1)[0] = float("nan")

    return Trainer(
        module,
        SPEC,
        task_for(SPEC),
        CONFIG,
        checkpoints=CheckpointManager(folder, keep_last=5),
        callbacks=[poison],
        progress=False,
    )


def _all_finite(folder: Path) -> list[str]:
    """The names of the checkpoints in ``folder``, each checked to hold finite weights."""
    manager = CheckpointManager(folder)
    names = []
    for path in sorted(folder.glob("*.pt")):
        module = manager.load(path)["module"]
        assert isinstance(module, dict)
        assert all(bool(torch.isfinite(t).all()) for t in module.values()), path
        names.append(path.name)
    return names


class TestNonFiniteTraining:
    def test_nan_label_stops_before_the_step(self, tmp_path: Path) -> None:
        """A NaN target makes the first loss NaN: the run stops at step 1 naming the model,
        and no checkpoint at all is written."""
        bad = list(EXAMPLES[:11])
        targets = bad[0].targets.copy()
        targets[2, 1] = np.nan
        bad[0] = attrs.evolve(bad[0], targets=targets)
        trainer = _trainer(tmp_path / "ck")
        with pytest.raises(KellyError) as info:
            trainer.fit(SequenceSet.from_examples(bad), VAL)
        message = str(info.value)
        assert "\n" not in message
        assert message.startswith("Tiny: ")
        assert "loss went non-finite (nan)" in message
        assert "no checkpoint was written before it" in message
        assert info.value.field is None
        assert not list((tmp_path / "ck").glob("*.pt"))
        first = torch.nn.utils.parameters_to_vector(trainer.module.parameters())
        assert bool(torch.isfinite(first).all())  # the bad step was not taken

    def test_nan_validation_label_stops_after_the_first_epoch(self, tmp_path: Path) -> None:
        """A NaN validation target makes every validation loss NaN, which would keep no
        best epoch and export the last weights unnoticed: the run stops, saying so."""
        bad = list(EXAMPLES[11:])
        targets = bad[0].targets.copy()
        targets[1, 1] = np.inf
        bad[0] = attrs.evolve(bad[0], targets=targets)
        trainer = _trainer(tmp_path / "ck")
        with pytest.raises(KellyError, match="validation loss went non-finite") as info:
            trainer.fit(TRAIN, SequenceSet.from_examples(bad))
        assert "validation sequences hold NaN or inf" in str(info.value)
        assert trainer.epoch == 0
        assert not list((tmp_path / "ck").glob("*.pt"))

    def test_nan_weights_are_never_saved(self, tmp_path: Path) -> None:
        """Weights poisoned in epoch 2 stop the run before any checkpoint holds them; the
        message names the step and the last good checkpoint, which exists and is finite."""
        trainer = _trainer(tmp_path / "ck", poison_at=12)
        with pytest.raises(KellyError, match="went non-finite") as info:
            trainer.fit(TRAIN, VAL)
        message = str(info.value)
        assert "\n" not in message
        assert "Tiny: " in message
        assert "step 13" in message or "step 12" in message
        last = tmp_path / "ck" / "step-00000009.pt"
        assert f"last good checkpoint: {last}" in message
        assert _all_finite(tmp_path / "ck") == ["step-00000009.pt"]  # no best before min_epochs


class TestNonFiniteResume:
    def test_nan_checkpoint_is_skipped_with_its_reason(self, tmp_path: Path) -> None:
        """A newest checkpoint holding NaN weights is passed over with a warning naming it
        and why; the run resumes from the previous one and ends finite."""
        folder = tmp_path / "ck"
        _trainer(folder).fit(TRAIN, VAL)  # steps 9, 18, 27
        manager = CheckpointManager(folder)
        newest = manager.checkpoints()[-1]
        state = manager.load(newest)
        module = state["module"]
        assert isinstance(module, dict)
        first = next(iter(module))
        module[first] = torch.full_like(module[first], float("nan"))
        torch.save(state, folder / "step-00000099.pt")
        trainer = _trainer(folder)
        with pytest.warns(KellyWarning, match=r"step-00000099\.pt.*non-finite") as caught:
            result = trainer.fit(TRAIN, VAL, resume=True)
        assert any(first in str(w.message) for w in caught)
        assert result.resumed_from == newest
        weights = torch.nn.utils.parameters_to_vector(trainer.module.parameters())
        assert bool(torch.isfinite(weights).all())

    def test_nan_best_is_not_loaded(self, tmp_path: Path) -> None:
        """A best.pt holding NaN weights is not loaded on resume: the warning names it and
        the module keeps finite weights."""
        folder = tmp_path / "ck"
        _trainer(folder).fit(TRAIN, VAL)
        manager = CheckpointManager(folder)
        best = manager.load(manager.best_path)
        module = best["module"]
        assert isinstance(module, dict)
        for key in module:
            module[key] = torch.full_like(module[key], float("inf"))
        torch.save(best, manager.best_path)
        trainer = _trainer(folder)
        with pytest.warns(KellyWarning, match=r"best\.pt.*non-finite"):
            trainer.fit(TRAIN, VAL, resume=True)
        weights = torch.nn.utils.parameters_to_vector(trainer.module.parameters())
        assert bool(torch.isfinite(weights).all())
