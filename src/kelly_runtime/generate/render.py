"""Decoding the five models' outputs and rendering them to MIDI (no inference here).

:class:`StageOutputs` holds what the pipeline produced, as plain arrays;
:func:`render` decodes them with :mod:`kelly_core.encodings` (emotion population code,
chord vocabulary, expression fields, groove) and arranges the three tracks.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np

from kelly_core.arrays import FloatArray, check_shape
from kelly_core.encodings.chords import NO_CHORD, chord_label, chord_pitch_classes
from kelly_core.encodings.emotion import decode_emotions
from kelly_core.encodings.expression import Expression
from kelly_core.encodings.groove import decode_groove
from kelly_runtime.generate.arrange import BEATS_PER_BAR, BarGroove, arrange
from kelly_runtime.generate.keys import Key, estimate_key
from kelly_runtime.generate.midi import score_to_midi
from kelly_runtime.generate.options import GenerateOptions
from kelly_runtime.generate.result import BeatRecord, ChordEvent, EmotionPoint, GenerationResult
from kelly_runtime.generate.style import beat_style

__all__ = ["StageOutputs", "chord_tones", "render"]


@attrs.frozen(kw_only=True, eq=False)
class StageOutputs:
    """What the pipeline produced for one piece, as float32 arrays."""

    window_emotion: FloatArray
    """EmotionRecognizer output per analysis window, shape ``(W, 64)``."""
    window_s: float
    """Length of an analysis window in seconds (0.5)."""
    beat_emotion: FloatArray
    """Emotion code fed to each beat's generation step, shape ``(B, 64)``."""
    notes: FloatArray
    """MelodyTransformer output per beat, shape ``(B, 128)``."""
    chords: FloatArray
    """HarmonyPredictor output per beat, shape ``(B, 64)``."""
    expression: FloatArray
    """DynamicsEngine output per beat, shape ``(B, 16)``."""
    groove: FloatArray
    """GroovePredictor output per bar, shape ``(ceil(B / 4), 32)``."""
    fallback_stages: tuple[str, ...] = ()
    """Models that ran on their rule-based fallback."""

    def __attrs_post_init__(self) -> None:
        beats = self.notes.shape[0]
        bars = -(-beats // BEATS_PER_BAR)
        check_shape(self.window_emotion, (None, 64), name="window_emotion")
        check_shape(self.beat_emotion, (beats, 64), name="beat_emotion")
        check_shape(self.notes, (beats, 128), name="notes")
        check_shape(self.chords, (beats, 64), name="chords")
        check_shape(self.expression, (beats, 16), name="expression")
        check_shape(self.groove, (bars, 32), name="groove")

    @property
    def beats(self) -> int:
        """Number of generation steps (beats)."""
        return int(self.notes.shape[0])


def chord_tones(index: int) -> tuple[int, ...]:
    """Pitch classes of chord class ``index``, root first then upward; ``()`` for no chord."""
    pcs = chord_pitch_classes(index)
    if not pcs:
        return ()
    root = index // 5 if index < NO_CHORD else index - NO_CHORD - 1
    return tuple(sorted(pcs, key=lambda pc: (pc - root) % 12))


def _key_histogram(chords: list[int], notes: FloatArray) -> FloatArray:
    histogram = np.zeros(12, dtype=np.float64)
    for index in chords:
        for pc in chord_pitch_classes(index):
            histogram[pc] += 1.0
    by_pc = notes.astype(np.float64)
    profile = np.zeros(12, dtype=np.float64)
    for pc in range(12):
        profile[pc] = by_pc[:, pc::12].sum()
    total = profile.sum()
    if total > 0:
        histogram += profile / total * max(len(chords), 1)
    return histogram.astype(np.float32)


def render(
    outputs: StageOutputs,
    options: GenerateOptions,
    *,
    audio_duration: float,
    source: Path | None = None,
) -> GenerationResult:
    """Decode ``outputs`` and arrange melody, chords and drums into a MIDI file.

    :param outputs: The pipeline's per-window and per-beat outputs.
    :param options: Tempo, key, range, temperature and seed.
    :param audio_duration: Length of the input audio in seconds (reported).
    :param source: The audio file, for the result's records.
    """
    beat_s = 60.0 / options.tempo
    chord_classes = [int(np.argmax(row)) for row in outputs.chords]
    key: Key = options.key or estimate_key(_key_histogram(chord_classes, outputs.notes))
    styles = [beat_style(Expression.from_vector(row), beat_s=beat_s) for row in outputs.expression]
    grooves = []
    for row in outputs.groove:
        offsets, velocities = decode_groove(row)
        grooves.append(BarGroove(offsets=offsets, velocities=velocities))
    score = arrange(
        tempo=options.tempo,
        notes=outputs.notes,
        chords=[chord_tones(c) for c in chord_classes],
        styles=styles,
        grooves=grooves,
        key=key,
        pitch_range=options.pitch_range,
        temperature=options.temperature,
        rng=np.random.default_rng(options.seed),
    )
    window_va = (
        decode_emotions(outputs.window_emotion)
        if len(outputs.window_emotion)
        else np.zeros((0, 2), dtype=np.float32)
    )
    beat_va = decode_emotions(outputs.beat_emotion)
    chords = tuple(
        ChordEvent(time=b * beat_s, label=chord_label(c), index=c)
        for b, c in enumerate(chord_classes)
    )
    return GenerationResult(
        midi=score_to_midi(score),
        emotion_trajectory=tuple(
            EmotionPoint(time=i * outputs.window_s, valence=float(v), arousal=float(a))
            for i, (v, a) in enumerate(window_va)
        ),
        chords=chords,
        beats=tuple(
            BeatRecord(time=c.time, valence=float(v), arousal=float(a), chord=c.label)
            for c, (v, a) in zip(chords, beat_va, strict=True)
        ),
        fallback_stages=outputs.fallback_stages,
        key=key,
        tempo=options.tempo,
        audio_duration=audio_duration,
        source=source,
    )
