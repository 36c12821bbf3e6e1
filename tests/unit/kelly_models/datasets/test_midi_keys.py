"""Keys of MIDI files: a trusted key signature, else the profile estimate; readers move to C."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pretty_midi
import pytest

from kelly_models.datasets.lakh import open_lakh
from kelly_models.datasets.midi import load_score, piece_key

# a tune on the tonic triad and scale of its key, 32 beats at 120 BPM
_MAJOR = (0, 4, 7, 4, 2, 5, 9, 7, 0, 2, 4, 5, 7, 11, 12, 7)
_MINOR = (0, 3, 7, 3, 2, 5, 8, 7, 0, 2, 3, 5, 7, 11, 12, 7)


def _write(path: Path, tonic: int, minor: bool, signature: int | None) -> Path:
    pm = pretty_midi.PrettyMIDI(initial_tempo=120.0)
    inst = pretty_midi.Instrument(program=0, name="melody")
    steps = (_MINOR if minor else _MAJOR) * 2
    for beat, step in enumerate(steps):
        start = beat * 0.5
        inst.notes.append(pretty_midi.Note(90, 60 + tonic + step, start, start + 0.45))
    pm.instruments.append(inst)
    if signature is not None:
        pm.key_signature_changes.append(pretty_midi.KeySignature(signature, 0.0))
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return path


@pytest.mark.parametrize(
    ("tonic", "minor", "signature", "expected"),
    [
        (2, False, 2, (2, False, "signature")),  # D major signed D major
        (9, True, 0, (9, True, "estimate")),  # A minor with a default C major signature
        (7, False, None, (7, False, "estimate")),  # G major, unsigned
        (4, True, 16, (4, True, "signature")),  # E minor signed E minor (12 + 4)
    ],
)
def test_piece_key(
    tmp_path: Path, tonic: int, minor: bool, signature: int | None, expected: tuple[int, bool, str]
) -> None:
    key = piece_key(load_score(_write(tmp_path / "t.mid", tonic, minor, signature)))
    assert (key.tonic, key.minor, key.source) == expected


def test_lakh_melody_in_any_key_reads_as_c(tmp_path: Path) -> None:
    """The same tune in D major, A major and C major reads as in C (nearest in register)."""
    root = tmp_path / "lmd_full"
    for i, tonic in enumerate((2, 9, 0)):
        md5 = f"{i}" * 32
        _write(root / md5[0] / f"{md5}.mid", tonic, False, None)
    ds = open_lakh(root, min_notes=8, use_cache=False, workers=1)
    assert len(ds) == 3
    first = ds[0].targets
    assert np.array_equal(first, ds[2].targets)  # D4 moved down by 2 = the tune on C4
    assert np.array_equal(np.roll(first, 12, axis=1), ds[1].targets)  # A4 up by 3 = C5
    assert set(np.flatnonzero(first.any(axis=0)) % 12) <= {0, 2, 4, 5, 7, 9, 11}
    assert first[0, 60] == 1.0
