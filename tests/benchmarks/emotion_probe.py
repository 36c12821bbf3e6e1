"""EmotionRecognizer probe on real music: Bach chorales rendered with fluidsynth.

Run (not collected by pytest; needs fluidsynth, the FluidR3 GM SoundFont and music21)::

    kelly train --output runs/quick -m EmotionRecognizer      # or the whole main job
    python tests/benchmarks/emotion_probe.py --models runs/quick [--pieces 8] [--json out.json]

For each major-key chorale of music21's corpus (first ``--seconds`` of music, soprano as
the melody on one GM instrument, the lower voices as chords on another), renders these
variants of the same notes, each levelled to -20 dBFS RMS, and feeds the log-mel window
means to the exported EmotionRecognizer (numpy backend):

- ``minor``: the major→minor flip on the symbolic side: the 3rd and 6th scale degrees of
  the chorale's key a semitone down (harmonic minor; the leading tone stays);
- ``tempo x1.5``: the same notes at 1.5 times the tempo;
- ``+12 dB`` / ``-12 dB``: the base rendering scaled;
- ``octave up`` / ``octave down``: every note 12 semitones up or down.

Mean (valence, arousal) over the windows after the first ``--settle`` seconds. The probe
passes when, averaged over the pieces: minor lowers valence by at least 0.2; 1.5x tempo
raises arousal; each ±12 dB gain moves arousal less than the tempo change; each octave
shift moves valence less than the mode change. Exit status 0 only if it passes.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from kelly_core.encodings.emotion import decode_emotions
from kelly_core.encodings.logmel import (
    DEFAULT_LOG_MEL,
    frames_per_window,
    offline_log_mel,
    window_means,
)

SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")
SR = DEFAULT_LOG_MEL.sr
LEVEL_RMS = 0.1  # -20 dBFS
# (melody program, chords program): piano, strings, organ, flute over piano, ...
INSTRUMENTS = ((0, 0), (48, 48), (19, 19), (73, 0), (40, 48), (0, 32), (71, 46), (52, 49))
VARIANTS = ("base", "minor", "tempo x1.5", "+12 dB", "-12 dB", "octave up", "octave down")

Note = tuple[int, float, float, int]  # (pitch, start beat, end beat, voice: 0 melody)


def chorale_notes(count: int, max_beats: float) -> list[tuple[str, int, list[Note]]]:
    """``count`` major-key chorales as ``(name, tonic pitch class, notes in beats)``."""
    from music21 import corpus

    out: list[tuple[str, int, list[Note]]] = []
    for path in sorted(corpus.getComposer("bach"), key=str):
        if len(out) >= count:
            break
        if Path(str(path)).suffix not in (".mxl", ".xml", ".krn"):
            continue
        try:
            score = corpus.parse(path)
        except Exception:  # a corpus file music21 cannot parse: skip it
            continue
        parts = list(score.parts)
        if len(parts) != 4:
            continue
        key = score.analyze("key")
        if key.mode != "major":
            continue
        notes: list[Note] = []
        for voice, part in enumerate(parts):
            for n in part.stripTies().flatten().notes:
                start = float(n.offset)
                if start >= max_beats or not hasattr(n, "pitch"):
                    continue
                end = min(start + float(n.quarterLength), max_beats)
                notes.append((int(n.pitch.midi), start, end, 0 if voice == 0 else 1))
        if len(notes) > 20:
            out.append((Path(str(path)).stem, int(key.tonic.pitchClass), notes))
    return out


def to_minor(notes: Sequence[Note], tonic: int) -> list[Note]:
    """Lower the 3rd and 6th degrees of the major key on ``tonic`` (harmonic minor)."""
    from kelly_models.datasets.synthetic import flip_mode

    pitches = flip_mode([n[0] for n in notes], tonic, True)
    return [(p, s, e, v) for p, (_, s, e, v) in zip(pitches, notes, strict=True)]


def shift(notes: Sequence[Note], semitones: int) -> list[Note]:
    """Every note ``semitones`` up."""
    return [(p + semitones, s, e, v) for p, s, e, v in notes]


def render(notes: Sequence[Note], bpm: float, programs: tuple[int, int]) -> np.ndarray:
    """Render with fluidsynth at ``bpm`` (mono, 22050 Hz), levelled to -20 dBFS RMS."""
    import pretty_midi

    midi = pretty_midi.PrettyMIDI(initial_tempo=bpm)
    beat = 60.0 / bpm
    voices = [pretty_midi.Instrument(program=p) for p in programs]
    for pitch, start, end, voice in notes:
        voices[voice].notes.append(
            pretty_midi.Note(
                velocity=84 if voice == 0 else 70,
                pitch=int(pitch),
                start=start * beat,
                end=end * beat,
            )
        )
    midi.instruments.extend(v for v in voices if v.notes)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "piece.mid"
        midi.write(str(path))
        raw = subprocess.run(
            ["fluidsynth", "-ni", "-q", "-r", str(SR), "-T", "raw", "-O", "float", "-E",
             "little", "-F", "-", str(SOUNDFONT), str(path)],
            check=True, capture_output=True, timeout=120,
        ).stdout  # fmt: skip
    audio = np.frombuffer(raw, dtype="<f4").reshape(-1, 2).mean(axis=1).astype(np.float64)
    rms = float(np.sqrt(np.mean(audio**2)))
    levelled: np.ndarray = audio * (LEVEL_RMS / max(rms, 1e-12))
    return levelled


def emotion(backend: object, audio: np.ndarray, seconds: float, settle: float) -> np.ndarray:
    """Mean decoded (valence, arousal) over windows ``settle .. seconds`` s of ``audio``."""
    backend.reset()  # type: ignore[attr-defined]
    audio = audio[: int(seconds * SR) + DEFAULT_LOG_MEL.n_fft]
    windows = window_means(offline_log_mel(audio, SR), frames_per_window(DEFAULT_LOG_MEL, 0.5))
    codes = backend.run(windows.astype(np.float32))  # type: ignore[attr-defined]
    points = decode_emotions(codes)[int(settle / 0.5) :]
    return np.asarray(points.mean(axis=0), dtype=np.float64)


def probe(model: Path, pieces: int, seconds: float, settle: float, bpm: float) -> dict[str, object]:
    """Run the probe; return per-piece results, mean deltas and the verdict."""
    from kelly_runtime.loading import load_backend

    backend = load_backend(model, backend="numpy", model="EmotionRecognizer")
    rows = []
    max_beats = seconds * bpm / 60.0
    for k, (name, tonic, notes) in enumerate(chorale_notes(pieces, max_beats)):
        programs = INSTRUMENTS[k % len(INSTRUMENTS)]
        base_audio = render(notes, bpm, programs)
        audio = {
            "base": base_audio,
            "minor": render(to_minor(notes, tonic), bpm, programs),
            "tempo x1.5": render(notes, bpm * 1.5, programs),
            "+12 dB": base_audio * 10 ** (12 / 20),
            "-12 dB": base_audio * 10 ** (-12 / 20),
            "octave up": render(shift(notes, 12), bpm, programs),
            "octave down": render(shift(notes, -12), bpm, programs),
        }
        # the faster rendering is shorter: score the same music, not silence
        lengths = {v: seconds / (1.5 if v == "tempo x1.5" else 1.0) for v in VARIANTS}
        va = {v: emotion(backend, audio[v], lengths[v], settle) for v in VARIANTS}
        row = {"piece": name, "programs": list(programs)}
        row.update({v: [round(float(x), 4) for x in va[v]] for v in VARIANTS})
        rows.append(row)
        print(
            f"{name:>10} {programs!s:>9}  base v {va['base'][0]:+.3f} a {va['base'][1]:+.3f}  "
            + "  ".join(
                f"{v}: dv {va[v][0] - va['base'][0]:+.3f} da {va[v][1] - va['base'][1]:+.3f}"
                for v in VARIANTS[1:]
            ),
            flush=True,
        )
    base = np.array([r["base"] for r in rows])
    delta = {v: np.array([r[v] for r in rows]) - base for v in VARIANTS[1:]}
    mean = {v: delta[v].mean(axis=0) for v in delta}
    checks = {
        "minor lowers valence by >= 0.2": bool(mean["minor"][0] <= -0.2),
        "1.5x tempo raises arousal": bool(mean["tempo x1.5"][1] > 0),
        "+-12 dB moves arousal less than tempo": bool(
            max(abs(mean["+12 dB"][1]), abs(mean["-12 dB"][1])) < mean["tempo x1.5"][1]
        ),
        "octave moves valence less than mode": bool(
            max(abs(mean["octave up"][0]), abs(mean["octave down"][0])) < abs(mean["minor"][0])
        ),
    }
    print(f"\nmean over {len(rows)} pieces (dv, da) against the base rendering:")
    for v in VARIANTS[1:]:
        sd = delta[v].std(axis=0)
        print(
            f"  {v:<12} dv {mean[v][0]:+.3f} (sd {sd[0]:.3f})"
            f"  da {mean[v][1]:+.3f} (sd {sd[1]:.3f})"
        )
    for name, ok in checks.items():
        print(f"  {'PASS' if ok else 'FAIL'}  {name}")
    return {
        "pieces": rows,
        "mean_delta": {v: [round(float(x), 4) for x in mean[v]] for v in mean},
        "checks": checks,
        "passed": all(checks.values()),
        "settings": {"seconds": seconds, "settle": settle, "bpm": bpm, "model": str(model)},
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="folder or model file")
    parser.add_argument("--pieces", type=int, default=8, help="major-key chorales (default 8)")
    parser.add_argument("--seconds", type=float, default=20.0, help="music per piece at base")
    parser.add_argument("--settle", type=float, default=2.0, help="seconds not scored")
    parser.add_argument("--bpm", type=float, default=80.0, help="base tempo (default 80)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    if shutil.which("fluidsynth") is None or not SOUNDFONT.is_file():
        print("needs fluidsynth and /usr/share/sounds/sf2/FluidR3_GM.sf2", file=sys.stderr)
        return 2
    model = args.models / "emotionrecognizer.json" if args.models.is_dir() else args.models
    result = probe(model, args.pieces, args.seconds, args.settle, args.bpm)
    if args.json:
        from kelly_core.fileio import atomic_write_json

        atomic_write_json(args.json, result, indent=1)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
