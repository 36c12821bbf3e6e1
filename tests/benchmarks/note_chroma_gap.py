"""Gap of the note-to-chroma model to the audio chroma on rendered pieces.

Run (a folder built by ``kelly train-beats --build DIR``; every ``STEP``-th piece)::

    .venv/bin/python -m tests.benchmarks.note_chroma_gap DIR [STEP]

Prints the mean cosine per beat between the audio front end's beat chroma and
:func:`kelly_models.datasets.song_harmony.note_chroma` of the piece's MIDI, for three
fifth leaks, for binary pitch classes, and for the bass half.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import numpy.typing as npt

import kelly_models.datasets.song_harmony as sh
from kelly_core.encodings.chroma import beat_chroma, offline_chroma
from kelly_models.datasets.rendered import _bounds, _notes


def _cosines(a: npt.NDArray[np.float64], b: npt.NDArray[np.float64]) -> list[float]:
    norm_a, norm_b = np.linalg.norm(a, axis=1), np.linalg.norm(b, axis=1)
    ok = (norm_a > 1e-6) & (norm_b > 1e-6)
    return [float(x) for x in (a[ok] * b[ok]).sum(1) / norm_a[ok] / norm_b[ok]]


def main(argv: list[str]) -> int:
    """Print the gaps (module docstring)."""
    import soundfile

    files = sorted(Path(argv[0]).glob("*.json"))[:: int(argv[1]) if len(argv) > 1 else 1]
    leaks = {0.0: [], 0.1: [], 0.2: []}  # type: dict[float, list[float]]
    binary: list[float] = []
    bass: list[float] = []
    chosen = sh.FIFTH_LEAK
    for path in files:
        record = json.loads(path.read_text(encoding="utf-8"))
        audio, rate = soundfile.read(str(path.with_suffix(".wav")), dtype="float32")
        beats = np.asarray(record["beats"], dtype=np.float64)
        heard = beat_chroma(offline_chroma(audio, rate), beats, end=len(audio) / rate)
        notes, bounds = _notes(path), _bounds(record)
        for leak in leaks:
            setattr(sh, "FIFTH_LEAK", leak)  # noqa: B010 (a Final constant, varied here)
            model = sh.note_chroma(notes, bounds).astype(np.float64)
            leaks[leak] += _cosines(heard[:, :12].astype(np.float64), model[:, :12])
        setattr(sh, "FIFTH_LEAK", chosen)  # noqa: B010
        model = sh.note_chroma(notes, bounds).astype(np.float64)
        on = (model[:, :12] > 0).astype(np.float64)
        binary += _cosines(heard[:, :12].astype(np.float64), on)
        bass += _cosines(heard[:, 12:].astype(np.float64), model[:, 12:])
    print(f"{len(files)} pieces, {len(binary)} beats")
    for leak, values in leaks.items():
        print(f"fifth leak {leak}: mean cosine {np.mean(values):.3f}")
    print(f"binary pitch classes {np.mean(binary):.3f}; bass half {np.mean(bass):.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
