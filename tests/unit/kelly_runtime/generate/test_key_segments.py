"""A song that modulates: keys found, chords and melody per section, key signatures."""

from __future__ import annotations

import json
from pathlib import Path

import attrs
import numpy as np
import pytest

from kelly_core.encodings.chords import chord_index
from kelly_runtime.generate.keys import Key, KeySegment, find_keys, key_at
from kelly_runtime.generate.options import GenerateOptions
from kelly_runtime.generate.render import render
from tests.unit.kelly_runtime.generate.test_render import outputs

FRAME_S = 2048 / 22050
C_MAJOR, A_MAJOR = Key.parse("C"), Key.parse("A")


def _frames(tonic: int, seconds: float) -> np.ndarray:
    """Chroma frames of I-IV-V-I in a major key, half a second per chord."""
    rows = []
    for chord in ((0, 4, 7), (5, 9, 0), (7, 11, 2), (0, 4, 7)):
        row = np.full(12, 0.05)
        row[[(tonic + s) % 12 for s in chord]] = 1.0
        rows += [row] * round(0.5 / FRAME_S)
    count = round(seconds / FRAME_S)
    return np.resize(np.array(rows), (count, 12))


class TestFindKeys:
    def test_modulation_gives_segments_covering_the_audio(self) -> None:
        frames = np.concatenate([_frames(0, 40.0), _frames(9, 40.0)])
        found = find_keys(frames, FRAME_S, 80.0)
        segments = found.segments
        assert [s.key for s in segments] == [C_MAJOR, A_MAJOR]
        # all 80 s summed read as A minor, no section's key: the longer section's (C major,
        # from 0 to 40.9 s)
        assert segments[0].end - segments[0].start > segments[1].end - segments[1].start
        assert found.key == C_MAJOR
        assert found.confidence == segments[0].confidence
        assert segments[0].start == 0.0
        assert segments[-1].end == 80.0
        assert segments[1].start == pytest.approx(40.0, abs=4.0)
        assert all(s.confidence is not None and s.confidence > 0 for s in segments)

    def test_one_key_is_the_clip_key(self) -> None:
        found = find_keys(_frames(7, 60.0), FRAME_S, 60.0)
        (segment,) = found.segments
        assert found.key == segment.key == Key.parse("G")
        assert found.confidence == segment.confidence
        assert found.confidence is not None
        assert found.confidence > 0.05

    def test_no_frames_is_c_major_without_confidence(self) -> None:
        found = find_keys(np.zeros((0, 12)), FRAME_S, 0.2)
        (segment,) = found.segments
        assert (segment.key, segment.confidence, segment.end) == (C_MAJOR, 0.0, 0.2)
        assert (found.key, found.confidence) == (C_MAJOR, 0.0)

    def test_key_at(self) -> None:
        segments = (
            KeySegment(start=0.0, end=10.0, key=C_MAJOR),
            KeySegment(start=10.0, end=40.0, key=A_MAJOR),
            KeySegment(start=40.0, end=60.0, key=C_MAJOR),
        )
        assert [key_at(segments, t) for t in (-1.0, 0.0, 9.9, 10.0, 45.0, 99.0)] == [
            C_MAJOR,
            C_MAJOR,
            C_MAJOR,
            A_MAJOR,
            C_MAJOR,
            C_MAJOR,
        ]


class TestRenderInSections:
    def test_chords_follow_the_local_key_and_the_file_has_two_signatures(
        self, tmp_path: Path
    ) -> None:
        """D major (in A, not in C) and G major (in C, not in A): each section takes its own."""
        dist = np.zeros(64, dtype=np.float32)
        dist[chord_index(2, "maj")] = 0.5
        dist[chord_index(7, "maj")] = 0.4
        chroma = np.tile(np.eye(24, dtype=np.float32)[2], (8, 1))  # D, in both; no bass
        base = outputs(chords=np.tile(dist, (8, 1)))
        segments = (
            KeySegment(start=0.0, end=2.0, key=C_MAJOR, confidence=0.2),
            KeySegment(start=2.0, end=4.0, key=A_MAJOR, confidence=0.1),
        )
        staged = attrs.evolve(base, key_segments=segments, beat_chroma=chroma, key_confidence=0.15)
        result = render(staged, GenerateOptions(), audio_duration=4.0)
        assert [c.label for c in result.chords] == ["G:maj"] * 4 + ["D:maj"] * 4
        signatures = result.midi.key_signature_changes  # type: ignore[attr-defined]
        assert [(k.key_number, round(k.time, 3)) for k in signatures] == [(0, 0.0), (9, 2.0)]
        melody = result.midi.instruments[0].notes
        late = {n.pitch % 12 for n in melody if n.start >= 2.0}
        assert late
        assert late <= A_MAJOR.pitch_classes
        early = {n.pitch % 12 for n in melody if n.start < 2.0}
        assert early
        assert early <= C_MAJOR.pitch_classes
        summary = json.loads(json.dumps(result.summary()))
        assert [k["key"] for k in summary["keys"]] == ["C major", "A major"]
        assert summary["beats"][0]["chroma"][2] == 1.0
        assert result.key_report() == (
            "key C major (estimated from the audio, confidence 0.15); "
            "by section: C major from 0.0 s (0.20), A major from 2.0 s (0.10)"
        )
        assert summary["key_confidence"] == 0.15

    def test_one_key_one_signature(self) -> None:
        result = render(outputs(key="Bb"), GenerateOptions(), audio_duration=4.0)
        signatures = result.midi.key_signature_changes  # type: ignore[attr-defined]
        assert [k.key_number for k in signatures] == [10]
        assert result.key_report() == "key Bb major (estimated from the audio)"
        assert attrs.evolve(result, key_estimated=False).key_report() == "key Bb major (given)"
        estimated = attrs.evolve(
            result,
            key_estimated=True,
            key_confidence=0.25,
            key_segments=(KeySegment(start=0, end=4, key=Key.parse("Bb"), confidence=0.25),),
        )
        assert estimated.key_report() == "key Bb major (estimated from the audio, confidence 0.25)"
