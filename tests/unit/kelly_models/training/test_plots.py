"""Tests for kelly_models.training.plots."""

from __future__ import annotations

import sys
from pathlib import Path

from kelly_models.training.history import History
from kelly_models.training.plots import plot_history


class TestPlotHistory:
    def test_writes_png(self, tmp_path: Path) -> None:
        """A PNG is written atomically (no temp file left) and starts with the PNG magic."""
        history = History("Tiny")
        for epoch in range(3):
            history.append(
                {
                    "train_loss": 1.0 / (epoch + 1),
                    "val_loss": 1.2 / (epoch + 1),
                    "learning_rate": 0.1,
                }
            )
        history.notes["best_epoch"] = 2
        path = plot_history(history, tmp_path / "metrics" / "tiny.png", baseline_loss=1.5)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert [p.name for p in path.parent.iterdir()] == ["tiny.png"]

    def test_headless_no_pyplot(self, tmp_path: Path) -> None:
        """Plotting never imports pyplot (so no GUI backend is ever chosen)."""
        history = History("Tiny")
        history.append({"train_loss": 1.0, "val_loss": 1.0})
        had_pyplot = "matplotlib.pyplot" in sys.modules
        plot_history(history, tmp_path / "p.png")
        assert had_pyplot or "matplotlib.pyplot" not in sys.modules
