"""Synthetic piano playing for the DynamicsEngine: arousal sets density, loudness, legato
and push; the notes and pedals go through the real expression extractor."""

from __future__ import annotations

import numpy as np

from kelly_core.encodings.emotion import coarse_emotions
from kelly_core.encodings.expression import expressions_for_beats, pedal_intervals
from kelly_models.datasets.synthetic.common import (
    MAJOR,
    MINOR,
    PITCH_CLASS_FOLD,
    segments,
    sounding_multihot,
)

__all__ = ["dynamics_item"]


def dynamics_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """Piano notes in C (major when valence > 0, else harmonic minor), one beat at a time.

    Arousal sets notes per beat, loudness, legato and push; the register (the mean pitch)
    is drawn per 8-beat segment independently of the emotion. Vectorised over notes.
    """
    labels = segments(rng, steps, 8)
    beat = 0.5
    valence, arousal = labels[:, 0], labels[:, 1]
    count = np.clip(np.round(1 + 2.5 * (arousal + 1) + rng.normal(0, 0.5, steps)), 1, 8).astype(
        np.intp
    )
    level = 40 + 35 * (arousal + 1) + rng.normal(0, 4, steps)
    legato = 1.1 - 0.35 * (arousal + 1)
    lag = 0.15 * (0.0 - arousal) / 4  # laid back when calm, pushing when excited
    register = np.repeat(rng.integers(52, 72, size=-(-steps // 8)), 8)[:steps]
    b = np.repeat(np.arange(steps), count)  # beat of each note
    k = np.arange(len(b)) - np.repeat(np.cumsum(count) - count, count)  # index in its beat
    position = k / count[b]
    downbeat = (k == 0) & (b % 4 == 0)
    accent = np.where(downbeat, 1 + 0.3 * (arousal[b] + 1), 1.0)
    velocity = np.clip(level[b] * accent + rng.normal(0, 5, len(b)), 1, 127).astype(np.intp)
    start = np.maximum((b + position + lag[b] / 4 + rng.normal(0, 0.01, len(b))) * beat, 0.0)
    end = start + beat / count[b] * legato[b]
    scale = np.where(valence[b, None] > 0, np.array(MAJOR), np.array(MINOR))
    degree = rng.integers(0, 7, size=len(b))
    pitch = register[b] + scale[np.arange(len(b)), degree] - 12 * (rng.random(len(b)) < 0.3)
    notes = list(zip(pitch.tolist(), start.tolist(), end.tolist(), velocity.tolist(), strict=True))
    pedal_down = (arousal < 0.0) & (rng.random(steps) < 0.8)
    soft_down = (arousal < -0.5) & (valence < 0)
    times = (np.arange(steps) * beat + 0.01).tolist()
    sustain = pedal_intervals(list(zip(times, (100 * pedal_down).tolist(), strict=True)))
    soft = pedal_intervals(list(zip(times, (100 * soft_down).tolist(), strict=True)))
    bounds = np.arange(steps + 1) * beat
    targets = expressions_for_beats(notes, bounds, sustain=sustain, soft=soft)
    sounding = sounding_multihot(pitch, start, end, bounds)
    profiles = (sounding @ PITCH_CLASS_FOLD > 0).astype(np.float32)
    one_hot = np.eye(4, dtype=np.float32)[np.arange(steps) % 4]
    return np.concatenate([coarse_emotions(labels), one_hot, profiles], axis=1), targets
