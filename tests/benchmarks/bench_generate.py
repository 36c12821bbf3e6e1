"""Benchmark of ``kelly generate`` on real music with known tempo and beats.

Run: ``python -m tests.benchmarks.bench_generate [--seconds 45] [--long 3,20]``
(from the repository root; needs fluidsynth, the FluidR3 GM SoundFont, music21 and
mir_eval). Pieces of music21's corpus are written to MIDI at a chosen tempo, rendered to
audio with fluidsynth, and ``generate`` (all stages on fallback unless ``--models``) is
run on each. Printed per piece and overall: detected tempo within 4 % (octave errors
counted apart), beat F-measure (70 ms) of the MIDI's tempo map against the source's
beats, chord and melody notes in the source key's scale, melody-against-chord semitone
clashes per beat, drum notes under the threshold, notes under the minimum length. Then,
for audio of ``--long`` minutes (the rendered pieces tiled), seconds and peak RSS of a
fresh ``generate`` process, per minute of audio.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from kelly_runtime.generate import GenerateOptions, generate
from tests.music_checks import corpus_piece, have_fluidsynth, measure, render_wav

PIECES = (
    ("bach/bwv66.6", 96.0),
    ("bach/bwv269", 132.0),
    ("bach/bwv84.5", 72.0),
    ("bach/bwv7.7", 110.0),
    ("bach/bwv41.6", 150.0),
    ("bach/bwv8.6", 84.0),
)

_CHILD = """
import resource, sys, time
from kelly_runtime.generate import generate
t = time.perf_counter()
r = generate(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None)
print(time.perf_counter() - t, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0)
"""


def _long_file(wavs: list[Path], minutes: float, path: Path) -> Path:
    import soundfile

    parts = [soundfile.read(str(w), dtype="float32")[0] for w in wavs]
    song = np.concatenate([p if p.ndim == 1 else p.mean(axis=1) for p in parts])
    reps = int(np.ceil(minutes * 60 * 22050 / song.shape[0]))
    data = np.tile(song, reps)[: round(minutes * 60 * 22050)]
    soundfile.write(str(path), data, 22050, subtype="PCM_16")
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=45.0, help="length of each piece")
    parser.add_argument("--long", default="3,20", help="minutes of audio for time and RSS")
    parser.add_argument("--models", type=Path, default=None)
    args = parser.parse_args(argv)
    if not have_fluidsynth():
        print("needs fluidsynth and fluid-soundfont-gm", file=sys.stderr)
        return 2
    rows = []
    wavs = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for name, tempo in PIECES:
            source = corpus_piece(name, folder, tempo=tempo, seconds=args.seconds)
            wav = render_wav(source.midi, folder / f"{source.midi.stem}.wav")
            wavs.append(wav)
            start = time.perf_counter()
            result = generate(wav, args.models, GenerateOptions(seed=0))
            seconds = time.perf_counter() - start
            out = result.write(folder / f"{source.midi.stem}.gen.mid")
            m = measure(out, source, result.tempo, result.key)
            rows.append(m)
            print(
                f"{name:<14} src {tempo:5.1f} BPM key {source.key!s:<9} | det {m.tempo:6.1f} BPM "
                f"{'ok ' if m.tempo_ok else ('oct' if m.octave_error else 'BAD')} "
                f"F {m.f_measure:.3f} | key {m.key:<9} chords {m.chord_in_scale:6.1%} "
                f"melody {m.melody_in_scale:6.1%} clashes {m.clash_rate:5.1%} | "
                f"quiet drums {m.quiet_drums} short {m.short_notes} | {seconds:.2f} s"
            )
        n = len(rows)
        print(
            f"overall: tempo ok {sum(r.tempo_ok for r in rows)}/{n} "
            f"(octave errors {sum(r.octave_error for r in rows)}), "
            f"F median {statistics.median(r.f_measure for r in rows):.3f} "
            f"min {min(r.f_measure for r in rows):.3f}, "
            f"chords in scale {np.mean([r.chord_in_scale for r in rows]):.1%}, "
            f"melody in scale {np.mean([r.melody_in_scale for r in rows]):.1%}, "
            f"clashes {np.mean([r.clash_rate for r in rows]):.1%} of beats, "
            f"quiet drums {sum(r.quiet_drums for r in rows)}, "
            f"short notes {sum(r.short_notes for r in rows)}"
        )
        for minutes in (float(x) for x in args.long.split(",") if x):
            path = _long_file(wavs, minutes, folder / f"long{minutes:g}.wav")
            command = [sys.executable, "-c", _CHILD, str(path)]
            if args.models is not None:
                command.append(str(args.models))
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            seconds, rss = (float(v) for v in done.stdout.split()[-2:])
            print(
                f"{minutes:g} min of audio: {seconds:.1f} s ({seconds / minutes:.2f} s/min), "
                f"peak RSS {rss:.0f} MB ({rss / minutes:.0f} MB/min)"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
