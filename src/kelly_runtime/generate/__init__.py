"""Audio in, MIDI out: ``generate(audio, models_dir, options) -> GenerationResult``.

Importing this package imports numpy and attrs only; soundfile, soxr, pretty_midi and
matplotlib are imported when a file is read, written or plotted.
"""

from __future__ import annotations

from kelly_runtime.generate.api import generate
from kelly_runtime.generate.audio import AudioClip, read_audio
from kelly_runtime.generate.errors import AudioError, GenerateOptionError
from kelly_runtime.generate.keys import Key, PitchRange
from kelly_runtime.generate.options import GenerateOptions
from kelly_runtime.generate.result import BeatRecord, ChordEvent, EmotionPoint, GenerationResult

__all__ = [
    "AudioClip",
    "AudioError",
    "BeatRecord",
    "ChordEvent",
    "EmotionPoint",
    "GenerateOptionError",
    "GenerateOptions",
    "GenerationResult",
    "Key",
    "PitchRange",
    "generate",
    "read_audio",
]
