"""Training-curve PNGs from a :class:`~.history.History`, headless (matplotlib's Agg).

Uses matplotlib's object API with an explicit ``Figure`` and the Agg canvas, so no
global backend is switched, no window opens and nothing leaks between figures; the PNG
is written through :func:`kelly_core.fileio.atomic_path`.
"""

from __future__ import annotations

from pathlib import Path

from kelly_core.fileio import atomic_path
from kelly_models.training.history import History

__all__ = ["plot_history"]


def plot_history(history: History, path: Path, *, baseline_loss: float | None = None) -> Path:
    """Draw the loss curves (and learning rate) of ``history`` into the PNG ``path``.

    :param baseline_loss: Test-split loss of the trivial baseline, drawn as a dashed line.
    :returns: ``path``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(8, 4.5), dpi=100)
    FigureCanvasAgg(figure)
    losses, rate = figure.subplots(1, 2, gridspec_kw={"width_ratios": [3, 1]})
    epochs = list(range(1, len(history) + 1))
    for name in ("train_loss", "val_loss"):
        if name in history.series:
            losses.plot(epochs, history.series[name], marker="o", label=name.replace("_", " "))
    if baseline_loss is not None:
        losses.axhline(baseline_loss, linestyle="--", color="grey", label="baseline (test split)")
    best = history.notes.get("best_epoch")
    if isinstance(best, int) and best >= 0:
        losses.axvline(best + 1, linestyle=":", color="green", label="best epoch")
    losses.set_xlabel("epoch")
    losses.set_ylabel("loss")
    losses.set_title(history.model)
    losses.legend()
    losses.grid(alpha=0.3)
    if "learning_rate" in history.series:
        rate.plot(epochs, history.series["learning_rate"], color="tab:purple")
    rate.set_xlabel("epoch")
    rate.set_title("learning rate")
    rate.grid(alpha=0.3)
    figure.tight_layout()
    with atomic_path(path) as tmp:
        figure.savefig(tmp, format="png")
    return Path(path)
