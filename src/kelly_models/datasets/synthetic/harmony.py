"""Synthetic progressions for the HarmonyPredictor: valence sets the mode and tension,
arousal the harmonic rhythm."""

from __future__ import annotations

from typing import Final

import numpy as np

from kelly_core.encodings.chords import reduce_roman
from kelly_models.datasets.chords import progression_example
from kelly_models.datasets.synthetic.common import is_major

__all__ = ["harmony_item"]

_MAJOR_PROGRESSIONS: Final = (
    ("I", "V", "vi", "IV"), ("I", "IV", "V", "I"), ("I", "vi", "IV", "V"),
    ("ii", "V", "I", "I"), ("I", "iii", "IV", "V"), ("IV", "I", "V", "vi"),
)  # fmt: skip
_MINOR_PROGRESSIONS: Final = (
    ("i", "iv", "V", "i"), ("i", "VI", "III", "VII"), ("i", "iv", "VII", "III"),
    ("i", "VI", "iv", "V"), ("i", "iio", "V", "i"), ("i", "VII", "VI", "V"),
)  # fmt: skip


def harmony_item(rng: np.random.Generator, steps: int) -> tuple[np.ndarray, np.ndarray]:
    """A progression in C major or C minor (key-relative chord classes).

    Valence: the mode (major with probability ``sigmoid(6 v)``) and harmonic tension
    (below ``v = 0.2`` dominant sevenths, ii7 / half-diminished ii and iv7 grow likelier,
    and V may become the leading-tone diminished seventh). Arousal: harmonic rhythm
    (chords held two steps when calm).
    """
    valence, arousal = rng.uniform(-1, 1, size=2)
    major = is_major(rng, float(valence))
    key = "C" if major else "c"
    table = _MAJOR_PROGRESSIONS if major else _MINOR_PROGRESSIONS
    tension = float(np.clip((0.2 - valence) / 1.2, 0.0, 1.0))
    repeat = 2 if arousal < -0.33 else 1
    classes: list[int] = []
    while len(classes) < steps:
        for numeral in table[int(rng.integers(len(table)))]:
            if numeral in ("V", "ii", "iio", "iv") and rng.random() < 0.8 * tension:
                numeral = "viio7" if numeral == "V" and rng.random() < 0.3 else numeral + "7"
            classes.extend([reduce_roman(numeral, key)] * repeat)
    example = progression_example(
        classes[:steps], float(valence), float(arousal), source="synthetic", split="train"
    )
    return example.inputs, example.targets
