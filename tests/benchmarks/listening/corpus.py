"""The listening benchmark's pieces: rendered music with exact ground truth, and recordings.

Built into ``$KELLY_BENCH_DIR`` (default ``~/.cache/kelly-bench/listening``), never into
the repository: ``<dir>/<split>/<name>.wav`` (+ ``.mid``) and ``<name>.json`` with the
truth. Run::

    .venv/bin/python -m tests.benchmarks.listening.corpus [--split dev|test|all|tune|extra]

Deterministic (a seed per piece, from its name and ``--seed``); pieces already built are
kept (``--force`` rebuilds). Two processes render in parallel.

**Two disjoint splits.** ``dev`` is for tuning; nothing may be tuned on ``test``, and a
tracker's training material must not use what ``test`` holds (its composers, mma
styles, GM programs or drum kits; :func:`held_out` lists them). A third split, ``tune``
(:mod:`.tuning`, 323 rendered pieces with music21 10.5, built only when named; ``all`` means dev
and test), is for judging an idea on many pieces before it meets ``test``. A fourth,
``extra`` (:data:`EXTRA_RECORDINGS`: 23 recordings of five game-music packages no other
split uses), is for measuring only.

- **dev** (15 pieces: 13 rendered, 2 recordings):

  - music21: Bach chorales (bwv10.7, bwv11.6, bwv103.6), Haydn (op. 74/1 iii, op. 1/1 i),
    German children's songs of the Essen collection (``kinder0``: 2/4, 3/4, 6/8);
  - mma styles: BasicRock, Waltz, 68March, Swing, BossaNova;
  - GM programs whose place in their family of eight is 1, 2, 5 or 7 (bright and
    electric grand, EP 2, clavinet, viola, cello, pizzicato, timpani, …);
    drum kits 1, 9, 16, 25, 33 (Standard 1, Room 1, Power, TR-808, Jazz 1);
  - recordings: singularity-music (2).

- **test** (60 pieces: 52 rendered, 8 recordings):

  - music21: Mozart, Beethoven, Schubert, Joplin, Chopin, Weber, Verdi, R. and C.
    Schumann, C. P. E. Bach, Corelli, Berlin (a lead sheet), Monteverdi, Palestrina, and
    folk tunes of O'Neill's, Ryan's Mammoth, Aird's Airs and the American fife book
    (``TEST_SCORES``: 26);
  - mma styles: the 26 of ``TEST_STYLES`` (rock, funk, ska, swing and shuffle, latin,
    waltzes, 6/8 and 12/8, 5/4);
  - GM programs at places 0, 3, 4, 6 (acoustic grand, honky-tonk, EP 1, harpsichord,
    violin, contrabass, tremolo strings, harp, …); drum kits 0, 8, 17, 24, 32, 40
    (Standard, Room, Power 1, Electronic, Jazz, Brush);
  - recordings: hyperrogue-music (3), ufoai-music (3), singularity-music (2 others).

**Truth.** Rendered pieces: beats and downbeats from pretty_midi on the MIDI rendered
(:mod:`kelly_models.listening.render`: 6/8 is two dotted-quarter beats per bar, 9/8
three, 12/8 four, 3/8 three eighths, 2/2 two halves, 4/2 four halves), beats per bar,
tempo (median BPM of that beat level), key (``"Eb:minor"``; for mma the key written,
for music21 the score's own Key object with a mode else music21's analysis of the
excerpt; ``key`` null for the modal Renaissance pieces and for Weber, whose Key object
and analysis disagree).
A score excerpt starts at its first complete bar and keeps one time signature
(:mod:`kelly_models.listening.scores`). Tempo: the counted beat at a random BPM in a
range per meter or style (60–180 for quarter-note beats, 45–110 for dotted beats,
50–100 for half-note beats); mma pieces change tempo in about a third of the charts.
Recordings: no truth (``"reference": "madmom"``): the benchmark scores them against
madmom's downbeat tracker.

The machinery (scores, charts, rendering, the parallel build) is
:mod:`kelly_models.listening.pieces`, shared with ``kelly train-beats --build``, whose
train split (:mod:`kelly_models.listening.trainset`) must stay clear of :func:`held_out`
(``tests/unit/kelly_models/listening/test_trainset.py`` checks it).
"""

from __future__ import annotations

import argparse
import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

import numpy as np

from kelly_models.listening.charts import Style
from kelly_models.listening.pieces import (
    Palette,
    PieceJob,
    build_folder,
    build_piece,
    named_jobs,
    piece_seed,
)
from kelly_models.listening.scores import ScoreSpec
from kelly_models.listening.trainset import TRAIN_PALETTE
from tests.benchmarks.listening import recordings, tuning

__all__ = ["bench_dir", "build", "held_out", "load_pieces", "main"]


@dataclass(frozen=True)
class RecordingSpec:
    """An audio file of a Debian game-music package."""

    name: str
    package: str
    file: str


DEV_SCORES = (
    ScoreSpec("bach-bwv10.7", "bach/bwv10.7.mxl", "Bach"),
    ScoreSpec("bach-bwv11.6", "bach/bwv11.6.mxl", "Bach"),
    ScoreSpec("bach-bwv103.6", "bach/bwv103.6.mxl", "Bach"),
    ScoreSpec("haydn-op74n1-iii", "haydn/opus74no1/movement3.mxl", "Haydn"),
    ScoreSpec("haydn-op1n1-i", "haydn/opus1no1/movement1.mxl", "Haydn"),
    ScoreSpec("essen-kinder-2-4", "essenFolksong/kinder0.abc", "Essen folk", 0, "2/4"),
    ScoreSpec("essen-kinder-3-4", "essenFolksong/kinder0.abc", "Essen folk", 0, "3/4"),
    ScoreSpec("essen-kinder-6-8", "essenFolksong/kinder0.abc", "Essen folk", 1, "6/8"),
)
TEST_SCORES = (
    ScoreSpec("mozart-k80-iii", "mozart/k80/movement3.mxl", "Mozart"),
    ScoreSpec("mozart-k155-i", "mozart/k155/movement1.mxl", "Mozart"),
    ScoreSpec("mozart-k458-ii", "mozart/k458/movement2.mxl", "Mozart"),
    ScoreSpec("mozart-k545-i", "mozart/k545/movement1_exposition.mxl", "Mozart"),
    ScoreSpec("beethoven-op18n1-i", "beethoven/opus18no1/movement1.mxl", "Beethoven"),
    ScoreSpec("beethoven-op18n1-iv", "beethoven/opus18no1/movement4.mxl", "Beethoven"),
    ScoreSpec("beethoven-op59n1-ii", "beethoven/opus59no1/movement2.mxl", "Beethoven"),
    ScoreSpec("schubert-lindenbaum", "schubert/Lindenbaum.xml", "Schubert"),
    ScoreSpec("joplin-maple-leaf", "joplin/maple_leaf_rag.mxl", "Joplin"),
    ScoreSpec("chopin-mazurka-6-2", "chopin/mazurka06-2.krn", "Chopin"),
    ScoreSpec("weber-concertino", "weber/concertino_clarinet.mxl", "Weber", key_scored=False),
    ScoreSpec("verdi-donna-mobile", "verdi/laDonnaEMobile.mxl", "Verdi"),
    ScoreSpec("schumann-op41n1-iii", "schumann_robert/opus41no1/movement3.mxl", "R. Schumann"),
    ScoreSpec("schumann-dichterliebe-2", "schumann_robert/dichterliebe_no2.xml", "R. Schumann"),
    ScoreSpec("clara-polonaise-1", "schumann_clara/polonaise_op1n1.mxl", "C. Schumann"),
    ScoreSpec("cpebach-h186", "cpebach/h186.mxl", "C. P. E. Bach"),
    ScoreSpec("corelli-op3n1-grave", "corelli/opus3no1/1grave.xml", "Corelli"),
    ScoreSpec("berlin-alexander", "leadSheet/berlinAlexandersRagtime.mxl", "Berlin"),
    ScoreSpec("monteverdi-3-1", "monteverdi/madrigal.3.1.mxl", "Monteverdi", key_scored=False),
    ScoreSpec("palestrina-agnus-01", "palestrina/Agnus_01.krn", "Palestrina", key_scored=False),
    ScoreSpec("oneills-jig", "oneills1850/0001-0050.abc", "O'Neill's", 0, "6/8"),
    ScoreSpec("oneills-reel", "oneills1850/0001-0050.abc", "O'Neill's", 0, "4/4"),
    ScoreSpec("ryans-6-8", "ryansMammoth/", "Ryan's Mammoth", 1, "6/8"),
    ScoreSpec("ryans-2-4", "ryansMammoth/", "Ryan's Mammoth", 0, "2/4"),
    ScoreSpec("airds-3-4", "airdsAirs/book1.abc", "Aird's Airs", 0, "3/4"),
    ScoreSpec("fife-2-4", "miscFolk/americanfifeopus.abc", "American fife", 2, "2/4"),
)
DEV_STYLES = (
    Style("BasicRock", 4, "4/4", (80, 150)),
    Style("Waltz", 3, "3/4", (90, 180)),
    Style("68March", 2, "6/8", (90, 130)),
    Style("Swing", 4, "4/4", (100, 180)),
    Style("BossaNova", 4, "4/4", (110, 150)),
)
TEST_STYLES = (
    Style("8Beat", 4, "4/4", (80, 150)),
    Style("SoftRock", 4, "4/4", (70, 120)),
    Style("R&B", 4, "4/4", (80, 130)),
    Style("BVFunk", 4, "4/4", (85, 115)),
    Style("Ska", 4, "4/4", (110, 170)),
    Style("FastSwing", 4, "4/4", (160, 200)),
    Style("EasySwing", 4, "4/4", (90, 150)),
    Style("ShuffleBoggie", 4, "4/4", (90, 150)),
    Style("Samba", 4, "4/4", (90, 130)),
    Style("Salsa", 4, "4/4", (150, 200)),
    Style("Mambo", 4, "4/4", (150, 200)),
    Style("Rhumba", 4, "4/4", (90, 130)),
    Style("Tango", 4, "4/4", (110, 135)),
    Style("Merengue", 4, "4/4", (110, 160)),
    Style("Jive", 4, "4/4", (140, 180)),
    Style("Polka", 4, "4/4", (100, 140)),
    Style("RagTime", 4, "4/4", (80, 120)),
    Style("Trance", 4, "4/4", (120, 145)),
    Style("CountryWaltz", 3, "3/4", (90, 150)),
    Style("JazzWaltz", 3, "3/4", (110, 190)),
    Style("VieneseWaltz", 3, "3/4", (150, 200)),
    Style("RockWaltz", 3, "3/4", (90, 160)),
    Style("68Swing", 6, "6/8", (45, 100)),
    Style("Blues68", 6, "6/8", (45, 90)),
    Style("Ballad68", 4, "12/8", (50, 80)),
    Style("Jazz54", 5, "5/4", (120, 180)),
)
DEV_RECORDINGS = (
    RecordingSpec("rec-singularity-coherence", "singularity-music", "Coherence.ogg"),
    RecordingSpec("rec-singularity-through-space", "singularity-music", "Through Space.ogg"),
)
TEST_RECORDINGS = (
    RecordingSpec("rec-hyperrogue-caribbean", "hyperrogue-music", "hr-savino-caribbean.ogg"),
    RecordingSpec("rec-hyperrogue-desert", "hyperrogue-music", "hr3-desert.ogg"),
    RecordingSpec("rec-hyperrogue-hell", "hyperrogue-music", "hr3-hell.ogg"),
    RecordingSpec("rec-ufoai-battlescape01", "ufoai-music", "Crystan-Battlescape01.ogg"),
    RecordingSpec("rec-ufoai-firefight", "ufoai-music", "MarineFireFight.ogg"),
    RecordingSpec("rec-ufoai-psymong-n1", "ufoai-music", "PsymongN1.ogg"),
    RecordingSpec("rec-singularity-awakening", "singularity-music", "Awakening.ogg"),
    RecordingSpec("rec-singularity-media-threat", "singularity-music", "Media Threat.ogg"),
)
EXTRA_RECORDINGS = (
    RecordingSpec("rec-asc-frontiers", "asc-music", "frontiers.mp3"),
    RecordingSpec("rec-asc-machine-wars", "asc-music", "machine_wars.mp3"),
    RecordingSpec("rec-asc-time-to-strike", "asc-music", "time_to_strike.mp3"),
    RecordingSpec("rec-drascula-track1", "drascula-music", "track1.ogg"),
    RecordingSpec("rec-drascula-track15", "drascula-music", "track15.ogg"),
    RecordingSpec("rec-drascula-track20", "drascula-music", "track20.ogg"),
    RecordingSpec("rec-drascula-track3", "drascula-music", "track3.ogg"),
    RecordingSpec("rec-drascula-track7", "drascula-music", "track7.ogg"),
    RecordingSpec("rec-nexuiz-beast-of-insanity", "nexuiz-music", "beast-of-insanity.ogg"),
    RecordingSpec("rec-nexuiz-calling-bogus", "nexuiz-music", "calling-bogus.ogg"),
    RecordingSpec("rec-nexuiz-infight", "nexuiz-music", "infight.ogg"),
    RecordingSpec("rec-nexuiz-sixtyfour", "nexuiz-music", "sixtyfour_.ogg"),
    RecordingSpec("rec-nexuiz-thru-the-mirror", "nexuiz-music", "thru-the-mirror.ogg"),
    RecordingSpec("rec-planetblupi-music000", "planetblupi-music-ogg", "music000.ogg"),
    RecordingSpec("rec-planetblupi-music002", "planetblupi-music-ogg", "music002.ogg"),
    RecordingSpec("rec-planetblupi-music004", "planetblupi-music-ogg", "music004.ogg"),
    RecordingSpec("rec-planetblupi-music006", "planetblupi-music-ogg", "music006.ogg"),
    RecordingSpec("rec-planetblupi-music008", "planetblupi-music-ogg", "music008.ogg"),
    RecordingSpec(
        "rec-warzone-menu-enhanced",
        "warzone2100-music",
        "albums/aftermath_soundtrack/menu_enhanced.opus",
    ),
    RecordingSpec(
        "rec-warzone-aftermath-22", "warzone2100-music", "albums/aftermath_soundtrack/track22.opus"
    ),
    RecordingSpec(
        "rec-warzone-track3-enhanced",
        "warzone2100-music",
        "albums/aftermath_soundtrack/track3_enhanced.opus",
    ),
    RecordingSpec(
        "rec-warzone-legacy-15", "warzone2100-music", "albums/legacy_soundtrack/track15.opus"
    ),
    RecordingSpec(
        "rec-warzone-legacy-8", "warzone2100-music", "albums/legacy_soundtrack/track8.opus"
    ),
)
"""The ``extra`` split: recordings of five packages no other split uses, picked by a rule
before any was heard: of each package's music files at least 60 s long, in path order,
the first and every ``ceil(n / 5)``-th after it, five at most."""
PROGRAM_OFFSETS = {"dev": (1, 2, 5, 7), "test": (0, 3, 4, 6)}
"""Place (0–7) of a GM program in its family of eight, per split."""
DRUM_KITS = {"dev": (1, 9, 16, 25, 33), "test": (0, 8, 17, 24, 32, 40)}
"""FluidR3_GM drum kits (bank 128 presets) per split."""
PALETTES = {split: Palette(PROGRAM_OFFSETS[split], DRUM_KITS[split]) for split in ("dev", "test")}
EXTRA: Final = "extra"
"""The split of recordings only (:data:`EXTRA_RECORDINGS`), to measure, never to tune on."""
PALETTES[EXTRA] = PALETTES["test"]  # recordings render nothing; a job needs a palette
SPLITS = {
    "dev": (DEV_SCORES, DEV_STYLES, DEV_RECORDINGS),
    "test": (TEST_SCORES, TEST_STYLES, TEST_RECORDINGS),
    EXTRA: ((), (), EXTRA_RECORDINGS),
}
TUNE: Final = "tune"
"""The split of several hundred pieces for judging ideas (:mod:`.tuning`); built only when
asked for by name."""


def held_out() -> dict[str, list[Any]]:
    """What training material must not contain: the test split's sources."""
    return {
        "music21_paths": sorted({spec.path for spec in TEST_SCORES}),
        "mma_grooves": [style.groove for style in TEST_STYLES],
        "program_offsets": list(PROGRAM_OFFSETS["test"]),
        "drum_kits": list(DRUM_KITS["test"]),
        "recordings": [f"{r.package}/{r.file}" for r in TEST_RECORDINGS],
    }


def bench_dir() -> Path:
    """``$KELLY_BENCH_DIR`` or ``~/.cache/kelly-bench/listening``."""
    env = os.environ.get("KELLY_BENCH_DIR")
    return Path(env) if env else Path.home() / ".cache" / "kelly-bench" / "listening"


def _jobs(split: str, seed: int) -> list[PieceJob]:
    """The pieces of ``split``: scores, grooves (``mma-<groove>``), recordings."""
    if split == TUNE:
        return named_jobs(tuning.tune_sources(), split=split, seed=seed, palette=TRAIN_PALETTE)
    scores, styles, recordings_ = SPLITS[split]
    named: list[tuple[str, Any]] = [(spec.name, spec) for spec in scores]
    named += [(f"mma-{style.slug}", style) for style in styles]
    named += [(spec.name, spec) for spec in recordings_]
    # A groove's seed comes from its groove name (as it always has), a piece's from its name.
    return [
        PieceJob(
            name=name,
            source=source,
            split=split,
            seed=piece_seed(source.groove if isinstance(source, Style) else name, seed),
            palette=PALETTES[split],
        )
        for name, source in named
    ]


def _build_bench_piece(job: PieceJob, folder: Path) -> dict[str, Any] | None:
    """A recording's excerpt, or a rendered piece (:func:`build_piece`)."""
    if isinstance(job.source, RecordingSpec):
        rng = np.random.default_rng(job.seed)
        return recordings.build_recording(job.source, rng, folder / job.name)
    return build_piece(job, folder)


def build(
    split: str, folder: Path | None = None, *, seed: int = 0, force: bool = False, workers: int = 2
) -> list[str]:
    """Build the pieces of ``split`` missing below ``folder``; returns the problems."""
    target = (folder or bench_dir()) / split
    jobs = _jobs(split, seed)
    return build_folder(jobs, target, builder=_build_bench_piece, force=force, workers=workers)


def load_pieces(split: str, folder: Path | None = None) -> list[dict[str, Any]]:
    """The truth records of ``split`` (each with ``"audio"``: the WAV's path), in order."""
    target = (folder or bench_dir()) / split
    records = []
    for job in _jobs(split, 0):
        path = target / f"{job.name}.json"
        if path.is_file():
            record: dict[str, Any] = json.loads(path.read_text())
            record["audio"] = str(target / f"{job.name}.wav")
            records.append(record)
    return records


def main(argv: list[str] | None = None) -> int:
    """Build the benchmark's pieces."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--split", choices=("dev", "test", "all", TUNE, EXTRA), default="all")
    parser.add_argument("--dir", type=Path, default=None, help="default: $KELLY_BENCH_DIR")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--force", action="store_true", help="rebuild pieces already built")
    parser.add_argument("--held-out", action="store_true", help="print the test sources, JSON")
    args = parser.parse_args(argv)
    if args.held_out:
        print(json.dumps(held_out(), indent=1))
        return 0
    started = time.perf_counter()
    problems: list[str] = []
    for split in ("dev", "test") if args.split == "all" else (args.split,):
        problems += build(split, args.dir, seed=args.seed, force=args.force)
    print(f"built in {time.perf_counter() - started:.0f} s; {len(problems)} problem(s)")
    for problem in problems:
        print(f"  {problem}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
