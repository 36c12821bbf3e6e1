"""Running the five models over one audio clip with :class:`kelly_runtime.pipeline.Pipeline`.

- Features: :class:`~kelly_core.encodings.logmel.StreamingLogMel` fed one second of audio
  at a time, averaged per 0.5 s window by
  :class:`~kelly_core.encodings.logmel.WindowAverager`; ``Pipeline.push_window`` steps the
  EmotionRecognizer once per window.
- Generation: ``Pipeline.step_beat`` once per beat at the session tempo (melody, harmony
  fed back its previous chord, dynamics; the groove on the first beat of each bar). Before
  a beat, every window that starts at or before the beat's start time has been pushed, so
  a beat uses the emotion of the window in which it starts (the last window past the end
  of the audio; the neutral code when the clip is shorter than one window).
- Models: ``Pipeline.from_directory`` loads ``<models_dir>/<lower-case name>.json`` (else
  ``.pt``); a missing or invalid file puts that stage on the fallback backend (the
  pipeline's ``KellyWarning`` is logged here, not raised again) and the stage is listed
  in ``fallback_stages``. Without a folder every stage runs on fallback.
"""

from __future__ import annotations

import logging
import warnings
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.encodings.context import BEATS_PER_BAR
from kelly_core.encodings.logmel import StreamingLogMel, WindowAverager, frames_per_window
from kelly_core.errors import KellyWarning
from kelly_core.registry import Registry
from kelly_runtime.generate.audio import AudioClip
from kelly_runtime.generate.render import StageOutputs
from kelly_runtime.pipeline import Pipeline

__all__ = ["WINDOW_S", "load_pipeline", "run_stages"]

logger = logging.getLogger(__name__)

WINDOW_S: Final = 0.5
"""Length of an emotion analysis window in seconds (DEAM's 2 Hz)."""
_CHUNK: Final = 22050


def load_pipeline(
    models_dir: Path | None, backend: str | None, *, registry: Registry | None = None
) -> Pipeline:
    """Return the five-stage pipeline for ``models_dir`` (all on fallback when None).

    :raises KellyError: If ``models_dir`` is not a folder or the backend is unknown.
    """
    if models_dir is None:
        return Pipeline.fallback()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KellyWarning)
        pipeline = Pipeline.from_directory(
            models_dir, backend=backend if backend is not None else "numpy", registry=registry
        )
    for warning in caught:
        logger.info("%s", warning.message)
    return pipeline


def _windows(clip: AudioClip) -> FloatArray:
    extractor = StreamingLogMel()
    averager = WindowAverager(frames_per_window(extractor.config, WINDOW_S))
    windows: list[FloatArray] = []
    for start in range(0, clip.samples.shape[0], _CHUNK):
        windows.extend(averager.push(extractor.push(clip.samples[start : start + _CHUNK])))
    if not windows:
        return np.zeros((0, 128), dtype=np.float32)
    return np.stack(windows).astype(np.float32)


def run_stages(
    clip: AudioClip,
    *,
    models_dir: Path | None,
    backend: str | None,
    beats: int,
    tempo: float,
    registry: Registry | None = None,
) -> StageOutputs:
    """Run the five models over ``clip`` for ``beats`` beats at ``tempo`` BPM.

    :returns: Per-window emotion codes and per-beat (per-bar for the groove) outputs.
    """
    pipeline = load_pipeline(models_dir, backend, registry=registry)
    windows = _windows(clip)
    beat_s = 60.0 / tempo
    bars = -(-beats // BEATS_PER_BAR)
    window_emotion = np.empty((len(windows), 64), dtype=np.float32)
    beat_emotion = np.empty((beats, 64), dtype=np.float32)
    notes = np.empty((beats, 128), dtype=np.float32)
    chords = np.empty((beats, 64), dtype=np.float32)
    expression = np.empty((beats, 16), dtype=np.float32)
    groove = np.empty((bars, 32), dtype=np.float32)
    pushed = 0
    for beat in range(beats):
        start = beat * beat_s
        while pushed < len(windows) and pushed * WINDOW_S <= start + 1e-9:
            window_emotion[pushed] = pipeline.push_window(windows[pushed])
            pushed += 1
        out = pipeline.step_beat()
        beat_emotion[beat] = out.emotion
        notes[beat] = out.notes
        chords[beat] = out.chords
        expression[beat] = out.expression
        if out.groove is not None:
            groove[beat // BEATS_PER_BAR] = out.groove
    while pushed < len(windows):  # the rest of the audio, for the emotion trajectory
        window_emotion[pushed] = pipeline.push_window(windows[pushed])
        pushed += 1
    return StageOutputs(
        window_emotion=window_emotion,
        window_s=WINDOW_S,
        beat_emotion=beat_emotion,
        notes=notes,
        chords=chords,
        expression=expression,
        groove=groove,
        fallback_stages=tuple(pipeline.fallback_stages),
    )
