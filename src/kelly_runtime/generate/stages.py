"""Running the five models over one audio clip: the schedule of DESIGN.md §7.

- Features: :class:`~kelly_core.encodings.logmel.StreamingLogMel` fed one second of audio
  at a time, averaged per 0.5 s window by
  :class:`~kelly_core.encodings.logmel.WindowAverager`; the EmotionRecognizer steps once
  per window.
- Generation: one step per beat at the session tempo. A beat uses the emotion of the
  window in which it starts (the last window past the end of the audio; the neutral code
  when the clip is shorter than one window). The MelodyTransformer steps on the emotion
  code; the HarmonyPredictor on ``[emotion | previous chord distribution]`` (its own
  previous output; zeros before the first beat); the DynamicsEngine on the compact
  context ``[coarse emotion | beat in bar | pitch classes sounding]``, the pitch classes
  being the melody's likely pitches (p >= 0.5) and the chosen chord's; the
  GroovePredictor steps on the emotion code at the first beat of each bar.
- Models: ``<models_dir>/<name>.json`` (``emotionrecognizer.json``, ... or the exact
  model name), read with the registry's exporter for the suffix and loaded into the
  chosen backend; a missing file (or no folder) puts that stage on the ``fallback``
  backend, and the stage is listed in ``fallback_stages``. An invalid file is an error.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.encodings.chords import chord_pitch_classes
from kelly_core.encodings.context import BEATS_PER_BAR, compact_context, harmony_context
from kelly_core.encodings.emotion import NEUTRAL_EMOTION
from kelly_core.encodings.logmel import StreamingLogMel, WindowAverager, frames_per_window
from kelly_core.encodings.melody import melody_pitch_classes
from kelly_core.interfaces import Backend
from kelly_core.registry import Registry, default_registry
from kelly_runtime.generate.audio import AudioClip
from kelly_runtime.generate.render import StageOutputs
from kelly_runtime.loading import load_backend
from kelly_runtime.select import create_backend

__all__ = ["WINDOW_S", "find_model_file", "load_stages", "run_stages"]

logger = logging.getLogger(__name__)

WINDOW_S: Final = 0.5
"""Length of an emotion analysis window in seconds (DEAM's 2 Hz)."""
_CHUNK: Final = 22050
_SUFFIXES: Final = (".json",)


def find_model_file(models_dir: Path, name: str) -> Path | None:
    """Return ``models_dir/<name lower-cased>.json`` or ``models_dir/<name>.json``, or None."""
    stem = MODEL_SPECS[name].file_stem
    for candidate in (stem, name):
        for suffix in _SUFFIXES:
            path = models_dir / f"{candidate}{suffix}"
            if path.is_file():
                return path
    return None


def load_stages(
    models_dir: Path | None, backend: str | None, *, registry: Registry | None = None
) -> tuple[dict[str, Backend], tuple[str, ...]]:
    """Load the five models; return the backends by name and the stages on fallback.

    :raises KellyError: If a model file exists but is invalid, or the backend is unknown.
    """
    registry = registry if registry is not None else default_registry()
    stages: dict[str, Backend] = {}
    fallback: list[str] = []
    if models_dir is not None and not models_dir.is_dir():
        logger.warning("models folder %s does not exist; every stage runs on fallback", models_dir)
    for name in MODEL_NAMES:
        path = find_model_file(models_dir, name) if models_dir is not None else None
        if path is None:
            instance = create_backend("fallback", registry=registry)
            instance.load(MODEL_SPECS[name], {})
            fallback.append(name)
        else:
            instance = load_backend(path, backend, model=name, registry=registry)
            logger.debug("%s: %s", name, path)
        stages[name] = instance
    return stages, tuple(fallback)


def _window_emotions(clip: AudioClip, emotion: Backend) -> FloatArray:
    extractor = StreamingLogMel()
    averager = WindowAverager(frames_per_window(extractor.config, WINDOW_S))
    codes: list[FloatArray] = []
    for start in range(0, clip.samples.shape[0], _CHUNK):
        frames = extractor.push(clip.samples[start : start + _CHUNK])
        for window in averager.push(frames):
            codes.append(emotion.step(window.astype(np.float32)))
    if not codes:
        return np.zeros((0, 64), dtype=np.float32)
    return np.stack(codes).astype(np.float32)


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
    stages, fallback = load_stages(models_dir, backend, registry=registry)
    window_emotion = _window_emotions(clip, stages["EmotionRecognizer"])
    beat_s = 60.0 / tempo
    bars = -(-beats // BEATS_PER_BAR)
    beat_emotion = np.empty((beats, 64), dtype=np.float32)
    notes = np.empty((beats, 128), dtype=np.float32)
    chords = np.empty((beats, 64), dtype=np.float32)
    expression = np.empty((beats, 16), dtype=np.float32)
    groove = np.empty((bars, 32), dtype=np.float32)
    previous = np.zeros(64, dtype=np.float32)
    for beat in range(beats):
        if len(window_emotion):
            window = min(int(beat * beat_s / WINDOW_S + 1e-9), len(window_emotion) - 1)
            code = window_emotion[window]
        else:
            code = np.asarray(NEUTRAL_EMOTION, dtype=np.float32)
        beat_emotion[beat] = code
        notes[beat] = stages["MelodyTransformer"].step(code)
        chords[beat] = stages["HarmonyPredictor"].step(harmony_context(code, previous))
        previous = chords[beat]
        sounding = melody_pitch_classes(notes[beat])
        for pc in chord_pitch_classes(int(np.argmax(chords[beat]))):
            sounding[pc] = 1.0
        expression[beat] = stages["DynamicsEngine"].step(
            compact_context(code, beat % BEATS_PER_BAR, sounding)
        )
        if beat % BEATS_PER_BAR == 0:
            groove[beat // BEATS_PER_BAR] = stages["GroovePredictor"].step(code)
    return StageOutputs(
        window_emotion=window_emotion,
        window_s=WINDOW_S,
        beat_emotion=beat_emotion,
        notes=notes,
        chords=chords,
        expression=expression,
        groove=groove,
        fallback_stages=fallback,
    )
