"""MIDI to audio with fluidsynth, and the ground truth pretty_midi reads from the MIDI.

- Audio: ``fluidsynth -ni -g <gain> -F <wav> -r 22050 <sf2> <mid>`` (FluidR3_GM), mixed
  to mono and cut at the excerpt's end (the end of its last bar), 16-bit WAV.
- Beats and downbeats: ``pretty_midi.PrettyMIDI.get_beats`` / ``get_downbeats`` on the
  MIDI file rendered, which follow its tempo and time-signature events: the beat is the
  denominator's note, or three of them in a compound meter (6/8 → two dotted quarters
  per bar, 9/8 three, 12/8 four; 3/8 stays three eighths). Beats at or after the end are
  dropped.
- Tempo: the median of ``60 / diff(beats)`` (BPM of that beat level).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["SOUNDFONT", "pick_program", "render_wav", "truth_from_midi"]

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
RATE = 22050


def pick_program(rng: np.random.Generator, family: int, offsets: tuple[int, ...]) -> int:
    """A GM program of ``family`` (0–15) whose place in the family is one of ``offsets``."""
    return family * 8 + int(rng.choice(offsets))


def truth_from_midi(pm: Any, end: float) -> dict[str, Any]:
    """Beats, downbeats, beats per bar and tempo of ``pm`` before ``end`` seconds."""
    beats = np.asarray(pm.get_beats(), dtype=np.float64)
    downbeats = np.asarray(pm.get_downbeats(), dtype=np.float64)
    beats = beats[beats < end - 1e-3]
    downbeats = downbeats[downbeats < end - 1e-3]
    counts = np.diff(np.searchsorted(beats, downbeats))
    per_bar = int(np.bincount(counts).argmax()) if counts.size else 0
    tempo = float(np.median(60.0 / np.diff(beats))) if beats.size > 1 else 0.0
    return {
        "beats": [round(float(b), 6) for b in beats],
        "downbeats": [round(float(b), 6) for b in downbeats],
        "beats_per_bar": per_bar,
        "tempo": round(tempo, 3),
    }


def render_wav(midi: Path, wav: Path, *, gain: float, end: float) -> float:
    """Render ``midi`` to mono 22050 Hz ``wav`` cut at ``end`` s; returns the duration."""
    import soundfile

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(
            [
                "fluidsynth",
                "-ni",
                "-g",
                f"{gain:.3f}",
                "-F",
                str(raw),
                "-r",
                str(RATE),
                str(SOUNDFONT),
                str(midi),
            ],
            check=True,
            capture_output=True,
        )
        data, rate = soundfile.read(str(raw), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)[: round(end * rate)]
    peak = float(np.abs(mono).max(initial=0.0))
    if peak > 0.99:  # a loud render: scale down rather than clip
        mono *= 0.99 / peak
    scratch = wav.with_name(f".{wav.name}.{os.getpid()}.tmp.wav")
    soundfile.write(str(scratch), mono, rate, subtype="PCM_16")
    scratch.replace(wav)
    return float(mono.shape[0]) / float(rate)
