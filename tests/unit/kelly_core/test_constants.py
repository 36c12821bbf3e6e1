"""One home for each shared fact: the analysis window, beats per bar, the input columns.

The window length and the beats per bar are written once, in :mod:`kelly_core.constants`;
every context's columns are computed from the widths of their parts and add up to the
models' input sizes in ``MODEL_SPECS``; the beat vector's parts are the models' output
sizes.
"""

from __future__ import annotations

import itertools
import re
from pathlib import Path

import numpy as np
import pytest

import kelly_core
from kelly_core.catalog import MODEL_SPECS
from kelly_core.constants import BEATS_PER_BAR, WINDOW_S
from kelly_core.encodings import compact_context, decode_emotion, harmony_context
from kelly_core.encodings import context as ctx
from kelly_core.encodings.emotion import coarse_emotion
from kelly_runtime.beat import BEAT_LAYOUT
from kelly_runtime.beat_frames import BEAT_INPUT_SIZE, WINDOW_SIZE

SRC = Path(kelly_core.__file__).resolve().parents[1]

_REDEFINED = re.compile(
    r"^\s*(?:\w*WINDOW_S\w*|\w*BEATS_PER_BAR)\s*(?::[^=]*)?=\s*[\d.]+\s*$"
    r"|seconds: float = 0\.5|beats_per_bar: int = attrs\.field\(default=4\b",
    re.MULTILINE,
)


def test_window_and_beats_per_bar_are_written_once() -> None:
    """No module but kelly_core/constants.py writes the 0.5 s window or the 4 beats per
    bar as a number (pipeline, generate, DEAM, log-mel, score and contexts import them)."""
    found = [
        f"{path.relative_to(SRC)}: {match.group(0).strip()}"
        for path in sorted(SRC.rglob("*.py"))
        if path != SRC / "kelly_core" / "constants.py"
        for match in _REDEFINED.finditer(path.read_text(encoding="utf-8"))
    ]
    assert found == []
    assert (WINDOW_S, BEATS_PER_BAR) == (0.5, 4)


@pytest.mark.parametrize(
    ("parts", "model"),
    [
        (
            (
                ctx.HARMONY_EMOTION,
                ctx.HARMONY_BEAT,
                ctx.HARMONY_CHROMA,
                ctx.HARMONY_BASS,
                ctx.HARMONY_EARLIER,
                ctx.HARMONY_HELD,
                ctx.HARMONY_PREVIOUS,
            ),
            "HarmonyPredictor",
        ),
        ((ctx.COMPACT_EMOTION, ctx.COMPACT_BEAT, ctx.COMPACT_PITCH_CLASSES), "DynamicsEngine"),
        (
            (
                ctx.MELODY_EMOTION,
                ctx.MELODY_BEAT,
                ctx.MELODY_TOP_CLASS,
                ctx.MELODY_TOP_OCTAVE,
                ctx.MELODY_CHROMA,
                ctx.MELODY_BASS,
            ),
            "MelodyTransformer",
        ),
    ],
)
def test_context_columns_tile_the_model_input(parts: tuple[slice, ...], model: str) -> None:
    """Each context's columns follow one another from 0 to the model's input size."""
    assert parts[0].start == 0
    assert all(a.stop == b.start for a, b in itertools.pairwise(parts))
    assert parts[-1].stop == MODEL_SPECS[model].input_size


def test_beat_columns_are_beats_per_bar_wide() -> None:
    assert ctx.COMPACT_BEAT.stop - ctx.COMPACT_BEAT.start == BEATS_PER_BAR
    assert ctx.MELODY_BEAT.stop - ctx.MELODY_BEAT.start == BEATS_PER_BAR
    assert ctx.HARMONY_BEAT.stop - ctx.HARMONY_BEAT.start == BEATS_PER_BAR
    assert (ctx.MELODY_BEAT.start, ctx.MELODY_CHROMA.start, ctx.MELODY_BASS.start) == (16, 40, 52)
    assert (ctx.HARMONY_CHROMA.start, ctx.HARMONY_HELD.start, ctx.HARMONY_PREVIOUS.start) == (
        20,
        56,
        64,
    )


def test_contexts_fill_their_columns() -> None:
    """The builders write each part where its columns say (not at other offsets)."""
    rng = np.random.default_rng(3)
    emotion = rng.uniform(-1, 1, 64).astype(np.float32)
    previous = rng.dirichlet(np.ones(64)).astype(np.float32)
    pcs = (rng.random(12) > 0.5).astype(np.float32)
    coarse = coarse_emotion(*decode_emotion(emotion))
    song = rng.random(24).astype(np.float32)
    earlier = rng.random(24).astype(np.float32)
    harmony = harmony_context(coarse, 5, song, earlier, 2, previous)
    np.testing.assert_array_equal(harmony[ctx.HARMONY_PREVIOUS], previous)
    np.testing.assert_array_equal(harmony[ctx.HARMONY_EMOTION], coarse)
    assert harmony[ctx.HARMONY_BEAT].tolist() == [0.0, 1.0, 0.0, 0.0]  # 5 % 4
    np.testing.assert_array_equal(harmony[ctx.HARMONY_CHROMA], song[:12])
    np.testing.assert_array_equal(harmony[ctx.HARMONY_BASS], song[12:])
    np.testing.assert_array_equal(harmony[ctx.HARMONY_EARLIER], earlier[:12])
    assert int(np.argmax(harmony[ctx.HARMONY_HELD])) == 1
    compact = ctx.coarse_compact_context(coarse, 6, pcs)
    np.testing.assert_array_equal(compact, compact_context(emotion, 6, pcs))
    np.testing.assert_array_equal(compact[ctx.COMPACT_EMOTION], coarse)
    assert compact[ctx.COMPACT_BEAT].tolist() == [0.0, 0.0, 1.0, 0.0]  # 6 % 4
    np.testing.assert_array_equal(compact[ctx.COMPACT_PITCH_CLASSES], pcs)


def test_beat_vector_parts_are_the_model_outputs() -> None:
    outputs = [spec.output_size for spec in MODEL_SPECS.values()]
    assert [size for _, size in BEAT_LAYOUT[:-1]] == outputs
    assert MODEL_SPECS["EmotionRecognizer"].input_size == WINDOW_SIZE
    assert BEAT_INPUT_SIZE == WINDOW_SIZE + 2 + 24  # window, flag, beat, chroma
