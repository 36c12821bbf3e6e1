"""Tests of kelly_runtime.generate.midi: score to pretty_midi, bytes, atomic writes."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelly_runtime.generate.midi import midi_bytes, read_midi, score_to_midi, write_midi
from kelly_runtime.generate.score import ControlEvent, NoteEvent, Score, Track

pytest.importorskip("pretty_midi")

SCORE = Score(
    tempo=90.0,
    duration=2.0,
    key_tonic=9,
    key_minor=True,
    tracks=(
        Track(
            name="melody",
            program=0,
            notes=(
                NoteEvent(pitch=69, start=0.5, end=1.0, velocity=90),
                NoteEvent(pitch=64, start=0.0, end=0.5, velocity=70),
            ),
            controls=(ControlEvent(number=64, value=127, time=0.0),),
        ),
        Track(name="drums", is_drum=True, notes=(NoteEvent(pitch=36, start=0, end=2, velocity=1),)),
    ),
)


class TestScoreToMidi:
    def test_round_trip(self, tmp_path: Path) -> None:
        """Tracks, notes (sorted by time), controls, drum flag and tempo survive a file."""
        path = write_midi(score_to_midi(SCORE), tmp_path / "out" / "a.mid")
        midi = read_midi(path)
        names = [i.name for i in midi.instruments]
        assert names == ["melody", "drums"]
        melody, drums = midi.instruments
        assert [n.pitch for n in melody.notes] == [64, 69]
        assert melody.notes[1].start == pytest.approx(0.5, abs=1e-3)
        assert [c.value for c in melody.control_changes] == [127]
        assert drums.is_drum
        assert not melody.is_drum
        assert midi.get_end_time() == pytest.approx(2.0, abs=1e-3)
        assert not list(tmp_path.glob("out/.*tmp*"))

    def test_bytes_are_deterministic(self) -> None:
        """Building twice gives byte-identical files."""
        assert midi_bytes(score_to_midi(SCORE)) == midi_bytes(score_to_midi(SCORE))

    def test_note_validation(self) -> None:
        """A note ending before it starts, or a velocity of 0, is refused."""
        with pytest.raises(ValueError, match="after its start"):
            NoteEvent(pitch=60, start=1.0, end=1.0, velocity=10)
        with pytest.raises(ValueError, match="velocity"):
            NoteEvent(pitch=60, start=0.0, end=1.0, velocity=0)
        with pytest.raises(ValueError, match=r"0\.\.127"):
            ControlEvent(number=64, value=128, time=0.0)

    def test_score_track_lookup(self) -> None:
        """Score.track finds a track by name and raises KeyError otherwise."""
        assert SCORE.track("drums").is_drum
        with pytest.raises(KeyError):
            SCORE.track("bass")
