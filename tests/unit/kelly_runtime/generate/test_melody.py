"""Tests of kelly_runtime.generate.melody: allowed pitches, rests, seeded sampling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.keys import Key, PitchRange
from kelly_runtime.generate.melody import REST, allowed_pitches, choose_pitch, sound_probability


class TestAllowedPitches:
    def test_key_and_range(self) -> None:
        """C major inside C4..C5 is the eight white keys."""
        got = allowed_pitches(Key.parse("C"), PitchRange(low=60, high=72))
        assert got.tolist() == [60, 62, 64, 65, 67, 69, 71, 72]

    def test_no_key_is_chromatic(self) -> None:
        """Without a key every pitch in the range is allowed."""
        assert allowed_pitches(None, PitchRange(low=60, high=63)).tolist() == [60, 61, 62, 63]

    def test_empty(self) -> None:
        """A range holding no pitch of the key raises GenerateOptionError."""
        with pytest.raises(GenerateOptionError, match="no pitch"):
            allowed_pitches(Key.parse("C"), PitchRange(low=61, high=61))


class TestChoosePitch:
    @given(
        st.integers(0, 2**32 - 1),
        st.integers(0, 11),
        st.integers(30, 80),
        st.integers(1, 24),
        st.floats(0.05, 5.0),
    )
    def test_always_in_key_and_range(
        self, seed: int, tonic: int, low: int, width: int, temperature: float
    ) -> None:
        """Whatever the probabilities, a sounding pitch is in the key and the range."""
        rng = np.random.default_rng(seed)
        key = Key(tonic=tonic, mode="minor")
        allowed = allowed_pitches(key, PitchRange(low=low, high=low + width))
        notes = rng.uniform(0.2, 1.0, 128).astype(np.float32)
        pitch = choose_pitch(
            notes, allowed=allowed, previous=None, centre=64.0, temperature=temperature, rng=rng
        )
        assert pitch in allowed.tolist()

    def test_rest_when_nothing_sounds(self) -> None:
        """Near-zero probabilities everywhere give a rest and draw nothing."""
        rng = np.random.default_rng(0)
        state = rng.bit_generator.state
        notes = np.full(128, 1e-4, dtype=np.float32)
        allowed = allowed_pitches(None, PitchRange(low=60, high=72))
        assert sound_probability(notes) < 0.5
        got = choose_pitch(
            notes, allowed=allowed, previous=None, centre=66, temperature=1.0, rng=rng
        )
        assert got == REST
        assert rng.bit_generator.state == state

    def test_low_temperature_follows_the_model(self) -> None:
        """At a low temperature the most probable allowed pitch wins."""
        notes = np.full(128, 0.3, dtype=np.float32)
        notes[67] = 0.99
        allowed = allowed_pitches(Key.parse("C"), PitchRange(low=60, high=72))
        picks = {
            choose_pitch(
                notes,
                allowed=allowed,
                previous=64,
                centre=66,
                temperature=0.01,
                rng=np.random.default_rng(s),
            )
            for s in range(20)
        }
        assert picks == {67}

    def test_same_seed_same_pitch(self) -> None:
        """Two generators with one seed draw the same sequence."""
        notes = np.full(128, 0.5, dtype=np.float32)
        allowed = allowed_pitches(None, PitchRange(low=48, high=84))

        def run(seed: int) -> list[int]:
            rng = np.random.default_rng(seed)
            return [
                choose_pitch(
                    notes, allowed=allowed, previous=None, centre=66, temperature=1.0, rng=rng
                )
                for _ in range(16)
            ]

        assert run(3) == run(3)
        assert run(3) != run(4)

    def test_bad_temperature(self) -> None:
        """A temperature of zero is refused."""
        with pytest.raises(GenerateOptionError):
            choose_pitch(
                np.full(128, 0.5, dtype=np.float32),
                allowed=np.arange(60, 62),
                previous=None,
                centre=60,
                temperature=0.0,
                rng=np.random.default_rng(0),
            )
