"""Choosing melody pitches from the MelodyTransformer's note probabilities.

Each beat's output is the probability that each MIDI pitch sounds in the melody during
that beat (docs/encodings.md). A pitch is drawn from the pitches allowed by the key and the
range with weights ``softmax((log p + prior) / temperature)``, where the prior gently
favours small steps from the previous note (``-LEAP_COST`` per semitone) and the register
the DynamicsEngine asks for (a Gaussian around it). The draw uses a seeded
``numpy.random.Generator``, so the same seed gives the same melody. A beat rests when
the model says no pitch is likely to sound: ``1 - prod(1 - p) < REST_BELOW``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray, check_shape
from kelly_core.encodings.melody import SOUNDS_AT, sound_probability
from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.keys import Key, PitchRange

__all__ = [
    "LEAP_COST",
    "REST",
    "REST_BELOW",
    "allowed_pitches",
    "choose_pitch",
    "sound_probability",
]

LEAP_COST: Final = 0.15
"""Prior cost per semitone of distance from the previous melody note, in log units."""
REGISTER_WIDTH: Final = 0.5
"""Standard deviation of the register prior, as a fraction of the range's width."""
REST_BELOW: Final = SOUNDS_AT
"""A beat rests when the probability that any pitch sounds is below this (the rule the
pipeline's melody feedback rests by, too)."""
REST: Final = -1
"""The pitch value that means a rest."""
_EPS: Final = 1e-6


def allowed_pitches(key: Key | None, pitch_range: PitchRange) -> npt.NDArray[np.int64]:
    """Return the MIDI pitches inside ``pitch_range`` that belong to ``key`` (all if None).

    :raises GenerateOptionError: If no pitch of the key lies in the range.
    """
    pitches = np.arange(pitch_range.low, pitch_range.high + 1, dtype=np.int64)
    if key is not None:
        pitches = pitches[[key.contains(int(p)) for p in pitches]]
    if pitches.size == 0:
        raise GenerateOptionError(
            f"no pitch of {key} lies in the range {pitch_range}; widen the range",
            field="range",
            got=str(pitch_range),
        )
    return pitches


def choose_pitch(
    notes: FloatArray,
    *,
    allowed: npt.NDArray[np.int64],
    previous: int | None,
    centre: float,
    temperature: float,
    rng: np.random.Generator,
    force: bool = False,
    prior: FloatArray | None = None,
) -> int:
    """Draw one melody pitch for a beat, or :data:`REST`.

    :param notes: Note probabilities of the beat, shape ``(128,)``, each in [0, 1].
    :param allowed: Candidate pitches (from :func:`allowed_pitches`), sorted.
    :param previous: The previous melody pitch, or None at the start or after a rest.
    :param centre: MIDI pitch to centre the melody on (clipped into the allowed span).
    :param temperature: > 0; lower is more deterministic (argmax as it tends to 0).
    :param rng: The seeded generator; exactly one draw is taken per call that sounds.
    :param force: Never rest (the melody's first note: it starts with the music).
    :param prior: Added to each allowed pitch's log weight (shape of ``allowed``), e.g.
        :func:`kelly_runtime.generate.playalong.song_prior`.
    """
    check_shape(notes, (128,), name="notes")
    if not temperature > 0.0:
        raise GenerateOptionError(
            f"temperature must be > 0, got {temperature}", field="temperature", got=temperature
        )
    if not force and sound_probability(notes) < REST_BELOW:
        return REST
    p = np.clip(notes[allowed].astype(np.float64), 0.0, 1.0)
    logits = np.log(p + _EPS)
    low, high = float(allowed[0]), float(allowed[-1])
    centre = float(np.clip(centre, low, high))
    width = max(REGISTER_WIDTH * (high - low), 1.0)
    logits -= 0.5 * ((allowed - centre) / width) ** 2
    if previous is not None:
        logits -= LEAP_COST * np.abs(allowed - previous)
    if prior is not None:
        logits += np.asarray(prior, dtype=np.float64)
    scaled = logits / temperature
    scaled -= scaled.max()
    weights = np.exp(scaled)
    weights /= weights.sum()
    index = int(rng.choice(allowed.size, p=weights))
    return int(allowed[index])
