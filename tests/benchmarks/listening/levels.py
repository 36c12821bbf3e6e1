"""Which metrical level Kelly counts, by the truth's tempo: where the tempo errors are.

Not collected by pytest. Run on a split of the benchmark, or on any folder of rendered
pieces (``<name>.wav`` beside its ``<name>.json`` truth, as ``kelly train-beats --build``
writes the training split)::

    .venv/bin/python -m tests.benchmarks.listening.levels --split tune
    .venv/bin/python -m tests.benchmarks.listening.levels --folder ~/.cache/kelly-train/pieces

For each rendered piece the ratio of Kelly's tempo to the truth's (the median tempo of
the beat the score or chart counts) is named as a metrical level: ``x1`` within 4 %
(what the benchmark's ``tempo`` counts), else the nearest of ``x2``, ``x3``, ``x3/2``,
``x1/2``, ``x1/3`` and ``x2/3`` within 4 % of it, else ``other``. The pieces are counted by
level and by the truth's tempo: under 90 BPM, 90 to 140, 140 and over. Recordings (whose
reference is madmom, not a truth) are left out. ``--list`` also prints each piece that is
not at ``x1``.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Final, TextIO

from tests.benchmarks.listening import corpus
from tests.benchmarks.listening.kelly import kelly_listen
from tests.benchmarks.listening.scoring import tempo_within

__all__ = ["BUCKETS", "LEVELS", "bucket", "folder_pieces", "level", "main", "tabulate"]

LEVELS: Final = (
    ("x1", 1.0),
    ("x2", 2.0),
    ("x3", 3.0),
    ("x3/2", 1.5),
    ("x1/2", 0.5),
    ("x1/3", 1.0 / 3.0),
    ("x2/3", 2.0 / 3.0),
)
"""Names and ratios of the levels, in the order the table prints them."""
BUCKETS: Final = ("under 90", "90-140", "140 and over")


def level(estimate: float, reference: float) -> str:
    """The level of ``estimate`` BPM against ``reference`` BPM (module docstring): the
    first of :data:`LEVELS` within the benchmark's 4 % (:func:`.scoring.tempo_within`)."""
    for name, factor in LEVELS:
        if tempo_within(estimate, reference, (factor,)):
            return name
    return "other"


def bucket(reference: float) -> str:
    """The truth's tempo bucket."""
    return BUCKETS[0] if reference < 90.0 else BUCKETS[1] if reference < 140.0 else BUCKETS[2]


def tabulate(pairs: Iterable[tuple[float, float]]) -> Counter[tuple[str, str]]:
    """Counts of ``(bucket, level)`` over ``(estimate, reference)`` pairs."""
    return Counter((bucket(ref), level(est, ref)) for est, ref in pairs)


def folder_pieces(folder: Path) -> list[dict[str, Any]]:
    """The truth records of the rendered pieces in ``folder`` (each with ``"audio"``)."""
    records = []
    for path in sorted(folder.glob("*.json")):
        wav = path.with_suffix(".wav")
        if not wav.is_file():
            continue
        record: dict[str, Any] = json.loads(path.read_text())
        record["audio"] = str(wav)
        records.append(record)
    return records


def print_table(counts: Counter[tuple[str, str]], out: TextIO | None = None) -> None:
    """One row per tempo bucket and one for all; one column per level (to stdout)."""
    out = out or sys.stdout
    names = [name for name, _ in LEVELS] + ["other"]
    out.write("| truth's BPM | pieces | " + " | ".join(names) + " |\n")
    out.write("|---" * (len(names) + 2) + "|\n")
    for row in (*BUCKETS, "all"):
        cells = [
            sum(n for (b, lv), n in counts.items() if lv == name and row in (b, "all"))
            for name in names
        ]
        out.write(f"| {row} | {sum(cells)} | " + " | ".join(str(c) for c in cells) + " |\n")


def main(argv: list[str] | None = None) -> int:
    """Analyse every rendered piece, print the table; 0, or 2 when there is no piece."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--split", choices=("dev", "test", corpus.TUNE))
    where.add_argument("--folder", type=Path, help="a folder of rendered pieces")
    parser.add_argument("--dir", type=Path, default=None, help="default: $KELLY_BENCH_DIR")
    parser.add_argument("--list", action="store_true", help="print each piece not at x1")
    args = parser.parse_args(argv)
    if args.folder is not None:
        records = folder_pieces(args.folder)
    else:
        root = args.dir or corpus.bench_dir()
        corpus.build(args.split, root)
        records = corpus.load_pieces(args.split, root)
    records = [r for r in records if r.get("reference") != "madmom" and r.get("tempo")]
    if not records:
        print(f"no rendered piece with a tempo in {args.folder or args.split}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    pairs = []
    for record in records:
        estimate = float(kelly_listen(record["audio"])["tempo"])
        pairs.append((estimate, float(record["tempo"])))
        if args.list and level(*pairs[-1]) != "x1":
            print(f"{record['name']}: truth {pairs[-1][1]:.1f} BPM, Kelly {estimate:.1f}")
    print_table(tabulate(pairs))
    print(f"\n{len(records)} pieces, {time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
