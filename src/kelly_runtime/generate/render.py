"""Decoding the five models' outputs and rendering them to MIDI (no inference here).

:class:`StageOutputs` holds what the pipeline produced, as plain arrays;
:func:`render` decodes them with :mod:`kelly_core.encodings` (emotion population code,
chord vocabulary, expression fields, groove), chooses each beat's chord from the
HarmonyPredictor's output and the song's chroma, voices it and steers the melody off the
song's semitones (:mod:`.playalong`), and arranges the three tracks.
"""

from __future__ import annotations

from pathlib import Path

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray, check_shape
from kelly_core.encodings.expression import Expression
from kelly_core.encodings.groove import decode_groove
from kelly_runtime.generate.arrange import BarGroove, arrange
from kelly_runtime.generate.beats import BeatGrid
from kelly_runtime.generate.keys import Key, KeySegment, key_at, spell_chord
from kelly_runtime.generate.midi import score_to_midi
from kelly_runtime.generate.options import GenerateOptions
from kelly_runtime.generate.playalong import (
    NO_CHORD_ABOVE,
    BeatHearing,
    PlayAlong,
    choose_chord,
    chord_tones,
)
from kelly_runtime.generate.result import BeatRecord, ChordEvent, EmotionPoint, GenerationResult
from kelly_runtime.generate.score import KeyChange, Score
from kelly_runtime.generate.style import beat_style

__all__ = ["NO_CHORD_ABOVE", "StageOutputs", "choose_chord", "chord_tones", "render"]


@attrs.frozen(kw_only=True, eq=False)
class StageOutputs:
    """What the pipeline produced for one piece, as float32 arrays."""

    window_emotion: FloatArray
    """EmotionRecognizer output per analysis window, shape ``(W, 64)``."""
    window_va: FloatArray
    """Valence and arousal of each window, decoded once, shape ``(W, 2)``."""
    window_s: float
    """Length of an analysis window in seconds (0.5)."""
    beat_emotion: FloatArray
    """Emotion code fed to each beat's generation step, shape ``(B, 64)``."""
    beat_va: FloatArray
    """Valence and arousal of each beat's emotion, shape ``(B, 2)``."""
    notes: FloatArray
    """MelodyTransformer output per beat, shape ``(B, 128)``."""
    chords: FloatArray
    """HarmonyPredictor output per beat, shape ``(B, 64)``."""
    expression: FloatArray
    """DynamicsEngine output per beat, shape ``(B, 16)``."""
    groove: FloatArray
    """GroovePredictor output per bar touched by the beats, shape ``(grid.bars, 32)``."""
    grid: BeatGrid
    """Where the beats fall (``grid.beats`` = B)."""
    key: Key
    """The song's key; notes and chords are in it."""
    key_given: bool = False
    """Whether the key was given (``--key``) rather than estimated from the audio."""
    fallback_stages: tuple[str, ...] = ()
    """Models that ran on their rule-based fallback."""
    key_segments: tuple[KeySegment, ...] = ()
    """The audio's keys in order (one unless it modulates); empty: ``key`` throughout."""
    key_confidence: float | None = None
    """``key``'s evidence minus the next key's (None: given, or not known)."""
    beat_chroma: FloatArray | None = None
    """The audio's chroma and bass averaged per beat, shape ``(B, 24)`` (index 0 = C, 12 =
    the bass's C; :func:`kelly_core.encodings.chroma.beat_chroma`)."""
    zero_latency: bool = False
    """Whether ``beat_chroma``'s row ``i`` is the previous beat's chroma (a zero-latency
    stream): the notes then keep off what the recent beats avoid
    (:func:`~kelly_runtime.generate.playalong.hear_stream`)."""

    def __attrs_post_init__(self) -> None:
        beats = self.notes.shape[0]
        bars = self.grid.bars
        if self.grid.beats != beats:
            raise ValueError(f"the grid has {self.grid.beats} beats, the outputs {beats}")
        check_shape(self.window_emotion, (None, 64), name="window_emotion")
        check_shape(self.window_va, (self.window_emotion.shape[0], 2), name="window_va")
        check_shape(self.beat_emotion, (beats, 64), name="beat_emotion")
        check_shape(self.beat_va, (beats, 2), name="beat_va")
        check_shape(self.notes, (beats, 128), name="notes")
        check_shape(self.chords, (beats, 64), name="chords")
        check_shape(self.expression, (beats, 16), name="expression")
        check_shape(self.groove, (bars, 32), name="groove")

    @property
    def beats(self) -> int:
        """Number of generation steps (beats)."""
        return int(self.notes.shape[0])


def render(
    outputs: StageOutputs,
    options: GenerateOptions,
    *,
    audio_duration: float,
    source: Path | None = None,
) -> GenerationResult:
    """Decode ``outputs`` and arrange melody, chords and drums into a MIDI file.

    :param outputs: The pipeline's per-window and per-beat outputs, in the song's key.
    :param options: Range, temperature and seed.
    :param audio_duration: Length of the input audio in seconds (reported).
    :param source: The audio file, for the result's records.
    """
    grid = outputs.grid
    starts = grid.played
    segments = outputs.key_segments or (KeySegment(start=0.0, end=grid.end, key=outputs.key),)
    beat_keys = [key_at(segments, float(t)) for t in starts]
    chroma = outputs.beat_chroma
    player = PlayAlong(zero_latency=outputs.zero_latency)
    played = [
        player.step(
            outputs.chords[i],
            None if chroma is None else chroma[i],
            beat_keys[i],
            grid.beat_in_bar(grid.first + i),
        )
        for i in range(grid.beats)
    ]
    chord_classes = [p.chord for p in played]
    heard = None if chroma is None else [p.hearing for p in played]
    voiced = [p.tones for p in played]
    score = _arrange(outputs, options, voiced, heard, beat_keys)
    chords = tuple(
        ChordEvent(time=float(t), label=spell_chord(c, k), index=c)
        for t, c, k in zip(starts, chord_classes, beat_keys, strict=True)
    )
    return _result(outputs, score, chords, segments, audio_duration=audio_duration, source=source)


def _arrange(
    outputs: StageOutputs,
    options: GenerateOptions,
    voiced: list[tuple[int, ...]],
    heard: list[BeatHearing] | None,
    beat_keys: list[Key],
) -> Score:
    """Decode the expression and groove, and arrange the tracks over the played beats."""
    grid = outputs.grid
    starts = grid.played
    lengths = grid.intervals()[grid.first :]
    styles = [
        beat_style(Expression.from_vector(row), beat_s=float(length))
        for row, length in zip(outputs.expression, lengths, strict=True)
    ]
    grooves = []
    for row in outputs.groove:
        offsets, velocities = decode_groove(row)
        grooves.append(BarGroove(offsets=offsets, velocities=velocities))
    score = arrange(
        tempo=grid.tempo,
        notes=outputs.notes,
        chords=voiced,
        song=heard,
        styles=styles,
        grooves=grooves,
        key=beat_keys,
        pitch_range=options.pitch_range,
        temperature=options.temperature,
        rng=np.random.default_rng(options.seed),
        beat_times=starts,
        end=grid.end,
        pickup=grid.pickup,
        lead_in=tuple(float(t) for t in grid.times[: grid.first]),
        lead=grid.lead,
        beats_per_bar=grid.beats_per_bar,
    )
    return attrs.evolve(score, key_changes=_key_changes(starts, beat_keys))


def _result(
    outputs: StageOutputs,
    score: Score,
    chords: tuple[ChordEvent, ...],
    segments: tuple[KeySegment, ...],
    *,
    audio_duration: float,
    source: Path | None,
) -> GenerationResult:
    """The MIDI file of ``score`` with the records of what was heard and chosen."""
    grid = outputs.grid
    chroma = outputs.beat_chroma
    return GenerationResult(
        midi=score_to_midi(score),
        emotion_trajectory=tuple(
            EmotionPoint(time=i * outputs.window_s, valence=float(v), arousal=float(a))
            for i, (v, a) in enumerate(outputs.window_va)
        ),
        chords=chords,
        beats=tuple(
            BeatRecord(
                time=c.time,
                valence=float(v),
                arousal=float(a),
                chord=c.label,
                chroma=() if chroma is None else tuple(round(float(x), 4) for x in chroma[i, :12]),
            )
            for i, (c, (v, a)) in enumerate(zip(chords, outputs.beat_va, strict=True))
        ),
        fallback_stages=outputs.fallback_stages,
        key=outputs.key,
        tempo=grid.tempo,
        audio_duration=audio_duration,
        source=source,
        beat_times=tuple(float(t) for t in grid.played),
        downbeats=tuple(
            float(grid.times[i])
            for i in range(grid.first, grid.times.shape[0])
            if grid.beat_in_bar(i) == 0
        ),
        beats_per_bar=grid.beats_per_bar,
        beats_detected=grid.detected,
        key_estimated=not outputs.key_given,
        key_segments=segments,
        key_confidence=outputs.key_confidence,
    )


def _key_changes(starts: npt.NDArray[np.float64], beat_keys: list[Key]) -> tuple[KeyChange, ...]:
    """A key signature at 0 s and at the first beat of every later key."""
    changes = [KeyChange(time=0.0, tonic=beat_keys[0].tonic, minor=beat_keys[0].mode == "minor")]
    for t, previous, k in zip(starts[1:], beat_keys, beat_keys[1:], strict=False):
        if k != previous:
            changes.append(KeyChange(time=float(t), tonic=k.tonic, minor=k.mode == "minor"))
    return tuple(changes)
