"""One beat of pipeline output, and its fixed-size vector form for the async handoff.

The vector layout (``BEAT_VECTOR_SIZE`` = 309 float32 values) is
``[emotion 64 | notes 128 | chords 64 | expression 16 | groove 32 | beat, beat_in_bar,
has_groove, valence, arousal]``; ``groove`` holds zeros and ``has_groove`` 0 on beats
that are not a bar start.
"""

from __future__ import annotations

from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray, check_shape
from kelly_core.catalog import MODEL_SPECS

__all__ = ["BEAT_LAYOUT", "BEAT_VECTOR_SIZE", "META_FIELDS", "BeatOutput"]

META_FIELDS: Final = ("beat", "beat_in_bar", "has_groove", "valence", "arousal")
"""The values of the beat vector's last part, in order."""
BEAT_LAYOUT: Final[tuple[tuple[str, int], ...]] = (
    ("emotion", MODEL_SPECS["EmotionRecognizer"].output_size),
    ("notes", MODEL_SPECS["MelodyTransformer"].output_size),
    ("chords", MODEL_SPECS["HarmonyPredictor"].output_size),
    ("expression", MODEL_SPECS["DynamicsEngine"].output_size),
    ("groove", MODEL_SPECS["GroovePredictor"].output_size),
    ("meta", len(META_FIELDS)),
)
"""Field name and size of each part of the beat vector, in order (the models' output
sizes from :data:`~kelly_core.catalog.MODEL_SPECS`, then the :data:`META_FIELDS`)."""
BEAT_VECTOR_SIZE: Final = sum(size for _, size in BEAT_LAYOUT)

_OFFSETS: Final = {
    name: (sum(s for _, s in BEAT_LAYOUT[:i]), size) for i, (name, size) in enumerate(BEAT_LAYOUT)
}


def _part(vector: FloatArray, name: str) -> FloatArray:
    start, size = _OFFSETS[name]
    return vector[start : start + size]


@attrs.frozen(kw_only=True)
class BeatOutput:
    """Every stage's output for one beat (arrays float32, not shared with the pipeline)."""

    beat: int
    """Beat index since the last reset (0-based)."""
    beat_in_bar: int
    """0..3; the GroovePredictor steps when it is 0."""
    emotion: FloatArray = attrs.field(eq=False)
    """Emotion code ``(64,)`` in [-1, 1] (docs/encodings.md)."""
    valence: float
    """Decoded valence in [-1, 1]."""
    arousal: float
    """Decoded arousal in [-1, 1]."""
    notes: FloatArray = attrs.field(eq=False)
    """Probability that each MIDI pitch sounds during the beat, ``(128,)`` in [0, 1]."""
    chords: FloatArray = attrs.field(eq=False)
    """Chord distribution over the 64-class vocabulary, ``(64,)``, sums to 1."""
    expression: FloatArray = attrs.field(eq=False)
    """Sixteen performance values ``(16,)`` in [0, 1] (``EXPRESSION_FIELDS`` order)."""
    groove: FloatArray | None = attrs.field(eq=False)
    """One bar's groove ``(32,)`` in [-1, 1] on a bar's first beat, else ``None``."""

    def write_vector(self, out: FloatArray) -> None:
        """Write this beat into ``out`` ``(BEAT_VECTOR_SIZE,)`` (layout in the module doc)."""
        check_shape(out, (BEAT_VECTOR_SIZE,), name="out")
        _part(out, "emotion")[:] = self.emotion
        _part(out, "notes")[:] = self.notes
        _part(out, "chords")[:] = self.chords
        _part(out, "expression")[:] = self.expression
        groove = _part(out, "groove")
        if self.groove is None:
            groove.fill(0.0)
        else:
            groove[:] = self.groove
        has_groove = 0.0 if self.groove is None else 1.0
        meta = (self.beat, self.beat_in_bar, has_groove, self.valence, self.arousal)
        _part(out, "meta")[:] = meta

    def to_vector(self) -> FloatArray:
        """Return this beat as a new ``(BEAT_VECTOR_SIZE,)`` float32 vector."""
        out = np.empty(BEAT_VECTOR_SIZE, dtype=np.float32)
        self.write_vector(out)
        return out

    @classmethod
    def from_vector(cls, vector: FloatArray) -> BeatOutput:
        """Rebuild a beat from :meth:`to_vector` output (arrays are copied)."""
        check_shape(vector, (BEAT_VECTOR_SIZE,), name="vector")
        beat, beat_in_bar, has_groove, valence, arousal = (float(v) for v in _part(vector, "meta"))
        return cls(
            beat=round(beat),
            beat_in_bar=round(beat_in_bar),
            emotion=_part(vector, "emotion").astype(np.float32),
            valence=valence,
            arousal=arousal,
            notes=_part(vector, "notes").astype(np.float32),
            chords=_part(vector, "chords").astype(np.float32),
            expression=_part(vector, "expression").astype(np.float32),
            groove=_part(vector, "groove").astype(np.float32) if has_groove > 0.5 else None,
        )
