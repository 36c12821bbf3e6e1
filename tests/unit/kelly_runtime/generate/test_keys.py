"""Tests of kelly_runtime.generate.keys: key and range parsing, key estimation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.keys import Key, PitchRange, estimate_key, note_name, parse_pitch


class TestKeyParse:
    @pytest.mark.parametrize(
        ("text", "tonic", "mode"),
        [
            ("C", 0, "major"),
            ("Am", 9, "minor"),
            ("F# minor", 6, "minor"),
            ("Bb major", 10, "major"),
            ("eb:min", 3, "minor"),
            ("G maj", 7, "major"),
        ],
    )
    def test_accepted(self, text: str, tonic: int, mode: str) -> None:
        """Common spellings parse to tonic and mode."""
        assert Key.parse(text) == Key(tonic=tonic, mode=mode)  # type: ignore[arg-type]  # parametrized literal

    @pytest.mark.parametrize("text", ["", "H", "C dorian", "Cmajor7", "12"])
    def test_rejected(self, text: str) -> None:
        """Anything else raises GenerateOptionError on the key field."""
        with pytest.raises(GenerateOptionError, match="cannot read key") as info:
            Key.parse(text)
        assert info.value.field == "key"

    def test_scales(self) -> None:
        """A minor has the white keys; C major too; E major has four sharps."""
        assert Key.parse("Am").pitch_classes == Key.parse("C").pitch_classes
        assert Key.parse("E").pitch_classes == frozenset({4, 6, 8, 9, 11, 1, 3})
        assert Key.parse("C").contains(64)
        assert not Key.parse("C").contains(61)
        assert str(Key.parse("f#m")) == "F# minor"


class TestPitchRange:
    def test_names_and_numbers(self) -> None:
        """Note names and MIDI numbers both parse; C4 is 60."""
        assert PitchRange.parse("C4-C6") == PitchRange(low=60, high=84)
        assert PitchRange.parse("48-72") == PitchRange(low=48, high=72)
        assert PitchRange.parse("F#3..Bb4") == PitchRange(low=54, high=70)
        assert parse_pitch("B#3") == 60
        assert parse_pitch("Cb4") == 59
        assert note_name(61) == "C#4"

    @pytest.mark.parametrize("text", ["72-60", "0-200", "C4", "x-y", "C9-C10"])
    def test_rejected(self, text: str) -> None:
        """Reversed, out-of-range or malformed ranges raise GenerateOptionError."""
        with pytest.raises(GenerateOptionError):
            PitchRange.parse(text)

    def test_contains(self) -> None:
        """Membership is inclusive and only for integers."""
        r = PitchRange(low=60, high=62)
        assert 60 in r
        assert 62 in r
        assert 63 not in r
        assert "60" not in r


class TestEstimateKey:
    @given(st.integers(0, 11), st.sampled_from(["major", "minor"]))
    def test_scale_histogram_finds_its_key(self, tonic: int, mode: str) -> None:
        """A triad-weighted scale histogram gives back its own key."""
        key = Key(tonic=tonic, mode=mode)  # type: ignore[arg-type]  # sampled literal
        histogram = np.zeros(12)
        for pc in key.pitch_classes:
            histogram[pc] += 1.0
        third = 4 if mode == "major" else 3
        for step in (0, third, 7):
            histogram[(tonic + step) % 12] += 2.0
        assert estimate_key(histogram) == key

    def test_flat_histogram_is_c_major(self) -> None:
        """No information gives C major."""
        assert estimate_key(np.ones(12)) == Key(tonic=0, mode="major")

    def test_wrong_shape(self) -> None:
        """A histogram that is not (12,) is refused."""
        with pytest.raises(GenerateOptionError):
            estimate_key(np.ones(7))
