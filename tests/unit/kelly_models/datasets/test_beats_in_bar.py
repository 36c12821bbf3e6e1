"""Beat positions in the bar read from a MIDI file's downbeats (the melody context's beat)."""

from __future__ import annotations

from pathlib import Path

import pretty_midi

from kelly_models.datasets.midi import load_score


def _write(path: Path, numerator: int, pickup_beats: int) -> Path:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(numerator, 4, 0.0))
    inst = pretty_midi.Instrument(program=0)
    for beat in range(16):
        inst.notes.append(pretty_midi.Note(80, 60 + beat % 5, beat * 0.5, beat * 0.5 + 0.4))
    pm.instruments.append(inst)
    pm.write(str(path))
    return path


def test_four_four(tmp_path: Path) -> None:
    score = load_score(_write(tmp_path / "a.mid", 4, 0))
    assert score.beats_in_bar().tolist()[:9] == [0, 1, 2, 3, 0, 1, 2, 3, 0]


def test_three_four(tmp_path: Path) -> None:
    score = load_score(_write(tmp_path / "b.mid", 3, 0))
    assert score.beats_in_bar().tolist()[:7] == [0, 1, 2, 0, 1, 2, 0]


def test_pickup_counts_back_from_the_first_downbeat() -> None:
    """A bar of 4/4 whose first downbeat comes on the third beat: a two-beat pickup."""
    import numpy as np

    from kelly_models.datasets.midi import Score

    beats = np.arange(10) * 0.5
    score = Score(tracks=(), beats=beats, downbeats=beats[2::4], end_s=5.0)
    assert score.beats_in_bar().tolist() == [2, 3, 0, 1, 2, 3, 0, 1, 2, 3]
