"""Running the five models over one audio clip with :class:`kelly_runtime.pipeline.Pipeline`.

- Features: :class:`~kelly_core.encodings.emotion_frame.StreamingEmotionFrames` fed one
  second of audio at a time gives each 0.5 s window's emotion frame (spectral shape,
  level, onsets and tempo, key-independent mode evidence); ``Pipeline.push_window`` steps
  the EmotionRecognizer once per window.
- Beats, bars and meter: :func:`kelly_runtime.generate.beats.detect_beats` on the audio
  (its onset front end) and the log-mel frames (or a steady grid at ``--tempo``).
- Key: given (``--key``), else found in the audio: the chroma of
  :func:`~kelly_core.encodings.chroma.offline_chroma` (semitone bands C2–B6 folded to 12
  pitch classes, 0.093 s frames, and a bass chroma of C2–B3), correlated with
  Temperley's key profiles, a key per section where the music modulates
  (:func:`kelly_runtime.generate.keys.find_keys`).
  ``Pipeline.set_key`` turns the key-relative models' outputs (and the fallback's) to the
  key of the section each beat starts in. The same chroma averaged per played beat is
  ``StageOutputs.beat_chroma``.
- Generation: ``Pipeline.step_beat`` once per detected beat, told the beat's place in its
  bar and the song's chroma in that beat (``beat_chroma``: offline, a beat hears itself)
  (the models know four places: the fifth and later beats of a longer bar count as the
  fourth) (melody, harmony fed back its previous chord, dynamics; the groove on each bar's
  first beat). Before a beat, every window that starts at or before the beat's start
  time has been pushed, so a beat uses the emotion of the window in which it starts (the
  last window past the end of the audio; the neutral code when the clip is shorter than
  one window). Valence and arousal are decoded once per window.
- Models: ``Pipeline.from_directory`` loads ``<models_dir>/<lower-case name><suffix>``,
  the first suffix of the registered formats' that exists (``.json``, ``.pt``, then a
  plugin format's; :mod:`kelly_runtime.model_files`); a missing or invalid file puts
  that stage on the fallback backend (the pipeline's ``KellyWarning`` is logged here,
  not raised again) and the stage is listed in ``fallback_stages``. Without a folder
  every stage runs on fallback; a folder holding no model file at all is an error.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Sequence
from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.constants import BEATS_PER_BAR, WINDOW_S
from kelly_core.encodings import NEUTRAL_GROOVE
from kelly_core.encodings.chroma import heard_late
from kelly_core.errors import KellyWarning, SpecError
from kelly_core.registry import Registry, default_registry
from kelly_runtime.generate.audio import AudioClip
from kelly_runtime.generate.beats import BeatGrid
from kelly_runtime.generate.keys import Key, KeySegment, key_at
from kelly_runtime.generate.listen import (
    Analysis,
    analyse,
    audio_chroma,
    listen,
    song_key,
    song_keys,
)
from kelly_runtime.generate.render import StageOutputs
from kelly_runtime.model_files import find_model_file
from kelly_runtime.pipeline import Pipeline

__all__ = [
    "WINDOW_S",
    "Analysis",
    "analyse",
    "audio_chroma",
    "check_holds_models",
    "load_pipeline",
    "run_stages",
    "song_key",
    "song_keys",
]

logger = logging.getLogger(__name__)


def load_pipeline(
    models_dir: Path | None,
    backend: str | None,
    *,
    registry: Registry | None = None,
    key_tonic: int = 0,
) -> Pipeline:
    """Return the five-stage pipeline for ``models_dir`` (all on fallback when None).

    :raises KellyError: If ``models_dir`` is not a folder, holds no model file at all
        (:func:`check_holds_models`), or the backend is unknown.
    """
    if models_dir is None:
        pipeline = Pipeline.fallback()
        pipeline.set_key(key_tonic)
        return pipeline
    check_holds_models(Path(models_dir), registry if registry is not None else default_registry())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", KellyWarning)
        pipeline = Pipeline.from_directory(
            models_dir,
            backend=backend,
            registry=registry,
            key_tonic=key_tonic,
        )
    for warning in caught:
        logger.warning("kelly: warning: %s", warning.message)
    return pipeline


def check_holds_models(folder: Path, registry: Registry) -> None:
    """Refuse a models folder that holds no model file for any stage (a typo, or a run's
    ``checkpoints`` folder rather than the run folder): it would run every stage on the
    fallback without a model. A folder holding some model files is fine (the others run
    on the fallback, with a warning).

    :raises SpecError: Naming the folder, the files looked for and, where the parent
        folder holds model files, that folder.
    """
    if not folder.is_dir():
        return  # Pipeline.from_directory says what it is
    stems = [MODEL_SPECS[name].file_stem for name in MODEL_SPECS]
    if any(find_model_file(folder, stem, registry) for stem in stems):
        return
    suffixes = " or ".join(registry.model_suffixes())
    hint = ""
    if any(find_model_file(folder.parent, stem, registry) for stem in stems):
        hint = f"; its parent folder holds model files: --models {folder.parent}"
    raise SpecError(
        f"no model file in the models folder (looked for {', '.join(stems)} ending "
        f"{suffixes}){hint}",
        path=folder,
        field="--models",
        expected=tuple(stems),
    )


def run_stages(
    clip: AudioClip,
    *,
    models_dir: Path | None,
    backend: str | None,
    bars: int | None = None,
    meter: int | None = None,
    tempo: float | None = None,
    key: Key | None = None,
    registry: Registry | None = None,
    zero_latency: bool = False,
    tempo_hint: float | None = None,
) -> StageOutputs:
    """Run the five models over ``clip`` on its beats, in its key.

    :param bars: Bars wanted from the first downbeat; None = as long as the audio.
    :param meter: Beats per bar; None = detected.
    :param tempo: A steady grid at this BPM instead of the detected beats.
    :param key: The song's key; None = estimated from the audio.
    :param tempo_hint: The beat is near this BPM: detected at that metrical level.
    :param zero_latency: Give each beat the previous beat's chroma (the first beat
        silence), as a zero-latency plugin hears the song
        (:func:`~kelly_core.encodings.chroma.heard_late`).
    :returns: Per-window emotion codes, the beat grid and per-beat (per-bar for the
        groove) outputs, in the song's key.
    """
    heard = listen(clip, tempo=tempo, bars=bars, meter=meter, key=key, tempo_hint=tempo_hint)
    analysis, grid, found = heard.analysis, heard.grid, heard.keys
    keys, song = found.segments, found.key
    pipeline = load_pipeline(models_dir, backend, registry=registry, key_tonic=song.tonic)
    chroma = heard_late(heard.beat_chroma) if zero_latency else heard.beat_chroma
    out = _Collected.empty(len(analysis.windows), grid)
    _drive(pipeline, analysis.windows, grid, keys, out, chroma)
    return StageOutputs(
        window_emotion=out.window_emotion,
        window_va=out.window_va,
        window_s=WINDOW_S,
        beat_emotion=out.beat_emotion,
        beat_va=out.beat_va,
        notes=out.notes,
        chords=out.chords,
        expression=out.expression,
        groove=out.groove,
        grid=grid,
        key=song,
        key_given=key is not None,
        key_segments=keys,
        key_confidence=None if key is not None else found.confidence,
        beat_chroma=chroma,
        zero_latency=zero_latency,
        fallback_stages=tuple(pipeline.fallback_stages),
    )


@attrs.define
class _Collected:
    """The pipeline's outputs as they come: per window, per beat and per bar (groove)."""

    window_emotion: FloatArray
    window_va: FloatArray
    beat_emotion: FloatArray
    beat_va: FloatArray
    notes: FloatArray
    chords: FloatArray
    expression: FloatArray
    groove: FloatArray
    filled: npt.NDArray[np.bool_]
    """Bars whose groove the pipeline gave."""

    @classmethod
    def empty(cls, windows: int, grid: BeatGrid) -> _Collected:
        """Arrays sized for ``windows`` analysis windows and ``grid``'s beats and bars."""
        width = {name: spec.output_size for name, spec in MODEL_SPECS.items()}
        count = grid.beats
        return cls(
            window_emotion=np.empty((windows, width["EmotionRecognizer"]), dtype=np.float32),
            window_va=np.empty((windows, 2), dtype=np.float32),
            beat_emotion=np.empty((count, width["EmotionRecognizer"]), dtype=np.float32),
            beat_va=np.empty((count, 2), dtype=np.float32),
            notes=np.empty((count, width["MelodyTransformer"]), dtype=np.float32),
            chords=np.empty((count, width["HarmonyPredictor"]), dtype=np.float32),
            expression=np.empty((count, width["DynamicsEngine"]), dtype=np.float32),
            groove=np.empty((grid.bars, width["GroovePredictor"]), dtype=np.float32),
            filled=np.zeros(grid.bars, dtype=bool),
        )


def _drive(
    pipeline: Pipeline,
    windows: FloatArray,
    grid: BeatGrid,
    keys: Sequence[KeySegment],
    out: _Collected,
    chroma: FloatArray,
) -> None:
    """Push every window and step every beat of ``grid`` through ``pipeline`` in time
    order, into ``out``; a bar without a groove (a pickup) plays the next bar's. Each
    beat hears its own beat chroma (``chroma``, ``(beats, 24)``: generate looks ahead)."""
    pushed = 0

    def push() -> None:
        nonlocal pushed
        out.window_emotion[pushed] = pipeline.push_window(windows[pushed])
        out.window_va[pushed] = pipeline.valence_arousal
        pushed += 1

    for beat in range(grid.beats):
        index = grid.first + beat
        start = float(grid.times[index])
        while pushed < len(windows) and pushed * WINDOW_S <= start + 1e-9:
            push()
        pipeline.set_key(key_at(keys, start).tonic)
        step = pipeline.step_beat(
            min(grid.beat_in_bar(index), BEATS_PER_BAR - 1), chroma=chroma[beat]
        )
        out.beat_emotion[beat] = step.emotion
        out.beat_va[beat] = (step.valence, step.arousal)
        out.notes[beat] = step.notes
        out.chords[beat] = step.chords
        out.expression[beat] = step.expression
        if step.groove is not None:
            out.groove[grid.bar_of(index)] = step.groove
            out.filled[grid.bar_of(index)] = True
    while pushed < len(windows):  # the rest of the audio, for the emotion trajectory
        push()
    for bar in np.flatnonzero(~out.filled):  # a pickup bar plays the next bar's groove
        later = np.flatnonzero(out.filled[bar:])
        out.groove[bar] = out.groove[bar + later[0]] if later.size else NEUTRAL_GROOVE
