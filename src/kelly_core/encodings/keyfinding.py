"""Key finding on chroma: published key profiles, one key per clip, a key per section.

Keys are indexed 0..23: C..B major, then C..B minor (``index = tonic + 12·minor``).
A chroma (any non-negative ``(12,)`` pitch-class weights, index 0 = C) is correlated
(Pearson) with each profile rotated to the 24 tonics; the best is the key
(Krumhansl–Schmuckler). Given the 24 columns of :mod:`kelly_core.encodings.chroma`
(chroma, then bass), a key's evidence is the chroma's correlation plus
:data:`BASS_WEIGHT` times the bass's. Which profile, the bass weight and the local-key
settings were chosen by measurement (docs/design.md, "Key finding"; docs/benchmarks.md,
"Key").

Local key (:func:`local_keys`): chroma frames are summed in blocks of ``block_s``; each
block's evidence is the correlation of the chroma summed over ``context_s`` around it
with the 24 keys; a Viterbi path over the 24 keys maximises the summed evidence minus
``switch_penalty`` per change of key; every section of the path is then given the key of
its own summed chroma (so a single section is exactly :func:`estimate_key`), sections
shorter than ``min_section_s`` are merged into a neighbour and neighbours with the same key
are joined.
"""

from __future__ import annotations

import functools
import itertools
from collections.abc import Mapping
from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import check_shape

__all__ = [
    "BASS_WEIGHT",
    "DEFAULT_PROFILE",
    "KEY_PROFILES",
    "KeyEstimate",
    "KeySection",
    "LocalKeyConfig",
    "estimate_key",
    "key_correlations",
    "key_evidence",
    "key_templates",
    "local_keys",
]

KEY_PROFILES: Final[Mapping[str, tuple[tuple[float, ...], tuple[float, ...]]]] = {
    # Krumhansl & Kessler (1982): probe-tone ratings.
    "krumhansl": (
        (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88),
        (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17),
    ),
    # Temperley (2007), from the Kostka-Payne harmony textbook's excerpts.
    "temperley": (
        (0.748, 0.060, 0.488, 0.082, 0.670, 0.460, 0.096, 0.715, 0.104, 0.366, 0.057, 0.400),
        (0.712, 0.084, 0.474, 0.618, 0.049, 0.460, 0.105, 0.747, 0.404, 0.067, 0.133, 0.330),
    ),
    # Aarden (2003), from the Essen folk-song collection.
    "aarden": (
        (
            17.7661,
            0.145624,
            14.9265,
            0.160186,
            19.8049,
            11.3587,
            0.291248,
            22.062,
            0.145624,
            8.15494,
            0.232998,
            4.95122,
        ),
        (
            18.2648,
            0.737619,
            14.0499,
            16.8599,
            0.702494,
            14.4362,
            0.702494,
            18.6161,
            4.56621,
            1.93186,
            7.37619,
            1.75623,
        ),
    ),
    # Bellman (2005), after Budge's (1943) chord counts.
    "bellman": (
        (16.80, 0.86, 12.95, 1.41, 13.49, 11.93, 1.25, 20.28, 1.80, 8.04, 0.62, 10.57),
        (18.16, 0.69, 12.99, 13.34, 1.07, 11.15, 1.38, 21.07, 7.49, 1.53, 0.92, 10.21),
    ),
    # Albrecht & Shanahan (2013), from 490 common-practice pieces.
    "albrecht": (
        (0.238, 0.006, 0.111, 0.006, 0.137, 0.094, 0.016, 0.214, 0.009, 0.080, 0.008, 0.081),
        (0.220, 0.006, 0.104, 0.123, 0.019, 0.103, 0.012, 0.214, 0.062, 0.022, 0.061, 0.052),
    ),
    # Sapp (2011): "simple" weights, tonic and dominant 2, other scale degrees 1.
    "sapp": (
        (2.0, 0.0, 1.0, 0.0, 1.0, 1.0, 0.0, 2.0, 0.0, 1.0, 0.0, 1.0),
        (2.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 2.0, 1.0, 0.0, 0.5, 0.5),
    ),
}
"""Published key profiles, tonic first: ``name -> (major, minor)``."""

DEFAULT_PROFILE: Final = "temperley"
"""The profile :func:`estimate_key` and :func:`local_keys` use unless told otherwise."""
BASS_WEIGHT: Final = 0.5
"""Weight of the bass's correlation in a key's evidence (:func:`key_evidence`)."""


@functools.lru_cache(maxsize=16)
def key_templates(profile: str = DEFAULT_PROFILE) -> np.ndarray:
    """Return the ``(24, 12)`` centred, unit-norm profiles of the 24 keys.

    :raises ValueError: On an unknown profile name.
    """
    if profile not in KEY_PROFILES:
        raise ValueError(f"unknown key profile {profile!r}; expected one of {sorted(KEY_PROFILES)}")
    major, minor = (np.asarray(p, dtype=np.float64) for p in KEY_PROFILES[profile])
    rows = np.stack([np.roll(major, k) for k in range(12)] + [np.roll(minor, k) for k in range(12)])
    centred = rows - rows.mean(axis=1, keepdims=True)
    unit: np.ndarray = centred / np.linalg.norm(centred, axis=1, keepdims=True)
    unit.setflags(write=False)
    return unit


def key_correlations(chroma: object, profile: str = DEFAULT_PROFILE) -> np.ndarray:
    """Pearson correlation of ``(..., 12)`` chroma with the 24 keys: ``(..., 24)`` float64.

    A constant chroma (no information, silence) correlates 0 with every key.
    """
    array = np.asarray(chroma, dtype=np.float64)
    if array.shape[-1:] != (12,):
        raise ValueError(f"expected (..., 12) chroma, got shape {array.shape}")
    centred = array - array.mean(axis=-1, keepdims=True)
    norm = np.linalg.norm(centred, axis=-1, keepdims=True)
    unit = np.where(norm > 1e-12, centred / np.where(norm > 1e-12, norm, 1.0), 0.0)
    result: np.ndarray = unit @ key_templates(profile).T
    return result


def key_evidence(vectors: object, profile: str = DEFAULT_PROFILE) -> np.ndarray:
    """Evidence for the 24 keys: ``(..., 24)`` float64 from ``(..., 12)`` or ``(..., 24)``.

    12 columns: their correlations (:func:`key_correlations`). 24 columns (chroma, then
    bass): the chroma's correlations plus :data:`BASS_WEIGHT` times the bass's.
    """
    array = np.asarray(vectors, dtype=np.float64)
    if array.shape[-1:] == (24,):
        chroma = key_correlations(array[..., :12], profile)
        result: np.ndarray = chroma + BASS_WEIGHT * key_correlations(array[..., 12:], profile)
        return result
    return key_correlations(array, profile)


@attrs.frozen(kw_only=True)
class KeyEstimate:
    """A key with its evidence."""

    index: int
    """0..23: tonic + 12 for minor."""
    score: float
    """Its evidence (:func:`key_evidence`): the profile's correlation with the chroma, in
    [-1, 1], plus the bass's times :data:`BASS_WEIGHT` when given."""
    confidence: float
    """Its score minus the runner-up's (0: a tie, or no information)."""
    runner_up: int
    """The second-best key's index."""

    @property
    def tonic(self) -> int:
        """Pitch class of the tonic (0 = C)."""
        return self.index % 12

    @property
    def minor(self) -> bool:
        """Whether the key is minor."""
        return self.index >= 12


def estimate_key(chroma: object, profile: str = DEFAULT_PROFILE) -> KeyEstimate:
    """The best of the 24 keys for a ``(12,)`` chroma or ``(24,)`` chroma and bass.

    Ties: major first, lower tonic first. A constant chroma gives C major, confidence 0.
    """
    scores = key_evidence(chroma, profile)
    if scores.shape != (24,):
        raise ValueError(f"expected one (12,) or (24,) chroma, got evidence {scores.shape}")
    order = np.argsort(-scores, kind="stable")
    best, second = int(order[0]), int(order[1])
    return KeyEstimate(
        index=best,
        score=float(scores[best]),
        confidence=float(scores[best] - scores[second]),
        runner_up=second,
    )


@attrs.frozen(kw_only=True)
class LocalKeyConfig:
    """Settings of :func:`local_keys` (in seconds; converted to frames by ``frame_s``)."""

    block_s: float = 2.0
    """Length of a block, the unit of the key path."""
    context_s: float = 12.0
    """Chroma summed over this much music centred on a block gives its evidence."""
    switch_penalty: float = 2.0
    """Evidence (summed correlation over blocks) a change of key has to gain."""
    min_section_s: float = 16.0
    """Sections shorter than this are merged into a neighbour."""
    profile: str = DEFAULT_PROFILE
    """Key profile (a name in :data:`KEY_PROFILES`)."""


@attrs.frozen(kw_only=True)
class KeySection:
    """One section of constant key: frames ``[start, stop)`` and its key."""

    start: int
    stop: int
    key: KeyEstimate


def _viterbi(evidence: np.ndarray, penalty: float) -> np.ndarray:
    """The key path maximising summed evidence minus ``penalty`` per change."""
    count = len(evidence)
    back = np.zeros((count, 24), dtype=np.intp)
    score = evidence[0].copy()
    for block in range(1, count):
        best = int(np.argmax(score))
        switch = score[best] - penalty
        stay = score >= switch
        back[block] = np.where(stay, np.arange(24), best)
        score = np.where(stay, score, switch) + evidence[block]
    path = np.empty(count, dtype=np.intp)
    path[-1] = int(np.argmax(score))
    for block in range(count - 1, 0, -1):
        path[block - 1] = back[block, path[block]]
    return path


def _sections(bounds: list[int], frames: np.ndarray, profile: str) -> list[KeySection]:
    return [
        KeySection(start=a, stop=b, key=estimate_key(frames[a:b].sum(axis=0), profile))
        for a, b in itertools.pairwise(bounds)
    ]


def _merge(
    sections: list[KeySection], frames: np.ndarray, min_frames: int, profile: str
) -> list[KeySection]:
    """Merge short sections into a neighbour and join equal neighbours."""
    bounds = [s.start for s in sections] + [sections[-1].stop]
    while len(bounds) > 2:
        lengths = np.diff(bounds)
        shortest = int(np.argmin(lengths))
        if lengths[shortest] >= min_frames:
            break
        # into the shorter neighbour's side: drop the boundary towards it
        left = lengths[shortest - 1] if shortest > 0 else np.inf
        right = lengths[shortest + 1] if shortest + 1 < len(lengths) else np.inf
        del bounds[shortest if left <= right else shortest + 1]
    sections = _sections(bounds, frames, profile)
    joined = [sections[0]]
    for section in sections[1:]:
        if section.key.index == joined[-1].key.index:
            joined[-1] = KeySection(start=joined[-1].start, stop=section.stop, key=joined[-1].key)
        else:
            joined.append(section)
    if len(joined) < len(sections):
        return _sections([s.start for s in joined] + [joined[-1].stop], frames, profile)
    return joined


def local_keys(
    frames: object, frame_s: float, config: LocalKeyConfig = LocalKeyConfig()
) -> tuple[KeySection, ...]:
    """Split ``(F, 12)`` chroma frames into sections of constant key (see the module doc).

    :param frames: ``(F, 12)`` chroma or ``(F, 24)`` chroma and bass frames, one every
        ``frame_s`` seconds.
    :returns: Sections covering ``[0, F)`` in order; one section when the music stays in a
        key (or is shorter than two ``min_section_s``); empty when ``F`` is 0.
    """
    array = np.asarray(frames, dtype=np.float64)
    check_shape(array, (None, None), name="frames")
    if array.shape[1] not in (12, 24):
        raise ValueError(f"expected (F, 12) or (F, 24) frames, got shape {array.shape}")
    count = len(array)
    if count == 0:
        return ()
    block = max(1, round(config.block_s / frame_s))
    min_frames = max(1, round(config.min_section_s / frame_s))
    starts = list(range(0, count, block))
    if count < 2 * min_frames or len(starts) < 2:
        return tuple(_sections([0, count], array, config.profile))
    sums = np.add.reduceat(array, starts, axis=0)
    width = array.shape[1]
    half = max(0, round(config.context_s / config.block_s / 2))
    cumulative = np.concatenate([np.zeros((1, width)), np.cumsum(sums, axis=0)])
    index = np.arange(len(sums))
    lo, hi = np.clip(index - half, 0, len(sums)), np.clip(index + half + 1, 0, len(sums))
    evidence = key_evidence(cumulative[hi] - cumulative[lo], config.profile)
    path = _viterbi(evidence, config.switch_penalty)
    changes = [int(b) for b in np.flatnonzero(np.diff(path)) + 1]
    bounds = [0] + [starts[b] for b in changes] + [count]
    return tuple(
        _merge(_sections(bounds, array, config.profile), array, min_frames, config.profile)
    )
