"""Rendered pieces with exact beats: one piece, and a folder of them.

A piece is ``<name>.mid`` (what was rendered), ``<name>.wav`` (mono, 22050 Hz, 16-bit)
and ``<name>.json``, its truth record, written last (a piece without it is not built):

- **music21 scores** (:func:`build_score`): an excerpt of complete bars
  (:mod:`.scores`) at a random tempo of the counted beat (60–180 BPM for quarter-note
  beats, 80–180 eighths, 45–110 dotted quarters, 50–100 halves, else 40–80), each part
  on a random GM program of a melodic family (piano, chromatic percussion, organ,
  guitar, strings, ensemble, brass, reed, pipe);
- **mma grooves** (:func:`build_groove`): a random chord chart (:mod:`.charts`), its
  instruments moved to programs of the same family and its drums to one kit;

both of 30–60 s, at a random gain of 0.2–0.6, with programs and kits from the
:class:`Palette` of their split (a place 0–7 of a program in its family of eight, and
FluidR3_GM's drum kits), rendered by :mod:`.render`, which also reads the truth: beats,
downbeats, beats per bar and tempo from the MIDI file. The record also says where the
piece came from (``origin``, ``composer`` or ``style``), its meter and key (null for a
groove whose style plays drums only), the programs, kit and gain, and ``name``,
``split``, ``seed`` and ``version``.

:func:`build_folder` builds a list of :class:`PieceJob` in worker processes (two by
default), each from its own seed, so a piece is the same whichever worker builds it and
whichever pieces were built before; a piece whose record has this :data:`VERSION` and
its job's seed is kept. A piece that fails is reported and does not stop the others.
"""

from __future__ import annotations

import json
import sys
import tempfile
import warnings
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from kelly_core._optional import require
from kelly_core.fileio import atomic_path, atomic_write_text
from kelly_models.listening import scores
from kelly_models.listening.charts import Style, render_chart
from kelly_models.listening.render import pick_program, render_wav, truth_from_midi
from kelly_models.listening.scores import ScoreSpec

__all__ = [
    "VERSION",
    "Builder",
    "Palette",
    "PieceJob",
    "build_folder",
    "build_groove",
    "build_piece",
    "build_score",
    "is_built",
    "named_jobs",
    "piece_seed",
]

VERSION = 2
"""Bumped when a change to the build changes the pieces (old ones are rebuilt)."""
_MELODIC_FAMILIES = (0, 1, 2, 3, 5, 6, 7, 8, 9)
_BEAT_BPM = {0.5: (80.0, 180.0), 1.0: (60.0, 180.0), 1.5: (45.0, 110.0), 2.0: (50.0, 100.0)}
_BEAT_BPM_OTHER = (40.0, 80.0)
_SECONDS = (30.0, 60.0)


@dataclass(frozen=True)
class Palette:
    """The sounds a split may use."""

    program_offsets: tuple[int, ...]
    """Places (0–7) of a GM program in its family of eight."""
    drum_kits: tuple[int, ...]
    """FluidR3_GM drum kits (bank 128 presets)."""


@dataclass(frozen=True)
class PieceJob:
    """One piece to build: its name, source, split, seed and sounds."""

    name: str
    source: Any
    """A :class:`ScoreSpec`, a :class:`Style`, or what a custom builder knows."""
    split: str
    seed: int
    palette: Palette
    seconds: tuple[float, float] = _SECONDS
    """Range of the piece's length (s); a chart has at least eight bars."""


Builder = Callable[[PieceJob, Path], "dict[str, Any] | None"]
"""Builds a job's files at a stem (``folder/name``); returns its record, None when the
source is not installed. Must be a module-level function (worker processes import it)."""


def piece_seed(name: str, seed: int) -> int:
    """The seed of the piece ``name`` in a build with ``seed``."""
    return zlib.crc32(f"{seed}:{name}".encode())


def named_jobs(
    named: Sequence[tuple[str, ScoreSpec | Style]], *, split: str, seed: int, palette: Palette
) -> list[PieceJob]:
    """One job per ``(name, source)``, each seeded from its name (:func:`piece_seed`)."""
    return [
        PieceJob(
            name=name, source=source, split=split, seed=piece_seed(name, seed), palette=palette
        )
        for name, source in named
    ]


def _path(stem: Path, suffix: str) -> Path:
    """``stem`` with ``suffix`` appended (names may hold dots)."""
    return stem.with_name(stem.name + suffix)


def build_score(
    spec: ScoreSpec,
    rng: np.random.Generator,
    stem: Path,
    palette: Palette,
    seconds: tuple[float, float] = _SECONDS,
) -> dict[str, Any]:
    """Cut, orchestrate, write and render a music21 score; returns its truth record."""
    pretty_midi = require("pretty_midi", extra="data", purpose="building pieces")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        score = scores.find_score(spec)
        bars = [b for b in scores.complete_bars(score.parts[0]) if b[3]]
        if not bars:
            raise ValueError("no complete bar")
        unit = scores.beat_quarters(bars[0][1], bars[0][2])
        beat_bpm = float(rng.uniform(*_BEAT_BPM.get(unit, _BEAT_BPM_OTHER)))
        excerpt, qpm = scores.load_excerpt(
            score, beat_bpm=beat_bpm, seconds=float(rng.uniform(*seconds))
        )
    offsets = palette.program_offsets
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
    gain = float(rng.uniform(0.2, 0.6))
    info = {
        "source": "music21",
        "origin": spec.origin,
        "composer": spec.composer,
        "meter": "+".join(excerpt.meters),
        "key": excerpt.key if spec.key_scored else None,
        "key_source": excerpt.key_source if spec.key_scored else "not scored (modal)",
        "key_analysis": excerpt.key_analysis,
        "programs": programs,
        "drum_kit": None,
        "gain": round(gain, 3),
        "tempo_change": False,
    }
    return _finish(pm, stem, excerpt.length * second, gain, info)


def build_groove(
    style: Style,
    rng: np.random.Generator,
    stem: Path,
    palette: Palette,
    seconds: tuple[float, float] = _SECONDS,
) -> dict[str, Any]:
    """Render a random chart in ``style`` with the palette's programs and kits."""
    pretty_midi = require("pretty_midi", extra="data", purpose="building pieces")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "mma.mid"
        chart = render_chart(style, rng, seconds=float(rng.uniform(*seconds)), midi_out=raw)
        pm = pretty_midi.PrettyMIDI(str(raw))
    num, den = style.midi_signature
    pm.time_signature_changes = [pretty_midi.TimeSignature(num, den, 0.0)]
    programs = []
    kit = int(rng.choice(palette.drum_kits))
    for instrument in pm.instruments:
        if instrument.is_drum:
            instrument.program = kit
        else:
            family = int(instrument.program) // 8
            instrument.program = pick_program(rng, family, palette.program_offsets)
            programs.append(int(instrument.program))
    end = float(pm.tick_to_time(chart["bars"] * style.time * pm.resolution))
    gain = float(rng.uniform(0.2, 0.6))
    info = {
        "source": "mma",
        "origin": f"mma groove {style.groove}",
        "style": style.groove,
        "meter": style.meter,
        # A groove whose style plays drums only has no key to hear.
        "key": chart["key"] if programs else None,
        "key_source": "written (mma KeySig and chords)" if programs else "none (drums only)",
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
    with atomic_path(midi) as scratch:
        pm.write(str(scratch))
    truth = truth_from_midi(pretty_midi.PrettyMIDI(str(midi)), end)
    duration = render_wav(midi, _path(stem, ".wav"), gain=gain, end=end)
    return {**info, **truth, "duration": round(duration, 3), "reference": "midi"}


def build_piece(job: PieceJob, folder: Path) -> dict[str, Any]:
    """Build a score or groove job (the default :data:`Builder`)."""
    rng = np.random.default_rng(job.seed)
    stem = folder / job.name
    if isinstance(job.source, ScoreSpec):
        return build_score(job.source, rng, stem, job.palette, job.seconds)
    if isinstance(job.source, Style):
        return build_groove(job.source, rng, stem, job.palette, job.seconds)
    raise TypeError(f"no builder for a {type(job.source).__name__}")


def _run_job(job: PieceJob, folder: Path, builder: Builder) -> tuple[str, str | None]:
    """Build one piece and write its record; returns (name, error or None)."""
    try:
        truth = builder(job, folder)
    except Exception as exc:  # one bad piece must not stop the build
        return job.name, f"{type(exc).__name__}: {exc}".splitlines()[0]
    if truth is None:
        return job.name, "source not installed"
    truth.update(name=job.name, split=job.split, version=VERSION, seed=job.seed)
    atomic_write_text(folder / f"{job.name}.json", json.dumps(truth, indent=1))
    return job.name, None


def is_built(folder: Path, job: PieceJob) -> bool:
    """Whether ``folder`` holds ``job``'s record of this :data:`VERSION` and seed."""
    path = folder / f"{job.name}.json"
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return isinstance(record, dict) and (record.get("version"), record.get("seed")) == (
        VERSION,
        job.seed,
    )


def build_folder(
    jobs: Sequence[PieceJob],
    folder: Path,
    *,
    builder: Builder = build_piece,
    force: bool = False,
    workers: int = 2,
) -> list[str]:
    """Build the ``jobs`` not yet built in ``folder`` (all with ``force``).

    Prints ``  <split>/<name>: ok`` (or the error) per piece to stderr as it finishes.

    :returns: The problems, one line per piece that failed.
    """
    folder.mkdir(parents=True, exist_ok=True)
    todo = [job for job in jobs if force or not is_built(folder, job)]
    problems: list[str] = []
    if not todo:
        return problems
    with ProcessPoolExecutor(max_workers=workers) as pool:
        futures = [pool.submit(_run_job, job, folder, builder) for job in todo]
        for job, future in zip(todo, futures, strict=True):
            name, error = future.result()
            sys.stderr.write(f"  {job.split}/{name}: {error or 'ok'}\n")
            if error:
                problems.append(f"{name}: {error}")
    return problems
