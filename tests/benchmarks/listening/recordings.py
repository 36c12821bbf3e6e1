"""Excerpts of real recordings from Debian's game-music packages (no ground truth).

``apt-get install hyperrogue-music singularity-music ufoai-music`` puts the dev and test
splits' Ogg/Vorbis files under ``/usr/share``; ufoai-music ships them inside a zip
(``0music.pk3``). The ``extra`` split adds ``asc-music`` (MP3), ``drascula-music`` and
``planetblupi-music-ogg`` (Ogg/Vorbis), ``warzone2100-music`` (Ogg/Opus) and
``nexuiz-music`` (Ogg/Vorbis in ``music.pk3``); libsndfile reads all of them through
soundfile. (``fb-music-high`` ships a tracker module, ``.xm``, which libsndfile cannot
read, so it is not used.) An excerpt is 45–60 s from a seeded offset, mixed to mono,
44100 Hz 16-bit WAV. The benchmark scores every analysis of these against madmom's
downbeat tracker.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "UFOAI_PK3",
    "build_recording",
    "find_recording",
    "package_files",
    "pick_files",
    "write_excerpt",
]

UFOAI_PK3 = Path("/usr/share/games/ufoai/base/0music.pk3")
_ARCHIVES = {
    "ufoai-music": (UFOAI_PK3, "music/"),
    "nexuiz-music": (Path("/usr/share/games/nexuiz/data/music.pk3"), "sound/cdtracks/"),
}
"""Packages whose music is inside a zip: the archive and the folder in it."""
_FOLDERS = {
    "hyperrogue-music": Path("/usr/share/hyperrogue/music"),
    "singularity-music": Path("/usr/share/games/singularity/music"),
    "asc-music": Path("/usr/share/games/asc/music"),
    "drascula-music": Path("/usr/share/scummvm/drascula/audio"),
    "planetblupi-music-ogg": Path("/usr/share/planetblupi/music"),
    "warzone2100-music": Path("/usr/share/games/warzone2100/music"),
}


def find_recording(package: str, name: str) -> bytes | None:
    """The audio file ``name`` of ``package`` as bytes, or None when it is not installed."""
    if package in _ARCHIVES:
        archive_path, folder = _ARCHIVES[package]
        if not archive_path.is_file():
            return None
        with zipfile.ZipFile(archive_path) as archive:
            try:
                return archive.read(folder + name)
            except KeyError:
                return None
    path = _FOLDERS[package] / name
    return path.read_bytes() if path.is_file() else None


def package_files(package: str) -> list[str]:
    """The audio files of ``package`` (names as :func:`find_recording` takes them), sorted;
    empty when it is not installed."""
    if package in _ARCHIVES:
        archive_path, folder = _ARCHIVES[package]
        if not archive_path.is_file():
            return []
        with zipfile.ZipFile(archive_path) as archive:
            names = [n[len(folder) :] for n in archive.namelist() if n.startswith(folder)]
    else:
        root = _FOLDERS[package]
        names = [str(p.relative_to(root)) for p in root.rglob("*")] if root.is_dir() else []
    return sorted(n for n in names if n.lower().endswith((".ogg", ".mp3", ".opus", ".flac")))


def pick_files(
    durations: list[tuple[str, float]], *, most: int = 5, shortest: float = 60.0
) -> list[str]:
    """The rule the ``extra`` split was picked by: of the files at least ``shortest`` s
    long, in the order given, the first and every ``ceil(n / most)``-th after it."""
    kept = [name for name, seconds in durations if seconds >= shortest]
    step = max(1, -(-len(kept) // most))
    return kept[::step][:most]


def write_excerpt(data: bytes, wav: Path, rng: np.random.Generator) -> tuple[float, float]:
    """Write a 45–60 s mono excerpt of the audio file ``data`` (any format libsndfile
    reads); returns (offset, duration) in s."""
    import soundfile

    samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    total = samples.shape[0] / rate
    length = min(float(rng.uniform(45.0, 60.0)), total)
    latest = max(total - length, 0.0)
    offset = float(rng.uniform(min(10.0, latest), latest)) if latest > 0 else 0.0
    part = samples[round(offset * rate) : round((offset + length) * rate)].mean(axis=1)
    if rate != 44100:
        import soxr  # type: ignore[import-untyped]  # no stubs

        part = soxr.resample(part, rate, 44100, "HQ")
    scratch = wav.with_name(f".{wav.name}.{os.getpid()}.tmp.wav")
    soundfile.write(str(scratch), part, 44100, subtype="PCM_16")
    scratch.replace(wav)
    return offset, part.shape[0] / 44100.0


def build_recording(spec: Any, rng: np.random.Generator, stem: Path) -> dict[str, Any] | None:
    """Write an excerpt of a game-music recording (None when the package is missing)."""
    data = find_recording(spec.package, spec.file)
    if data is None:
        return None
    offset, duration = write_excerpt(data, stem.with_name(stem.name + ".wav"), rng)
    return {
        "source": "recording",
        "origin": f"{spec.package}: {spec.file} from {offset:.1f} s",
        "spec": asdict(spec),
        "duration": round(duration, 3),
        "reference": "madmom",
        "key": None,
        "beats": None,
        "downbeats": None,
    }
