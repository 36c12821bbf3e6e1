"""``--preview mix.wav``: the generated MIDI played by a GM SoundFont, mixed with the song.

fluidsynth (a system program, Debian/Ubuntu packages ``fluidsynth`` and
``fluid-soundfont-gm``) renders the written MIDI file to raw float32 stereo on its
standard output (no temp file); the result is mixed in float32 with the input audio at
22050 Hz (the song at :data:`SONG_GAIN`, the accompaniment at :data:`MIDI_GAIN`), scaled
down if it would clip, and written atomically as 16-bit WAV.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core._optional import require
from kelly_core.arrays import FloatArray
from kelly_core.errors import MissingDependencyError
from kelly_core.fileio import atomic_path
from kelly_runtime.generate.audio import AudioClip
from kelly_runtime.generate.errors import AudioError

__all__ = ["DEFAULT_SOUNDFONT", "MIDI_GAIN", "SONG_GAIN", "render_midi", "write_preview"]

DEFAULT_SOUNDFONT: Final = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
"""Where ``fluid-soundfont-gm`` installs the GM SoundFont; ``KELLY_SOUNDFONT`` overrides."""
SONG_GAIN: Final = 0.6
MIDI_GAIN: Final = 1.0
_INSTALL: Final = "install it with: apt-get install fluidsynth fluid-soundfont-gm"


def _soundfont() -> Path:
    path = Path(os.environ.get("KELLY_SOUNDFONT", str(DEFAULT_SOUNDFONT)))
    if not path.is_file():
        raise MissingDependencyError(
            f"no GM SoundFont at {str(path)!r} for --preview; {_INSTALL} "
            "(or set KELLY_SOUNDFONT to a .sf2 file)",
            path=path,
            field="soundfont",
        )
    return path


def render_midi(midi: Path, sample_rate: int) -> FloatArray:
    """Render ``midi`` with fluidsynth to mono float32 at ``sample_rate``.

    :raises MissingDependencyError: If fluidsynth or the SoundFont is missing (the
        message names the packages).
    :raises AudioError: If fluidsynth fails.
    """
    program = shutil.which("fluidsynth")
    if program is None:
        raise MissingDependencyError(
            f"--preview needs the fluidsynth program; {_INSTALL}", field="fluidsynth"
        )
    command = [program, "-ni", "-q", "-R", "0", "-C", "0", "-g", "1.0", "-T", "raw", "-O", "float"]
    command += ["-r", str(sample_rate), "-F", "-", str(_soundfont()), str(midi)]
    done = subprocess.run(command, capture_output=True, check=False, timeout=3600)
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        raise AudioError(
            f"fluidsynth failed ({reason[-1] if reason else done.returncode})", path=midi
        )
    raw = np.frombuffer(done.stdout, dtype="<f4")
    stereo = raw[: raw.size // 2 * 2].reshape(-1, 2)
    return np.ascontiguousarray(stereo.mean(axis=1, dtype=np.float32), dtype=np.float32)


def write_preview(clip: AudioClip, midi: Path, path: str | Path) -> Path:
    """Mix ``clip`` with ``midi`` rendered by fluidsynth; write a 16-bit WAV atomically."""
    soundfile = require("soundfile", extra="data", purpose="writing the preview")
    music = render_midi(midi, clip.sample_rate)
    length = max(clip.samples.shape[0], music.shape[0])
    mix = np.zeros(length, dtype=np.float32)
    mix[: clip.samples.shape[0]] += SONG_GAIN * clip.samples
    mix[: music.shape[0]] += MIDI_GAIN * music
    peak = float(np.max(np.abs(mix), initial=0.0))
    if peak > 0.99:
        mix *= np.float32(0.99 / peak)
    with atomic_path(path) as tmp:
        soundfile.write(str(tmp), mix, clip.sample_rate, subtype="PCM_16", format="WAV")
    return Path(path)
