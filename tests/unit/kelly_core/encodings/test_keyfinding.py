"""Tests for key finding: profiles, one key, sections of constant key."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from kelly_core.encodings.chroma import offline_chroma
from kelly_core.encodings.keyfinding import (
    BASS_WEIGHT,
    DEFAULT_PROFILE,
    KEY_PROFILES,
    LocalKeyConfig,
    estimate_key,
    key_correlations,
    key_evidence,
    key_templates,
    local_keys,
)

SR = 22050
FRAME_S = 2048 / SR
# chords as semitones above the tonic
MAJOR_PROGRESSION = (
    (0, 4, 7),
    (5, 9, 0),
    (7, 11, 2),
    (0, 4, 7),
    (9, 0, 4),
    (2, 5, 9),
    (7, 11, 2, 5),
)
MINOR_PROGRESSION = ((0, 3, 7), (5, 8, 0), (7, 11, 2), (0, 3, 7), (8, 0, 3), (2, 5, 8), (7, 11, 2))


def _progression_frames(tonic: int, minor: bool, frames_per_chord: int = 10) -> np.ndarray:
    """Chroma frames of a cadential progression: 1 for chord tones, the bass doubled."""
    rows = []
    for chord in MINOR_PROGRESSION if minor else MAJOR_PROGRESSION:
        row = np.full(12, 0.02)
        for step in chord:
            row[(tonic + step) % 12] += 1.0
        row[(tonic + chord[0]) % 12] += 0.5
        rows += [row] * frames_per_chord
    return np.array(rows)


def _progression_audio(tonic: int, minor: bool, seconds_per_chord: float = 0.75) -> np.ndarray:
    """The same progression as notes with four harmonics, bass in octave 2 or 3."""
    t = np.arange(round(SR * seconds_per_chord)) / SR
    parts = []
    for chord in MINOR_PROGRESSION if minor else MAJOR_PROGRESSION:
        x = np.zeros_like(t)
        pitches = [36 + (tonic + chord[0]) % 12] + [60 + (tonic + s) % 12 for s in chord]
        for pitch in pitches:
            f0 = 440.0 * 2 ** ((pitch - 69) / 12)
            for h in range(1, 5):
                x += 0.1 / h * np.sin(2 * np.pi * h * f0 * t)
        parts.append(x * np.minimum(1.0, 20 * t[::-1]))  # no click between chords
    return np.concatenate(parts * 2)


class TestProfiles:
    def test_every_profile_has_24_unit_keys(self) -> None:
        for name in KEY_PROFILES:
            templates = key_templates(name)
            assert templates.shape == (24, 12)
            np.testing.assert_allclose(np.linalg.norm(templates, axis=1), 1.0)
            np.testing.assert_allclose(templates.sum(axis=1), 0.0, atol=1e-12)
            np.testing.assert_allclose(templates[7], np.roll(templates[0], 7))  # G major
            np.testing.assert_allclose(templates[21], np.roll(templates[12], 9))  # A minor
        with pytest.raises(ValueError, match="unknown key profile"):
            key_templates("nope")

    @pytest.mark.parametrize("profile", sorted(KEY_PROFILES))
    def test_a_profile_finds_its_own_key(self, profile: str) -> None:
        major, minor = KEY_PROFILES[profile]
        assert estimate_key(np.roll(major, 7), profile).index == 7  # G major
        assert estimate_key(np.roll(minor, 9), profile).index == 12 + 9  # A minor


class TestEstimateKey:
    @given(st.integers(0, 11), st.booleans())
    def test_progressions_in_every_key(self, tonic: int, minor: bool) -> None:
        """A cadential progression's summed chroma gives its key, with some confidence."""
        key = estimate_key(_progression_frames(tonic, minor).sum(axis=0))
        assert (key.tonic, key.minor) == (tonic, minor)
        assert key.index == tonic + 12 * minor
        assert 0.0 < key.confidence <= key.score <= 1.0
        assert key.runner_up != key.index

    @pytest.mark.parametrize(("tonic", "minor"), [(0, False), (7, False), (9, True), (2, True)])
    def test_progressions_from_audio(self, tonic: int, minor: bool) -> None:
        """Through the chroma front end: C, G major; A, D minor."""
        chroma = offline_chroma(_progression_audio(tonic, minor), SR)
        key = estimate_key(chroma.sum(axis=0))
        assert (key.tonic, key.minor) == (tonic, minor)

    def test_the_bass_settles_a_relative_key(self) -> None:
        """The white keys alone: C major; with A in the bass: A minor."""
        white = np.zeros(12)
        white[[0, 2, 4, 5, 7, 9, 11]] = 1.0
        assert estimate_key(white).index == 0
        bass_a = np.zeros(12)
        bass_a[[9, 4]] = [1.0, 0.4]
        key = estimate_key(np.concatenate([white, bass_a]))
        assert key.index == 12 + 9
        both = key_evidence(np.concatenate([white, bass_a]))
        np.testing.assert_allclose(
            both, key_correlations(white) + BASS_WEIGHT * key_correlations(bass_a)
        )
        assert key.score == pytest.approx(both.max())

    def test_no_information_is_c_major_with_no_confidence(self) -> None:
        key = estimate_key(np.ones(12))
        assert (key.index, key.confidence) == (0, 0.0)
        assert not key_correlations(np.zeros((3, 12))).any()
        with pytest.raises(ValueError, match="12"):
            key_correlations(np.ones(7))


class TestLocalKeys:
    def test_a_modulation_gives_two_sections(self) -> None:
        """40 s in C major then 40 s in E major: two sections, the change within 4 s."""
        first = np.tile(_progression_frames(0, False), (7, 1))
        second = np.tile(_progression_frames(4, False), (7, 1))
        frames = np.concatenate([first, second])
        sections = local_keys(frames, FRAME_S)
        assert [s.key.index for s in sections] == [0, 4]
        assert sections[0].start == 0
        assert sections[-1].stop == len(frames)
        assert sections[0].stop == sections[1].start
        assert abs(sections[1].start - len(first)) * FRAME_S < 4.0
        assert all(s.key.confidence > 0.05 for s in sections)

    def test_minor_to_relative_major(self) -> None:
        """A minor then C major (the same pitch classes, other weights): still two sections."""
        frames = np.concatenate(
            [
                np.tile(_progression_frames(9, True), (7, 1)),
                np.tile(_progression_frames(0, False), (7, 1)),
            ]
        )
        assert [s.key.index for s in local_keys(frames, FRAME_S)] == [21, 0]

    @given(st.integers(0, 11), st.booleans(), st.integers(0, 30))
    def test_one_key_stays_one_section(self, tonic: int, minor: bool, seed: int) -> None:
        """Noisy frames of one progression: one section, the global estimate."""
        rng = np.random.default_rng(seed)
        frames = np.tile(_progression_frames(tonic, minor), (10, 1))
        frames = frames + rng.uniform(0, 0.6, frames.shape)
        sections = local_keys(frames, FRAME_S)
        assert len(sections) == 1
        assert sections[0].key == estimate_key(frames.sum(axis=0))
        assert sections[0].key.index == tonic + 12 * minor

    def test_short_excursions_are_merged(self) -> None:
        """8 s in the dominant inside 60 s of C major is no section of its own."""
        home = np.tile(_progression_frames(0, False), (4, 1))
        away = _progression_frames(7, False, frames_per_chord=12)[:86]
        frames = np.concatenate([home, away, home])
        assert [s.key.index for s in local_keys(frames, FRAME_S)] == [0]
        strict = LocalKeyConfig(context_s=2.0, switch_penalty=0.2, min_section_s=4.0)
        assert [s.key.index for s in local_keys(frames, FRAME_S, strict)] == [0, 7, 0]

    def test_empty_and_short(self) -> None:
        assert local_keys(np.zeros((0, 12)), FRAME_S) == ()
        short = _progression_frames(5, False)
        assert [s.key.index for s in local_keys(short, FRAME_S)] == [5]
        assert LocalKeyConfig().profile == DEFAULT_PROFILE
