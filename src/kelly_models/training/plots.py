"""Training-curve PNGs from a :class:`~.history.History`, headless (matplotlib's Agg).

Uses matplotlib's object API with an explicit ``Figure`` and the Agg canvas, so no
global backend is switched, no window opens and nothing leaks between figures; the PNG
is written through :func:`kelly_core.fileio.atomic_path`.

Beside the loss curves (and the learning rate), a panel shows the test split's headline
metric of the model and of each baseline (the one the summary judges by), and the
figure's title names the dataset and says when it was generated (synthetic) data.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import attrs

from kelly_core.fileio import atomic_path
from kelly_models.training.history import History

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["PlotContext", "draw_history", "plot_history"]

SYNTHETIC_NOTE = "synthetic data: generated, not music; says nothing about real recordings"
"""What the title says of a model trained on generated data."""


@attrs.frozen(kw_only=True)
class PlotContext:
    """What the run knows beside the curves: the data and the test scores."""

    dataset: str
    """Registered dataset name."""
    synthetic: bool
    """Whether the data was generated (the title says so)."""
    headline: str
    """The headline metric (``top1``, ``r2``, ...)."""
    scores: Mapping[str, float]
    """Test scores: ``<headline>`` and ``<baseline>_<headline>`` are drawn."""
    baselines: Sequence[str] = ()
    """The baselines scored, in order."""


def _headline_panel(axes: Axes, context: PlotContext) -> None:
    """Bars of the test headline metric: the model, then each baseline."""
    names = ["model", *context.baselines]
    values = [
        context.scores.get(context.headline if n == "model" else f"{n}_{context.headline}")
        for n in names
    ]
    shown = [(n, v) for n, v in zip(names, values, strict=True) if v is not None]
    shown = [(n, v) for n, v in shown if math.isfinite(v)]
    colours = ["tab:blue" if n == "model" else "tab:grey" for n, _ in shown]
    bars = axes.bar([n for n, _ in shown], [v for _, v in shown], color=colours)
    axes.bar_label(bars, labels=[f"{v:.3f}" for _, v in shown], fontsize=8)
    axes.set_title(f"test {context.headline}")
    axes.tick_params(axis="x", labelrotation=30, labelsize=8)
    axes.grid(alpha=0.3, axis="y")


def _loss_panel(axes: Axes, history: History, baseline_loss: float | None) -> None:
    epochs = list(range(1, len(history) + 1))
    for name in ("train_loss", "val_loss"):
        if name in history.series:
            axes.plot(epochs, history.series[name], marker="o", label=name.replace("_", " "))
    if baseline_loss is not None:
        axes.axhline(baseline_loss, linestyle="--", color="grey", label="strongest baseline (test)")
    best = history.notes.get("best_epoch")
    if isinstance(best, int) and best >= 0:
        axes.axvline(best + 1, linestyle=":", color="green", label="best epoch")
    axes.set_xlabel("epoch")
    axes.set_ylabel("loss")
    axes.set_title("loss")
    axes.legend()
    axes.grid(alpha=0.3)


def draw_history(
    history: History, *, baseline_loss: float | None = None, context: PlotContext | None = None
) -> Figure:
    """The figure :func:`plot_history` writes (for tests and other writers)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(11 if context is not None else 8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    ratios = [3, 2, 1] if context is not None else [3, 1]
    panels = figure.subplots(1, len(ratios), gridspec_kw={"width_ratios": ratios})
    _loss_panel(panels[0], history, baseline_loss)
    if context is not None:
        _headline_panel(panels[1], context)
    rate = panels[-1]
    if "learning_rate" in history.series:
        rate.plot(range(1, len(history) + 1), history.series["learning_rate"], color="tab:purple")
    rate.set_xlabel("epoch")
    rate.set_title("learning rate")
    rate.grid(alpha=0.3)
    title = history.model if context is None else f"{history.model} on {context.dataset}"
    if context is not None and context.synthetic:
        figure.suptitle(f"{title}\n{SYNTHETIC_NOTE}", color="tab:red")
    else:
        figure.suptitle(title)
    figure.tight_layout()
    return figure


def plot_history(
    history: History,
    path: Path,
    *,
    baseline_loss: float | None = None,
    context: PlotContext | None = None,
) -> Path:
    """Draw the loss curves, the test headline metric and the learning rate of
    ``history`` into the PNG ``path``.

    :param baseline_loss: Test-split loss of the strongest baseline, a dashed line.
    :param context: The dataset and test scores: with it, the headline metric's panel and
        a title naming the data (and saying when it was synthetic).
    :returns: ``path``.
    """
    figure = draw_history(history, baseline_loss=baseline_loss, context=context)
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return Path(path)
