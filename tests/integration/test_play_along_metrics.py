"""The play-along benchmark's measures on tiny synthetic songs (no audio, no models)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.benchmarks.play_along_metrics import Played, Song, reduce_to_triad, song_chords, tally

pretty_midi = pytest.importorskip("pretty_midi")


def _song(tmp_path: Path, notes: list[tuple[float, float, int]], drums: bool = False) -> Song:
    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes = [pretty_midi.Note(velocity=80, pitch=p, start=s, end=e) for s, e, p in notes]
    pm.instruments.append(piano)
    if drums:
        kit = pretty_midi.Instrument(program=0, is_drum=True)
        kit.notes = [pretty_midi.Note(velocity=80, pitch=37, start=0.0, end=2.0)]
        pm.instruments.append(kit)
    path = tmp_path / "song.mid"
    pm.write(str(path))
    return Song.from_midi(path)


def test_triad_reduction_and_its_ties() -> None:
    """A minor triad's weights give A minor; a dyad's tie goes to the bass; one note: none."""
    am = np.zeros(12)
    am[[9, 0, 4]] = 1.0
    assert reduce_to_triad(am, None) == (9, (0, 4, 9))
    dyad = np.zeros(12)
    dyad[[0, 4]] = 1.0  # C and E: in C major and A minor alike
    assert reduce_to_triad(dyad, 9) == (9, (0, 4, 9))
    assert reduce_to_triad(dyad, 0) == (0, (0, 4, 7))
    single = np.zeros(12)
    single[7] = 1.0
    assert reduce_to_triad(single, 7) is None


def test_clashes_chord_tones_roots_and_changes(tmp_path: Path) -> None:
    """Beat 1 C major, beat 2 G major; the drum note (C#) is not a pitch the song sounds."""
    song = _song(
        tmp_path,
        [
            (0.0, 1.0, 60),
            (0.0, 1.0, 64),
            (0.0, 1.0, 67),
            (1.0, 2.0, 55),
            (1.0, 2.0, 59),
            (1.0, 2.0, 62),
            (0.0, 0.1, 66),
        ],  # a short F# in beat 1: under a quarter of a beat
        drums=True,
    )
    bounds = np.array([0.0, 1.0, 2.0])
    truth = song_chords(song, bounds)
    assert [c[0] if c else None for c in truth] == [0, 7]
    played = Played(
        notes=[(0.0, 1.0, 61), (0.0, 1.0, 72), (1.0, 2.0, 60), (0.0, 1.0, 65)],
        chords=[(0, (0, 4, 7)), (0, (0, 4, 7))],
    )
    t = tally(song, bounds, played, truth)
    # C# is a semitone from C (sounding), C in beat 2 from B, F from E: three clashes;
    # the C of beat 1 (72) sounds in the song.
    assert (t.notes, t.clashes) == (4, 3)
    # C major heard whole in beat 1 (3), only its G in beat 2 (G B D): 4 of 6.
    assert (t.tones, t.tones_heard) == (6, 4)
    assert (t.beats, t.roots_agree) == (2, 1)
    assert (t.changes, t.song_changes) == (0, 1)
