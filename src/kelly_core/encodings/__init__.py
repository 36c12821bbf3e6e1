"""Vector encodings shared by training (kelly_models) and the runtime (kelly_runtime).

Pure numpy; see ``docs/encodings.md`` for what every number means. Modules:
:mod:`.emotion`, :mod:`.chords` (with :mod:`.roman`), :mod:`.melody`, :mod:`.expression`,
:mod:`.groove`, :mod:`.context`, :mod:`.logmel`, :mod:`.tonal` (key-relative vectors).
"""

from __future__ import annotations

from kelly_core.encodings.chords import (
    C_MAJOR,
    CHORD_VOCABULARY,
    NO_CHORD,
    chord_index,
    chord_label,
    chord_one_hot,
    chord_pitch_classes,
    reduce_chord,
    reduce_roman,
)
from kelly_core.encodings.context import compact_context, harmony_context
from kelly_core.encodings.emotion import (
    NEUTRAL_EMOTION,
    coarse_emotion,
    deam_static_to_unit,
    decode_emotion,
    decode_emotions,
    encode_emotion,
    encode_emotions,
)
from kelly_core.encodings.expression import DEFAULT_EXPRESSION, EXPRESSION_FIELDS, Expression
from kelly_core.encodings.groove import NEUTRAL_GROOVE, decode_groove, encode_groove
from kelly_core.encodings.logmel import LogMelConfig, StreamingLogMel, offline_log_mel, window_means
from kelly_core.encodings.melody import melody_pitch_classes, notes_to_multihot
from kelly_core.encodings.tonal import (
    TONAL_REFERENCES,
    tonic_shift,
    transpose_chords,
    transpose_pitch_classes,
    transpose_pitches,
)

__all__ = [
    "CHORD_VOCABULARY",
    "C_MAJOR",
    "DEFAULT_EXPRESSION",
    "EXPRESSION_FIELDS",
    "NEUTRAL_EMOTION",
    "NEUTRAL_GROOVE",
    "NO_CHORD",
    "TONAL_REFERENCES",
    "Expression",
    "LogMelConfig",
    "StreamingLogMel",
    "chord_index",
    "chord_label",
    "chord_one_hot",
    "chord_pitch_classes",
    "coarse_emotion",
    "compact_context",
    "deam_static_to_unit",
    "decode_emotion",
    "decode_emotions",
    "decode_groove",
    "encode_emotion",
    "encode_emotions",
    "encode_groove",
    "harmony_context",
    "melody_pitch_classes",
    "notes_to_multihot",
    "offline_log_mel",
    "reduce_chord",
    "reduce_roman",
    "tonic_shift",
    "transpose_chords",
    "transpose_pitch_classes",
    "transpose_pitches",
    "window_means",
]
