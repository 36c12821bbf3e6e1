"""A PNG of the emotion trajectory: valence and arousal over time, and the path in the plane.

matplotlib is used through its object API with the Agg canvas (``Figure`` +
``FigureCanvasAgg``): no pyplot global state, no display needed, safe in threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from kelly_core._optional import require
from kelly_core.fileio import atomic_path

if TYPE_CHECKING:
    from kelly_runtime.generate.result import GenerationResult

__all__ = ["plot_emotion"]


SMOOTH_WINDOWS: Final = 9
"""Width of the moving average drawn over the raw per-window emotion (4.5 s)."""


def smooth(values: np.ndarray, width: int = SMOOTH_WINDOWS) -> np.ndarray:
    """Centred moving average of ``values`` (edges averaged over what exists)."""
    if values.size == 0:
        return values
    kernel = np.ones(min(width, values.size))
    total = np.convolve(values, kernel, mode="same")
    count = np.convolve(np.ones_like(values), kernel, mode="same")
    return np.asarray(total / count, dtype=np.float64)


def _chord_labels(axes: Any, figure: Any, result: GenerationResult) -> None:
    """Label the chord changes along the top, skipping any label that would overlap the
    previous one drawn (measured in display units after a draw)."""
    figure.canvas.draw()
    renderer = figure.canvas.get_renderer()
    last_right = -np.inf
    previous = None
    for chord in result.chords:
        if chord.label == previous:
            continue
        previous = chord.label
        axes.axvline(chord.time, color="0.9", linewidth=0.6, zorder=0)
        text = axes.text(chord.time, 1.22, chord.label, fontsize=6, rotation=0, va="top")
        box = text.get_window_extent(renderer=renderer)
        if box.x0 < last_right + 2.0:
            text.remove()
            continue
        last_right = box.x1


def plot_emotion(result: GenerationResult, path: str | Path) -> Path:
    """Write a two-panel PNG of ``result``'s emotion trajectory to ``path`` atomically.

    Left: valence and arousal against time, smoothed (a 4.5 s moving average) over the
    faint raw per-window values; chord labels along the top where the chord changes,
    never overlapping (a label that would touch the previous one is left out).
    Right: the smoothed trajectory in the valence–arousal plane, coloured by time (with
    a colour bar).

    :raises MissingDependencyError: If matplotlib is not installed.
    """
    figure_module = require("matplotlib.figure", extra="train", purpose="plotting")
    agg = require("matplotlib.backends.backend_agg", extra="train", purpose="plotting")
    figure = figure_module.Figure(figsize=(10, 4), dpi=100, layout="constrained")
    agg.FigureCanvasAgg(figure)
    over_time, plane = figure.subplots(1, 2, width_ratios=(2, 1))
    times = np.array([p.time for p in result.emotion_trajectory], dtype=np.float64)
    valence = np.array([p.valence for p in result.emotion_trajectory], dtype=np.float64)
    arousal = np.array([p.arousal for p in result.emotion_trajectory], dtype=np.float64)
    for values, label, colour in (
        (valence, "valence", "tab:blue"),
        (arousal, "arousal", "tab:red"),
    ):
        over_time.plot(times, values, color=colour, alpha=0.25, linewidth=0.8)  # raw, faint
        over_time.plot(
            times, smooth(values), color=colour, linewidth=1.8, label=f"{label} (smoothed)"
        )
    over_time.set_ylim(-1.05, 1.3)
    over_time.set_xlabel("time (s)")
    over_time.set_ylabel("value in [-1, 1]")
    over_time.axhline(0.0, color="0.8", linewidth=0.8)
    _chord_labels(over_time, figure, result)
    over_time.legend(loc="lower right", fontsize=8)
    name = result.source.name if result.source is not None else "audio"
    over_time.set_title(f"{name}: emotion per window, key {result.key}, {result.tempo:.1f} BPM")
    plane.plot(smooth(valence), smooth(arousal), color="0.5", linewidth=0.8)
    if times.size:
        points = plane.scatter(smooth(valence), smooth(arousal), c=times, cmap="viridis", s=12)
        figure.colorbar(points, ax=plane, label="time (s)")
    plane.set_xlim(-1.05, 1.05)
    plane.set_ylim(-1.05, 1.05)
    plane.set_xlabel("valence")
    plane.set_ylabel("arousal")
    plane.set_aspect("equal")
    plane.axhline(0.0, color="0.8", linewidth=0.8)
    plane.axvline(0.0, color="0.8", linewidth=0.8)
    with atomic_path(path) as tmp:
        figure.savefig(str(tmp), format="png")
    return Path(path)
