"""Does ``kelly generate`` play along? Its notes and chords against the song's own MIDI.

Run (from the repository root; the listening benchmark's pieces must be built, see
``tests/benchmarks/listening/corpus.py``; nothing is rebuilt here)::

    .venv/bin/python -m tests.benchmarks.bench_play_along [--models DIR] [--limit N]
        [--zero-latency]

Over the rendered pieces of the listening benchmark's ``test`` split (each has the MIDI
it was rendered from), ``generate`` runs with every stage on fallback (and with the
models of ``--models`` when given), seed 0, and what it played is measured against the
song's notes (:mod:`tests.benchmarks.play_along_metrics`: clashes, chord tones heard,
chord-root agreement, chord changes). The key and the beats are Kelly's own analysis; the
references below are measured on the same beats, in the same run:

- **random**: per beat three distinct pitch classes of Kelly's key drawn at random (seeded
  per piece), held through the beat; their chord by the song's chord rule;
- **tonic**: the tonic triad of Kelly's key (of the key section), held;
- **same beat**: the song's three pitch classes that sound longest in the beat (an oracle
  that knows the beat it plays);
- **previous beat**: the same taken from the previous beat (a zero-latency follower).

``--zero-latency`` runs Kelly as a zero-latency streaming plugin hears the song (systems
``stream`` and ``stream --models``; ``GenerateOptions(zero_latency=True)``, ``kelly generate
--zero-latency``): each beat is given the previous beat's chroma (the first beat:
silence), in the pipeline's contexts (``Pipeline.step_beat(chroma=)``) and in the
arrangement's chord choice and clash avoidance alike, the notes keeping off the
semitones of the last ``RECENT_BEATS`` heard beats (``BAR_LINE_BEATS`` at a bar line:
:class:`kelly_runtime.generate.playalong.PlayAlong`, the rule a streaming plugin runs);
models for it are trained with ``-O chroma_lag=1``. The beats and the key stay Kelly's
offline analysis of the whole clip (a plugin takes the beats from its host; the key from
``KeyTracker``).

Printed: per piece and overall clashes (% of notes played), chord tones heard (%), root
agreement (% of beats where both have a chord), chord changes / the song's, and how many
pieces change chords within ±30 % of the song's count.
"""

from __future__ import annotations

import argparse
import json
import sys
import zlib
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from kelly_runtime.generate import GenerateOptions, generate
from kelly_runtime.generate.keys import Key, key_at
from kelly_runtime.generate.render import chord_tones
from kelly_runtime.generate.result import GenerationResult
from tests.benchmarks.listening.corpus import load_pieces
from tests.benchmarks.play_along_metrics import (
    Chord,
    Played,
    Song,
    Tally,
    reduce_to_triad,
    song_chords,
    tally,
)

REFERENCES = ("random", "tonic", "same beat", "previous beat")
TOLERANCE = 0.3
"""A piece's chord changes count as following the song within this share of its count."""


def _bounds(result: GenerationResult) -> npt.NDArray[np.float64]:
    starts = np.asarray(result.beat_times, dtype=np.float64)
    step = float(np.median(np.diff(starts))) if starts.size > 1 else 0.5
    end = min(float(starts[-1]) + step, result.audio_duration)
    return np.append(starts, max(end, float(starts[-1]) + 0.01))


def _kelly(result: GenerationResult) -> Played:
    notes = [
        (float(n.start), float(n.end), int(n.pitch))
        for track in result.midi.instruments
        if not track.is_drum
        for n in track.notes
    ]
    chords: list[Chord] = []
    for event in result.chords:
        tones = chord_tones(event.index)
        chords.append((tones[0], tones) if tones else None)
    return Played(notes=notes, chords=chords)


def _held(
    bounds: npt.NDArray[np.float64], sets: list[tuple[int, ...]], chords: list[Chord]
) -> Played:
    notes = [
        (float(bounds[i]), float(bounds[i + 1]), pc) for i, pcs in enumerate(sets) for pc in pcs
    ]
    return Played(notes=notes, chords=chords)


def _strongest(song: Song, a: float, b: float) -> tuple[tuple[int, ...], Chord]:
    weights = song.weights(a, b)
    heard = song.sounding(a, b)
    top = tuple(sorted(heard, key=lambda pc: -weights[pc])[:3])
    kept = np.zeros(12)
    kept[list(top)] = weights[list(top)]
    bass = song.bass(a, b)
    return top, reduce_to_triad(kept, bass if bass in top else None)


def _triad_of(pcs: tuple[int, ...]) -> Chord:
    weights = np.zeros(12)
    weights[list(pcs)] = 1.0
    return reduce_to_triad(weights, pcs[0] if pcs else None)


def references(
    song: Song, bounds: npt.NDArray[np.float64], keys: list[Key], seed: int
) -> dict[str, Played]:
    """The four references' playing on the beats ``bounds`` (module docstring)."""
    rng = np.random.default_rng(seed)
    beats = len(keys)
    rand = [
        tuple(int(x) for x in rng.choice(sorted(k.pitch_classes), 3, replace=False)) for k in keys
    ]
    tonic = [
        tuple((k.tonic + i) % 12 for i in ((0, 4, 7) if k.mode == "major" else (0, 3, 7)))
        for k in keys
    ]
    strong = [_strongest(song, float(bounds[i]), float(bounds[i + 1])) for i in range(beats)]
    same = [s for s, _ in strong]
    previous: list[tuple[int, ...]] = [(), *same[:-1]]
    return {
        "random": _held(bounds, rand, [_triad_of(s) for s in rand]),
        "tonic": _held(bounds, tonic, [(t[0], tuple(sorted(t))) for t in tonic]),
        "same beat": _held(bounds, same, [c for _, c in strong]),
        "previous beat": _held(bounds, previous, [None, *[c for _, c in strong[:-1]]]),
    }


def kelly_systems(models: Path | None, streaming: bool) -> list[str]:
    """The names of Kelly's systems measured: offline, or zero-latency streaming."""
    name = "stream" if streaming else "Kelly"
    return [name, *([f"{name} --models"] if models is not None else [])]


def measure_piece(
    record: dict[str, Any], models: Path | None, *, streaming: bool = False
) -> tuple[dict[str, Tally], dict[str, Any]]:
    """Run ``generate`` on one piece and measure it and the references."""
    wav = Path(record["audio"])
    song = Song.from_midi(wav.with_suffix(".mid"))
    names = kelly_systems(models, streaming)
    systems: dict[str, GenerationResult] = {}
    options = GenerateOptions(seed=0, zero_latency=streaming)
    systems[names[0]] = generate(wav, None, options)
    if models is not None:
        systems[names[1]] = generate(wav, models, options)
    base = systems[names[0]]
    bounds = _bounds(base)
    truth = song_chords(song, bounds)
    segments = base.key_segments
    keys = [key_at(segments, float(t)) if segments else base.key for t in bounds[:-1]]
    seed = zlib.crc32(record["name"].encode())
    played = {name: _kelly(result) for name, result in systems.items()}
    out: dict[str, Tally] = {}
    for name, result in systems.items():
        mine = _bounds(result)
        out[name] = tally(song, mine, played[name], song_chords(song, mine))
    for name, ref in references(song, bounds, keys, seed).items():
        out[name] = tally(song, bounds, ref, truth)
    info = {"name": record["name"], "key": str(base.key), "beats": len(base.beat_times)}
    return out, info


def _cells(t: Tally) -> str:
    return f"{t.clash_pct:5.1f} {t.heard_pct:5.1f} {t.root_pct:5.1f}"


def _within(t: Tally) -> bool:
    return abs(t.changes - t.song_changes) <= TOLERANCE * max(t.song_changes, 1)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and print its tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=Path, default=None, help="a trained model folder")
    parser.add_argument("--split", default="test", choices=("dev", "test"))
    parser.add_argument("--limit", type=int, default=0, help="first N pieces only (0: all)")
    parser.add_argument("--json", type=Path, default=None, help="write per-piece counts here")
    parser.add_argument(
        "--zero-latency",
        action="store_true",
        help="Kelly hears each beat's chroma one beat late, as a zero-latency plugin",
    )
    args = parser.parse_args(argv)
    pieces = [r for r in load_pieces(args.split) if Path(r["audio"]).with_suffix(".mid").is_file()]
    if args.limit:
        pieces = pieces[: args.limit]
    if not pieces:
        print(
            f"no {args.split} pieces with MIDI: build them with tests.benchmarks.listening.corpus"
        )
        return 2
    kelly = kelly_systems(args.models, args.zero_latency)
    systems = [*kelly, *REFERENCES]
    totals = {name: Tally() for name in systems}
    within = dict.fromkeys(systems, 0)
    rows = []
    print("per piece: clash % / chord tones heard % / root agreement % ; changes / song's")
    print(f"{'piece':28} {'key':10} {'beats':>5}  " + "  ".join(f"{s:^17}" for s in systems))
    for record in pieces:
        counts, info = measure_piece(record, args.models, streaming=args.zero_latency)
        cells = "  ".join(_cells(counts[s]) for s in systems)
        first = counts[kelly[0]]
        print(
            f"{info['name'][:28]:28} {info['key']:10} {info['beats']:5}  {cells}"
            f"  changes {first.changes}/{first.song_changes}",
            flush=True,
        )
        for name in systems:
            totals[name].add(counts[name])
            within[name] += _within(counts[name])
        rows.append({**info, **{s: vars(counts[s]) for s in systems}})
    how = ", zero latency" if args.zero_latency else ""
    print(f"\noverall, {len(pieces)} pieces ({args.split} split), Kelly's key and beats{how}")
    print(f"{'system':16} {'clash %':>8} {'heard %':>8} {'root %':>8} {'changes':>15} {'±30 %':>7}")
    for name in systems:
        t = totals[name]
        print(
            f"{name:16} {t.clash_pct:8.1f} {t.heard_pct:8.1f} {t.root_pct:8.1f} "
            f"{t.changes:6}/{t.song_changes:<6} {t.change_ratio:4.2f} "
            f"{within[name]:3}/{len(pieces)}"
        )
    if args.json is not None:
        args.json.write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
