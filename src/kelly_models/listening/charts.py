"""Chord charts rendered by Debian's ``mma`` (Musical MIDI Accompaniment) into MIDI.

A chart is a random diatonic progression in a random key (one or two chords per bar,
phrases of four bars, the last phrase ending V–I), written as an ``.mma`` file with
``Tempo``, ``KeySig`` and ``Groove``; about a third of the charts change tempo by
8–20 % (up or down) after their first phrases. mma writes one MIDI quarter note per
mma beat (``Time`` in the style file), so the MIDI's time signatures are replaced by
ones that say what the music is: ``Time 6`` styles (6/8 counted in eighths) become
6/4 (two beats of three MIDI quarters; 6/8 as two dotted beats), ``68March`` (6/8
counted in dotted quarters) 2/4, ``Ballad68`` (12/8 in dotted quarters) 4/4, every other
style ``Time``/4. The key truth is the key written. mma's random humanisation (timing
and velocity) is seeded from the chart's text (``RndSeed``), so a chart always renders
to the same MIDI.

``mma`` is Debian's package of the same name; :func:`render_chart` says in one line
what to install when it is missing.
"""

from __future__ import annotations

import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kelly_models.listening.render import program, run_tool

__all__ = ["Style", "render_chart"]

SHARP = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
# Chord degrees as (semitones above the tonic, quality suffix).
_MAJOR = {
    "I": (0, ""),
    "ii": (2, "m"),
    "iii": (4, "m"),
    "IV": (5, ""),
    "V": (7, "7"),
    "vi": (9, "m"),
}
_MINOR = {
    "i": (0, "m"),
    "iv": (5, "m"),
    "V": (7, "7"),
    "VI": (8, ""),
    "III": (3, ""),
    "VII": (10, ""),
}
_MAJOR_PHRASES = (
    ("I", "vi", "IV", "V"),
    ("I", "IV", "V", "I"),
    ("ii", "V", "I", "I"),
    ("I", "V", "vi", "IV"),
    ("I", "iii", "IV", "V"),
)
_MINOR_PHRASES = (
    ("i", "iv", "V", "i"),
    ("i", "VI", "III", "VII"),
    ("i", "iv", "i", "V"),
    ("i", "VII", "VI", "V"),
)


@dataclass(frozen=True)
class Style:
    """An mma groove: name, beats per mma bar, the meter it sounds in, beat tempo range."""

    groove: str
    time: int
    meter: str
    bpm: tuple[float, float]
    """Range of the tempo of the counted beat (BPM)."""

    @property
    def slug(self) -> str:
        """The groove's name in piece names: lower case, ``&`` as ``n``."""
        return self.groove.lower().replace("&", "n")

    @property
    def midi_signature(self) -> tuple[int, int]:
        """The time signature written into the MIDI (see the module docstring)."""
        return (6, 4) if self.time == 6 else (self.time, 4)

    @property
    def quarters_per_beat(self) -> int:
        """MIDI quarter notes (mma beats) per counted beat."""
        return 3 if self.time == 6 else 1


def _chart(rng: np.random.Generator, tonic: int, mode: str, bars: int, time: int) -> list[str]:
    """One line of chords per bar (``time`` mma beats), ending on V–I."""
    degrees = _MAJOR if mode == "major" else _MINOR
    phrases = _MAJOR_PHRASES if mode == "major" else _MINOR_PHRASES
    home = "I" if mode == "major" else "i"
    sequence: list[str] = []
    while len(sequence) < bars:
        sequence.extend(phrases[int(rng.integers(len(phrases)))])
    sequence = [*sequence[: bars - 2], "V", home]
    lines = []
    for degree in sequence:
        step, quality = degrees[degree]
        name = SHARP[(tonic + step) % 12] + quality
        if rng.random() < 0.2 and degree not in ("V", home):
            step, quality = degrees["V"]
            half = time // 2
            tokens = [name, *["/"] * (half - 1), SHARP[(tonic + step) % 12] + quality]
            lines.append(" ".join(tokens + ["/"] * (time - half - 1)))
        else:
            lines.append(name)
    return lines


def render_chart(
    style: Style, rng: np.random.Generator, *, seconds: float, midi_out: Path
) -> dict[str, Any]:
    """Write a random chart in ``style`` about ``seconds`` long to ``midi_out`` (mma's MIDI).

    :returns: What was written: key, beat tempo(s), bars, mma file text.
    :raises MissingDependencyError: If mma is not installed.
    :raises DatasetError: If mma fails (its last line of output).
    """
    mma = program("mma", "rendering chord charts")
    tonic = int(rng.integers(12))
    mode = "major" if rng.random() < 0.6 else "minor"
    beat_bpm = float(rng.uniform(*style.bpm))
    per_bar = style.time // style.quarters_per_beat
    bars = max(8, round(seconds * beat_bpm / 60.0 / per_bar))
    chords = _chart(rng, tonic, mode, bars, style.time)
    change_at = None
    second_bpm = beat_bpm
    if rng.random() < 0.35 and bars >= 12:
        change_at = 8
        second_bpm = beat_bpm * float(rng.choice([-1.0, 1.0])) * float(rng.uniform(0.08, 0.2))
        second_bpm = float(np.clip(beat_bpm + second_bpm, style.bpm[0] * 0.85, style.bpm[1] * 1.15))
        # keep the length near ``seconds`` at the new tempo
        bars = change_at + max(
            4, round((seconds - change_at * per_bar * 60 / beat_bpm) * second_bpm / 60.0 / per_bar)
        )
        chords = _chart(rng, tonic, mode, bars, style.time)
    lines = [
        f"Tempo {beat_bpm * style.quarters_per_beat:.2f}",
        f"KeySig {SHARP[tonic]} {mode}",
        f"Groove {style.groove}",
    ]
    for index, chord in enumerate(chords, start=1):
        if change_at is not None and index == change_at + 1:
            lines.append(f"Tempo {second_bpm * style.quarters_per_beat:.2f}")
        lines.append(f"{index} {chord}")
    body = "\n".join(lines) + "\n"
    # mma humanises timing and velocity with Python's random module, unseeded unless told:
    # seeding it from the chart makes a chart render the same MIDI every time.
    text = f"RndSeed {zlib.crc32(body.encode())}\n{body}"
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "chart.mma"
        source.write_text(text)
        # run where the chart is: mma writes the input's name into the MIDI
        command = [mma, source.name, "-f", str(midi_out.absolute())]
        run_tool(command, path=midi_out, what="mma", cwd=source.parent)
    return {
        "key": f"{SHARP[tonic]}:{mode}",
        "beat_bpm": [round(beat_bpm, 3), round(second_bpm, 3)],
        "tempo_change_bar": change_at,
        "bars": bars,
        "mma": text,
    }
