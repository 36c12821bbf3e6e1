"""The five-model streaming pipeline (docs/runtime.md), one backend per stage.

Two clocks drive it:

- :meth:`Pipeline.push_window` steps the EmotionRecognizer once per analysis window
  (0.5 s of log-mel frames, their mean, ``(128,)``) and keeps the latest emotion code.
- :meth:`Pipeline.step_beat` steps one beat: MelodyTransformer (emotion -> notes),
  HarmonyPredictor (``[emotion | previous chords]`` -> chords, its output fed back as the
  next beat's previous chords), DynamicsEngine (``[coarse emotion | beat in bar |
  pitch classes of the notes at or above ``note_threshold``]`` -> expression), and on
  the first beat of each bar the GroovePredictor (emotion -> groove).

Before the first window the emotion is ``NEUTRAL_EMOTION``; before the first beat the
previous chord distribution is one-hot ``NO_CHORD`` (nothing has sounded yet). A stage
whose model file is missing or invalid runs the rule-based fallback (a ``KellyWarning``
says why, and :attr:`Pipeline.fallback_stages` lists it). Given the same weights and
inputs the outputs are the same: nothing here draws random numbers.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, check_frame
from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.encodings import (
    NEUTRAL_EMOTION,
    NO_CHORD,
    chord_one_hot,
    compact_context,
    decode_emotion,
    harmony_context,
    melody_pitch_classes,
)
from kelly_core.errors import BackendError, KellyError, KellyWarning, SpecError
from kelly_core.fileio import input_problem
from kelly_core.interfaces import Backend
from kelly_core.registry import Registry, default_registry
from kelly_runtime.backends import step_unchecked
from kelly_runtime.backends.fallback import FallbackBackend
from kelly_runtime.beat import BeatOutput
from kelly_runtime.select import create_backend

__all__ = ["BEATS_PER_BAR", "MODEL_SUFFIXES", "STAGES", "WINDOW_SECONDS", "Pipeline"]

STAGES: Final[tuple[str, ...]] = MODEL_NAMES
"""The five stages in pipeline order (the model names)."""
WINDOW_SECONDS: Final = 0.5
"""Length of one emotion analysis window (DEAM's dynamic annotations are at 2 Hz)."""
BEATS_PER_BAR: Final = 4
MODEL_SUFFIXES: Final[tuple[str, ...]] = (".json", ".pt")
"""File suffixes :meth:`Pipeline.from_directory` looks for, in order of preference."""


def _fallback(name: str) -> Backend:
    backend = FallbackBackend()
    backend.load(MODEL_SPECS[name], {})
    return backend


def _backend_label(backend: Backend) -> str:
    return type(backend).__name__


class Pipeline:
    """Streams the five models: emotion per window; melody, harmony, dynamics per beat.

    :param backends: A loaded backend for each of the five stage names (:data:`STAGES`).
    :param fallback_stages: Stages whose backend is the rule-based fallback (reported).
    :param note_threshold: Probability at which a melody note counts as sounding, for the
        DynamicsEngine's pitch-class profile.
    :raises SpecError: If a stage is missing or its model's sizes differ from the catalog.
    """

    def __init__(
        self,
        backends: Mapping[str, Backend],
        *,
        fallback_stages: tuple[str, ...] = (),
        note_threshold: float = 0.5,
    ) -> None:
        missing = [name for name in STAGES if name not in backends]
        if missing:
            raise SpecError(
                f"no backend for stages {missing}", field="backends", expected=STAGES, got=missing
            )
        for name in STAGES:
            spec = getattr(backends[name], "spec", None)
            want = MODEL_SPECS[name]
            if spec is not None and (
                spec.input_size != want.input_size or spec.output_size != want.output_size
            ):
                raise SpecError(
                    f"stage {name!r} expects a model {want.input_size} -> {want.output_size}, "
                    f"got {spec.input_size} -> {spec.output_size}",
                    field=name,
                    expected=(want.input_size, want.output_size),
                    got=(spec.input_size, spec.output_size),
                )
        self._backends = {name: backends[name] for name in STAGES}
        self._fallback_stages = tuple(s for s in STAGES if s in fallback_stages)
        self._threshold = float(note_threshold)
        self._emotion: FloatArray = np.array(NEUTRAL_EMOTION, dtype=np.float32)
        self._previous_chords: FloatArray = chord_one_hot(NO_CHORD)
        self._beat = 0

    # ------------------------------------------------------------ construction
    @classmethod
    def fallback(cls) -> Pipeline:
        """Return a pipeline running every stage on the rule-based fallback (no warnings)."""
        return cls({name: _fallback(name) for name in STAGES}, fallback_stages=STAGES)

    @classmethod
    def from_directory(
        cls,
        models_dir: str | Path,
        *,
        backend: str | None = "numpy",
        backends: Mapping[str, str] | None = None,
        registry: Registry | None = None,
        note_threshold: float = 0.5,
        **options: object,
    ) -> Pipeline:
        """Load ``<models_dir>/<lower-case name>.json`` (else ``.pt``) for each stage.

        A missing or invalid file gives a ``KellyWarning`` and that stage runs on fallback.

        :param backend: Backend name for every stage (``None``: torch, numpy or fallback).
        :param backends: Per-stage backend names overriding ``backend``.
        :param options: Options for every backend created (``device="cpu"``).
        :raises SpecError: If ``models_dir`` is not a folder.
        :raises UnknownNameError: If a backend name is not registered.
        :raises MissingDependencyError: If a named backend needs a missing module.
        """
        folder = Path(models_dir)
        problem = input_problem(folder, kind="folder", what="folder of model files")
        if problem is not None:
            raise SpecError(problem, path=folder, expected="a folder of model files")
        registry = registry if registry is not None else default_registry()
        chosen = dict(backends or {})
        unknown = sorted(set(chosen) - set(STAGES))
        if unknown:
            raise SpecError(
                f"unknown stages {unknown}", field="backends", expected=STAGES, got=unknown
            )
        loaded: dict[str, Backend] = {}
        fallen: list[str] = []
        for name in STAGES:
            instance = create_backend(chosen.get(name, backend), registry=registry, **options)
            problem = _load_stage(instance, name, folder, registry)
            if problem is None:
                loaded[name] = instance
                continue
            warnings.warn(
                f"{name}: {problem}; this stage runs on the rule-based fallback",
                KellyWarning,
                stacklevel=2,
            )
            loaded[name] = _fallback(name)
            fallen.append(name)
        return cls(loaded, fallback_stages=tuple(fallen), note_threshold=note_threshold)

    # ------------------------------------------------------------ inspection
    @property
    def backends(self) -> Mapping[str, Backend]:
        """Stage name -> its loaded backend (read-only view)."""
        return MappingProxyType(self._backends)

    @property
    def fallback_stages(self) -> tuple[str, ...]:
        """Stages running on the rule-based fallback, in pipeline order."""
        return self._fallback_stages

    @property
    def stage_backends(self) -> dict[str, str]:
        """Stage name -> class name of its backend (``"NumpyBackend"``...)."""
        return {name: _backend_label(b) for name, b in self._backends.items()}

    @property
    def emotion(self) -> FloatArray:
        """A copy of the current emotion code ``(64,)``."""
        return self._emotion.copy()

    @property
    def beat(self) -> int:
        """Beats stepped since the last reset."""
        return self._beat

    # ------------------------------------------------------------ streaming
    def push_window(self, window: FloatArray) -> FloatArray:
        """Step the EmotionRecognizer on one analysis window; return the emotion ``(64,)``.

        :param window: Mean of the window's log-mel frames, ``(128,)``, float32 or float64.
        :raises BackendError: On a wrong shape, dtype or a NaN/Inf value; the pipeline
            state is then unchanged.
        """
        frame = check_frame(window, MODEL_SPECS["EmotionRecognizer"].input_size, name="window")
        emotion = step_unchecked(self._backends["EmotionRecognizer"], frame)
        self._emotion = np.asarray(emotion, dtype=np.float32)
        return self._emotion.copy()

    def step_beat(self) -> BeatOutput:
        """Step one beat from the current emotion; return every stage's output.

        The GroovePredictor steps on the first beat of each bar (``groove`` is ``None`` on
        the other beats).
        """
        emotion = self._emotion
        beat_in_bar = self._beat % BEATS_PER_BAR
        notes = step_unchecked(self._backends["MelodyTransformer"], emotion)
        chords = step_unchecked(
            self._backends["HarmonyPredictor"], harmony_context(emotion, self._previous_chords)
        )
        profile = melody_pitch_classes(notes, self._threshold)
        expression = step_unchecked(
            self._backends["DynamicsEngine"], compact_context(emotion, beat_in_bar, profile)
        )
        groove = (
            step_unchecked(self._backends["GroovePredictor"], emotion) if beat_in_bar == 0 else None
        )
        valence, arousal = decode_emotion(emotion)
        out = BeatOutput(
            beat=self._beat,
            beat_in_bar=beat_in_bar,
            emotion=emotion.copy(),
            valence=float(valence),
            arousal=float(arousal),
            notes=notes,
            chords=chords,
            expression=expression,
            groove=groove,
        )
        self._previous_chords = np.asarray(chords, dtype=np.float32)
        self._beat += 1
        return out

    def reset(self) -> None:
        """Zero every model's state; emotion back to neutral, previous chord to none, beat 0."""
        for backend in self._backends.values():
            backend.reset()
        self._emotion = np.array(NEUTRAL_EMOTION, dtype=np.float32)
        self._previous_chords = chord_one_hot(NO_CHORD)
        self._beat = 0


def _load_stage(instance: Backend, name: str, folder: Path, registry: Registry) -> str | None:
    """Load stage ``name`` from ``folder`` into ``instance``; return why not, or None."""
    candidates = [folder / f"{MODEL_SPECS[name].file_stem}{s}" for s in MODEL_SUFFIXES]
    path = next((p for p in candidates if p.is_file()), None)
    if path is None:
        names = " or ".join(p.name for p in candidates)
        return f"no model file ({names}) in {str(folder)!r}"
    try:
        loaded = registry.exporter_for(path).read(path)
    except KellyError as exc:
        return f"cannot read {str(path)!r}: {exc}"
    want = MODEL_SPECS[name]
    got = loaded.spec
    if got.name != name or (got.input_size, got.output_size) != (want.input_size, want.output_size):
        return (
            f"{str(path)!r} holds {got.name!r} ({got.input_size} -> {got.output_size}), "
            f"expected {name!r} ({want.input_size} -> {want.output_size})"
        )
    try:
        instance.load(loaded.spec, loaded.arrays)
    except (SpecError, BackendError) as exc:
        return f"cannot load {str(path)!r}: {exc}"
    return None
