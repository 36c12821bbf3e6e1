"""A PNG of the emotion trajectory: valence and arousal over time, and the path in the plane.

matplotlib is used through its object API with the Agg canvas (``Figure`` +
``FigureCanvasAgg``): no pyplot global state, no display needed, safe in threads.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from kelly_core._optional import require
from kelly_core.fileio import atomic_path

if TYPE_CHECKING:
    from kelly_runtime.generate.result import GenerationResult

__all__ = ["plot_emotion"]


def plot_emotion(result: GenerationResult, path: str | Path) -> Path:
    """Write a two-panel PNG of ``result``'s emotion trajectory to ``path`` atomically.

    Left: valence and arousal against time, chord changes labelled along the top.
    Right: the trajectory in the valence–arousal plane.

    :raises MissingDependencyError: If matplotlib is not installed.
    """
    figure_module = require("matplotlib.figure", extra="train", purpose="plotting")
    agg = require("matplotlib.backends.backend_agg", extra="train", purpose="plotting")
    figure = figure_module.Figure(figsize=(10, 4), dpi=100, layout="constrained")
    agg.FigureCanvasAgg(figure)
    over_time, plane = figure.subplots(1, 2, width_ratios=(2, 1))
    times = [p.time for p in result.emotion_trajectory]
    valence = [p.valence for p in result.emotion_trajectory]
    arousal = [p.arousal for p in result.emotion_trajectory]
    over_time.plot(times, valence, label="valence", color="tab:blue", marker=".")
    over_time.plot(times, arousal, label="arousal", color="tab:red", marker=".")
    over_time.set_ylim(-1.05, 1.05)
    over_time.set_xlabel("time (s)")
    over_time.set_ylabel("value in [-1, 1]")
    over_time.axhline(0.0, color="0.8", linewidth=0.8)
    previous = None
    for chord in result.chords:
        if chord.label != previous:
            over_time.axvline(chord.time, color="0.9", linewidth=0.6)
            over_time.text(chord.time, 1.0, chord.label, fontsize=6, rotation=90, va="top")
            previous = chord.label
    over_time.legend(loc="lower right")
    name = result.source.name if result.source is not None else "audio"
    over_time.set_title(f"{name}: emotion per window, key {result.key}, {result.tempo:g} BPM")
    plane.plot(valence, arousal, color="0.5", linewidth=0.8)
    if times:
        plane.scatter(valence, arousal, c=times, cmap="viridis", s=12)
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
