"""EmotionRecognizer probe on rendered music with drums and several instruments.

Run (not collected by pytest; needs fluidsynth, mma, the FluidR3 GM SoundFont, music21)::

    kelly train -m EmotionRecognizer --output runs/emotion
    python tests/benchmarks/emotion_probe.py --models runs/emotion [--json out.json]

Ten pieces (:data:`PROBE_PIECES`), none of whose composers or grooves trains the model
(``tests/unit/kelly_models/datasets/test_emotion_rendered.py`` checks it): five music21
scores (Mozart, Joplin, Schubert, Chopin, Verdi) given a drum kit on the beats, five
charts of ``mma`` grooves (8Beat, SoftRock, Ska, Samba, RockWaltz) given a melody
(:mod:`kelly_models.datasets.emotion_music`). Each piece is rendered (fluidsynth, one set
of GM programs per piece at places 0, 3, 4 or 6 of their families, levelled to -20 dBFS
RMS) in these variants of the same notes:

- ``parallel``: the parallel mode of the key estimated from the piece's own notes
  (Krumhansl–Schmuckler), so a major piece turns minor and a minor one major;
- ``tempo x1.5``: 1.5 times as fast (the same music is scored: the first ``seconds / 1.5``);
- ``+12 dB`` / ``-12 dB``: the base rendering scaled;
- ``octave up`` / ``octave down``: every pitched note 12 semitones up or down.

Each variant's frames (:func:`kelly_core.encodings.emotion_frame.offline_emotion_frames`)
run through the exported model (numpy backend); its mean decoded (valence, arousal) over
the windows after ``--settle`` seconds is compared with the base rendering's. Per piece
and on average it prints ``mode`` (the valence change toward the parallel mode's side:
down for a major piece, up for a minor one), ``tempo`` (the arousal change at 1.5x),
``gain`` (the larger |arousal change| at ±12 dB) and ``octave`` (the larger |valence
change| an octave up or down). It passes when, on average, mode >= 0.2, tempo > 0,
gain < tempo and octave < |mode|. Exit status 0 only then.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import numpy as np

from kelly_core.encodings.emotion import decode_emotions
from kelly_core.encodings.emotion_frame import offline_emotion_frames
from kelly_models.datasets.emotion_music import (
    Music,
    at_tempo,
    cut,
    estimated_key,
    from_groove,
    from_score,
    parallel_mode,
    programs_for,
    shifted,
    with_drums,
    with_melody,
)
from kelly_models.datasets.emotion_render import RATE, level, render_music
from kelly_models.listening.charts import Style
from kelly_models.listening.pieces import piece_seed
from kelly_models.listening.scores import ScoreSpec

PROBE_PIECES: Final[tuple[tuple[str, ScoreSpec | Style], ...]] = (
    ("mozart-k545-i", ScoreSpec("mozart-k545-i", "mozart/k545/movement1_exposition.mxl", "Mozart")),
    ("mma-8beat", Style("8Beat", 4, "4/4", (80.0, 100.0))),
    ("joplin-maple-leaf", ScoreSpec("joplin-maple-leaf", "joplin/maple_leaf_rag.mxl", "Joplin")),
    ("mma-softrock", Style("SoftRock", 4, "4/4", (75.0, 95.0))),
    ("schubert-lindenbaum",
     ScoreSpec("schubert-lindenbaum", "schubert/Lindenbaum.xml", "Schubert")),
    ("mma-ska", Style("Ska", 4, "4/4", (85.0, 105.0))),
    ("chopin-mazurka-6-2", ScoreSpec("chopin-mazurka-6-2", "chopin/mazurka06-2.krn", "Chopin")),
    ("mma-samba", Style("Samba", 4, "4/4", (80.0, 100.0))),
    ("verdi-donna-mobile", ScoreSpec("verdi-donna-mobile", "verdi/laDonnaEMobile.mxl", "Verdi")),
    ("mma-rockwaltz", Style("RockWaltz", 3, "3/4", (90.0, 110.0))),
)  # fmt: skip
"""The probe's pieces: music21 scores (drums added) and mma grooves (a melody added)."""
PROBE_OFFSETS: Final = (0, 3, 4, 6)
PROBE_KITS: Final = (0, 8, 24, 32, 40)
VARIANTS: Final = ("base", "parallel", "tempo x1.5", "+12 dB", "-12 dB", "octave up", "octave down")
SCORE_BPM: Final = 90.0
EFFECTS: Final = ("mode", "tempo", "gain", "octave")


def probe_music(name: str, source: ScoreSpec | Style, seconds: float) -> Music:
    """A probe piece's base music: ``seconds`` of a score with drums, or of a chart with a
    melody (seeded by its name)."""
    rng = np.random.default_rng(piece_seed(name, 0))
    if isinstance(source, ScoreSpec):
        return cut(with_drums(from_score(source, bpm=SCORE_BPM, seconds=seconds), rng), seconds)
    return cut(with_melody(from_groove(source, rng, seconds=seconds, name=name), rng), seconds)


def variants(music: Music) -> dict[str, tuple[Music, float]]:
    """The rendered variants as (music, gain dB), by :data:`VARIANTS` name (the gains
    reuse the base rendering)."""
    key = estimated_key(music)
    return {
        "base": (music, 0.0),
        "parallel": (parallel_mode(music, key), 0.0),
        "tempo x1.5": (at_tempo(music, 1.5), 0.0),
        "+12 dB": (music, 12.0),
        "-12 dB": (music, -12.0),
        "octave up": (shifted(music, 12), 0.0),
        "octave down": (shifted(music, -12), 0.0),
    }


def emotion(backend: Any, audio: np.ndarray, seconds: float, settle: float) -> np.ndarray:
    """Mean decoded (valence, arousal) over the windows of ``settle .. seconds`` s."""
    backend.reset()
    frames = offline_emotion_frames(audio[: int(seconds * RATE)], RATE)
    codes = backend.run(frames.astype(np.float32))
    points = decode_emotions(codes)[int(settle / 0.5) :]
    return np.asarray(points.mean(axis=0), dtype=np.float64)


def effects(va: Mapping[str, np.ndarray], major: bool) -> dict[str, float]:
    """The four effects of one piece from its variants' mean (valence, arousal)."""
    base = va["base"]
    side = -1.0 if major else 1.0
    return {
        "mode": side * float(va["parallel"][0] - base[0]),
        "tempo": float(va["tempo x1.5"][1] - base[1]),
        "gain": max(abs(float(va[v][1] - base[1])) for v in ("+12 dB", "-12 dB")),
        "octave": max(abs(float(va[v][0] - base[0])) for v in ("octave up", "octave down")),
    }


def verdict(mean: Mapping[str, float]) -> dict[str, bool]:
    """The probe's four checks on the mean effects."""
    return {
        "parallel mode moves valence >= 0.2 the right way": mean["mode"] >= 0.2,
        "1.5x tempo raises arousal": mean["tempo"] > 0,
        "+-12 dB moves arousal less than tempo": mean["gain"] < mean["tempo"],
        "an octave moves valence less than mode": mean["octave"] < abs(mean["mode"]),
    }


def summary(rows: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """Mean effects over the pieces, pieces passing each effect's own check, verdict."""
    mean = {e: float(np.mean([r["effects"][e] for r in rows])) for e in EFFECTS}
    each = {
        "mode": sum(r["effects"]["mode"] >= 0.2 for r in rows),
        "tempo": sum(r["effects"]["tempo"] > 0 for r in rows),
        "gain": sum(r["effects"]["gain"] < r["effects"]["tempo"] for r in rows),
        "octave": sum(r["effects"]["octave"] < abs(r["effects"]["mode"]) for r in rows),
    }
    checks = verdict(mean)
    return {"mean": mean, "pieces_passing": each, "checks": checks, "passed": all(checks.values())}


def probe_piece(
    backend: Any, name: str, source: ScoreSpec | Style, seconds: float, settle: float
) -> dict[str, Any]:
    """Render one piece's variants and score them."""
    music = probe_music(name, source, seconds)
    rng = np.random.default_rng(piece_seed(name, 1))
    programs = programs_for(music, rng, PROBE_OFFSETS, PROBE_KITS)
    renders: dict[int, np.ndarray] = {}
    va = {}
    for variant, (notes, gain) in variants(music).items():
        if id(notes) not in renders:
            renders[id(notes)] = level(render_music(notes, programs), 0.0)
        audio = renders[id(notes)] * np.float32(10 ** (gain / 20))
        length = seconds / (1.5 if variant == "tempo x1.5" else 1.0)
        va[variant] = emotion(backend, audio, length, settle)
    tonic, major = estimated_key(music)
    row: dict[str, Any] = {"piece": name, "key": f"{tonic}:{'major' if major else 'minor'}"}
    row["programs"] = programs
    row |= {v: [round(float(x), 4) for x in va[v]] for v in VARIANTS}
    row["effects"] = {k: round(v, 4) for k, v in effects(va, major).items()}
    return row


def _line(label: str, values: Mapping[str, float]) -> str:
    return f"{label:<22}" + "".join(f"{values[e]:>+9.3f}" for e in EFFECTS)


def probe(model: Path, seconds: float, settle: float) -> dict[str, Any]:
    """Run the probe over :data:`PROBE_PIECES`; print and return the results."""
    from kelly_runtime.loading import load_backend

    backend = load_backend(model, backend="numpy", model="EmotionRecognizer")
    print(f"{'piece':<22}" + "".join(f"{e:>9}" for e in EFFECTS), flush=True)
    rows = []
    for name, source in PROBE_PIECES:
        rows.append(probe_piece(backend, name, source, seconds, settle))
        print(_line(name, rows[-1]["effects"]), flush=True)
    result = summary(rows)
    print(_line(f"mean of {len(rows)}", result["mean"]))
    print(_line("pieces passing", {k: float(v) for k, v in result["pieces_passing"].items()}))
    for check, ok in result["checks"].items():
        print(f"  {'PASS' if ok else 'FAIL'}  {check}")
    settings = {"seconds": seconds, "settle": settle, "model": str(model)}
    return {"pieces": rows, **result, "settings": settings}


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, required=True, help="folder or model file")
    parser.add_argument("--seconds", type=float, default=20.0, help="music per piece (20)")
    parser.add_argument("--settle", type=float, default=4.0, help="seconds not scored (4)")
    parser.add_argument("--json", type=Path, help="also write the results here")
    args = parser.parse_args(argv)
    model = args.models / "emotionrecognizer.json" if args.models.is_dir() else args.models
    result = probe(model, args.seconds, args.settle)
    if args.json:
        from kelly_core.fileio import atomic_write_json

        atomic_write_json(args.json, result, indent=1)
    return 0 if result["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
