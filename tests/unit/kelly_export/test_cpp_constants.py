"""The constants written by hand in kelly_companion.h against their Python homes.

The header's ``constexpr`` numbers (the beat vector's offsets, the melody and harmony
contexts' columns, the front end's timing, the sizes of every vector, the play-along
rule's weights and spans) are parsed from its text and compared with the values Python
computes, so a change on one side fails here instead of silently shifting the plugin's
reads.
"""

from __future__ import annotations

import ast
import operator
import re
from collections.abc import Callable, Mapping

import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.constants import BEATS_PER_BAR, WINDOW_S
from kelly_core.encodings import emotion_frame
from kelly_core.encodings.chords import NO_CHORD, NUM_CHORDS
from kelly_core.encodings.context import (
    HARMONY_BASS,
    HARMONY_BEAT,
    HARMONY_CHROMA,
    HARMONY_EARLIER,
    HARMONY_EMOTION,
    HARMONY_HELD,
    HARMONY_HELD_SLOTS,
    HARMONY_PREVIOUS,
    HARMONY_SIZE,
    MELODY_BASS,
    MELODY_BEAT,
    MELODY_CHROMA,
    MELODY_EMOTION,
    MELODY_HISTORY,
    MELODY_OCTAVES,
    MELODY_SIZE,
    MELODY_TOP_CLASS,
    MELODY_TOP_OCTAVE,
    SONG_BASS_FLOOR,
    SONG_WIDTH,
)
from kelly_core.encodings.emotion import COARSE_SIZE, EMOTION_SIZE
from kelly_core.encodings.emotion_cues import TEMPO_BINS, TEMPO_HISTORY
from kelly_core.encodings.groove import STEPS
from kelly_core.encodings.logmel import DEFAULT_LOG_MEL, frames_per_window
from kelly_core.encodings.melody import NUM_PITCHES, SOUNDS_AT
from kelly_export.cpp_files import companion_header
from kelly_runtime.beat import BEAT_LAYOUT, BEAT_VECTOR_SIZE
from kelly_runtime.generate import playalong

_OPERATORS: Mapping[type, Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}
_DECLARATION = re.compile(r"constexpr\s+(?:int|double|std::size_t)\s+([^;{}()]+);")
_NAMESPACE = re.compile(r"namespace\s+(\w+)\s*\{([^{}]*)\}")


def _value(node: ast.expr, known: Mapping[str, float]) -> float:
    """An arithmetic expression of numbers and constants already read."""
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return float(node.value)
    if isinstance(node, ast.Name):
        return known[node.id]
    if isinstance(node, ast.BinOp) and type(node.op) in _OPERATORS:
        return _OPERATORS[type(node.op)](_value(node.left, known), _value(node.right, known))
    raise ValueError(f"not a constant expression: {ast.unparse(node)}")


def header_constants(text: str) -> dict[str, float]:
    """Every ``constexpr`` number of the header by name; those inside a namespace with no
    braces in it (``beat_offset``, ``melody_offset``, ``harmony_offset``) also as
    ``space::name``."""
    known: dict[str, float] = {}
    scoped = [(m.start(2), m.end(2), m.group(1)) for m in _NAMESPACE.finditer(text)]
    for match in _DECLARATION.finditer(text):
        space = next((n for start, end, n in scoped if start <= match.start() < end), None)
        for part in match.group(1).split(","):
            name, _, expression = part.partition("=")
            try:
                value = _value(ast.parse(expression.strip(), mode="eval").body, known)
            except (SyntaxError, ValueError, KeyError):
                continue  # an array, a string table: not a number
            known[name.strip()] = value
            if space is not None:
                known[f"{space}::{name.strip()}"] = value
    return known


def _python_values() -> dict[str, float]:
    offsets: dict[str, float] = {}
    start = 0
    for name, size in BEAT_LAYOUT:
        offsets[f"beat_offset::{name}"] = start
        start += size
    melody = {
        "emotion": MELODY_EMOTION,
        "beat": MELODY_BEAT,
        "top_class": MELODY_TOP_CLASS,
        "top_octave": MELODY_TOP_OCTAVE,
        "chroma": MELODY_CHROMA,
        "bass": MELODY_BASS,
    }
    harmony = {
        "emotion": HARMONY_EMOTION,
        "beat": HARMONY_BEAT,
        "chroma": HARMONY_CHROMA,
        "bass": HARMONY_BASS,
        "earlier": HARMONY_EARLIER,
        "held": HARMONY_HELD,
        "previous": HARMONY_PREVIOUS,
    }
    return {
        **offsets,
        **{f"melody_offset::{name}": columns.start for name, columns in melody.items()},
        **{f"harmony_offset::{name}": columns.start for name, columns in harmony.items()},
        "kSongWidth": SONG_WIDTH,
        "kSongBassFloor": SONG_BASS_FLOOR,
        "kHarmonyHeldSlots": HARMONY_HELD_SLOTS,
        "kHarmonyContextSize": HARMONY_SIZE,
        "kPitchClasses": 12,
        "kBeatVectorSize": BEAT_VECTOR_SIZE,
        "kBeatsPerBar": BEATS_PER_BAR,
        "kWindowSeconds": WINDOW_S,
        "kFramesPerWindow": frames_per_window(),
        "kSampleRate": DEFAULT_LOG_MEL.sr,
        "kFftSize": DEFAULT_LOG_MEL.n_fft,
        "kHop": DEFAULT_LOG_MEL.hop,
        "kMels": DEFAULT_LOG_MEL.n_mels,
        "kEmotionFrameSize": MODEL_SPECS["EmotionRecognizer"].input_size,
        "kShapeBands": emotion_frame.SHAPE_BANDS,
        "kFluxScale": emotion_frame.FLUX_SCALE,
        "kOnsetDelta": emotion_frame.ONSET_DELTA,
        "kOnsetContext": emotion_frame.ONSET_CONTEXT,
        "kOnsetRateScale": emotion_frame.ONSET_RATE_SCALE,
        "kRunningChromaSeconds": emotion_frame.RUNNING_CHROMA_S,
        "kFluxLowHz": emotion_frame.LOW_HZ,
        "kFluxHighHz": emotion_frame.HIGH_HZ,
        "kTempoHistory": TEMPO_HISTORY,
        "kTempoBins": TEMPO_BINS,
        "kEmotionSize": EMOTION_SIZE,
        "kCoarseSize": COARSE_SIZE,
        "kNumChords": NUM_CHORDS,
        "kNoChord": NO_CHORD,
        "kNumPitches": NUM_PITCHES,
        "kMelodyHistory": MELODY_HISTORY,
        "kMelodyOctaves": MELODY_OCTAVES,
        "kMelodyContextSize": MELODY_SIZE,
        "kSoundsAt": SOUNDS_AT,
        "kExpressionSize": MODEL_SPECS["DynamicsEngine"].output_size,
        "kGrooveSize": MODEL_SPECS["GroovePredictor"].output_size,
        "kGrooveSteps": STEPS,
        "kModelWeight": playalong.MODEL_WEIGHT,
        "kRootBassWeight": playalong.BASS_WEIGHT,
        "kBassFloor": playalong.BASS_FLOOR,
        "kOutsideKeyCost": playalong.OUTSIDE_KEY_COST,
        "kKeepBonus": playalong.KEEP_BONUS,
        "kStrongShare": playalong.STRONG_SHARE,
        "kSoundingFloor": playalong.SOUNDING_FLOOR,
        "kSongToneBonus": playalong.SONG_TONE_BONUS,
        "kRecentBeats": playalong.RECENT_BEATS,
        "kBarLineBeats": playalong.BAR_LINE_BEATS,
        "kNoChordAbove": playalong.NO_CHORD_ABOVE,
    }


def mismatches(text: str) -> list[str]:
    """``name: header H, Python P`` for each constant that differs or is missing."""
    header = header_constants(text)
    problems: list[str] = []
    for name, expected in _python_values().items():
        found = header.get(name)
        if found is None or abs(found - expected) > 1e-12:
            problems.append(f"{name}: header {found}, Python {expected}")
    return problems


def test_header_constants_equal_python() -> None:
    """Every hand-written constant of the header equals the value Python computes."""
    text = companion_header().read_text(encoding="utf-8")
    assert mismatches(text) == []
    assert header_constants(text)["beat_offset::meta"] == BEAT_VECTOR_SIZE - 5


@pytest.mark.parametrize(
    ("old", "new", "name"),
    [
        ("groove = 272", "groove = 271", "beat_offset::groove"),
        ("chroma = 40", "chroma = 41", "melody_offset::chroma"),
        ("earlier = 44", "earlier = 45", "harmony_offset::earlier"),
        ("kSongBassFloor = 0.05;", "kSongBassFloor = 0.5;", "kSongBassFloor"),
        ("kBeatsPerBar = 4;", "kBeatsPerBar = 3;", "kBeatsPerBar"),
        ("kWindowSeconds = 0.5;", "kWindowSeconds = 0.25;", "kFramesPerWindow"),
        ("+ 32 + 5;", "+ 32 + 6;", "kBeatVectorSize"),
        ("kBarLineBeats = 16;", "kBarLineBeats = 8;", "kBarLineBeats"),
        ("kKeepBonus = 0.08;", "kKeepBonus = 0.1;", "kKeepBonus"),
    ],
)
def test_a_changed_header_constant_is_caught(old: str, new: str, name: str) -> None:
    """The check reads the header's numbers, not a copy: one edited offset is reported."""
    text = companion_header().read_text(encoding="utf-8")
    assert old in text
    problems = mismatches(text.replace(old, new, 1))
    assert any(p.startswith(f"{name}:") for p in problems), problems
