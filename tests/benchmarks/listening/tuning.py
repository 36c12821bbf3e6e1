"""The listening benchmark's ``tune`` split: several hundred rendered pieces to judge an
idea on before it meets the test split.

The dev split has 13 rendered pieces, too few to choose between ideas whose effects are a
few hundredths of an F-measure. ``tune`` is built from sources that neither the beat
tracker's training split (:mod:`kelly_models.listening.trainset`) nor the test split
(:func:`tests.benchmarks.listening.corpus.held_out`) uses, with the training split's
sounds (GM program places 1, 2, 5, 7 and its drum kits, never the test split's):

- music21: every other Trecento piece, the Josquin pieces (none builds, below), five
  single pieces (Haydn op. 1/1 v, Handel's *Lascia ch'io pianga*, Luca, Lusitano,
  Ciconia), the first three
  Northumbrian tunes in 2/4, 3/4, 4/4 and 6/8, and the first tune in each of those meters
  of every Essen collection that the training split does not use (less the ``kinder``
  collections of the dev split);
- mma: two charts of every groove in mma's non-standard style libraries (casio, zoom,
  pflib, kara, yamaha, alexis) with ``Time`` 3, 4 or 6, less intros, endings, fills and
  any groove named like one of the benchmark's or the training split's.

Which pieces exist depends on the music21 corpus and the mma libraries installed: with
music21 10.5 and mma 21.09, 323 of its 335 pieces build. The other 12 are reported and
left out: the 8 Josquin files, which music21 reads as an opus, and 4 Essen meters that
have no tune. Build and score it like the other splits::

    .venv/bin/python -m tests.benchmarks.listening.corpus --split tune
    .venv/bin/python -m tests.benchmarks.listening.bench_listening --split tune

No recordings; the peers are not run on it (``--peers`` is refused for ``tune``).
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any

from kelly_models.listening.charts import Style
from kelly_models.listening.scores import ScoreSpec
from kelly_models.listening.trainset import ESSEN_COLLECTIONS, TRAIN_GROOVES

__all__ = ["MMA_LIBRARIES", "tune_sources"]

MMA_LIBRARIES = ("casio", "zoom", "pflib", "kara", "yamaha", "alexis")
"""mma's style libraries besides the standard one (which the training split uses)."""
MMA_LIB_DIR = Path("/usr/share/mma/lib")
_METERS = ("2/4", "3/4", "4/4", "6/8")
_GROOVE_METER = {3: "3/4", 4: "4/4", 6: "6/8"}
_GROOVE_BPM = {3: (90.0, 180.0), 4: (70.0, 180.0), 6: (45.0, 100.0)}
_BANNED = (
    "8beat", "softrock", "slowrock", "r+b", "rnb", "rb", "funk", "ska", "swing",
    "shuffleboogie", "shuffleboggie", "samba", "salsa", "mambo", "rhumba", "rumba", "tango",
    "merengue", "jive", "polka", "ragtime", "trance", "waltz", "68", "54", "34", "bossa",
    "march", "basicrock", "ballad68",
)  # fmt: skip
"""Parts of style-file or groove names that look like a benchmark groove (left out)."""
_CHARTS_PER_GROOVE = 2


def _scores() -> list[ScoreSpec]:
    from music21 import corpus

    paths = sorted(str(p).split("/corpus/")[1] for p in corpus.getCorePaths())
    specs = [
        ScoreSpec(f"tr-trecento-{i:02d}", path, "Trecento", key_scored=False)
        for i, path in enumerate([p for p in paths if p.startswith("trecento/")][::2])
    ]
    specs += [
        ScoreSpec(
            "tr-josquin-" + path.split("/")[1].split(".")[0].lower(),
            path,
            "Josquin",
            key_scored=False,
        )
        for path in paths
        if path.startswith("josquin/")
    ]
    specs += [
        ScoreSpec("tr-haydn-op1n1-v", "haydn/opus1no1/movement5.mxl", "Haydn"),
        ScoreSpec("tr-handel-lascia", "handel/rinaldo/Lascia_chio_pianga.mxl", "Handel"),
        ScoreSpec("tr-luca-gloria", "luca/gloria.xml", "Luca", key_scored=False),
        ScoreSpec(
            "tr-lusitano-allor", "lusitano/allor_che_ignuda.mxl", "Lusitano", key_scored=False
        ),
        ScoreSpec("tr-ciconia-quod", "ciconia/quod_jactatur.xml", "Ciconia", key_scored=False),
    ]
    for meter in _METERS:
        for number in range(3):
            specs.append(
                ScoreSpec(
                    f"tr-northumbrian-{meter.replace('/', '')}-{number}",
                    "miscFolk/northumbrianminstrelsyopus.abc",
                    "folk",
                    number,
                    meter,
                )
            )
    essen = [p.split("/")[1].split(".")[0] for p in paths if p.startswith("essenFolksong/")]
    for collection in essen:
        if collection in ESSEN_COLLECTIONS or collection.startswith("kinder"):
            continue
        for meter in _METERS:
            specs.append(
                ScoreSpec(
                    f"tr-{collection}-{meter.replace('/', '')}-0",
                    f"essenFolksong/{collection}.abc",
                    "folk",
                    0,
                    meter,
                )
            )
    return specs


def _styles(library_dir: Path = MMA_LIB_DIR) -> list[Style]:
    known = {g.lower() for grooves in TRAIN_GROOVES.values() for g in grooves}
    seen: set[str] = set()
    styles = []
    for library in MMA_LIBRARIES:
        for path in sorted((library_dir / library).glob("*.mma")):
            text = path.read_text(errors="replace")
            groove = re.search(r"^\s*DefGroove\s+(\S+)", text, re.M | re.I)
            time = re.search(r"^\s*Time\s+(\d+)", text, re.M | re.I)
            if not groove or not time:
                continue
            name, beats = groove.group(1), int(time.group(1))
            low = name.lower()
            if beats not in _GROOVE_METER or low in known or low in seen:
                continue
            if any(b in path.stem.lower() or b in low for b in _BANNED):
                continue
            if any(w in low for w in ("intro", "end", "fill")) or low in ("count", "2beatpa"):
                continue
            seen.add(low)
            styles.append(Style(name, beats, _GROOVE_METER[beats], _GROOVE_BPM[beats]))
    return styles


@functools.cache
def tune_sources() -> tuple[tuple[str, Any], ...]:
    """``(name, source)`` of every piece of the split: scores, then grooves
    (``tr-mmx-<groove>-<k>``)."""
    named: list[tuple[str, Any]] = [(spec.name, spec) for spec in _scores()]
    named += [
        (f"tr-mmx-{style.slug}-{k}", style)
        for style in _styles()
        for k in range(_CHARTS_PER_GROOVE)
    ]
    return tuple(named)
