"""Tests for kelly_models.training.plots."""

from __future__ import annotations

import sys
from pathlib import Path

from kelly_models.training.history import History
from kelly_models.training.plots import SYNTHETIC_NOTE, PlotContext, draw_history, plot_history


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


def _history() -> History:
    history = History("HarmonyPredictor")
    for epoch in range(3):
        history.append({"train_loss": 2.0 / (epoch + 1), "val_loss": 2.2 / (epoch + 1)})
    return history


def _texts(figure: object) -> list[str]:
    """Every text drawn: the title, the panels' titles and the bars' value labels."""
    from matplotlib.text import Text

    return [t.get_text() for t in figure.findobj(Text) if t.get_text()]  # type: ignore[attr-defined]


SCORES = {"top1": 0.52, "unigram_top1": 0.17, "bigram_top1": 0.41, "loss": 1.1}


class TestHeadlineAndData:
    def test_headline_metric_beside_the_loss(self) -> None:
        """A panel of the test headline metric: the model's and each baseline's value."""
        context = PlotContext(
            dataset="chords",
            synthetic=False,
            headline="top1",
            scores=SCORES,
            baselines=("unigram", "bigram"),
        )
        texts = _texts(draw_history(_history(), baseline_loss=1.4, context=context))
        assert "test top1" in texts
        assert {"0.520", "0.170", "0.410"} <= set(texts)
        assert "HarmonyPredictor on chords" in texts
        assert not any("synthetic" in t for t in texts)

    def test_synthetic_data_is_said(self, tmp_path: Path) -> None:
        context = PlotContext(
            dataset="synthetic-harmony", synthetic=True, headline="top1", scores=SCORES
        )
        figure = draw_history(_history(), context=context)
        (title,) = [t for t in _texts(figure) if t.startswith("HarmonyPredictor on")]
        assert title == f"HarmonyPredictor on synthetic-harmony\n{SYNTHETIC_NOTE}"
        assert "synthetic data" in SYNTHETIC_NOTE
        path = plot_history(_history(), tmp_path / "p.png", context=context)
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
