"""One model's outcome of ``kelly train``: a row of the summary, and back.

:meth:`ModelReport.to_dict` is the row ``summary.json`` holds; :meth:`ModelReport.from_dict`
reads such a row back, so a run that trains some models into a folder keeps the rows of
the others (:func:`~.summary.write_summary`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import attrs

from kelly_core.errors import KellyError

__all__ = [
    "STRONGEST",
    "ModelReport",
    "baseline_names_in",
    "json_float",
    "strongest_mark",
    "strongest_of",
]

STRONGEST: Final = (
    "strongest baseline: the best baseline value of each metric, the lowest loss and the "
    "highest {metric} (one baseline may hold both); a model beats it when it beats both"
)
"""What "strongest baseline" means wherever Kelly says it (``kelly train``'s summary and
verdict, ``kelly evaluate``), with ``{metric}`` the model's headline metric."""


def baseline_names_in(scores: Mapping[str, float]) -> list[str]:
    """The baselines scored in ``scores`` (keys ``<name>_loss``), in their order."""
    return [
        k[: -len("_loss")]
        for k in scores
        if k.endswith("_loss") and not k.startswith(("baseline_", "shuffled_"))
    ]


def strongest_of(
    scores: Mapping[str, float], names: Sequence[str], metric: str, *, lower: bool
) -> str | None:
    """The baseline among ``names`` with the best finite ``<name>_<metric>`` (the lowest
    when ``lower``; ties: the first), whose value is ``baseline_<metric>``; None if none."""
    finite = [
        (scores[f"{n}_{metric}"], i, n)
        for i, n in enumerate(names)
        if math.isfinite(scores.get(f"{n}_{metric}", math.nan))
    ]
    if not finite:
        return None
    best = min(finite) if lower else min(finite, key=lambda t: (-t[0], t[1]))
    return best[2]


def strongest_mark(name: str, *, by_metric: str | None, by_loss: str | None, metric: str) -> str:
    """`` (strongest)`` after a baseline holding both best values, `` (strongest loss)`` or
    `` (strongest <metric>)`` after one holding one of them, else nothing."""
    if name == by_metric and name == by_loss:
        return " (strongest)"
    if name == by_metric:
        return f" (strongest {metric})"
    if name == by_loss:
        return " (strongest loss)"
    return ""


def json_float(value: float) -> float | None:
    """``value``, or None for NaN and inf (strict JSON has neither)."""
    return float(value) if math.isfinite(value) else None


@attrs.frozen(kw_only=True)
class ModelReport:
    """The outcome of training one model: one row of the summary."""

    model: str
    dataset: str
    synthetic: bool
    epochs: int
    best_epoch: int
    stopped_early: bool
    train_loss: float
    val_loss: float
    test: Mapping[str, float]
    """Test-split metrics with ``baseline_*`` beside each (see :class:`~.tasks.Task`); with
    ``folds > 1`` the mean over the folds."""
    spread: Mapping[str, float] = attrs.field(factory=dict)
    """Standard deviation of each test metric over the folds (0 with one split)."""
    folds: int = 1
    """Folds trained (1: one train/validation/test split)."""
    headline: str
    baseline: str = "mean"
    """The baseline with the best headline metric (``baseline_<headline>``; see
    :mod:`.baselines`); :attr:`loss_baseline` has the lowest loss (:data:`STRONGEST`)."""
    baselines: tuple[str, ...] = ()
    """Every baseline scored, in order."""
    parameters: int
    file: Path
    file_bytes: int
    seconds: float
    epoch_seconds: float
    """Mean wall time of one epoch (training plus validation)."""

    @property
    def loss_baseline(self) -> str:
        """The baseline with the lowest test loss (``baseline_loss``); :data:`STRONGEST`."""
        found = strongest_of(self.test, self.baselines, "loss", lower=True)
        return found if found is not None else self.baseline

    @property
    def beats_baseline(self) -> bool:
        """Whether the test loss is below the strongest baseline's (the lowest) and the
        headline metric above it (the highest): :data:`STRONGEST`."""
        loss, base = self.test.get("loss", math.nan), self.test.get("baseline_loss", math.nan)
        metric = self.test.get(self.headline, math.nan)
        base_metric = self.test.get(f"baseline_{self.headline}", math.nan)
        return bool(loss < base and metric > base_metric)

    def to_dict(self) -> dict[str, object]:
        """Return a JSON-ready row."""
        return {
            "model": self.model,
            "dataset": self.dataset,
            "synthetic": self.synthetic,
            "epochs": self.epochs,
            "best_epoch": self.best_epoch + 1,
            "stopped_early": self.stopped_early,
            "train_loss": json_float(self.train_loss),
            "val_loss": json_float(self.val_loss),
            "test_loss": json_float(self.test.get("loss", math.nan)),
            "baseline_test_loss": json_float(self.test.get("baseline_loss", math.nan)),
            "metric": self.headline,
            "metric_value": json_float(self.test.get(self.headline, math.nan)),
            "metric_std": json_float(self.spread.get(self.headline, math.nan)),
            "folds": self.folds,
            "baseline_metric_value": json_float(
                self.test.get(f"baseline_{self.headline}", math.nan)
            ),
            "baseline": self.baseline,
            "baselines": {
                name: {
                    "loss": json_float(self.test.get(f"{name}_loss", math.nan)),
                    self.headline: json_float(self.test.get(f"{name}_{self.headline}", math.nan)),
                }
                for name in self.baselines
            },
            "emotion_shuffled_metric_value": json_float(
                self.test.get(f"shuffled_{self.headline}", math.nan)
            ),
            "beats_baseline": self.beats_baseline,
            "parameters": self.parameters,
            "file": str(self.file),
            "file_bytes": self.file_bytes,
            "seconds": round(self.seconds, 3),
            "epoch_seconds": round(self.epoch_seconds, 3),
        }

    @classmethod
    def from_dict(cls, row: Mapping[str, object]) -> ModelReport:
        """Read back a row written by :meth:`to_dict` (None reads as NaN).

        :raises KellyError: Naming the first field that is missing or of the wrong type.
        """
        headline = _text(row, "metric")
        baselines = row.get("baselines", {})
        if not isinstance(baselines, Mapping):
            raise KellyError("expected an object", field="baselines", got=baselines)
        test = {
            "loss": _number(row, "test_loss"),
            "baseline_loss": _number(row, "baseline_test_loss"),
            headline: _number(row, "metric_value"),
            f"baseline_{headline}": _number(row, "baseline_metric_value"),
            f"shuffled_{headline}": _number(row, "emotion_shuffled_metric_value"),
        }
        for name, values in baselines.items():
            if not isinstance(values, Mapping):
                raise KellyError("expected an object", field=f"baselines.{name}", got=values)
            test[f"{name}_loss"] = _number(values, "loss")
            test[f"{name}_{headline}"] = _number(values, headline)
        return cls(
            model=_text(row, "model"),
            dataset=_text(row, "dataset"),
            synthetic=bool(row.get("synthetic")),
            epochs=int(_number(row, "epochs")),
            best_epoch=int(_number(row, "best_epoch")) - 1,
            stopped_early=bool(row.get("stopped_early")),
            train_loss=_number(row, "train_loss"),
            val_loss=_number(row, "val_loss"),
            test={k: v for k, v in test.items() if not math.isnan(v)},
            spread={headline: _number(row, "metric_std")},
            folds=int(_number(row, "folds")),
            headline=headline,
            baseline=_text(row, "baseline"),
            baselines=tuple(str(name) for name in baselines),
            parameters=int(_number(row, "parameters")),
            file=Path(_text(row, "file")),
            file_bytes=int(_number(row, "file_bytes")),
            seconds=_number(row, "seconds"),
            epoch_seconds=_number(row, "epoch_seconds"),
        )


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key)
    if not isinstance(value, str):
        raise KellyError("expected a string", field=key, got=value)
    return value


def _number(row: Mapping[str, object], key: str) -> float:
    value = row.get(key)
    if value is None:
        return math.nan
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KellyError("expected a number or null", field=key, got=value)
    return float(value)
