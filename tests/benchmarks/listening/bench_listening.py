"""Listening benchmark: Kelly's beats, downbeats, meter, tempo and key against peers.

Not collected by pytest (``tests/benchmarks`` is ignored by its ``addopts``). Run::

    .venv/bin/python -m tests.benchmarks.listening.bench_listening \\
        [--split test|dev|tune|extra] [--peers] [--limit N] [--json out.json] [--tempo-hint]

The pieces are built first when missing (:mod:`.corpus`; outside the repository, in
``$KELLY_BENCH_DIR``). Rendered pieces are scored against their MIDI; real recordings
against madmom's downbeat tracker (so madmom is not scored on them). Scores
(:mod:`.scoring`): beat F-measure (±70 ms), CMLt, AMLt, downbeat F, tempo within 4 %
(and with octave errors ×2, ×1/2, ×3, ×1/3 counted as right), beats per bar, key
(mir_eval weighted), and seconds of analysis per minute of audio (start-up excluded).

``--peers`` runs madmom, essentia and librosa in their own venv (:mod:`.peers`; results
cached per piece). Licences: madmom's code is BSD, its pretrained models CC BY-NC-SA
4.0; essentia is AGPL-3.0; neither is, nor may become, a dependency of Kelly. librosa
is ISC, mir_eval MIT.

``--tempo-hint`` tells Kelly each piece's reference tempo (the MIDI's median beat tempo;
madmom's tempo on the recordings), as a user would with ``kelly generate --tempo-hint``:
the beats are still found in the audio, at the hinted metrical level.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from tests.benchmarks.listening import corpus, peers
from tests.benchmarks.listening.kelly import kelly_listen
from tests.benchmarks.listening.scoring import score

__all__ = ["evaluate", "main", "summarise"]

SYSTEMS = ("kelly", *peers.PEER_NAMES)


def _analyses(
    pieces: list[dict[str, Any]], cache: Path, *, tempo_hint: bool = False
) -> list[dict[str, Any]]:
    """Kelly's and the cached peers' analyses of every piece (``tempo_hint``: Kelly is
    told the reference tempo)."""
    out = []
    for piece in pieces:
        found: dict[str, Any] = {}
        for peer in peers.PEER_NAMES:
            result = peers.load_peer(cache, Path(piece["audio"]).stem, peer)
            if result is not None:
                found[peer] = result
        hint = None
        if tempo_hint:
            reference = piece if piece["reference"] != "madmom" else found.get("madmom", {})
            hint = reference.get("tempo") or None
        found["kelly"] = kelly_listen(piece["audio"], hint)
        out.append(found)
    return out


def evaluate(pieces: list[dict[str, Any]], analyses: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per piece: its facts and each system's scores."""
    rows = []
    for piece, found in zip(pieces, analyses, strict=True):
        reference: dict[str, Any] | None = piece
        if piece["reference"] == "madmom":
            reference = found.get("madmom")
        row: dict[str, Any] = {
            "name": piece["name"],
            "group": "rendered" if piece["reference"] == "midi" else "recordings",
            "meter": piece.get("meter"),
            "beats_per_bar": None if reference is None else reference.get("beats_per_bar"),
            "tempo": None if reference is None else reference.get("tempo"),
            "key": piece.get("key"),
            "minutes": piece["duration"] / 60.0,
            "systems": {},
        }
        for system, estimate in found.items():
            if reference is None or (system == "madmom" and piece["reference"] == "madmom"):
                continue
            scores = score(reference, estimate)
            scores["seconds"] = float(estimate.get("seconds", 0.0))
            scores["beats_per_bar"] = estimate.get("beats_per_bar")
            row["systems"][system] = scores
        rows.append(row)
    return rows


def _mean(values: list[float]) -> str:
    return f"{np.mean(values):.2f}" if values else "–"


def _count(values: list[Any]) -> str:
    kept = [bool(v) for v in values if v is not None]
    return f"{sum(kept)}/{len(kept)}" if kept else "–"


def summarise(rows: list[dict[str, Any]], group: str) -> dict[str, dict[str, Any]]:
    """Overall scores of every system over the rows of ``group``."""
    chosen = [row for row in rows if row["group"] == group]
    out: dict[str, dict[str, Any]] = {}
    for system in SYSTEMS:
        scored = [(row, row["systems"][system]) for row in chosen if system in row["systems"]]
        if not scored:
            continue
        beat_f = [s["beat_f"] for _, s in scored]
        keys = [s["key"] for _, s in scored if s["key"] is not None]
        profiles: dict[str, list[float]] = {}
        for _, s in scored:
            for profile, value in s["keys"].items():
                if value is not None:
                    profiles.setdefault(profile, []).append(value)
        out[system] = {
            "pieces": len(scored),
            "beat_f_mean": float(np.mean(beat_f)),
            "beat_f_min": float(np.min(beat_f)),
            "cmlt_mean": float(np.mean([s["cmlt"] for _, s in scored])),
            "amlt_mean": float(np.mean([s["amlt"] for _, s in scored])),
            "downbeat_f": [s["downbeat_f"] for _, s in scored if s["downbeat_f"] is not None],
            "tempo": [s["tempo"] for _, s in scored],
            "tempo_any": [s["tempo_any"] for _, s in scored],
            "meter": [s["meter"] for _, s in scored],
            "triple_as_quadruple": sum(
                1 for r, s in scored if r["beats_per_bar"] == 3 and s["beats_per_bar"] == 4
            )
            if any(s["beats_per_bar"] for _, s in scored)
            else None,
            "key": keys,
            "key_profiles": {p: float(np.mean(v)) for p, v in profiles.items()},
            "seconds_per_minute": sum(s["seconds"] for _, s in scored)
            / sum(r["minutes"] for r, _ in scored),
        }
    return out


def _cell(scores: dict[str, Any] | None) -> str:
    if scores is None:
        return "–"
    down = "–" if scores["downbeat_f"] is None else f"{scores['downbeat_f']:.2f}"
    tempo = "T" if scores["tempo"] else ("o" if scores["tempo_any"] else "-")
    meter = scores["beats_per_bar"] or "–"
    key = "–" if scores["key"] is None else f"{scores['key']:.1f}"
    return f"{scores['beat_f']:.2f} {down} {tempo} {meter} {key}"


def print_tables(rows: list[dict[str, Any]], out: Any = sys.stdout) -> None:
    """Markdown: one row per piece, then the overall tables per group."""
    print("Per piece: beat F, downbeat F, tempo (T within 4 %, o octave error, - wrong),", file=out)
    print("beats per bar found, key score.\n", file=out)
    print("| piece | meter | BPM | " + " | ".join(SYSTEMS) + " |", file=out)
    print("|---" * (3 + len(SYSTEMS)) + "|", file=out)
    for row in rows:
        tempo = "–" if row["tempo"] is None else f"{row['tempo']:.0f}"
        cells = [_cell(row["systems"].get(system)) for system in SYSTEMS]
        meter = row["meter"] or f"({row['beats_per_bar']})"
        print(f"| {row['name']} | {meter} | {tempo} | " + " | ".join(cells) + " |", file=out)
    for group in ("rendered", "recordings"):
        summary = summarise(rows, group)
        if not summary:
            continue
        against = "the MIDI" if group == "rendered" else "madmom"
        print(f"\n**{group}** (scored against {against}):\n", file=out)
        print(
            "| system | pieces | beat F mean / min | CMLt | AMLt | downbeat F | tempo 4 % |"
            " tempo incl. octave | meter | 3/4 as 4/4 | key | s per min |",
            file=out,
        )
        print("|---" * 12 + "|", file=out)
        for system, s in summary.items():
            profiles = ", ".join(f"{p} {v:.2f}" for p, v in s["key_profiles"].items())
            key = _mean(s["key"]) + (f" ({profiles})" if profiles else "")
            print(
                f"| {system} | {s['pieces']} | {s['beat_f_mean']:.2f} / {s['beat_f_min']:.2f} "
                f"| {s['cmlt_mean']:.2f} | {s['amlt_mean']:.2f} | {_mean(s['downbeat_f'])} "
                f"| {_count(s['tempo'])} | {_count(s['tempo_any'])} | {_count(s['meter'])} "
                f"| {s['triple_as_quadruple'] if s['triple_as_quadruple'] is not None else '–'} "
                f"| {key} | {s['seconds_per_minute']:.2f} |",
                file=out,
            )


def main(argv: list[str] | None = None) -> int:
    """Build what is missing, analyse, score, print; optionally write JSON."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--split", choices=("dev", "test", corpus.TUNE, corpus.EXTRA), default="test"
    )
    parser.add_argument("--peers", action="store_true", help="run the peers (cached)")
    parser.add_argument("--limit", type=int, default=None, help="first N pieces only")
    parser.add_argument("--json", type=Path, default=None, help="write the results here")
    parser.add_argument("--dir", type=Path, default=None, help="default: $KELLY_BENCH_DIR")
    parser.add_argument(
        "--tempo-hint", action="store_true", help="tell Kelly the reference tempo (a user's hint)"
    )
    args = parser.parse_args(argv)
    if args.peers and args.split == corpus.TUNE:
        parser.error("--peers: the peers are compared on dev and test, not on the tune split")
    root = args.dir or corpus.bench_dir()
    started = time.perf_counter()
    problems = corpus.build(args.split, root)
    built_s = time.perf_counter() - started
    pieces = corpus.load_pieces(args.split, root)[: args.limit]
    cache = root / "peers" / args.split
    started = time.perf_counter()
    if args.peers:
        peers.run_peers([Path(p["audio"]) for p in pieces], cache)
    peers_s = time.perf_counter() - started
    started = time.perf_counter()
    analyses = _analyses(pieces, cache, tempo_hint=args.tempo_hint)
    kelly_s = time.perf_counter() - started
    rows = evaluate(pieces, analyses)
    print_tables(rows)
    print(
        f"\n{len(pieces)} pieces ({args.split}); build {built_s:.0f} s, peers {peers_s:.0f} s,"
        f" Kelly {kelly_s:.0f} s (wall); {len(problems)} build problem(s)"
    )
    if args.json is not None:
        summary = {group: summarise(rows, group) for group in ("rendered", "recordings")}
        payload = {"split": args.split, "rows": rows, "summary": summary}
        args.json.write_text(json.dumps(payload, indent=1, default=str))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
