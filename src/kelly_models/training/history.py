"""Per-epoch metrics history: appended by the loop, saved as JSON atomically, loaded back.

The document is ``{"model": NAME, "series": {"train_loss": [...], "val_loss": [...],
"learning_rate": [...], "epoch_seconds": [...]}, "notes": {...}}``: one list per metric,
one value per epoch, all lists the same length. ``notes`` holds run facts
(``best_epoch``, ``stopped_early``).
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from pathlib import Path

from kelly_core.errors import KellyError
from kelly_core.fileio import atomic_write_json

__all__ = ["History"]


class History:
    """Metric series of one model's training, one value per epoch."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.series: dict[str, list[float]] = {}
        self.notes: dict[str, object] = {}

    def __len__(self) -> int:
        """Number of epochs recorded."""
        return max((len(values) for values in self.series.values()), default=0)

    def append(self, values: Mapping[str, float]) -> None:
        """Record one epoch; every series present so far must be given again."""
        missing = set(self.series) - set(values)
        if self.series and missing:
            raise KellyError(
                f"epoch record lacks {', '.join(sorted(missing))}",
                field="history",
                got=sorted(values),
            )
        epochs = len(self)
        for name, value in values.items():
            self.series.setdefault(name, [math.nan] * epochs).append(float(value))

    def to_dict(self) -> dict[str, object]:
        """Return the JSON document (NaN written as ``null``)."""
        return {
            "model": self.model,
            "series": {
                k: [None if math.isnan(v) else v for v in vs] for k, vs in self.series.items()
            },
            "notes": dict(self.notes),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> History:
        """Rebuild a history from :meth:`to_dict` output."""
        history = cls(str(data["model"]))
        series = data.get("series", {})
        if not isinstance(series, Mapping):
            raise KellyError("expected an object", field="series", got=type(series).__name__)
        for name, values in series.items():
            history.series[str(name)] = [math.nan if v is None else float(v) for v in values]
        notes = data.get("notes", {})
        if isinstance(notes, Mapping):
            history.notes = dict(notes)
        return history

    def save(self, path: Path) -> Path:
        """Write the history to ``path`` as JSON, atomically."""
        return atomic_write_json(path, self.to_dict(), indent=1)

    @classmethod
    def load(cls, path: Path) -> History:
        """Read a history written by :meth:`save`.

        :raises KellyError: If the file is not a history document.
        """
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as exc:
            raise KellyError(f"cannot read history: {exc}", path=path) from exc
        if not isinstance(data, dict) or "model" not in data:
            raise KellyError("not a history document (no 'model' key)", path=path)
        return cls.from_dict(data)
