"""A small rendered set with known keys for tuning the key finder (``bench_key.py``).

Two kinds of piece, rendered with fluidsynth and the FluidR3 GM SoundFont at 22050 Hz:

- **Bach chorales** from music21's corpus (every fifth of the four-part chorales, so a
  tuning set and not the whole corpus), all four voices on one GM program drawn from
  piano, organ, strings, choir, brass and guitar, at 60–110 BPM. The key: the key
  signature's major key when the bass ends on its tonic, its relative minor when the bass
  ends on that tonic; other chorales (modal endings) are left out.
- **mma accompaniments** (Debian's Musical MIDI Accompaniment: drums, bass, chords,
  some with arpeggios) of diatonic chord progressions, 16 bars, one per key (12 tonics ×
  major and minor), in eight grooves; and eight that modulate after 16 bars (to the
  dominant, subdominant, relative, parallel or a tone up), whose reference has two
  segments.

Every piece is written as ``<name>.wav`` with ``<name>.json``:
``{"keys": [[start_s, "C major"], ...], "kind": "chorale" | "mma" | "modulating"}``.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Final

import numpy as np

from tests.music_checks import render_wav

__all__ = ["build", "load"]

NAMES: Final = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
PROGRAMS: Final = (0, 19, 48, 52, 61, 24, 4, 73)
GROOVES: Final = (
    "50sRock",
    "8Beat",
    "BossaNova",
    "CountrySwing",
    "FolkRockPlus",
    "PopBallad",
    "R&B",
    "Ska",
)
# degrees as (semitones above the tonic, quality): "" major, "m" minor, "7", "m7b5"
MAJOR_PROGRESSIONS: Final = (
    ((0, ""), (7, ""), (9, "m"), (5, "")),
    ((0, ""), (5, ""), (7, "7"), (0, "")),
    ((2, "m"), (7, "7"), (0, ""), (9, "m")),
    ((0, ""), (9, "m"), (5, ""), (7, "")),
)
MINOR_PROGRESSIONS: Final = (
    ((0, "m"), (8, ""), (10, ""), (0, "m")),
    ((0, "m"), (5, "m"), (7, "7"), (0, "m")),
    ((0, "m"), (10, ""), (8, ""), (7, "7")),
    ((2, "m7b5"), (7, "7"), (0, "m"), (5, "m")),
)
MODULATIONS: Final = ("dominant", "subdominant", "relative", "parallel", "tone up")


def _modulate(tonic: int, minor: bool, kind: str) -> tuple[int, bool]:
    """The second key of a modulating piece."""
    if kind == "relative":
        return ((tonic + 3) % 12, False) if minor else ((tonic + 9) % 12, True)
    if kind == "parallel":
        return tonic, not minor
    shift = {"dominant": 7, "subdominant": 5, "tone up": 2}[kind]
    return (tonic + shift) % 12, minor


def _chord(tonic: int, step: tuple[int, str]) -> str:
    return NAMES[(tonic + step[0]) % 12] + step[1]


def _mma_bars(tonic: int, minor: bool, rng: np.random.Generator) -> list[str]:
    table = MINOR_PROGRESSIONS if minor else MAJOR_PROGRESSIONS
    progression = table[int(rng.integers(len(table)))]
    return [_chord(tonic, progression[bar % 4]) for bar in range(16)]


def _render_mma(folder: Path, name: str, bars: list[str], groove: str, tempo: int) -> Path:
    text = [f"Tempo {tempo}", f"Groove {groove}"]
    text += [f"{i + 1} {chord}" for i, chord in enumerate(bars)]
    source = folder / f"{name}.mma"
    source.write_text("\n".join(text) + "\n")
    mid = folder / f"{name}.mid"
    subprocess.run(["mma", str(source), "-f", str(mid)], check=True, capture_output=True)
    return render_wav(mid, folder / f"{name}.wav")


def _chorale_key(score: object) -> str | None:
    """Key of a chorale from its signature and final bass note (None: a modal ending)."""
    from music21 import key as m21key

    signatures = list(score.recurse().getElementsByClass(m21key.KeySignature))  # type: ignore[attr-defined]
    if not signatures:
        return None
    major = (7 * signatures[0].sharps) % 12
    bass = score.parts[-1].flatten().notes  # type: ignore[attr-defined]
    if not bass:
        return None
    final = bass[-1].pitches[0].pitchClass
    if final == major:
        return f"{NAMES[major]} major"
    if final == (major + 9) % 12:
        return f"{NAMES[final]} minor"
    return None


def _render_chorale(folder: Path, name: str, path: Path, rng: np.random.Generator) -> str | None:
    import pretty_midi
    from music21 import corpus

    score = corpus.parse(str(path))
    key = _chorale_key(score)
    if key is None or len(score.parts) != 4:
        return None
    mid = folder / f"{name}.mid"
    score.write("midi", fp=str(mid))
    midi = pretty_midi.PrettyMIDI(str(mid))
    scale = 120.0 / float(rng.integers(60, 111))  # music21 writes 120 BPM
    program = int(rng.choice(PROGRAMS))
    out = pretty_midi.PrettyMIDI(initial_tempo=120.0 / scale)
    for instrument in midi.instruments:
        part = pretty_midi.Instrument(program=program)
        for note in instrument.notes:
            part.notes.append(
                pretty_midi.Note(
                    velocity=note.velocity,
                    pitch=note.pitch,
                    start=note.start * scale,
                    end=note.end * scale,
                )
            )
        out.instruments.append(part)
    out.write(str(mid))
    render_wav(mid, folder / f"{name}.wav")
    return key


def _write(folder: Path, name: str, keys: list[tuple[float, str]], kind: str) -> None:
    (folder / f"{name}.json").write_text(json.dumps({"keys": keys, "kind": kind}))


def build(folder: Path, *, chorales: int = 40, seed: int = 0) -> None:
    """Render the set into ``folder`` (pieces already there are kept)."""
    from music21 import corpus

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    paths = sorted(p for p in corpus.getComposer("bach") if p.suffix in (".mxl", ".xml"))
    made = 0
    for path in paths[::5]:
        if made >= chorales:
            break
        name = f"chorale_{path.stem.replace('.', '_')}"
        if (folder / f"{name}.json").exists():
            made += 1
            continue
        key = _render_chorale(folder, name, path, rng)
        if key is not None:
            _write(folder, name, [(0.0, key)], "chorale")
            made += 1
    for index in range(24):
        tonic, minor = index % 12, index >= 12
        tonic = (tonic * 7) % 12  # spread the tonics over the grooves
        name = f"mma_{index:02d}"
        groove = GROOVES[index % len(GROOVES)]
        tempo = int(rng.integers(80, 161))
        bars = _mma_bars(tonic, minor, rng)
        if not (folder / f"{name}.json").exists():
            _render_mma(folder, name, bars, groove, tempo)
            _write(folder, name, [(0.0, f"{NAMES[tonic]} {'minor' if minor else 'major'}")], "mma")
    for index in range(8):
        tonic, minor = int(rng.integers(12)), bool(index % 2)
        second, second_minor = _modulate(tonic, minor, MODULATIONS[index % len(MODULATIONS)])
        groove = GROOVES[(index + 3) % len(GROOVES)]
        tempo = int(rng.integers(80, 161))
        bars = _mma_bars(tonic, minor, rng) + _mma_bars(second, second_minor, rng)
        name = f"modulating_{index}"
        if not (folder / f"{name}.json").exists():
            _render_mma(folder, name, bars, groove, tempo)
            beats = 4 * 16 * 60.0 / tempo
            keys = [
                (0.0, f"{NAMES[tonic]} {'minor' if minor else 'major'}"),
                (beats, f"{NAMES[second]} {'minor' if second_minor else 'major'}"),
            ]
            _write(folder, name, keys, "modulating")


def load(folder: Path) -> list[tuple[Path, list[tuple[float, str]], str]]:
    """Return ``(wav, keys, kind)`` for every rendered piece in ``folder``, sorted by name."""
    out = []
    for meta in sorted(folder.glob("*.json")):
        data = json.loads(meta.read_text())
        keys = [(float(t), str(k)) for t, k in data["keys"]]
        out.append((meta.with_suffix(".wav"), keys, str(data["kind"])))
    return out


if __name__ == "__main__":
    import sys

    build(Path(sys.argv[1]) if len(sys.argv) > 1 else Path.home() / ".cache" / "kelly-key-dev")
