"""The result of one generation run and its side outputs (MIDI, JSON, CSV, PNG)."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import attrs

from kelly_core.fileio import atomic_write_json, atomic_write_text
from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.keys import Key, KeySegment
from kelly_runtime.generate.midi import MidiFile, midi_bytes, write_midi

__all__ = ["BeatRecord", "ChordEvent", "EmotionPoint", "GenerationResult"]


@attrs.frozen(kw_only=True)
class EmotionPoint:
    """The EmotionRecognizer's answer for one analysis window."""

    time: float
    """Start of the window in seconds."""
    valence: float
    """In [-1, 1]."""
    arousal: float
    """In [-1, 1]."""


@attrs.frozen(kw_only=True)
class ChordEvent:
    """The chord the HarmonyPredictor chose for one beat."""

    time: float
    """Start of the beat in seconds."""
    label: str
    """Label in the chord vocabulary (``"C:maj"``, ``"A:min"``, ``"N"``)."""
    index: int
    """Class in the 64-class vocabulary."""


@attrs.frozen(kw_only=True)
class BeatRecord:
    """One generation step: the emotion fed to it and the chord it produced."""

    time: float
    valence: float
    arousal: float
    chord: str
    chroma: tuple[float, ...] = ()
    """The audio's chroma averaged over the beat (12 values in [0, 1], index 0 = C)."""


@attrs.frozen(kw_only=True, eq=False)
class GenerationResult:
    """Everything a run produced; ``midi`` is a ``pretty_midi.PrettyMIDI``."""

    midi: MidiFile
    emotion_trajectory: tuple[EmotionPoint, ...]
    """One point per 0.5 s analysis window of the audio."""
    chords: tuple[ChordEvent, ...]
    """One chord per beat."""
    beats: tuple[BeatRecord, ...]
    """Per beat: the emotion that drove it and its chord."""
    fallback_stages: tuple[str, ...]
    """Models that ran on their rule-based fallback (empty when all five loaded)."""
    key: Key
    """Key of melody, chords and bass (given, or estimated from the audio)."""
    tempo: float
    """Median beats per minute of the beats played."""
    audio_duration: float
    """Length of the input audio in seconds."""
    source: Path | None = None
    """The audio file read, if any."""
    beat_times: tuple[float, ...] = ()
    """Start of every beat played, in seconds (the MIDI's tempo map follows them)."""
    downbeats: tuple[float, ...] = ()
    """Start of every bar's first beat, in seconds."""
    beats_per_bar: int = 4
    """Beats in a bar (detected, or ``--meter``); the MIDI's time signature is this over 4."""
    beats_detected: bool = False
    """Whether the beats were detected in the audio (False: a steady ``--tempo`` grid)."""
    key_estimated: bool = False
    """Whether the key was estimated from the audio (False: given)."""
    key_segments: tuple[KeySegment, ...] = ()
    """The keys in time order: one, or one per section where the audio modulates."""
    key_confidence: float | None = None
    """``key``'s evidence minus the next key's (None: given, or not known)."""

    def key_report(self) -> str:
        """The key(s) for a person: ``"key G major (given)"``,
        ``"key G major (estimated from the audio, confidence 0.12)"``, and for a song that
        modulates ``"...; by section: G major from 0.0 s (0.12), D major from 61.3 s (0.08)"``.

        A confidence is the key's evidence minus the next-best key's.
        """
        if not self.key_estimated:
            return f"key {self.key} (given)"
        said = "" if self.key_confidence is None else f", confidence {self.key_confidence:.2f}"
        text = f"key {self.key} (estimated from the audio{said})"
        if len(self.key_segments) <= 1:
            return text
        parts = ", ".join(
            f"{s.key} from {s.start:.1f} s ({s.confidence or 0.0:.2f})" for s in self.key_segments
        )
        return f"{text}; by section: {parts}"

    def midi_bytes(self) -> bytes:
        """Return the Standard MIDI File bytes."""
        return midi_bytes(self.midi)

    def write(self, path: str | Path) -> Path:
        """Write the MIDI file to ``path`` atomically; return the path."""
        return write_midi(self.midi, path)

    def summary(self) -> dict[str, object]:
        """Return the side output as a JSON-ready dict."""
        return {
            "source": None if self.source is None else str(self.source),
            "audio_duration": self.audio_duration,
            "tempo": self.tempo,
            "key": str(self.key),
            "beats_detected": self.beats_detected,
            "key_estimated": self.key_estimated,
            "key_confidence": self.key_confidence,
            "keys": [
                {"start": s.start, "end": s.end, "key": str(s.key), "confidence": s.confidence}
                for s in self.key_segments
            ],
            "beat_times": list(self.beat_times),
            "downbeats": list(self.downbeats),
            "beats_per_bar": self.beats_per_bar,
            "fallback_stages": list(self.fallback_stages),
            "emotion": [attrs.asdict(p) for p in self.emotion_trajectory],
            "chords": [{"time": c.time, "label": c.label} for c in self.chords],
            "beats": [attrs.asdict(b) for b in self.beats],
        }

    def write_json(self, path: str | Path) -> Path:
        """Write :meth:`summary` as JSON atomically; return the path."""
        return atomic_write_json(path, self.summary(), indent=2)

    def write_csv(self, path: str | Path) -> Path:
        """Write one row per beat (``time, valence, arousal, chord``) atomically."""
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(["time", "valence", "arousal", "chord"])
        for beat in self.beats:
            writer.writerow(
                [f"{beat.time:.6f}", f"{beat.valence:.6f}", f"{beat.arousal:.6f}", beat.chord]
            )
        return atomic_write_text(path, buffer.getvalue())

    def write_side_output(self, path: str | Path) -> Path:
        """Write JSON or CSV by the suffix of ``path`` (``.json`` or ``.csv``).

        :raises GenerateOptionError: On another suffix.
        """
        suffix = Path(path).suffix.lower()
        if suffix == ".json":
            return self.write_json(path)
        if suffix == ".csv":
            return self.write_csv(path)
        raise GenerateOptionError(
            f"unknown side-output format {suffix or '(none)'!r}; expected '.json' or '.csv'",
            path=path,
            expected=(".json", ".csv"),
            got=suffix,
        )

    def plot(self, path: str | Path) -> Path:
        """Draw the emotion trajectory and the chords to a PNG file atomically."""
        from kelly_runtime.generate.plot import plot_emotion  # matplotlib only when plotting

        return plot_emotion(self, path)
