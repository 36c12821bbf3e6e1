"""Structured synthetic data for every model: seeded, emotion-conditioned, musical.

Each item draws (valence, arousal) segments and renders music whose features follow
them the way the music-psychology literature and the labeller say they should, and
nothing else does (no shortcut a model could learn instead):

- valence → mode (major vs. harmonic minor) and harmonic tension (sevenths, diminished
  chords, added seconds grow likelier below ``v = 0.2``);
- arousal → tempo (60–180 BPM), notes per beat, articulation (legato to staccato);
- drawn independently of both: the key of the audio, the register (the tune's tonic
  anywhere in MIDI 48..83, the bass two or three octaves below), the voicing and
  texture, the timbre (partials, attack, decay, bright onsets), the balance of the
  voices and, for the audio, a room (random reverb) and the level (each segment is
  levelled to -20 dBFS RMS, then scaled by a random gain in ±:data:`EMOTION_GAIN_DB` dB,
  :mod:`kelly_models.datasets.augment`; each 0.5 s window's frame then gets another
  gain in ±:data:`WINDOW_GAIN_DB` dB on its level).

Symbolic data is in C (C major or C harmonic minor), the key-relative convention of
:mod:`kelly_core.encodings.tonal`; the audio is absolute, in a random key.

Datasets (``DatasetEntry`` names ``synthetic-<kind>``), factory
``(root=None, *, seed=0, items=..., steps=...)``; item ``i`` uses
``numpy.random.default_rng([seed, i])`` and ``i % 10 == 8`` is validation, ``== 9`` test:

- ``emotion`` (400 items of 20 windows = 10 s): melody, chords (close or spread; block,
  arpeggiated or held) and bass from a progression of the mode, rendered by a small
  additive synth (two random instruments), then the emotion frames of
  :func:`~kelly_core.encodings.emotion_frame.offline_emotion_frames` (one per 0.5 s
  window, the function the runtime streams); inputs ``(steps, 128)``, targets
  ``(steps, 64)``. Half the items change emotion
  halfway; half of those repeat the first half's notes, timbres and gain in the parallel
  mode (:func:`flip_mode`) with the valence negated, so the mode is the only difference;
- ``melody``: inputs ``(steps, 64)``, targets ``(steps, 128)`` (default steps 64), in C
  around C4 (:data:`REFERENCE_TONIC`, one register whatever the emotion): C major or C
  harmonic minor (major with probability ``sigmoid(6 v)``). One emotion segment per
  16-beat phrase of four 4/4 bars over I-IV-V-I (i-iv-V-i); each bar plays a one-bar
  stock motif transposed to its chord (arpeggio, stepwise descent, neighbour figure +
  run, broken chord, scale run: :data:`_MOTIFS`). Arousal picks notes per beat (1, 2, 4)
  and the motif (six bands of width 1/3). Seeded noise: 15 % of bars take the band's
  other motif, 8 % of notes (not a bar's first) become a neighbour tone. Every phrase
  ends on the tonic, held for the whole last beat. So the notes are predictable from
  emotion and beat position (what the model sees), not from the emotion alone;
- ``harmony``: progressions in C major or C minor, valence → mode and tension, arousal →
  harmonic rhythm, ``(steps, 128)`` -> ``(steps, 64)``;
- ``dynamics``: generated piano notes in C (register drawn per 8 beats) and pedals
  through the real expression extractor, ``(steps, 32)`` -> ``(steps, 16)``;
- ``groove``: drum patterns with swing and humanised timing through
  :func:`groove_from_hits`, ``(steps, 64)`` -> ``(steps, 32)``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from kelly_core.errors import DatasetError
from kelly_core.records import Example, SkippedFile, Split
from kelly_models.datasets.common import SYNTHETIC_MAX_STEPS, check_option_ranges
from kelly_models.datasets.synthetic.common import (
    MAJOR,
    MINOR,
    Generator,
    sounding_multihot,
)
from kelly_models.datasets.synthetic.dynamics import dynamics_item
from kelly_models.datasets.synthetic.emotion import (
    EMOTION_GAIN_DB,
    WINDOW_GAIN_DB,
    emotion_item,
    flip_mode,
)
from kelly_models.datasets.synthetic.groove import groove_item
from kelly_models.datasets.synthetic.harmony import harmony_item
from kelly_models.datasets.synthetic.melody import PHRASE_BEATS, REFERENCE_TONIC, melody_item

__all__ = [
    "EMOTION_GAIN_DB",
    "MAJOR",
    "MINOR",
    "PHRASE_BEATS",
    "REFERENCE_TONIC",
    "WINDOW_GAIN_DB",
    "SyntheticDataset",
    "flip_mode",
    "sounding_multihot",
    "synthetic_dynamics",
    "synthetic_emotion",
    "synthetic_groove",
    "synthetic_harmony",
    "synthetic_melody",
]


def _split(index: int) -> Split:
    return "validation" if index % 10 == 8 else "test" if index % 10 == 9 else "train"


class SyntheticDataset:
    """A :class:`kelly_core.interfaces.Dataset` that generates item ``i`` on first access."""

    def __init__(
        self, model_name: str, kind: str, generate: Generator, *, seed: int, items: int, steps: int
    ) -> None:
        check_option_ranges(f"synthetic-{kind}", {"seed": seed, "items": items, "steps": steps})
        if items * steps > SYNTHETIC_MAX_STEPS:  # every item is kept once generated
            raise DatasetError(
                f"synthetic-{kind}: items x steps is {items * steps:,}; at most "
                f"{SYNTHETIC_MAX_STEPS:,} steps are generated (under 1 KiB each)",
                field="--option items",
                got=items,
            )
        self._model_name = model_name
        self.name = f"synthetic-{kind}"
        self._generate = generate
        self._seed = seed
        self._items = items
        self._steps = steps
        self._memo: dict[int, Example] = {}

    @property
    def model_name(self) -> str:
        """Name of the model these examples train."""
        return self._model_name

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        """Always empty: generated data has no unreadable files."""
        return ()

    def __len__(self) -> int:
        """Number of items."""
        return self._items

    def __getitem__(self, index: int) -> Example:
        """Generate (once) and return item ``index``."""
        if not -self._items <= index < self._items:
            raise IndexError(f"item {index} out of range for {self._items} items")
        index %= self._items
        if index not in self._memo:
            rng = np.random.default_rng([self._seed, index])
            inputs, targets = self._generate(rng, self._steps)
            self._memo[index] = Example(
                inputs=inputs.astype(np.float32),
                targets=targets.astype(np.float32),
                source=f"{self.name}:{self._seed}:{index}",
                split=_split(index),
            )
        return self._memo[index]


def _factory(
    model: str, kind: str, generate: Generator, default_steps: int, default_items: int = 200
) -> Callable[..., SyntheticDataset]:
    def factory(
        root: Path | None = None,
        *,
        seed: int = 0,
        items: int = default_items,
        steps: int = default_steps,
    ) -> SyntheticDataset:
        if root is not None and str(root) not in ("-", ""):
            raise DatasetError(f"synthetic-{kind} takes no root folder (use '-')", path=root)
        return SyntheticDataset(
            model, kind, generate, seed=int(seed), items=int(items), steps=int(steps)
        )

    factory.__name__ = f"synthetic_{kind}"
    factory.__doc__ = (
        f"Open ``synthetic-{kind}`` ({model}): seeded, ``items`` items of ``steps`` steps."
    )
    return factory


synthetic_emotion = _factory("EmotionRecognizer", "emotion", emotion_item, 20, 400)
synthetic_melody = _factory("MelodyTransformer", "melody", melody_item, 64)
synthetic_harmony = _factory("HarmonyPredictor", "harmony", harmony_item, 32)
synthetic_dynamics = _factory("DynamicsEngine", "dynamics", dynamics_item, 64)
synthetic_groove = _factory("GroovePredictor", "groove", groove_item, 16)
