"""MIDI to audio with fluidsynth, and the ground truth pretty_midi reads from the MIDI.

- Audio: ``fluidsynth -ni -g <gain> -F <wav> -r 22050 <sf2> <mid>`` (the FluidR3 GM
  SoundFont of Debian's ``fluid-soundfont-gm``), mixed to mono and cut at the piece's end
  (the end of its last bar), scaled down if it would clip, 16-bit WAV written atomically.
- Beats and downbeats: ``pretty_midi.PrettyMIDI.get_beats`` / ``get_downbeats`` on the
  MIDI file rendered, which follow its tempo and time-signature events: the beat is the
  denominator's note, or three of them in a compound meter (6/8 → two dotted quarters
  per bar, 9/8 three, 12/8 four; 3/8 stays three eighths). Beats at or after the end are
  dropped.
- Tempo: the median of ``60 / diff(beats)`` (BPM of that beat level).

The programs are system ones: :func:`check_tools` says in one line what to install when
one is missing.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Final

import numpy as np

from kelly_core._optional import require
from kelly_core.errors import DatasetError, MissingDependencyError
from kelly_core.fileio import atomic_path

__all__ = [
    "INSTALL",
    "RATE",
    "SOUNDFONT",
    "check_tools",
    "pick_program",
    "program",
    "render_wav",
    "run_tool",
    "soundfont",
    "truth_from_midi",
]

SOUNDFONT: Final = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
"""Where ``fluid-soundfont-gm`` installs the GM SoundFont every piece is rendered with."""
RATE: Final = 22050
"""Sample rate of the rendered WAV files (Hz)."""
INSTALL: Final = "install it with: apt-get install fluidsynth fluid-soundfont-gm mma"
_TIMEOUT_S: Final = 600.0


def program(name: str, purpose: str) -> str:
    """The path of the system program ``name``.

    :raises MissingDependencyError: If it is not on ``PATH`` (the message names the
        Debian packages to install).
    """
    found = shutil.which(name)
    if found is None:
        raise MissingDependencyError(
            f"{purpose} needs the {name} program; {INSTALL}", expected=name, field=name
        )
    return found


def check_tools(purpose: str = "rendering pieces") -> None:
    """Check that fluidsynth, mma and the GM SoundFont are installed.

    :raises MissingDependencyError: Naming the first one missing and the packages.
    """
    program("fluidsynth", purpose)
    program("mma", purpose)
    soundfont(purpose)


def soundfont(purpose: str) -> Path:
    """The GM SoundFont :data:`SOUNDFONT`.

    :raises MissingDependencyError: If it is not installed (naming the packages).
    """
    if not SOUNDFONT.is_file():
        raise MissingDependencyError(
            f"{purpose} needs the GM SoundFont {SOUNDFONT}; {INSTALL}",
            expected=str(SOUNDFONT),
            field="soundfont",
        )
    return SOUNDFONT


def run_tool(command: list[str], *, path: Path, what: str, cwd: Path | None = None) -> None:
    """Run ``command`` (in ``cwd``); a failure is a one-line :class:`DatasetError` on
    ``path``."""
    try:
        done = subprocess.run(
            command, capture_output=True, check=False, timeout=_TIMEOUT_S, cwd=cwd
        )
    except subprocess.TimeoutExpired as exc:
        raise DatasetError(f"{what} ran longer than {_TIMEOUT_S:.0f} s", path=path) from exc
    if done.returncode != 0:
        lines = (done.stdout + done.stderr).decode(errors="replace").strip().splitlines()
        reason = lines[-1].strip() if lines else f"exit status {done.returncode}"
        raise DatasetError(f"{what} failed: {reason[-300:]}", path=path)


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
    """Render ``midi`` to mono 22050 Hz ``wav`` cut at ``end`` s; returns the duration.

    :raises MissingDependencyError: If fluidsynth or the SoundFont is missing.
    :raises DatasetError: If fluidsynth fails on ``midi``.
    """
    soundfile = require("soundfile", extra="data", purpose="rendering pieces")
    fluidsynth = program("fluidsynth", "rendering pieces")
    sf2 = soundfont("rendering pieces")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        command = [fluidsynth, "-ni", "-g", f"{gain:.3f}", "-F", str(raw), "-r", str(RATE)]
        run_tool([*command, str(sf2), str(midi)], path=midi, what="fluidsynth")
        data, rate = soundfile.read(str(raw), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)[: round(end * rate)]
    peak = float(np.abs(mono).max(initial=0.0))
    if peak > 0.99:  # a loud render: scale down rather than clip
        mono *= 0.99 / peak
    with atomic_path(wav) as scratch:
        soundfile.write(str(scratch), mono, rate, subtype="PCM_16", format="WAV")
    return float(mono.shape[0]) / float(rate)
