"""``kelly train --synthetic --epochs 1`` through the real CLI and installed plugins.

A reduced run (few sequences, few batches) of all five models on the data package's
synthetic datasets, exported with the real ``rtneural`` exporter and validated.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_NAMES
from kelly_core.cli import main
from kelly_core.registry import default_registry


def test_train_synthetic_one_epoch(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """All five models train one short epoch, export files that pass check, and report."""
    output = tmp_path / "run"
    status = main(
        [
            "-q",
            "train",
            "--synthetic",
            "--epochs",
            "1",
            "--max-items",
            "20",
            "--steps-per-epoch",
            "2",
            "--batch-size",
            "4",
            "--output",
            str(output),
            "--no-progress",
        ]
    )
    assert status == 0
    table = capsys.readouterr().out
    exporter = default_registry().exporter("rtneural")
    for name in MODEL_NAMES:
        stem = name.lower()
        path = output / f"{stem}.json"
        assert exporter.check(path) == [], name
        assert exporter.read(path).spec == default_registry().spec(name)
        metrics = json.loads((output / "metrics" / f"{stem}_metrics.json").read_text())
        assert len(metrics["train_loss"]) == len(metrics["val_loss"]) == 1
        assert "baseline_loss" in metrics["test"]
        assert (output / "metrics" / f"{stem}_metrics.png").is_file()
        assert name in table
    summary = json.loads((output / "summary.json").read_text())
    assert [row["model"] for row in summary["models"]] == list(MODEL_NAMES)
    assert all(row["synthetic"] for row in summary["models"])
