"""The beat output vector: layout and round trip through the async handoff's form."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from kelly_runtime.beat import BEAT_VECTOR_SIZE, BeatOutput


def _vectors(size: int, low: float, high: float) -> st.SearchStrategy[np.ndarray]:
    values = st.floats(low, high, width=32, allow_nan=False)
    return hnp.arrays(np.float32, size, elements=values)


@st.composite
def beats(draw: st.DrawFn) -> BeatOutput:
    beat = draw(st.integers(0, 100_000))
    return BeatOutput(
        beat=beat,
        beat_in_bar=beat % 4,
        emotion=draw(_vectors(64, -1, 1)),
        valence=draw(st.floats(-1, 1, width=32)),
        arousal=draw(st.floats(-1, 1, width=32)),
        notes=draw(_vectors(128, 0, 1)),
        chords=draw(_vectors(64, 0, 1)),
        expression=draw(_vectors(16, 0, 1)),
        groove=draw(st.none() | _vectors(32, -1, 1)),
    )


def _assert_same(a: BeatOutput, b: BeatOutput) -> None:
    assert (a.beat, a.beat_in_bar, a.valence, a.arousal) == (
        b.beat,
        b.beat_in_bar,
        b.valence,
        b.arousal,
    )
    for name in ("emotion", "notes", "chords", "expression"):
        np.testing.assert_array_equal(getattr(a, name), getattr(b, name), err_msg=name)
    if a.groove is None or b.groove is None:
        assert a.groove is None
        assert b.groove is None
    else:
        np.testing.assert_array_equal(a.groove, b.groove)


class TestBeatVector:
    @given(beats())
    def test_round_trip(self, beat: BeatOutput) -> None:
        """Property: from_vector(to_vector(b)) gives every field of b back exactly, the
        groove's absence included."""
        vector = beat.to_vector()
        assert vector.shape == (BEAT_VECTOR_SIZE,)
        assert vector.dtype == np.float32
        _assert_same(BeatOutput.from_vector(vector), beat)

    def test_layout(self) -> None:
        """emotion 64 | notes 128 | chords 64 | expression 16 | groove 32 | meta 5, and the
        arrays are copies, not views of the vector."""
        beat = BeatOutput(
            beat=9,
            beat_in_bar=1,
            emotion=np.full(64, 0.1, np.float32),
            valence=0.25,
            arousal=-0.5,
            notes=np.full(128, 0.2, np.float32),
            chords=np.full(64, 0.3, np.float32),
            expression=np.full(16, 0.4, np.float32),
            groove=None,
        )
        vector = beat.to_vector()
        assert BEAT_VECTOR_SIZE == 309
        np.testing.assert_array_equal(vector[:64], np.float32(0.1))
        np.testing.assert_array_equal(vector[64:192], np.float32(0.2))
        np.testing.assert_array_equal(vector[192:256], np.float32(0.3))
        np.testing.assert_array_equal(vector[256:272], np.float32(0.4))
        np.testing.assert_array_equal(vector[272:304], 0.0)
        assert vector[304:].tolist() == [9.0, 1.0, 0.0, 0.25, -0.5]
        back = BeatOutput.from_vector(vector)
        vector[:] = 7.0
        assert back.notes[0] == np.float32(0.2)
        assert back.groove is None
