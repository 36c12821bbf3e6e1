"""Tests for the harmony and compact contexts."""

from __future__ import annotations

import numpy as np

from kelly_core.encodings.chords import chord_one_hot
from kelly_core.encodings.context import compact_context, harmony_context
from kelly_core.encodings.emotion import coarse_emotion, encode_emotion


class TestContexts:
    def test_harmony(self) -> None:
        """[emotion 64 | previous chord 64]."""
        emo = encode_emotion(0.5, 0.5)
        ctx = harmony_context(emo, chord_one_hot(3))
        assert ctx.shape == (128,)
        np.testing.assert_array_equal(ctx[:64], emo)
        assert ctx[64 + 3] == 1.0

    def test_compact(self) -> None:
        """[coarse emotion 16 | beat one-hot 4 | pitch classes 12]."""
        pcs = np.zeros(12)
        pcs[[0, 4, 7]] = 1
        ctx = compact_context(encode_emotion(-0.4, 0.8), 2, pcs)
        assert ctx.shape == (32,)
        np.testing.assert_allclose(ctx[:16], coarse_emotion(-0.4, 0.8), atol=0.02)
        assert ctx[16:20].tolist() == [0, 0, 1, 0]
        assert ctx[20:].tolist() == pcs.tolist()
