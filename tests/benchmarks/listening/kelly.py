"""Kelly's analysis of one audio file, through one adapter the benchmark scores.

:func:`kelly_listen` uses ``kelly_runtime.generate.listen.listen(clip)`` when that module
exists (an object with ``beats``, ``downbeats``, ``beats_per_bar``, ``tempo`` and ``key``,
a :class:`~kelly_runtime.generate.keys.Key`); otherwise what ``kelly generate`` runs
today: :func:`kelly_runtime.generate.stages.analyse`, then
:func:`kelly_runtime.generate.beats.detect_beats` (the played beats of its grid; a
downbeat where ``beat_in_bar`` is 0) and :func:`kelly_runtime.generate.stages.song_key`.
Reading and resampling the file are not timed; the first call analyses its clip once
untimed before timing it (JIT compiling, imports).
"""

from __future__ import annotations

import inspect
import time
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["kelly_listen"]

_WARM: list[bool] = []


def _key_text(key: Any) -> str | None:
    if key is None:
        return None
    return f"{key.spell(key.tonic)}:{key.mode}"


def _analyse(clip: Any, tempo_hint: float | None = None) -> dict[str, Any]:
    try:
        from kelly_runtime.generate.listen import listen  # type: ignore[import-not-found,unused-ignore]
    except ImportError:
        return _analyse_today(clip)
    found = listen(clip) if tempo_hint is None else listen(clip, tempo_hint=tempo_hint)
    return {
        "beats": np.asarray(found.beats, dtype=np.float64).tolist(),
        "downbeats": np.asarray(found.downbeats, dtype=np.float64).tolist(),
        "beats_per_bar": int(found.beats_per_bar),
        "tempo": float(found.tempo),
        "key": _key_text(found.key),
        "api": "listen",
    }


def _song_key(stages: Any, clip: Any) -> Any:
    """``stages.song_key(clip)``, or the longest of ``stages.song_keys(clip)``."""
    if hasattr(stages, "song_key"):
        return stages.song_key(clip)
    segments = stages.song_keys(clip)
    return max(segments, key=lambda s: s.end - s.start).key if segments else None


def _analyse_today(clip: Any) -> dict[str, Any]:
    from kelly_runtime.generate import beats as beat_module
    from kelly_runtime.generate import stages

    analysis = stages.analyse(clip)
    detect: Any = beat_module.detect_beats
    if "spectrum" in inspect.signature(detect).parameters:
        grid = detect(
            clip.samples,
            sr=clip.sample_rate,
            spectrum=analysis.frames,
            spectrum_hop=analysis.hop,
            duration=clip.duration,
        )
    else:
        grid = detect(analysis.frames, sr=analysis.sr, hop=analysis.hop, duration=clip.duration)
    played = np.asarray(grid.played, dtype=np.float64)
    indices = range(grid.first, grid.first + played.shape[0])
    downbeats = [float(t) for i, t in zip(indices, played, strict=True) if grid.beat_in_bar(i) == 0]
    return {
        "beats": played.tolist(),
        "downbeats": downbeats,
        "beats_per_bar": int(getattr(grid, "beats_per_bar", 4)),
        "tempo": float(grid.tempo),
        "key": _key_text(_song_key(stages, clip)),
        "api": "stages",
    }


def kelly_listen(path: str | Path, tempo_hint: float | None = None) -> dict[str, Any]:
    """Kelly's beats, downbeats, beats per bar, tempo, key and analysis seconds for ``path``
    (with ``tempo_hint``: told the beat's tempo, as ``kelly generate --tempo-hint``)."""
    from kelly_runtime.generate.audio import read_audio

    clip = read_audio(path)
    if not _WARM:  # JIT compiling and imports: the first clip is analysed once untimed
        _analyse(clip)
        _WARM.append(True)
    started = time.perf_counter()
    out = _analyse(clip, tempo_hint)
    out["seconds"] = time.perf_counter() - started
    return out
