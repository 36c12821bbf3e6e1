"""Emotion population codes: a (valence, arousal) point in [-1, 1]² as 64 or 16 numbers.

The 64-value code (docs/encodings.md) is an 8×8 grid of Gaussian bumps. Bump ``k = 8*i + j``
sits at ``(valence, arousal) = (CENTERS[i], CENTERS[j])`` with ``CENTERS =
linspace(-1, 1, 8)`` (valence is the slow axis, arousal the fast one); its activation
``g = exp(-d² / (2 σ²))`` with ``σ = 0.3`` (a little over one grid spacing, 2/7) is mapped to
the tanh range by ``2 g - 1``. The coarse 16-value code is the same on a 4×4 grid
(``σ = 0.6``), used in the DynamicsEngine's compact context.

Decoding fits the bump model to the code: a weighted centroid of the strongest bumps
gives a start point, then a few damped Gauss-Newton steps fit position, amplitude and
offset (``g ≈ s · bump(v, a) + b``) by least squares, so a network's noisy or low-amplitude output
still decodes to a sensible point. Decoded points are clipped to [-1, 1]²; a constant
code (no bump at all) decodes to the neutral point (0, 0).
"""

from __future__ import annotations

from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape

__all__ = [
    "CENTERS",
    "COARSE_CENTERS",
    "COARSE_SIGMA",
    "COARSE_SIZE",
    "EMOTION_SIZE",
    "NEUTRAL_EMOTION",
    "SIGMA",
    "coarse_emotion",
    "coarse_emotions",
    "deam_static_to_unit",
    "decode_coarse_emotions",
    "decode_emotion",
    "decode_emotions",
    "encode_emotion",
    "encode_emotions",
]

GRID: Final = 8
CENTERS: Final = np.linspace(-1.0, 1.0, GRID)
"""Bump centres along each axis, shape ``(8,)``."""
SIGMA: Final = 0.3
"""Bump width of the 64-value code, in (valence, arousal) units."""
COARSE_GRID: Final = 4
COARSE_CENTERS: Final = np.linspace(-1.0, 1.0, COARSE_GRID)
"""Bump centres of the coarse code along each axis, shape ``(4,)``."""
COARSE_SIGMA: Final = 0.6
"""Bump width of the coarse 16-value code."""
EMOTION_SIZE: Final = GRID * GRID
"""Values of the emotion code (64): the EmotionRecognizer's output."""
COARSE_SIZE: Final = COARSE_GRID * COARSE_GRID
"""Values of the coarse emotion code (16)."""

_GN_STEPS: Final = 12


def _points(points: object) -> np.ndarray:
    array = np.asarray(points, dtype=np.float64)
    check_shape(array, (None, 2), name="points")
    return np.clip(array, -1.0, 1.0)


def _bumps(points: np.ndarray, centers: np.ndarray, sigma: float) -> np.ndarray:
    """Return bump activations ``g`` in [0, 1], shape ``(N, G, G)``, for points ``(N, 2)``."""
    ev = np.exp(-((points[:, 0:1] - centers[None, :]) ** 2) / (2 * sigma**2))
    ea = np.exp(-((points[:, 1:2] - centers[None, :]) ** 2) / (2 * sigma**2))
    bumps: np.ndarray = ev[:, :, None] * ea[:, None, :]
    return bumps


def encode_emotions(points: object) -> FloatArray:
    """Encode ``(N, 2)`` (valence, arousal) points to codes ``(N, 64)`` in [-1, 1].

    Points outside [-1, 1]² are clipped onto the square first.
    """
    g = _bumps(_points(points), CENTERS, SIGMA)
    return as_float32(2.0 * g.reshape(len(g), GRID * GRID) - 1.0)


def encode_emotion(valence: float, arousal: float) -> FloatArray:
    """Encode one (valence, arousal) point, each in [-1, 1], to a ``(64,)`` code in [-1, 1]."""
    code: FloatArray = encode_emotions([[valence, arousal]])[0]
    return code


def coarse_emotions(points: object) -> FloatArray:
    """Encode ``(N, 2)`` points to coarse 4×4 codes ``(N, 16)`` in [-1, 1]."""
    g = _bumps(_points(points), COARSE_CENTERS, COARSE_SIGMA)
    return as_float32(2.0 * g.reshape(len(g), COARSE_GRID * COARSE_GRID) - 1.0)


def coarse_emotion(valence: float, arousal: float) -> FloatArray:
    """Encode one point to the coarse ``(16,)`` code (4×4 bumps, σ = 0.6) in [-1, 1]."""
    code: FloatArray = coarse_emotions([[valence, arousal]])[0]
    return code


def _initial_guess(g: np.ndarray, centers: np.ndarray) -> np.ndarray:
    """Centroid of the 3×3 neighbourhood of the strongest bump, shape ``(N, 2)``."""
    n, grid = len(g), len(centers)
    flat = g.reshape(n, -1).argmax(axis=1)
    iv, ia = np.divmod(flat, grid)
    offsets = np.arange(-1, 2)
    rows = np.clip(iv[:, None] + offsets[None, :], 0, grid - 1)  # (N, 3)
    cols = np.clip(ia[:, None] + offsets[None, :], 0, grid - 1)
    patch = g[np.arange(n)[:, None, None], rows[:, :, None], cols[:, None, :]]  # (N, 3, 3)
    weights = patch + 1e-9
    total = weights.sum(axis=(1, 2))
    v = (weights.sum(axis=2) * centers[rows]).sum(axis=1) / total
    a = (weights.sum(axis=1) * centers[cols]).sum(axis=1) / total
    return np.stack([v, a], axis=1)


def _fit_bumps(array: np.ndarray, centers: np.ndarray, sigma: float) -> FloatArray:
    """Fit ``g ≈ s · bump(v, a) + b`` to each row of ``(N, grid²)`` codes; ``(N, 2)`` points."""
    grid = len(centers)
    array = np.nan_to_num(array, nan=-1.0, posinf=1.0, neginf=-1.0)
    g = np.clip((array + 1.0) / 2.0, 0.0, 1.0).reshape(len(array), grid, grid)
    p = _initial_guess(g, centers)
    scale = np.ones(len(g))
    offset = np.zeros(len(g))
    c = centers
    s2 = sigma**2
    damping = 1e-6
    for _ in range(_GN_STEPS):
        ev = np.exp(-((p[:, 0:1] - c) ** 2) / (2 * s2))  # (N, grid)
        ea = np.exp(-((p[:, 1:2] - c) ** 2) / (2 * s2))
        m = ev[:, :, None] * ea[:, None, :]  # (N, grid, grid)
        dv = m * ((c[None, :, None] - p[:, 0, None, None]) / s2)
        da = m * ((c[None, None, :] - p[:, 1, None, None]) / s2)
        jac = np.stack(
            [scale[:, None, None] * dv, scale[:, None, None] * da, m, np.ones_like(m)], axis=-1
        ).reshape(len(g), grid * grid, 4)
        model = scale[:, None, None] * m + offset[:, None, None]
        resid = (g - model).reshape(len(g), grid * grid)
        jtj = np.einsum("nki,nkj->nij", jac, jac) + damping * np.eye(4)
        jtr = np.einsum("nki,nk->ni", jac, resid)
        step = np.linalg.solve(jtj, jtr[:, :, None])[:, :, 0]
        step[:, :2] = np.clip(step[:, :2], -0.25, 0.25)
        p = np.clip(p + step[:, :2], -1.0, 1.0)
        scale = np.clip(scale + step[:, 2], 1e-3, 2.0)
        offset = np.clip(offset + step[:, 3], -1.0, 1.0)
    flat = np.ptp(g.reshape(len(g), -1), axis=1) < 1e-3
    p[flat] = 0.0  # a constant code carries no position: answer the neutral point
    return as_float32(p)


def decode_emotions(codes: object) -> FloatArray:
    """Decode ``(N, 64)`` codes (exact or a network's noisy output) to ``(N, 2)`` points.

    :returns: float32 (valence, arousal) per row, each in [-1, 1].
    :raises BackendError: If ``codes`` is not ``(N, 64)``.
    """
    array = np.asarray(codes, dtype=np.float64)
    check_shape(array, (None, GRID * GRID), name="codes")
    return _fit_bumps(array, CENTERS, SIGMA)


def decode_coarse_emotions(codes: object) -> FloatArray:
    """Decode ``(N, 16)`` coarse codes to ``(N, 2)`` points (the same fit on the 4×4 grid).

    :raises BackendError: If ``codes`` is not ``(N, 16)``.
    """
    array = np.asarray(codes, dtype=np.float64)
    check_shape(array, (None, COARSE_GRID * COARSE_GRID), name="codes")
    return _fit_bumps(array, COARSE_CENTERS, COARSE_SIGMA)


def decode_emotion(code: object) -> tuple[float, float]:
    """Decode one ``(64,)`` code to ``(valence, arousal)``, each in [-1, 1]."""
    array = np.asarray(code, dtype=np.float64)
    check_shape(array, (GRID * GRID,), name="code")
    v, a = decode_emotions(array[None, :])[0]
    return float(v), float(a)


def deam_static_to_unit(x: float) -> float:
    """Map a DEAM static rating on the 1-9 scale to [-1, 1] by ``(x - 5) / 4``."""
    return (float(x) - 5.0) / 4.0


NEUTRAL_EMOTION: Final[FloatArray] = encode_emotion(0.0, 0.0)
"""The code of (0, 0): the EmotionRecognizer's fallback output, shape ``(64,)``."""
NEUTRAL_EMOTION.setflags(write=False)
