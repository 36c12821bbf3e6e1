"""The five-model streaming pipeline (docs/runtime.md), one backend per stage.

Two independent clocks drive it:

- :meth:`Pipeline.push_window` steps the EmotionRecognizer once per analysis window
  (the window's emotion frame, ``(128,)``: :mod:`kelly_core.encodings.emotion_frame`),
  keeps the latest emotion code and decodes its valence and arousal once.
- :meth:`Pipeline.step_beat` steps one beat, whenever the host's (or the beat tracker's)
  beat comes, at any tempo, told the song's beat chroma it hears (its own beat's offline
  or with a beat of look-ahead; the previous beat's at zero latency; none: silence):
  MelodyTransformer (``[coarse emotion | beat in bar | its own previous beat's top pitch |
  the song's chroma and bass]`` -> notes, the notes it played fed back by
  :func:`~kelly_core.encodings.melody.melody_feedback`), HarmonyPredictor
  (``[coarse emotion | beat in bar | the song's chroma and bass, and the chroma heard a
  beat earlier | beats its previous chord lasted | previous chords]`` -> chords, its
  output fed back as the next beat's previous chords), DynamicsEngine (``[coarse emotion
  | beat in bar | pitch classes of the notes at or above ``note_threshold``]`` ->
  expression), and on the first beat of each bar the GroovePredictor (emotion -> groove).
  The caller may say where the beat is in its bar (a host knows its bar position); else
  beats are counted in fours.

**Key.** Model files say whether their note, chord and pitch-class vectors are relative
to the key's tonic (``metadata.tonal_reference = "tonic"``) or absolute (``"absolute"``,
the default of files without it); see :mod:`kelly_core.encodings.tonal`. The reference
is a property of the file, not of the backend: :meth:`Pipeline.from_directory` reads it
from each file and the constructor takes it as ``tonal_references`` (the Backend
protocol is unchanged). The fallback stages' fixed outputs (the tonic chord, uniform
notes) are key-relative. :meth:`Pipeline.set_key` sets the song's tonic; then every
:class:`BeatOutput` is in the song's key: key-relative notes and chords are transposed up
by ``tonic_shift(tonic)``; the previous chord fed back and the DynamicsEngine's pitch
classes are turned into each model's own reference (down by the same shift for a
key-relative model, unchanged for an absolute one).

Before the first window the emotion is ``NEUTRAL_EMOTION``; before the first beat the
previous chord distribution is one-hot ``NO_CHORD`` and the melody history is four rests
(nothing has sounded yet). The melody history stays in the MelodyTransformer's own
reference (relative to the tonic for a key-relative file), so :meth:`Pipeline.set_key`
does not touch it. A stage
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
from kelly_core.constants import BEATS_PER_BAR, WINDOW_S
from kelly_core.encodings import (
    NEUTRAL_EMOTION,
    NO_CHORD,
    chord_one_hot,
    decode_emotion,
    harmony_context,
    melody_pitch_classes,
)
from kelly_core.encodings.context import (
    MELODY_HISTORY,
    SONG_WIDTH,
    coarse_compact_context,
    melody_context,
    song_harmony,
)
from kelly_core.encodings.emotion import coarse_emotion
from kelly_core.encodings.melody import NUM_PITCHES, melody_feedback
from kelly_core.encodings.tonal import (
    KEY_RELATIVE_MODELS,
    TONAL_REFERENCES,
    TonalReference,
    tonic_shift,
    transpose_chords,
    transpose_pitch_classes,
    transpose_pitches,
)
from kelly_core.errors import KellyWarning, SpecError
from kelly_core.fileio import input_problem
from kelly_core.interfaces import Backend, backend_spec, unchecked_step
from kelly_core.registry import Registry, default_registry
from kelly_runtime.backends.fallback import FallbackBackend
from kelly_runtime.beat import BeatOutput
from kelly_runtime.loading import load_stage_file

__all__ = ["BEATS_PER_BAR", "STAGES", "WINDOW_SECONDS", "Pipeline"]

STAGES: Final[tuple[str, ...]] = MODEL_NAMES
"""The five stages in pipeline order (the model names)."""
WINDOW_SECONDS: Final = WINDOW_S
"""Length of one emotion analysis window: :data:`kelly_core.constants.WINDOW_S`."""


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
    :param tonal_references: Stage name -> ``"tonic"`` or ``"absolute"`` (the model
        file's ``metadata.tonal_reference``). A stage not named is ``"tonic"`` if it runs
        on fallback, else ``"absolute"``. Only the key-relative models' entries matter.
    :param key_tonic: The song's tonic pitch class (0 = C); see :meth:`set_key`.
    :raises SpecError: If a stage is missing, its model's sizes differ from the catalog,
        or a tonal reference is unknown.
    """

    # The stream's own state, set by _clear()
    _emotion: FloatArray
    _va: tuple[float, float]
    _coarse: FloatArray
    _previous_chords: FloatArray  # in the song's key
    _melody_history: FloatArray
    _beat: int
    _heard: FloatArray  # the song's beat chroma heard at the previous step, absolute
    _held: int  # beats the previous chord (its argmax) has lasted; 0 before the first

    def __init__(
        self,
        backends: Mapping[str, Backend],
        *,
        fallback_stages: tuple[str, ...] = (),
        note_threshold: float = 0.5,
        tonal_references: Mapping[str, str] | None = None,
        key_tonic: int = 0,
    ) -> None:
        missing = [name for name in STAGES if name not in backends]
        if missing:
            raise SpecError(
                f"no backend for stages {missing}", field="backends", expected=STAGES, got=missing
            )
        for name in STAGES:
            spec = backend_spec(backends[name])
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
        self._steps = {name: unchecked_step(b) for name, b in self._backends.items()}
        self._fallback_stages = tuple(s for s in STAGES if s in fallback_stages)
        self._threshold = float(note_threshold)
        self._references = _references(tonal_references or {}, self._fallback_stages)
        self._shift = tonic_shift(key_tonic)
        self._tonic = int(key_tonic) % 12
        self._clear()

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
        backend: str | None = None,
        backends: Mapping[str, str] | None = None,
        registry: Registry | None = None,
        note_threshold: float = 0.5,
        key_tonic: int = 0,
        **options: object,
    ) -> Pipeline:
        """Load ``<models_dir>/<lower-case name><suffix>`` for each stage: ``.json``, else
        ``.pt``, else a plugin format's suffix (:mod:`kelly_runtime.model_files`).

        A missing or invalid file gives a ``KellyWarning`` and that stage runs on fallback.
        Each file's ``metadata.tonal_reference`` says whether its outputs are key-relative.

        :param backend: Backend name for every stage (``None``: the usable one of highest
            ``BackendEntry.priority``, :func:`kelly_runtime.select.select_backend_name`).
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
        references: dict[str, str] = {}
        fallen: list[str] = []
        for name in STAGES:
            instance, reference, problem = load_stage_file(
                name,
                folder,
                chosen.get(name, backend),
                registry=registry,
                **options,
            )
            if instance is not None and problem is None:
                loaded[name] = instance
                references[name] = reference
                continue
            warnings.warn(
                f"{name}: {problem}; this stage runs on the rule-based fallback",
                KellyWarning,
                stacklevel=2,
            )
            loaded[name] = _fallback(name)
            fallen.append(name)
        return cls(
            loaded,
            fallback_stages=tuple(fallen),
            note_threshold=note_threshold,
            tonal_references=references,
            key_tonic=key_tonic,
        )

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

    @property
    def tonal_references(self) -> dict[str, TonalReference]:
        """Stage name -> ``"tonic"`` or ``"absolute"``: how its vectors relate to the key."""
        return dict(self._references)

    @property
    def key_tonic(self) -> int:
        """The song's tonic pitch class (0 = C) the outputs are turned to."""
        return self._tonic

    def set_key(self, tonic: int) -> None:
        """Turn the key-relative stages' outputs to the key whose tonic is ``tonic``.

        Takes effect from the next beat; the previous chord is kept (in the song's key).
        """
        self._tonic = int(tonic) % 12
        self._shift = tonic_shift(self._tonic)

    def _relative(self, name: str) -> bool:
        return self._references[name] == "tonic"

    # ------------------------------------------------------------ streaming
    def push_window(self, window: FloatArray) -> FloatArray:
        """Step the EmotionRecognizer on one analysis window; return the emotion ``(64,)``.

        :param window: The window's emotion frame, ``(128,)``, float32 or float64
            (:class:`~kelly_core.encodings.emotion_frame.StreamingEmotionFrames`).
        :raises BackendError: On a wrong shape, dtype or a NaN/Inf value; the pipeline
            state is then unchanged.
        """
        frame = check_frame(window, MODEL_SPECS["EmotionRecognizer"].input_size, name="window")
        emotion = self._steps["EmotionRecognizer"](frame)
        self._emotion = np.asarray(emotion, dtype=np.float32)
        self._va = _decode(self._emotion)  # once per window, not per beat
        self._coarse = coarse_emotion(*self._va)
        return self._emotion.copy()

    @property
    def valence_arousal(self) -> tuple[float, float]:
        """Valence and arousal of the current emotion (decoded once per window)."""
        return self._va

    def step_beat(self, beat_in_bar: int | None = None, chroma: object = None) -> BeatOutput:
        """Step one beat from the current emotion; return every stage's output.

        The GroovePredictor steps on the first beat of each bar (``groove`` is ``None`` on
        the other beats). Notes and chords are in the song's key (:meth:`set_key`).

        :param beat_in_bar: Position of this beat in its 4/4 bar (0..3), as the host's
            playhead says; None = the beats stepped since reset, counted in fours.
        :param chroma: The song's beat chroma heard, ``(24,)``: 12 chroma then 12 bass
            values in absolute pitch classes
            (:func:`~kelly_core.encodings.chroma.beat_chroma`,
            :class:`~kelly_core.encodings.chroma.BeatChromaAccumulator`): this beat's
            offline (``kelly generate``), the previous beat's at zero latency; None: the
            song is silent. Turned to each key-relative model's tonic here.
        :raises BackendError: On a chroma of the wrong shape or with NaN/Inf; the
            pipeline state is then unchanged.
        """
        heard = (
            np.zeros(SONG_WIDTH, dtype=np.float32)
            if chroma is None
            else check_frame(chroma, SONG_WIDTH, name="chroma")
        )
        emotion = self._emotion
        if beat_in_bar is None:
            beat_in_bar = self._beat % BEATS_PER_BAR
        elif not 0 <= beat_in_bar < BEATS_PER_BAR:
            raise SpecError(
                f"beat_in_bar must be in 0..{BEATS_PER_BAR - 1}, got {beat_in_bar}",
                field="beat_in_bar",
                expected=(0, BEATS_PER_BAR - 1),
                got=beat_in_bar,
            )
        shift = self._shift
        history = self._melody_history
        played = self._steps["MelodyTransformer"](
            melody_context(
                self._coarse, beat_in_bar, history, self._song("MelodyTransformer", heard)
            )
        )
        notes = played
        if self._relative("MelodyTransformer"):
            notes = transpose_pitches(played, shift)
        previous = self._previous_chords
        if self._relative("HarmonyPredictor"):
            previous = transpose_chords(previous, -shift)
        context = harmony_context(
            self._coarse,
            beat_in_bar,
            self._song("HarmonyPredictor", heard),
            self._song("HarmonyPredictor", self._heard),
            self._held,
            previous,
        )
        chords = self._steps["HarmonyPredictor"](context)
        if self._relative("HarmonyPredictor"):
            chords = transpose_chords(chords, shift)
        profile = melody_pitch_classes(notes, self._threshold)
        if self._relative("DynamicsEngine"):
            profile = transpose_pitch_classes(profile, -shift)
        compact = coarse_compact_context(self._coarse, beat_in_bar, profile)
        expression = self._steps["DynamicsEngine"](compact)
        groove = self._steps["GroovePredictor"](emotion) if beat_in_bar == 0 else None
        valence, arousal = self._va
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
        same = self._held > 0 and np.argmax(chords) == np.argmax(self._previous_chords)
        self._held = self._held + 1 if same else 1
        self._heard = heard
        self._previous_chords = np.asarray(chords, dtype=np.float32)
        history[1:] = history[:-1].copy()
        history[0] = melody_feedback(played, self._threshold)
        self._beat += 1
        return out

    def reset(self) -> None:
        """Zero every model's state; emotion neutral, previous chord none, no melody, beat 0."""
        for backend in self._backends.values():
            backend.reset()
        self._clear()

    def _clear(self) -> None:
        """The stream's own state at its start (the backends' state aside): emotion
        neutral, previous chord none, four beats of rests as melody history, beat 0."""
        self._emotion = np.array(NEUTRAL_EMOTION, dtype=np.float32)
        self._va = _decode(self._emotion)
        self._coarse = coarse_emotion(*self._va)
        self._previous_chords = chord_one_hot(NO_CHORD)
        self._melody_history = np.zeros((MELODY_HISTORY, NUM_PITCHES), dtype=np.float32)
        self._beat = 0
        self._heard = np.zeros(SONG_WIDTH, dtype=np.float32)
        self._held = 0

    def _song(self, name: str, chroma: FloatArray) -> FloatArray:
        """:func:`song_harmony` of ``chroma`` in stage ``name``'s reference."""
        return song_harmony(chroma, self._tonic if self._relative(name) else 0)


def _decode(emotion: FloatArray) -> tuple[float, float]:
    valence, arousal = decode_emotion(emotion)
    return float(valence), float(arousal)


def _references(given: Mapping[str, str], fallen: tuple[str, ...]) -> dict[str, TonalReference]:
    out: dict[str, TonalReference] = {}
    for name in STAGES:
        value = given.get(name, "tonic" if name in fallen else "absolute")
        if value not in TONAL_REFERENCES:
            raise SpecError(
                f"unknown tonal reference {value!r} for stage {name!r}",
                field="tonal_references",
                expected=TONAL_REFERENCES,
                got=value,
            )
        out[name] = "tonic" if value == "tonic" and name in KEY_RELATIVE_MODELS else "absolute"
    return out
