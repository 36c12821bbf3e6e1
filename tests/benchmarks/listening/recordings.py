"""Excerpts of real recordings from Debian's game-music packages (no ground truth).

``apt-get install hyperrogue-music singularity-music ufoai-music`` puts Ogg/Vorbis files
under ``/usr/share``; ufoai-music ships them inside a zip (``0music.pk3``).
(``fb-music-high`` ships a tracker module, ``.xm``, which libsndfile cannot read, so it
is not used.) An excerpt is 45–60 s from a seeded offset, mixed to mono, 44100 Hz
16-bit WAV. The benchmark scores every analysis of these against madmom's downbeat
tracker.
"""

from __future__ import annotations

import io
import os
import zipfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["UFOAI_PK3", "build_recording", "find_recording", "write_excerpt"]

UFOAI_PK3 = Path("/usr/share/games/ufoai/base/0music.pk3")
_FOLDERS = {
    "hyperrogue-music": Path("/usr/share/hyperrogue/music"),
    "singularity-music": Path("/usr/share/games/singularity/music"),
}


def find_recording(package: str, name: str) -> bytes | None:
    """The Ogg file ``name`` of ``package`` as bytes, or None when it is not installed."""
    if package == "ufoai-music":
        if not UFOAI_PK3.is_file():
            return None
        with zipfile.ZipFile(UFOAI_PK3) as archive:
            try:
                return archive.read(f"music/{name}")
            except KeyError:
                return None
    path = _FOLDERS[package] / name
    return path.read_bytes() if path.is_file() else None


def write_excerpt(data: bytes, wav: Path, rng: np.random.Generator) -> tuple[float, float]:
    """Write a 45–60 s mono excerpt of the Ogg ``data``; returns (offset, duration) in s."""
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
