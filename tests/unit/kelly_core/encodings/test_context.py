"""Tests for the harmony and compact contexts."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kelly_core.encodings.chords import chord_one_hot
from kelly_core.encodings.context import (
    compact_context,
    compact_contexts,
    harmony_context,
    harmony_contexts,
    song_harmony,
)
from kelly_core.encodings.emotion import (
    coarse_emotion,
    coarse_emotions,
    decode_emotion,
    encode_emotion,
)

unit = st.floats(-1.0, 1.0, allow_nan=False)
profiles = hnp.arrays(np.float32, 12, elements=st.floats(0.0, 1.0, width=32))


class TestContexts:
    def test_harmony(self) -> None:
        """[coarse emotion 16 | beat 4 | chroma 12 | bass 12 | earlier chroma 12 | held 8 |
        previous chord 64]."""
        coarse = coarse_emotion(0.5, 0.5)
        heard = np.zeros(24, dtype=np.float32)
        heard[[2, 5, 9]] = [1.0, 0.5, 0.7]  # D minor in the song
        heard[14] = 1.0  # bass D
        earlier = np.zeros(24, dtype=np.float32)
        earlier[[0, 4, 7]] = 1.0
        ctx = harmony_context(coarse, 1, heard, earlier, 3, chord_one_hot(3))
        assert ctx.shape == (128,)
        np.testing.assert_array_equal(ctx[:16], coarse)
        assert ctx[16:20].tolist() == [0, 1, 0, 0]
        np.testing.assert_array_equal(ctx[20:32], heard[:12])
        assert np.flatnonzero(ctx[32:44]).tolist() == [2]
        assert np.flatnonzero(ctx[44:56]).tolist() == [0, 4, 7]
        assert np.flatnonzero(ctx[56:64]).tolist() == [2]  # lasted 3 beats: slot 2
        assert np.flatnonzero(ctx[64:]).tolist() == [3]
        held_long = harmony_context(coarse, 1, heard, earlier, 20, chord_one_hot(3))
        assert np.flatnonzero(held_long[56:64]).tolist() == [7]
        assert not harmony_context(coarse, 1, heard, earlier, 0, chord_one_hot(60))[56:64].any()

    @settings(max_examples=30, deadline=None)
    @given(st.lists(st.integers(0, 63), min_size=1, max_size=30), st.integers(0, 2**16))
    def test_harmony_teacher_forcing_equals_stepping(self, chords: list[int], seed: int) -> None:
        """The batch contexts equal stepping one beat at a time with the true chords fed
        back (the previous chord, how long it lasted, the chroma heard a beat before)."""
        rng = np.random.default_rng(seed)
        n = len(chords)
        coarse = coarse_emotions(rng.uniform(-1, 1, (n, 2)))
        beats = rng.integers(0, 7, n)
        heard = rng.random((n, 24)).astype(np.float32)
        batch = harmony_contexts(coarse, beats, heard, chords)
        held, previous, before = 0, 60, np.zeros(24, dtype=np.float32)
        for t in range(n):
            step = harmony_context(
                coarse[t], int(beats[t]), heard[t], before, held, chord_one_hot(previous)
            )
            np.testing.assert_array_equal(batch[t], step)
            held = held + 1 if t > 0 and chords[t] == previous else 1
            previous, before = chords[t], heard[t]

    def test_song_harmony(self) -> None:
        """Rotated to the tonic; chroma clipped to 1; bass scaled to its largest value."""
        chroma = np.zeros(24, dtype=np.float32)
        chroma[[7, 11, 2]] = [1.2, 0.5, 0.25]  # G major over a G bass, in G (tonic 7)
        chroma[12 + 7] = 0.4
        chroma[12 + 2] = 0.1
        song = song_harmony(chroma, 7)
        assert song[[0, 4, 7]].tolist() == [1.0, 0.5, 0.25]
        np.testing.assert_allclose(song[12 + np.array([0, 7])], [1.0, 0.25])
        quiet = np.zeros(24, dtype=np.float32)
        quiet[12] = 0.01  # under the floor: stays small
        np.testing.assert_allclose(song_harmony(quiet)[12], 0.2)
        assert not song_harmony(np.zeros(24)).any()

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
