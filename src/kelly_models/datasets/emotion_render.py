"""A :class:`~kelly_models.datasets.emotion_music.Music` to audio with fluidsynth.

One ``fluidsynth -ni -F - -T raw -O float`` run per rendering (22050 Hz, mixed to
mono, cut at the music's end), each part on the program given, with a random room:
fluidsynth's reverb with its room size, damping, width and level drawn per rendering
(:func:`draw_room`). :func:`level` then sets the level apart from everything else: -20
dBFS RMS, scaled by a gain in decibels.
"""

from __future__ import annotations

import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core._optional import require
from kelly_core.errors import DatasetError
from kelly_models.datasets.augment import apply_gain
from kelly_models.datasets.emotion_music import Music
from kelly_models.listening.render import RATE, program, soundfont

__all__ = ["LEVEL_RMS", "RATE", "draw_room", "level", "render_music"]

LEVEL_RMS: Final = 0.1
"""Every rendering is levelled to -20 dBFS RMS before its gain."""
_TIMEOUT_S: Final = 300.0
_PURPOSE: Final = "rendering music for the EmotionRecognizer"


def draw_room(rng: np.random.Generator) -> dict[str, float]:
    """fluidsynth reverb settings: room size 0.1..0.95, damping 0..0.8, width 10..100,
    level 0..0.9 (dry to a large wet hall)."""
    return {
        "room-size": float(rng.uniform(0.1, 0.95)),
        "damp": float(rng.uniform(0.0, 0.8)),
        "width": float(rng.uniform(10.0, 100.0)),
        "level": float(rng.uniform(0.0, 0.9)),
    }


def _midi(music: Music, programs: Sequence[int], path: Path) -> None:
    pretty_midi = require("pretty_midi", extra="data", purpose=_PURPOSE)
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    for part, number in zip(music.parts, programs, strict=True):
        instrument = pretty_midi.Instrument(program=int(number), is_drum=part.is_drum)
        instrument.notes = [
            pretty_midi.Note(velocity=v, pitch=p, start=s, end=max(e, s + 0.01))
            for p, s, e, v in part.notes
        ]
        pm.instruments.append(instrument)
    pm.write(str(path))


def render_music(
    music: Music, programs: Sequence[int], room: dict[str, float] | None = None
) -> np.ndarray:
    """Render ``music`` (one program per part) to mono float32 at :data:`RATE`, cut at
    ``music.length``.

    :raises MissingDependencyError: If fluidsynth or the GM SoundFont is missing.
    :raises DatasetError: If fluidsynth fails, naming the music.
    """
    fluidsynth = program("fluidsynth", _PURPOSE)
    sf2 = soundfont(_PURPOSE)
    settings = [f"-o synth.reverb.{k}={v:.3f}" for k, v in (room or {}).items()]
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "music.mid"
        _midi(music, programs, path)
        command = [fluidsynth, "-ni", "-q", "-r", str(RATE), "-T", "raw", "-O", "float"]
        command += [a for s in settings for a in s.split(" ")]
        command += ["-E", "little", "-F", "-", str(sf2), str(path)]
        try:
            done = subprocess.run(command, capture_output=True, timeout=_TIMEOUT_S, check=False)
        except subprocess.TimeoutExpired as exc:
            raise DatasetError(
                f"fluidsynth ran longer than {_TIMEOUT_S:.0f} s on {music.name}"
            ) from exc
    if done.returncode != 0:
        lines = done.stderr.decode(errors="replace").strip().splitlines()
        reason = lines[-1] if lines else f"exit status {done.returncode}"
        raise DatasetError(f"fluidsynth failed on {music.name}: {reason[-300:]}")
    stereo = np.frombuffer(done.stdout, dtype="<f4")
    mono = stereo[: len(stereo) // 2 * 2].reshape(-1, 2).mean(axis=1)
    samples = round(music.length * RATE)
    out = np.zeros(samples, dtype=np.float32)
    out[: min(samples, len(mono))] = mono[:samples]
    return out


def level(audio: np.ndarray, gain_db: float) -> np.ndarray:
    """``audio`` at -20 dBFS RMS, then scaled by ``gain_db`` decibels (silence stays 0)."""
    rms = float(np.sqrt(np.mean(np.square(audio, dtype=np.float64)))) if audio.size else 0.0
    levelled = audio * np.float32(LEVEL_RMS / max(rms, 1e-9))
    out: np.ndarray = apply_gain(levelled.astype(np.float32), gain_db)
    return out
