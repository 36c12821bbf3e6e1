"""How often the chord rule agrees with the analysts' Roman-numeral chords (not collected).

Run (about a minute on one core)::

    .venv/bin/python -m tests.benchmarks.chord_rule_vs_analysis [--limit N] [--top K]

The rendered-harmony reader labels music21 scores with the chord rule
(:func:`~kelly_models.datasets.song_harmony.reduce_chord` of
:func:`~kelly_models.datasets.song_harmony.pitch_weights`); here the rule meets the
RomanText analyses of music21's corpus on the scores they analyse.

**Pairs** (:func:`corpus_pairs`): each ``.rntxt`` of ``corpus.getPaths`` with a MusicXML
score in the corpus. A chorale analysis names its score in its ``BWV:`` line
(``248(2).12`` is ``bwv248.12-2``, ``41.6s`` is ``bwv41.6``); a madrigal analysis has
its score beside it under its name. music21 10.5: 68 pairs, 20 chorales (Riemenschneider
1–20) and 48 Monteverdi madrigals. ``--limit N``: the first N.

**Alignment** (:func:`align`), by written measure number and place in the bar, in quarter
notes from the bar's downbeat, so a pickup (RomanText ``m0 b3`` and the score's measure
0, both with music21's ``paddingLeft``) and a 2/2 analysis of a 4/4 score line up.
Repeats are not unfolded (the analyses number the written measures); a measure that
repeats the number of the one before continues its bar (the chorale files split bars at
fermatas); a number seen earlier otherwise keeps its first measure (the variant lines of
some analyses). Beats: the score's beat unit as the rendered pieces count it
(:func:`~kelly_models.listening.scores.beat_quarters`; quarter notes in every pair). A
beat's analysis chord is the numeral covering most of it (the earlier on a tie; music21
carries a numeral on to the next), if numerals cover at least half of it; beats of
measures the analysis leaves out (some start late or end early) or whose bar length
differs have none and are not compared. The rule hears every part's notes placed the
same way (:func:`score_notes`; the madrigal files have overfull measures, two whole
rests in a 4/4 bar, so flattened part offsets drift apart), at 120 quarter notes per
minute (only the bass's 10 ms floor sees the tempo).

**Classes**: a numeral's by :func:`~kelly_core.encodings.roman.reduce_roman` in its local
key, key-relative; the rule's moved to that tonic. Two
chorale scores are in another key than the analysed edition (BWV 184.5 a fifth higher,
145.5 a whole tone): each pair's rule chords are moved by the transposition under which most
roots agree (:func:`best_transposition`, column ``moved``). A pair whose roots then agree
on under half its beats does not line up (``x``: BWV 41.6 and 277, barred or repeated
otherwise than the analysis): left out of the totals but for ``all as paired``.

**Printed**: per piece and for the chorales, madrigals and all that line up, the beats
compared and, in %, exact class agreement, root agreement (a dim7's root is any of its
tones), triad (root and triad quality, sevenths ignored: ``7`` is ``maj``, ``dim7`` is
``dim``), triad quality alone, and beats the rule calls ``N``; numerals ``reduce_roman``
refuses (typos such as ``V/``) are counted, not compared. Then the ``--top`` (10) most
common disagreements, analysis>rule, over all and per piece. The rule knows no ``aug``
nor ``dim7``: those numerals never agree exactly.
"""

from __future__ import annotations

import argparse
import math
import re
import sys
import warnings
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from itertools import groupby
from pathlib import Path
from typing import Any

import numpy as np
from music21 import converter, corpus

from kelly_core.encodings.chords import NO_CHORD, chord_label, chord_pitch_classes
from kelly_core.encodings.roman import parse_key, reduce_roman
from kelly_core.encodings.tonal import transpose_chord
from kelly_core.errors import DatasetError
from kelly_models.datasets.song_harmony import Note, pitch_weights, reduce_chord
from kelly_models.listening.scores import beat_quarters

_EPS = 1e-6
SECONDS_PER_QUARTER = 0.5
"""Tempo the score's notes are given to the rule in (120 quarter notes per minute)."""
LINE_UP_ROOT = 0.5
"""A pair lines up when at least this share of its roots agree (after moving the key)."""
_BWV = re.compile(r"^(\d+)(?:\((\d+)\))?(?:\.(\d+))?[a-z]*$")


@dataclass(frozen=True)
class AlignedBeat:
    """One beat of the score: its analysis numeral and both chord classes."""

    measure: int
    beat: int
    """1-based, counted from the bar's downbeat (a pickup's first beat may be 3)."""
    figure: str | None
    """The numeral covering most of the beat; None: the analysis has none here."""
    analysis: int | None
    """The numeral's class, key-relative; None without a numeral or where refused."""
    rule: int
    """The chord rule's class, relative to the numeral's tonic (absolute without one)."""


@dataclass(frozen=True)
class _Span:
    start: float
    end: float
    figure: str
    key: str


@dataclass(frozen=True)
class _Beat:
    measure: int
    beat: int
    start: float
    end: float
    offset: float


def _bwv_stem(text: str) -> str | None:
    """``bwv<n>[.<movement>][-<part>]`` of a ``BWV:`` field, as the corpus names files."""
    match = _BWV.match(text.strip())
    if match is None:
        return None
    number, part, movement = match.groups()
    return f"bwv{number}" + (f".{movement}" if movement else "") + (f"-{part}" if part else "")


def corpus_pairs() -> list[tuple[Path, Path]]:
    """(analysis, score) of every corpus analysis whose score is in the corpus."""
    scores = {
        (p.parent.name, p.stem): p for p in map(Path, corpus.getPaths(fileExtensions=("mxl",)))
    }
    pairs: list[tuple[Path, Path]] = []
    for path in sorted(map(Path, corpus.getPaths(fileExtensions=("rntxt",)))):
        key = (path.parent.name, path.stem)
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.startswith("BWV:"):
                key = ("bach", _bwv_stem(line[4:]) or "")
        if key in scores:
            pairs.append((path, scores[key]))
    return pairs


def _bar_length(measure: Any) -> float:
    sig = measure.timeSignature or measure.getContextByClass("TimeSignature")
    if sig is None:
        return float(measure.paddingLeft or 0.0) + float(measure.duration.quarterLength)
    return float(sig.barDuration.quarterLength)


def _key_name(key: Any) -> str:
    return f"{key.tonic.name} {key.mode}" if key is not None else "?"


def _analysis_bars(analysis: Any) -> dict[int, tuple[float, list[_Span]]]:
    """Each analysed measure's bar length and its numerals in bar-frame quarter notes."""
    bars: dict[int, tuple[float, list[_Span]]] = {}
    for measure in analysis.parts[0].getElementsByClass("Measure"):
        number = int(measure.number)
        if number in bars:
            continue
        pad = float(measure.paddingLeft or 0.0)
        spans = [
            _Span(
                pad + float(rn.offset),
                pad + float(rn.offset) + float(rn.quarterLength),
                str(rn.figure),
                _key_name(getattr(rn, "key", None)),
            )
            for rn in measure.getElementsByClass("RomanNumeral")
        ]
        bars[number] = (_bar_length(measure), spans)
    return bars


def _bars(part: Any) -> Iterator[tuple[int, float, float, Any]]:
    """(number, start, end, measure) of a part's written measures; start and end are
    places in the bar (quarter notes from its downbeat; the end at most the bar's length).

    A measure that repeats the number of the one before continues its bar (a bar split
    at a mid-bar repeat sign or fermata); a number seen earlier otherwise is skipped.
    """
    seen: set[int] = set()
    previous, reached = None, 0.0
    for measure in part.getElementsByClass("Measure"):
        number = int(measure.number)
        if number in seen and number != previous:
            continue
        seen.add(number)
        start = reached if number == previous else float(measure.paddingLeft or 0.0)
        end = min(start + float(measure.duration.quarterLength), _bar_length(measure))
        yield number, start, end, measure
        previous, reached = number, end


def _score_beats(score: Any) -> tuple[list[_Beat], dict[int, float], dict[int, float]]:
    """The beats of the score's first part, each bar's length and its downbeat's offset."""
    beats: list[_Beat] = []
    lengths: dict[int, float] = {}
    downbeats: dict[int, float] = {}
    for number, pad, end, measure in _bars(score.parts[0]):
        sig = measure.timeSignature or measure.getContextByClass("TimeSignature")
        if sig is None:
            continue
        lengths.setdefault(number, float(sig.barDuration.quarterLength))
        downbeats.setdefault(number, float(measure.offset) - pad)
        unit = beat_quarters(int(sig.numerator), int(sig.denominator))
        k = math.ceil((pad - _EPS) / unit)
        while k * unit < end - _EPS:
            start = k * unit
            offset = downbeats[number] + start
            beats.append(_Beat(number, k + 1, start, min(start + unit, end), offset))
            k += 1
    return beats, lengths, downbeats


def score_notes(score: Any, downbeats: dict[int, float]) -> list[Note]:
    """Every part's notes, placed by measure number and place in the bar on the first
    part's bars, in seconds; notes past an overfull measure's bar line are dropped."""
    notes: list[Note] = []
    for part in score.parts:
        for number, pad, end, measure in _bars(part):
            if number not in downbeats:
                continue
            for element in measure.flatten().notes:
                on = pad + float(element.offset)
                off = min(on + float(element.duration.quarterLength), end)
                if off - on < _EPS:
                    continue  # grace notes, and notes past the bar line
                velocity = int(element.volume.velocity or 80)
                start, stop = ((downbeats[number] + t) * SECONDS_PER_QUARTER for t in (on, off))
                notes += [(start, stop, int(p.midi), velocity) for p in element.pitches]
    return notes


def _numeral(beat: _Beat, spans: Sequence[_Span]) -> _Span | None:
    """The numeral covering most of the beat, if numerals cover at least half of it."""
    cover = [(min(s.end, beat.end) - max(s.start, beat.start), -s.start, s) for s in spans]
    cover = [c for c in cover if c[0] > _EPS]
    if sum(c[0] for c in cover) < (beat.end - beat.start) / 2 - _EPS:
        return None
    return max(cover, key=lambda c: (round(c[0], 6), c[1]))[2]


def _rule_classes(notes: Sequence[Note], beats: Sequence[_Beat]) -> list[int]:
    """The chord rule's absolute class per beat, as the rendered-harmony reader gets it."""
    out: list[int] = []
    for _, bar in groupby(beats, key=lambda b: b.measure):
        group = list(bar)
        edges = [b.offset for b in group] + [group[-1].offset + group[-1].end - group[-1].start]
        bounds = np.asarray(edges) * SECONDS_PER_QUARTER
        near = [n for n in notes if n[0] < bounds[-1] and n[1] > bounds[0]]
        weights, basses = pitch_weights(near, bounds)
        out += [reduce_chord(w, b) for w, b in zip(weights, basses, strict=True)]
    return out


def align(analysis: Any, score: Any) -> list[AlignedBeat]:
    """Every beat of ``score`` with the numeral of ``analysis`` there (module docstring)."""
    bars = _analysis_bars(analysis)
    beats, lengths, downbeats = _score_beats(score)
    notes = score_notes(score, downbeats)
    out: list[AlignedBeat] = []
    for beat, rule in zip(beats, _rule_classes(notes, beats), strict=True):
        length, spans = bars.get(beat.measure, (0.0, []))
        span = _numeral(beat, spans) if abs(length - lengths[beat.measure]) < _EPS else None
        if span is None:
            out.append(AlignedBeat(beat.measure, beat.beat, None, None, rule))
            continue
        try:
            tonic = parse_key(span.key)[0]
            chord: int | None = reduce_roman(span.figure, span.key, key_relative=True)
        except DatasetError:
            tonic, chord = 0, None
        relative = transpose_chord(rule, -tonic)
        out.append(AlignedBeat(beat.measure, beat.beat, span.figure, chord, relative))
    return out


def _roots(index: int) -> tuple[int, ...]:
    if index == NO_CHORD:
        return ()
    return chord_pitch_classes(index) if index > NO_CHORD else (index // 5,)


def _quality(index: int) -> str:
    label = chord_label(index).split(":")[-1]
    return {"7": "maj", "dim7": "dim"}.get(label, label)


@dataclass
class Tally:
    """Agreement counts over the beats that have an analysis chord."""

    beats: int = 0
    exact: int = 0
    root: int = 0
    triad: int = 0
    quality: int = 0
    no_chord: int = 0
    refused: int = 0
    confusions: Counter[tuple[int, int]] = field(default_factory=Counter)

    def add(self, beat: AlignedBeat) -> None:
        """Count one aligned beat (beats without a numeral are not compared)."""
        if beat.figure is None:
            return
        if beat.analysis is None:
            self.refused += 1
            return
        a, r = beat.analysis, beat.rule
        root = bool(set(_roots(a)) & set(_roots(r)))
        same_quality = _quality(a) == _quality(r)
        self.beats += 1
        self.exact += a == r
        self.root += root
        self.triad += root and same_quality
        self.quality += same_quality
        self.no_chord += r == NO_CHORD
        if a != r:
            self.confusions[(a, r)] += 1

    def merge(self, other: Tally) -> None:
        """Add ``other``'s counts to these."""
        for name in ("beats", "exact", "root", "triad", "quality", "no_chord", "refused"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.confusions.update(other.confusions)

    def row(self, name: str) -> str:
        """One line of the table."""
        pct = [100.0 * v / max(self.beats, 1) for v in (self.exact, self.root, self.triad)]
        pct += [100.0 * v / max(self.beats, 1) for v in (self.quality, self.no_chord)]
        cells = " ".join(f"{v:6.1f}" for v in pct)
        return f"{name:32s} {self.beats:6d} {cells} {self.refused:7d}"

    def top(self, count: int) -> str:
        """The ``count`` most common disagreements, ``analysis>rule n``."""
        pairs = self.confusions.most_common(count)
        return ", ".join(f"{chord_label(a)}>{chord_label(r)} {n}" for (a, r), n in pairs)


def tally(beats: Sequence[AlignedBeat]) -> Tally:
    """The agreement counts of aligned beats."""
    out = Tally()
    for beat in beats:
        out.add(beat)
    return out


def transposed(beats: Sequence[AlignedBeat], semitones: int) -> list[AlignedBeat]:
    """``beats`` with the rule's chords moved up by ``semitones``."""
    return [replace(b, rule=transpose_chord(b.rule, semitones)) for b in beats]


def best_transposition(beats: Sequence[AlignedBeat]) -> int:
    """The move of the rule's chords (0..11 semitones) under which most roots agree (0 on
    a tie): the key of the score against the analysed edition's."""
    roots = [tally(transposed(beats, t)).root for t in range(12)]
    return max(range(12), key=lambda t: (roots[t], t == 0))


def _name(analysis: Path, score: Path) -> str:
    return analysis.stem if analysis.stem == score.stem else f"{analysis.stem}/{score.stem}"


def _piece(analysis_path: Path, score_path: Path) -> tuple[Tally, Tally, int]:
    """The pair's tally as paired, its tally with the score moved to the analysis's key,
    and that move."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis = converter.parse(str(analysis_path), format="romanText")
        beats = align(analysis, converter.parse(str(score_path)))
    move = best_transposition(beats)
    return tally(beats), tally(transposed(beats, move)), move


def main(argv: list[str]) -> int:
    """Print the table (module docstring)."""
    parser = argparse.ArgumentParser(prog="chord_rule_vs_analysis")
    parser.add_argument("--limit", type=int, default=None, help="first N pairs only")
    parser.add_argument("--top", type=int, default=10, help="disagreements listed")
    args = parser.parse_args(argv)
    pairs = corpus_pairs()[: args.limit]
    print(f"{len(pairs)} pairs; classes relative to the analysis's local key; beats: the")
    print("score's beat unit (quarter notes); %: of the beats compared; x: does not line up")
    print(f"{'piece':32s}  beats  exact   root  triad  qual.  N (%) refused moved")
    groups = {k: Tally() for k in ("chorales", "madrigals", "all", "all as paired")}
    tops: list[str] = []
    for analysis_path, score_path in pairs:
        paired, piece, move = _piece(analysis_path, score_path)
        name = _name(analysis_path, score_path)
        lines_up = piece.root >= LINE_UP_ROOT * piece.beats
        print(f"{piece.row(name)} {move:5d}{'' if lines_up else ' x'}", flush=True)
        tops.append(f"{name}: {piece.top(args.top)}")
        groups["all as paired"].merge(paired)
        if lines_up:
            groups["chorales" if score_path.parent.name == "bach" else "madrigals"].merge(piece)
            groups["all"].merge(piece)
    for name, group in groups.items():
        print(group.row(f"== {name}"))
    print("\nmost common disagreements, analysis>rule (key-relative), pairs that line up:")
    for name in ("all", "chorales", "madrigals"):
        print(f"  {name}: {groups[name].top(args.top)}")
    print("\nper piece:")
    print("\n".join(tops))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
