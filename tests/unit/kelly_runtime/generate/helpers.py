"""Shared fixtures of the generate tests: synthesized audio files."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from kelly_core.arrays import FloatArray

SR = 22050


def tone(seconds: float, *, sr: int = SR, freq: float = 440.0, amp: float = 0.3) -> FloatArray:
    """Return a mono sine with a slow tremolo, float32 in [-amp, amp]."""
    t = np.arange(round(seconds * sr)) / sr
    envelope = 0.6 + 0.4 * np.sin(2 * np.pi * 0.5 * t)
    return (amp * envelope * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, sr: int = SR, subtype: str = "PCM_16") -> Path:
    """Write ``samples`` ``(n,)`` or ``(n, channels)`` to ``path`` with soundfile."""
    import soundfile

    soundfile.write(str(path), samples, sr, subtype=subtype)
    return path
