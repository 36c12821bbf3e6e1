"""The beat tracker's training split, ``train``: rendered pieces with exact beats.

``kelly train-beats --build DIR`` builds it (:func:`train_jobs`, :mod:`.pieces`) into
``DIR`` and trains on it. 498 pieces of 30–60 s (about 45 s on average, some 6 hours of
audio):

============== ====== ================================================================
source         pieces what
============== ====== ================================================================
mma grooves    316    the 79 grooves of :data:`TRAIN_GROOVES`, 4 charts each
                      (``tr-mma-<groove>-<k>``): every style file of mma's standard
                      library with ``Time`` 3, 4 or 6, by its first ``DefGroove``, less
                      the benchmark's grooves and the metronomes, intros and ``None``
Bach chorales  79     :data:`CHORALES` (80 drawn from music21's ``bach/bwv*.mxl``, less
                      bwv10.7 of the benchmark's dev split)
folk tunes     94     the first two tunes in 2/4, 3/4, 4/4 and 6/8 of twelve Essen
                      collections (:data:`ESSEN_COLLECTIONS`; four of those 96 tunes do
                      not exist), and the first two 4/4 reels of the Nottingham data set
Haydn          6      string quartets op. 1 no. 1 (ii, iii, iv), op. 74 no. 1 (i, ii, iv)
other scores   3      Beach, J. R. Johnson, Liliuʻokalani
============== ====== ================================================================

Sounds: GM programs at places 1, 2, 5 and 7 of their family of eight and drum kits 1, 9,
16, 25 and 33 (:data:`TRAIN_PALETTE`, the benchmark's dev sounds).

**The rule.** The listening benchmark (``tests/benchmarks/listening/corpus.py``) keeps a
test split that nothing may be trained on, and a dev split for tuning. The train split
shares nothing with the test split (its ``held_out()``: music21 paths and composers, mma
grooves and their style files, GM program places, drum kits; no music21 folder either)
and no music21 path, tune or mma groove with the dev split. This module cannot import
the benchmark (it is not part of the package), so
``tests/unit/kelly_models/listening/test_trainset.py`` imports both and checks the rule;
an entry added here must pass it.
"""

from __future__ import annotations

from typing import Final

from kelly_models.listening.charts import Style
from kelly_models.listening.pieces import Palette, PieceJob, named_jobs
from kelly_models.listening.scores import ScoreSpec

__all__ = [
    "CHORALES",
    "ESSEN_COLLECTIONS",
    "RENDERS_PER_GROOVE",
    "TRAIN_GROOVES",
    "TRAIN_PALETTE",
    "TRAIN_SCORES",
    "TRAIN_STYLES",
    "train_jobs",
]

SPLIT: Final = "train"
TRAIN_PALETTE: Final = Palette(program_offsets=(1, 2, 5, 7), drum_kits=(1, 9, 16, 25, 33))
RENDERS_PER_GROOVE: Final = 4
"""Charts rendered per groove (a random key, tempo, progression and sounds each)."""

TRAIN_GROOVES: Final[dict[int, tuple[str, ...]]] = {
    4: (
        "50sRock", "60sRock", "Arpeggio4", "Ballad", "Ballad128", "Beguine", "BigBand",
        "BlueGrass", "Blues", "Blues128", "BoggieWoggie", "Bolero", "BoneyM", "Broadway",
        "BubbleRock", "BWMarch", "Calypso", "ChaCha", "Charleston", "CountryBlues",
        "CountrySwing", "CubanGuitar", "DescendingJazz", "Desert", "Dixie", "DixieMarch",
        "DSoul", "Evansish", "FastBlues", "Folk", "FolkBallad", "FolkRock",
        "FolkyJazzGuitar", "Foxtrot", "GuitarBallad", "GypsyJazz", "HillCountry", "Hymn",
        "JazzCombo", "JazzGuitar", "JazzRhumba", "JazzRock", "LFusion", "LightTango",
        "Lullaby", "MellowJazz", "ModernJazz", "NiteJazz", "PianoBallad", "PopBallad",
        "PopSpiritual", "QuickStep", "R&B-Ballad", "Rock128", "RockBallad", "ShowTune",
        "SlowBlues", "SlowBolero", "SlowBroadway", "SlowCountry", "SlowJazz",
        "SlowSpiritual", "Softshoe", "Son", "Spiritual", "StringBallad", "Strut", "Twist",
        "WesternSwing", "Zydeco",
    ),
    3: (
        "Afro-Cuban", "ArpeggioWaltz", "BroadwayWaltz", "FastJazzWaltz", "FastWaltz",
        "FrenchWaltz", "LatinWaltz", "ModernJazzWaltz",
    ),
    6: ("Arpeggio68",),
}  # fmt: skip
"""Groove names by mma ``Time`` (beats per mma bar)."""
_METER = {3: "3/4", 4: "4/4", 6: "6/8"}
_BPM = {3: (90.0, 180.0), 4: (70.0, 180.0), 6: (45.0, 100.0)}
"""Range of the counted beat's tempo by ``Time`` (``Time 6``: dotted quarters)."""
TRAIN_STYLES: Final = tuple(
    Style(groove, time, _METER[time], _BPM[time])
    for time, grooves in TRAIN_GROOVES.items()
    for groove in grooves
)

CHORALES: Final = (
    "bwv1.6", "bwv102.7", "bwv104.6", "bwv110.7", "bwv112.5", "bwv112.5-sc", "bwv114.7",
    "bwv125.6", "bwv13.6", "bwv135.6", "bwv153.1", "bwv157.5", "bwv164.6", "bwv169.7",
    "bwv197.5", "bwv227.11", "bwv227.3", "bwv244.15", "bwv244.40", "bwv245.5",
    "bwv248.64-6", "bwv251", "bwv252", "bwv254", "bwv255", "bwv258", "bwv260", "bwv273",
    "bwv275", "bwv279", "bwv28.6", "bwv290", "bwv296", "bwv297", "bwv298", "bwv299",
    "bwv307", "bwv309", "bwv31.9", "bwv315", "bwv317", "bwv319", "bwv326", "bwv33.6",
    "bwv332", "bwv340", "bwv347", "bwv349", "bwv358", "bwv36.8-2", "bwv363", "bwv368",
    "bwv369", "bwv37.6", "bwv373", "bwv379", "bwv382", "bwv395", "bwv4.8", "bwv40.6",
    "bwv400", "bwv412", "bwv413", "bwv419", "bwv421", "bwv429", "bwv48.3", "bwv48.7",
    "bwv60.5", "bwv65.7", "bwv66.6", "bwv69.6-a", "bwv70.7", "bwv72.6", "bwv87.7",
    "bwv91.6", "bwv93.7", "bwv95.7", "bwv99.6",
)  # fmt: skip
"""Bach chorales, music21's ``bach/<name>.mxl``."""
ESSEN_COLLECTIONS: Final = (
    "altdeu10", "altdeu20", "ballad10", "ballad20", "ballad30", "boehme10", "erk10",
    "erk20", "erk5", "fink0", "lot", "zuccal0",
)  # fmt: skip
"""Essen folk-song collections, music21's ``essenFolksong/<name>.abc``."""
_FOLK_METERS = ("2/4", "3/4", "4/4", "6/8")
_NO_SUCH_TUNE = frozenset(
    {("altdeu10", "2/4", 1), ("altdeu20", "6/8", 0), ("altdeu20", "6/8", 1), ("erk5", "6/8", 1)}
)
"""(collection, meter, number) of the tunes a collection lacks."""
_FOLK: Final = tuple(
    ScoreSpec(
        f"tr-{collection}-{meter.replace('/', '')}-{number}",
        f"essenFolksong/{collection}.abc",
        "folk",
        number,
        meter,
    )
    for collection in ESSEN_COLLECTIONS
    for meter in _FOLK_METERS
    for number in (0, 1)
    if (collection, meter, number) not in _NO_SUCH_TUNE
) + tuple(
    ScoreSpec(f"tr-reelsa-c-44-{n}", "nottingham-dataset/reelsa-c.abc", "folk", n, "4/4")
    for n in (0, 1)
)
_OTHER: Final = (
    ScoreSpec("tr-haydn-op1n1-ii", "haydn/opus1no1/movement2.mxl", "Haydn"),
    ScoreSpec("tr-haydn-op1n1-iii", "haydn/opus1no1/movement3.mxl", "Haydn"),
    ScoreSpec("tr-haydn-op1n1-iv", "haydn/opus1no1/movement4.mxl", "Haydn"),
    ScoreSpec("tr-haydn-op74n1-i", "haydn/opus74no1/movement1.mxl", "Haydn"),
    ScoreSpec("tr-haydn-op74n1-ii", "haydn/opus74no1/movement2.mxl", "Haydn"),
    ScoreSpec("tr-haydn-op74n1-iv", "haydn/opus74no1/movement4.mxl", "Haydn"),
    ScoreSpec("tr-beach-prayer", "beach/prayer_of_a_tired_child.musicxml", "Beach"),
    ScoreSpec("tr-johnson-lift-every-voice", "johnson_j_r/lift_every_voice.mxl", "Johnson"),
    ScoreSpec("tr-liliuokalani-aloha-oe", "liliuokalani/aloha_oe.mxl", "Liliuokalani"),
)
TRAIN_SCORES: Final = (
    tuple(ScoreSpec(f"tr-bach-{name}", f"bach/{name}.mxl", "Bach") for name in CHORALES)
    + _FOLK
    + _OTHER
)
"""Every music21 score of the train split."""


def train_jobs(seed: int = 0) -> list[PieceJob]:
    """The pieces of the train split, each with its seed in a build with ``seed``."""
    named: list[tuple[str, ScoreSpec | Style]] = [(spec.name, spec) for spec in TRAIN_SCORES]
    named += [
        (f"tr-mma-{style.slug}-{k}", style)
        for style in TRAIN_STYLES
        for k in range(RENDERS_PER_GROOVE)
    ]
    return named_jobs(named, split=SPLIT, seed=seed, palette=TRAIN_PALETTE)
