"""music21 corpus scores cut into excerpts of complete bars, as notes in seconds.

A score is named by a :class:`ScoreSpec`: a corpus path, or the ``number``-th tune in
one ``meter`` of a collection (an ``.abc`` opus, or a folder of single-tune files given
with a trailing ``/``), found by :func:`find_score`.

An excerpt starts at the score's first complete bar (a pickup bar is skipped) and runs
over consecutive complete bars (a bar as long as its time signature's bar) in the
first bar's time signature (a change of meter ends the run) until the
wanted duration; a short tune (folk tunes last 15–30 s) is played again from its first
complete bar until the excerpt is long enough. The tempo is one constant quarter-note
tempo chosen so that the first bar's beat (see :func:`beat_quarters`) has the wanted
BPM; the score's own metronome marks are ignored.

The key is the score's own :class:`music21.key.Key` in force at the excerpt's start
when the score has one with a mode, else music21's key analysis of the excerpt's notes
(``analyze("key")``, Aarden–Essen profiles); ``key_source`` in the truth says which,
and ``key_analysis`` always holds the analysis for comparison.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from kelly_core._optional import require

__all__ = [
    "Excerpt",
    "Note",
    "ScoreSpec",
    "beat_quarters",
    "complete_bars",
    "find_score",
    "load_excerpt",
]

_EPS = 1e-6
_FOLDER_TUNES = 200
"""How many files of a folder of single-tune files :func:`find_score` looks at."""


@dataclass(frozen=True)
class ScoreSpec:
    """A music21 corpus score (``number``: the n-th tune of an opus in ``meter``)."""

    name: str
    path: str
    composer: str
    number: int | None = None
    meter: str | None = None
    key_scored: bool = True
    """False where the score's key is not a major or minor one (modal pieces)."""

    @property
    def origin(self) -> str:
        """``path``, or ``path#meter:number`` for a tune of a collection."""
        return self.path if self.number is None else f"{self.path}#{self.meter}:{self.number}"


@dataclass(frozen=True)
class Note:
    """One note of an excerpt: part index, MIDI pitch, start and end in quarter notes."""

    part: int
    pitch: int
    start: float
    end: float
    velocity: int


@dataclass
class Excerpt:
    """Notes of an excerpt in quarter notes, with its bars and key."""

    notes: list[Note]
    bars: list[tuple[float, int, int]]
    """Every bar as (start in quarter notes, numerator, denominator)."""
    length: float
    """End of the last bar in quarter notes."""
    parts: int
    key: str | None
    key_source: str
    key_analysis: str
    title: str = ""
    meters: list[str] = field(default_factory=list)


def beat_quarters(numerator: int, denominator: int) -> float:
    """Length in quarter notes of the beat pretty_midi counts for this time signature.

    The denominator's note, or three of them in a compound meter (numerator a multiple
    of 3 above 3: 6/8 → dotted quarter, two beats per bar; 9/8 three; 12/8 four).
    """
    unit = 4.0 / denominator
    return unit * 3 if numerator % 3 == 0 and numerator > 3 else unit


def beats_per_bar(numerator: int) -> int:
    """Beats per bar as pretty_midi counts them (6/8 → 2, 3/8 → 3, 4/4 → 4)."""
    return numerator // 3 if numerator % 3 == 0 and numerator > 3 else numerator


def key_name(key: Any) -> str:
    """A music21 key as ``"C#:minor"`` (flats as ``b``)."""
    tonic = str(key.tonic.name).replace("-", "b")
    return f"{tonic}:{key.mode}"


def complete_bars(part: Any) -> list[tuple[float, int, int, bool]]:
    """(offset, numerator, denominator, complete) of every bar of ``part``."""
    bars = []
    for measure in part.getElementsByClass("Measure"):
        sig = measure.timeSignature or measure.getContextByClass("TimeSignature")
        if sig is None:
            continue
        length = float(measure.duration.quarterLength)
        wanted = float(sig.barDuration.quarterLength)
        complete = abs(length - wanted) < _EPS and not measure.paddingLeft
        bars.append((float(measure.offset), int(sig.numerator), int(sig.denominator), complete))
    return bars


def _segments(
    bars: list[tuple[float, int, int, bool]], qpm: float, seconds: float
) -> list[tuple[float, float, int, int]]:
    """Bars to play as (source start, source end, numerator, denominator), in order."""
    start = next((i for i, bar in enumerate(bars) if bar[3]), None)
    if start is None:
        return []
    run: list[tuple[float, float, int, int]] = []
    for i in range(start, len(bars)):
        offset, num, den, complete = bars[i]
        if not complete or (num, den) != bars[start][1:3]:
            break
        run.append((offset, offset + num * 4.0 / den, num, den))
    wanted = seconds * qpm / 60.0
    out: list[tuple[float, float, int, int]] = []
    total = 0.0
    while total < wanted - _EPS:
        for segment in run:
            out.append(segment)
            total += segment[1] - segment[0]
            if total >= wanted - _EPS:
                break
    return out


def _part_notes(part: Any, index: int) -> list[Note]:
    """Every sounding note of ``part`` (ties joined) in quarter notes from the part start."""
    notes: list[Note] = []
    for element in part.stripTies().flatten().notes:
        start = float(element.offset)
        end = start + float(element.duration.quarterLength)
        if end - start < _EPS:
            continue  # grace notes
        velocity = int(element.volume.velocity or 80)
        pitches = element.pitches
        notes.extend(Note(index, int(p.midi), start, end, velocity) for p in pitches)
    return notes


def _key_at(score: Any, offset: float) -> Any:
    """The score's Key (with a mode) in force at ``offset`` of its first part, or None."""
    found = None
    for key in score.parts[0].flatten().getElementsByClass("Key"):
        if float(key.offset) <= offset + _EPS and key.mode in ("major", "minor"):
            found = key
    return found


def load_excerpt(score: Any, *, beat_bpm: float, seconds: float) -> tuple[Excerpt, float]:
    """Cut ``score`` to about ``seconds`` of complete bars at ``beat_bpm`` beats per minute.

    :returns: The excerpt and the quarter-note tempo used.
    :raises ValueError: If the score has no complete bar.
    """
    from music21 import stream

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        bars = complete_bars(score.parts[0])
        first = next((bar for bar in bars if bar[3]), None)
        if first is None:
            raise ValueError("no complete bar")
        qpm = beat_bpm * beat_quarters(first[1], first[2])
        segments = _segments(bars, qpm, seconds)
        all_notes = [n for i, part in enumerate(score.parts) for n in _part_notes(part, i)]
        notes: list[Note] = []
        out_bars: list[tuple[float, int, int]] = []
        position = 0.0
        for begin, end, num, den in segments:
            out_bars.append((position, num, den))
            for note in all_notes:
                if begin - _EPS <= note.start < end - _EPS:
                    stop = min(note.end, end) - begin + position
                    start = note.start - begin + position
                    notes.append(Note(note.part, note.pitch, start, stop, note.velocity))
            position += end - begin
        own = _key_at(score, first[0])
        analysis_stream: Any = stream.Stream()
        from music21 import note as m21note

        for item in notes[:4000]:
            n = m21note.Note(item.pitch, quarterLength=max(item.end - item.start, 0.25))
            analysis_stream.insert(Fraction(item.start).limit_denominator(96), n)
        analysed = key_name(analysis_stream.analyze("key")) if notes else "C:major"
    meters = sorted({f"{n}/{d}" for _, n, d in out_bars})
    excerpt = Excerpt(
        notes=notes,
        bars=out_bars,
        length=position,
        parts=len(score.parts),
        key=key_name(own) if own is not None else analysed,
        key_source="score Key object" if own is not None else "music21 analysis of the excerpt",
        key_analysis=analysed,
        meters=meters,
    )
    return excerpt, qpm


def _meters(score: Any) -> set[str]:
    return {sig.ratioString for sig in score.recurse().getElementsByClass("TimeSignature")}


def find_score(spec: ScoreSpec) -> Any:
    """The music21 score of ``spec`` (the ``number``-th tune in ``meter`` of an opus).

    :raises MissingDependencyError: If music21 is not installed.
    :raises ValueError: If the collection has no such tune.
    """
    require("music21", extra="music21", purpose="reading music21 scores")
    from music21 import corpus

    if spec.number is None:
        return corpus.parse(spec.path)
    if spec.path.endswith("/"):  # a folder of single-tune files
        files = sorted(corpus.getComposer(spec.path.rstrip("/")), key=str)[:_FOLDER_TUNES]
        candidates = (corpus.parse(p) for p in files)
    else:
        candidates = iter(corpus.parse(spec.path).scores)
    found = -1
    for score in candidates:
        if not hasattr(score, "parts") or not score.parts or _meters(score) != {spec.meter}:
            continue
        found += 1
        if found == spec.number:
            return score
    raise ValueError(f"no tune number {spec.number} in {spec.meter} in {spec.path}")
