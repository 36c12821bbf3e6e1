"""Building one benchmark piece: MIDI, WAV and its truth record (see :mod:`.corpus`)."""

from __future__ import annotations

import tempfile
import warnings
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from tests.benchmarks.listening import recordings, scores
from tests.benchmarks.listening.grooves import Style, render_chart
from tests.benchmarks.listening.render import pick_program, render_wav, truth_from_midi

__all__ = ["build_groove", "build_recording", "build_score"]

_MELODIC_FAMILIES = (0, 1, 2, 3, 5, 6, 7, 8, 9)
"""GM families for score parts: piano, chromatic percussion, organ, guitar, strings,
ensemble, brass, reed, pipe."""
_BEAT_BPM = {0.5: (80.0, 180.0), 1.0: (60.0, 180.0), 1.5: (45.0, 110.0), 2.0: (50.0, 100.0)}
_BEAT_BPM_OTHER = (40.0, 80.0)


def _path(stem: Path, suffix: str) -> Path:
    """``stem`` with ``suffix`` appended (names may hold dots)."""
    return stem.with_name(stem.name + suffix)


def _meters(score: Any) -> set[str]:
    return {sig.ratioString for sig in score.recurse().getElementsByClass("TimeSignature")}


def _find_score(spec: Any) -> Any:
    """The music21 score of ``spec`` (the ``number``-th tune in ``meter`` of an opus)."""
    from music21 import corpus

    if spec.number is None:
        return corpus.parse(spec.path)
    if spec.path.endswith("/"):  # a folder of single-tune files
        candidates = (
            corpus.parse(p)
            for p in sorted(corpus.getComposer(spec.path.rstrip("/")), key=str)[:200]
        )
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


def build_score(spec: Any, split: str, rng: np.random.Generator, stem: Path) -> dict[str, Any]:
    """Cut, orchestrate, write and render a music21 score; returns its truth record."""
    import pretty_midi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = _find_score(spec)
        bars = [b for b in scores._complete_bars(score.parts[0]) if b[3]]
        if not bars:
            raise ValueError("no complete bar")
        unit = scores.beat_quarters(bars[0][1], bars[0][2])
        beat_bpm = float(rng.uniform(*_BEAT_BPM.get(unit, _BEAT_BPM_OTHER)))
        excerpt, qpm = scores.load_excerpt(
            score, beat_bpm=beat_bpm, seconds=float(rng.uniform(30.0, 60.0))
        )
    from tests.benchmarks.listening.corpus import PROGRAM_OFFSETS

    offsets = PROGRAM_OFFSETS[split]
    programs = [
        pick_program(rng, int(rng.choice(_MELODIC_FAMILIES)), offsets) for _ in range(excerpt.parts)
    ]
    second = 60.0 / qpm
    pm = pretty_midi.PrettyMIDI(initial_tempo=qpm)
    instruments = [pretty_midi.Instrument(program=p) for p in programs]
    for note in excerpt.notes:
        instruments[note.part].notes.append(
            pretty_midi.Note(
                velocity=max(1, min(127, note.velocity)),
                pitch=note.pitch,
                start=note.start * second,
                end=note.end * second,
            )
        )
    pm.instruments.extend(i for i in instruments if i.notes)
    previous = None
    for start, num, den in excerpt.bars:
        if (num, den) != previous:
            pm.time_signature_changes.append(pretty_midi.TimeSignature(num, den, start * second))
            previous = (num, den)
    end = excerpt.length * second
    gain = float(rng.uniform(0.2, 0.6))
    return _finish(
        pm,
        stem,
        end,
        gain,
        {
            "source": "music21",
            "origin": spec.path
            if spec.number is None
            else f"{spec.path}#{spec.meter}:{spec.number}",
            "composer": spec.composer,
            "meter": "+".join(excerpt.meters),
            "key": excerpt.key if spec.key_scored else None,
            "key_source": excerpt.key_source if spec.key_scored else "not scored (modal)",
            "key_analysis": excerpt.key_analysis,
            "programs": programs,
            "drum_kit": None,
            "gain": round(gain, 3),
            "tempo_change": False,
        },
    )


def build_groove(style: Style, split: str, rng: np.random.Generator, stem: Path) -> dict[str, Any]:
    """Render a random chart in ``style`` with the split's programs and kits."""
    import pretty_midi

    from tests.benchmarks.listening.corpus import DRUM_KITS, PROGRAM_OFFSETS

    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "mma.mid"
        chart = render_chart(style, rng, seconds=float(rng.uniform(30.0, 60.0)), midi_out=raw)
        pm = pretty_midi.PrettyMIDI(str(raw))
    num, den = style.midi_signature
    pm.time_signature_changes = [pretty_midi.TimeSignature(num, den, 0.0)]
    programs = []
    kit = int(rng.choice(DRUM_KITS[split]))
    for instrument in pm.instruments:
        if instrument.is_drum:
            instrument.program = kit
        else:
            instrument.program = pick_program(
                rng, int(instrument.program) // 8, PROGRAM_OFFSETS[split]
            )
            programs.append(int(instrument.program))
    end = float(pm.tick_to_time(chart["bars"] * style.time * pm.resolution))
    gain = float(rng.uniform(0.2, 0.6))
    info = {
        "source": "mma",
        "origin": f"mma groove {style.groove}",
        "style": style.groove,
        "meter": style.meter,
        "key": chart["key"],
        "key_source": "written (mma KeySig and chords)",
        "programs": programs,
        "drum_kit": kit,
        "gain": round(gain, 3),
        "tempo_change": chart["tempo_change_bar"] is not None,
        "chart": chart["mma"],
    }
    return _finish(pm, stem, end, gain, info)


def _finish(pm: Any, stem: Path, end: float, gain: float, info: dict[str, Any]) -> dict[str, Any]:
    """Write the MIDI, read its truth back from the file, render the WAV."""
    import pretty_midi

    midi = _path(stem, ".mid")
    pm.write(str(midi))
    truth = truth_from_midi(pretty_midi.PrettyMIDI(str(midi)), end)
    duration = render_wav(midi, _path(stem, ".wav"), gain=gain, end=end)
    return {**info, **truth, "duration": round(duration, 3), "reference": "midi"}


def build_recording(spec: Any, rng: np.random.Generator, stem: Path) -> dict[str, Any] | None:
    """Write an excerpt of a game-music recording (None when the package is missing)."""
    data = recordings.find_recording(spec.package, spec.file)
    if data is None:
        return None
    offset, duration = recordings.write_excerpt(data, _path(stem, ".wav"), rng)
    return {
        "source": "recording",
        "origin": f"{spec.package}: {spec.file} from {offset:.1f} s",
        "spec": asdict(spec),
        "duration": round(duration, 3),
        "reference": "madmom",
        "key": None,
        "beats": None,
        "downbeats": None,
    }
