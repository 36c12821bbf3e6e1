"""Synthetic drum bars for the GroovePredictor: arousal sets the pattern's density,
valence the swing, through :func:`~kelly_core.encodings.groove.groove_from_hits`."""

from __future__ import annotations

import numpy as np

from kelly_core.encodings.emotion import encode_emotions
from kelly_core.encodings.groove import groove_from_hits
from kelly_models.datasets.synthetic.common import segments

__all__ = ["groove_item"]


def _pattern(arousal: float, rng: np.random.Generator) -> list[tuple[int, int, float]]:
    """(step, Roland pitch, relative velocity) of one bar."""
    hits: list[tuple[int, int, float]] = []
    if arousal < -0.33:
        hats, kicks, snares = range(0, 16, 4), [0], [8]
    elif arousal < 0.33:
        hats, kicks, snares = (
            range(0, 16, 2),
            [0, 8] + ([10] if rng.random() < 0.5 else []),
            [4, 12],
        )
    else:
        hats = range(16)
        kicks = [0, 6, 8] + ([10, 14] if rng.random() < 0.6 else [11])
        snares = [4, 12] + ([15] if rng.random() < 0.5 else [])
    hits += [(s, 42, 0.55 + (0.2 if s % 4 == 0 else 0.0)) for s in hats]
    hits += [(s, 36, 0.9) for s in kicks]
    hits += [(s, 38, 1.0) for s in snares]
    if arousal > 0.5 and rng.random() < 0.5:
        hits.append((0, 49, 1.0))
    return hits


def groove_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    labels = segments(rng, steps, 4)
    bar = 2.0
    step_len = bar / 16
    out = []
    for b, (valence, arousal) in enumerate(labels):
        swing = max(float(valence), 0.0) * 0.35
        base = 45 + 40 * (arousal + 1)
        lag = -0.08 * arousal
        triples = []
        for step, pitch, rel in _pattern(float(arousal), rng):
            delay = swing if step % 2 == 1 else swing * 0.5 if step % 4 == 2 else 0.0
            offset = float(np.clip(delay + lag + rng.normal(0, 0.03), -0.45, 0.45))
            velocity = int(np.clip(base * rel + rng.normal(0, 4), 1, 127))
            triples.append((b * bar + (step + offset) * step_len, pitch, velocity))
        out.append(groove_from_hits(triples, b * bar, bar))
    return encode_emotions(labels), np.stack(out)
