"""Rendering real music to audio and measuring what ``kelly generate`` made of it.

Shared by the generate tests and ``tests/benchmarks/bench_generate.py``: pieces of
music21's corpus are written to MIDI at a known tempo, rendered with fluidsynth and the
GM SoundFont, and the generated MIDI is measured against the source's beats and key.
"""

from __future__ import annotations

import importlib
import itertools
import shutil
import subprocess
from pathlib import Path
from typing import Any, Final

import attrs
import numpy as np

from kelly_runtime.generate.arrange import DRUM_THRESHOLD, MIN_NOTE_S
from kelly_runtime.generate.keys import Key
from kelly_runtime.generate.midi import MidiFile, read_midi

SOUNDFONT: Final = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
TEMPO_TOLERANCE: Final = 0.04
BEAT_WINDOW_S: Final = 0.07


def have_fluidsynth() -> bool:
    """Whether the fluidsynth program and the FluidR3 GM SoundFont are installed."""
    return shutil.which("fluidsynth") is not None and SOUNDFONT.is_file()


def render_wav(midi: Path, wav: Path, *, sr: int = 22050) -> Path:
    """Render ``midi`` to ``wav`` with fluidsynth (no reverb or chorus, so onsets stay sharp)."""
    subprocess.run(
        [
            "fluidsynth",
            "-ni",
            "-q",
            "-R",
            "0",
            "-C",
            "0",
            "-g",
            "0.8",
            "-r",
            str(sr),
            "-F",
            str(wav),
            str(SOUNDFONT),
            str(midi),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    return wav


@attrs.frozen(kw_only=True)
class Source:
    """A piece written to MIDI: where, its tempo, beats and key."""

    midi: Path
    tempo: float
    beats: np.ndarray
    key: Key
    name: str


def corpus_piece(name: str, folder: Path, *, tempo: float, seconds: float | None = None) -> Source:
    """Write music21 corpus piece ``name`` to MIDI at ``tempo`` quarter notes per minute.

    :param seconds: Keep only the first ``seconds`` (whole measures).
    """
    from music21 import corpus
    from music21 import tempo as m21tempo

    score = corpus.parse(name)
    if seconds is not None:
        beats_wanted = seconds * tempo / 60.0
        measures = score.parts[0].getElementsByClass("Measure")
        total, last = 0.0, 1
        for m in measures:
            total += float(m.barDuration.quarterLength)
            last = m.number
            if total >= beats_wanted:
                break
        score = score.measures(0, last)
    from music21 import bar

    for part in score.parts:
        for m in part.getElementsByClass("Measure"):  # play straight through: no repeats
            if isinstance(m.leftBarline, bar.Repeat):
                m.leftBarline = None
            if isinstance(m.rightBarline, bar.Repeat):
                m.rightBarline = None
        for old in part.recurse().getElementsByClass(m21tempo.MetronomeMark):
            old.activeSite.remove(old)
    score.parts[0].measure(score.parts[0].getElementsByClass("Measure")[0].number).insert(
        0, m21tempo.MetronomeMark(number=tempo)
    )
    analysed = score.analyze("key")
    key = Key(
        tonic=analysed.tonic.pitchClass, mode="minor" if analysed.mode == "minor" else "major"
    )
    stem = name.replace("/", "_").replace(".", "_")
    path = folder / f"{stem}.mid"
    score.write("midi", fp=str(path))
    midi = read_midi(path)
    pm_beats = np.asarray(midi.get_beats(), dtype=np.float64)  # type: ignore[attr-defined]
    notes = [n for i in midi.instruments for n in i.notes]
    first = min(n.start for n in notes)
    end = max(n.end for n in notes)
    beats = pm_beats[(pm_beats >= first - 1e-3) & (pm_beats < end - 1e-3)]
    return Source(midi=path, tempo=tempo, beats=beats, key=key, name=name)


@attrs.frozen(kw_only=True)
class Measures:
    """What the benchmark reports for one piece."""

    tempo_ok: bool
    octave_error: bool
    tempo: float
    f_measure: float
    chord_in_scale: float
    melody_in_scale: float
    clash_rate: float
    quiet_drums: int
    short_notes: int
    key: str


def beat_f_measure(reference: np.ndarray, estimated: np.ndarray) -> float:
    """mir_eval's beat F-measure with a 70 ms window (no 5 s trimming: short clips)."""
    mir_eval = importlib.import_module("mir_eval")
    return float(mir_eval.beat.f_measure(reference, estimated, f_measure_threshold=BEAT_WINDOW_S))


def midi_beats(midi: MidiFile) -> np.ndarray:
    """The beats of a generated MIDI file, from its tempo map."""
    return np.asarray(midi.get_beats(), dtype=np.float64)  # type: ignore[attr-defined]


def clash_rate(midi: MidiFile, beats: np.ndarray) -> float:
    """Fraction of beats where a melody note is a semitone from a sounding chord tone."""
    tracks = {i.name: i for i in midi.instruments}
    melody, chords = tracks["melody"].notes, tracks["chords"].notes
    if len(beats) < 2:
        return 0.0
    bounds = np.append(beats, beats[-1] + np.median(np.diff(beats)))
    clashes = 0
    for start, end in itertools.pairwise(bounds):
        chord_pcs = {n.pitch % 12 for n in chords if n.start < end - 1e-3 and n.end > start + 1e-3}
        mel_pcs = {n.pitch % 12 for n in melody if n.start < end - 1e-3 and n.end > start + 1e-3}
        if any((m - c) % 12 in (1, 11) for m in mel_pcs - chord_pcs for c in chord_pcs):
            clashes += 1
    return clashes / (len(bounds) - 1)


def measure(midi_path: Path, source: Source, detected_tempo: float, key: Key) -> Measures:
    """Measure the generated file ``midi_path`` against ``source``."""
    midi = read_midi(midi_path)
    tracks = {i.name: i for i in midi.instruments}
    scale = source.key.pitch_classes
    ratio = detected_tempo / source.tempo
    tempo_ok = abs(ratio - 1.0) <= TEMPO_TOLERANCE
    octave = any(abs(ratio - r) <= TEMPO_TOLERANCE * r for r in (0.5, 2.0, 1 / 3, 3.0, 2 / 3, 1.5))
    chord_notes = tracks["chords"].notes
    melody_notes = tracks["melody"].notes

    def in_scale(notes: list[Any]) -> float:
        return sum(n.pitch % 12 in scale for n in notes) / len(notes) if notes else 0.0

    all_notes = [n for i in midi.instruments for n in i.notes]
    played = midi_beats(midi)
    played = played[played >= source.beats[0] - 0.5] if source.beats.size else played
    return Measures(
        tempo_ok=tempo_ok,
        octave_error=not tempo_ok and octave,
        tempo=detected_tempo,
        f_measure=beat_f_measure(source.beats, played),
        chord_in_scale=in_scale(chord_notes),
        melody_in_scale=in_scale(melody_notes),
        clash_rate=clash_rate(midi, played),
        quiet_drums=sum(n.velocity < DRUM_THRESHOLD for n in tracks["drums"].notes),
        short_notes=int(sum(n.end - n.start < MIN_NOTE_S - 1e-3 for n in all_notes)),
        key=str(key),
    )
