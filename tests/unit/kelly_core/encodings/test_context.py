"""Tests for the harmony and compact contexts."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kelly_core.encodings.chords import chord_one_hot
from kelly_core.encodings.context import compact_context, compact_contexts, harmony_context
from kelly_core.encodings.emotion import coarse_emotion, decode_emotion, encode_emotion

unit = st.floats(-1.0, 1.0, allow_nan=False)
profiles = hnp.arrays(np.float32, 12, elements=st.floats(0.0, 1.0, width=32))


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

    @given(unit, unit, st.integers(-8, 40), profiles)
    def test_compact_round_trip(
        self, valence: float, arousal: float, beat: int, pcs: np.ndarray
    ) -> None:
        """Property: the compact context carries the point, the beat in the bar and the
        profile: its first 16 values decode (through the coarse grid) to the point's
        coarse code, its beat part is the one-hot of beat mod 4, its last 12 the profile;
        the batch form gives the same rows."""
        code = encode_emotion(valence, arousal)
        ctx = compact_context(code, beat, pcs)
        assert ctx.shape == (32,)
        np.testing.assert_allclose(ctx[:16], coarse_emotion(valence, arousal), atol=1e-4)
        np.testing.assert_allclose(decode_emotion(code), (valence, arousal), atol=1e-4)
        assert ctx[16:20].tolist() == [1.0 if k == beat % 4 else 0.0 for k in range(4)]
        np.testing.assert_array_equal(ctx[20:], pcs)
        batch = compact_contexts(np.stack([code, code]), [beat, beat + 1], np.stack([pcs, pcs]))
        np.testing.assert_array_equal(batch[0], ctx)
        assert int(np.argmax(batch[1, 16:20])) == (beat + 1) % 4
