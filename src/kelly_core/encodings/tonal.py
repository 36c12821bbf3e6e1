"""Key-relative vectors: the tonal reference convention and transposition of every vector.

MelodyTransformer's 128 note outputs, HarmonyPredictor's 64 chord classes (its output and
the previous-chord half of its context) and the DynamicsEngine's 12 pitch classes are
**relative to the key's tonic**: index 0 of a pitch class (and chord root 0) is the tonic,
so a melody in A minor is trained, and predicted, as the same melody in C minor. The mode
is kept (C major vs C minor), so valence can carry it. A consumer turns the outputs into
the song's key by transposing them up by :func:`tonic_shift` of the song's tonic.

Files say which convention they follow in ``metadata.tonal_reference``
(:data:`TONAL_REFERENCES`); a file without the field is ``"absolute"`` (what Kelly wrote
before key-relative training).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final, Literal, TypeAlias

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.encodings.chords import NO_CHORD, NUM_CHORDS

__all__ = [
    "KEY_RELATIVE_MODELS",
    "KEY_TRUST_MARGIN",
    "KK_MAJOR",
    "KK_MINOR",
    "REFERENCE_TONIC",
    "TONAL_REFERENCES",
    "TonalReference",
    "chord_permutation",
    "estimate_key",
    "key_correlations",
    "to_reference",
    "tonal_reference",
    "tonic_shift",
    "transpose_chord",
    "transpose_chords",
    "transpose_pitch_classes",
    "transpose_pitches",
    "trusted_key",
]

TonalReference: TypeAlias = Literal["tonic", "absolute"]

TONAL_REFERENCES: Final[tuple[TonalReference, ...]] = ("tonic", "absolute")
"""Values of ``metadata.tonal_reference``: ``"tonic"`` (index 0 = the key's tonic) or
``"absolute"`` (index 0 = C whatever the key)."""
REFERENCE_TONIC: Final = 0
"""The reference tonic key-relative data is moved to: C (pitch class 0)."""
KEY_RELATIVE_MODELS: Final[frozenset[str]] = frozenset(
    {"MelodyTransformer", "HarmonyPredictor", "DynamicsEngine"}
)
"""Models whose pitch, chord or pitch-class vectors are relative to the tonic."""


def tonic_shift(tonic: int) -> int:
    """Return the transposition from C to ``tonic`` (pitch class) nearest in register.

    In ``-5..+6`` semitones: C → 0, G → −5, A → −3, F → +5, F# → +6.
    """
    pc = int(tonic) % 12
    return pc - 12 if pc > 6 else pc


def transpose_pitches(values: object, semitones: int) -> FloatArray:
    """Move every value along the last axis (128 MIDI pitches) up by ``semitones``.

    ``out[..., p + semitones] = values[..., p]``; pitches moved past 0..127 are dropped and
    the vacated ones are 0. Returns a new float32 array.
    """
    arr = np.asarray(values, dtype=np.float32)
    out = np.zeros_like(arr)
    n = arr.shape[-1]
    s = int(semitones)
    if abs(s) >= n:
        return out
    if s >= 0:
        out[..., s:] = arr[..., : n - s]
    else:
        out[..., : n + s] = arr[..., -s:]
    return out


def transpose_pitch_classes(values: object, semitones: int) -> FloatArray:
    """Rotate a ``(..., 12)`` pitch-class vector up by ``semitones`` (index 0 = C)."""
    return np.roll(np.asarray(values, dtype=np.float32), int(semitones), axis=-1)


def transpose_chord(index: int, semitones: int) -> int:
    """Return chord class ``index`` with its root moved up by ``semitones``.

    ``N`` stays ``N``; a diminished seventh moves among the three dim7 classes.
    """
    idx = int(index)
    if not 0 <= idx < NUM_CHORDS:
        raise ValueError(f"chord class {index} out of range 0..63")
    s = int(semitones)
    if idx == NO_CHORD:
        return idx
    if idx > NO_CHORD:
        return NO_CHORD + 1 + (idx - NO_CHORD - 1 + s) % 3
    root, quality = divmod(idx, 5)
    return 5 * ((root + s) % 12) + quality


def chord_permutation(semitones: int) -> np.ndarray:
    """Return ``perm`` with ``perm[i]`` = :func:`transpose_chord` ``(i, semitones)``."""
    return np.array([transpose_chord(i, semitones) for i in range(NUM_CHORDS)], dtype=np.intp)


def transpose_chords(values: object, semitones: int) -> FloatArray:
    """Move a ``(..., 64)`` chord distribution's mass up by ``semitones`` (sums are kept)."""
    arr = np.asarray(values, dtype=np.float32)
    out = np.zeros_like(arr)
    out[..., chord_permutation(semitones)] = arr
    return out


# --- key estimation ---------------------------------------------------------------------
KK_MAJOR: Final = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
"""Krumhansl & Kessler (1982) probe-tone ratings of C major (tonic first)."""
KK_MINOR: Final = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)
"""Krumhansl & Kessler (1982) probe-tone ratings of C minor (tonic first)."""
KEY_TRUST_MARGIN: Final = 0.1
"""A stated key is trusted when its profile correlation is within this of the best key's."""


def _unit_profiles(base: tuple[float, ...]) -> np.ndarray:
    rolled = np.stack([np.roll(np.asarray(base, dtype=np.float64), k) for k in range(12)])
    centred = rolled - rolled.mean(axis=1, keepdims=True)
    normed: np.ndarray = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    return normed


_KEY_PROFILES: Final = np.concatenate([_unit_profiles(KK_MAJOR), _unit_profiles(KK_MINOR)])


def key_correlations(histogram: object) -> np.ndarray:
    """Pearson correlation of pitch-class histograms with the 24 Krumhansl–Kessler keys.

    :param histogram: ``(..., 12)`` duration-weighted pitch-class histogram (index 0 = C).
    :returns: ``(..., 24)`` float64: C..B major, then C..B minor; 0 for an empty histogram.
    """
    hist = np.asarray(histogram, dtype=np.float64)
    centred = hist - hist.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    unit = centred / np.where(norm > 1e-12, norm, 1.0)
    result: np.ndarray = unit @ _KEY_PROFILES.T
    return result


def estimate_key(histogram: object) -> tuple[int, bool]:
    """Estimate ``(tonic pitch class, is_minor)`` of a ``(12,)`` pitch-class histogram.

    The Krumhansl–Schmuckler method: the key whose Krumhansl–Kessler profile correlates best
    with the histogram (ties: major before minor, lower tonic first). An empty histogram
    gives C major.
    """
    best = int(np.argmax(key_correlations(histogram)))
    return best % 12, best >= 12


def trusted_key(histogram: object, tonic: int, minor: bool) -> bool:
    """Whether a stated key (a MIDI key signature) fits the notes.

    True when the key's profile correlation is within :data:`KEY_TRUST_MARGIN` of the best
    key's: sequencers write C major by default, which this rejects for music in other keys.
    """
    corr = key_correlations(histogram)
    if not np.any(corr):
        return True
    return bool(corr[int(tonic) % 12 + (12 if minor else 0)] >= corr.max() - KEY_TRUST_MARGIN)


def to_reference(tonic: int) -> int:
    """Return the transposition that moves music in ``tonic`` to the reference tonic C.

    ``-tonic_shift(tonic)``: G → +5, A → +3, F → −5 (the nearest C in register).
    """
    return -tonic_shift(tonic)


def tonal_reference(metadata: Mapping[str, object]) -> TonalReference:
    """Return a model file's ``metadata.tonal_reference`` (``"absolute"`` when missing).

    :raises ValueError: If the value is not one of :data:`TONAL_REFERENCES`.
    """
    value = metadata.get("tonal_reference", "absolute")
    if value == "tonic":
        return "tonic"
    if value == "absolute":
        return "absolute"
    raise ValueError(f"metadata.tonal_reference must be one of {TONAL_REFERENCES}, got {value!r}")
