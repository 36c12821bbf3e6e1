"""Fixture builders: small files in each official dataset layout, written by the tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pretty_midi
import soundfile

__all__ = [
    "write_deam",
    "write_groove",
    "write_lakh",
    "write_maestro",
    "write_midi",
]

MAJOR = (0, 2, 4, 5, 7, 9, 11)


def write_midi(
    path: Path,
    tracks: Sequence[tuple[str, int, bool, Sequence[tuple[int, float, float, int]]]],
    *,
    tempo: float = 120.0,
    controls: Sequence[tuple[float, int, int]] = (),
) -> Path:
    """Write ``(name, program, is_drum, notes)`` tracks; controls go on the first track."""
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    for i, (name, program, is_drum, notes) in enumerate(tracks):
        inst = pretty_midi.Instrument(program=program, is_drum=is_drum, name=name)
        for pitch, start, end, velocity in notes:
            inst.notes.append(
                pretty_midi.Note(velocity=velocity, pitch=pitch, start=start, end=end)
            )
        if i == 0:
            for time, number, value in controls:
                inst.control_changes.append(
                    pretty_midi.ControlChange(number=number, value=value, time=time)
                )
        pm.instruments.append(inst)
    path.parent.mkdir(parents=True, exist_ok=True)
    pm.write(str(path))
    return path


def _song_notes(tonic: int, beats: int, velocity: int = 90) -> list[tuple[int, float, float, int]]:
    melody = [
        (tonic + 12 + MAJOR[(b * 2) % 7], b * 0.5, b * 0.5 + 0.45, velocity) for b in range(beats)
    ]
    chords = [
        (tonic + iv, bar * 2.0, bar * 2.0 + 1.9, velocity - 20)
        for bar in range(beats // 4)
        for iv in (0, 4, 7)
    ]
    return melody + chords


def write_lakh(root: Path) -> dict[str, Path]:
    """lmd_full and lmd_matched files, plus a corrupt one."""
    md5 = "0a1b2c3d4e5f60718293a4b5c6d7e8f9"
    full = write_midi(
        root / "lmd_full" / md5[0] / f"{md5}.mid",
        [
            ("Piano", 0, False, _song_notes(60, 32)[32:]),
            ("Melody", 73, False, _song_notes(60, 32)[:32]),
        ],
    )
    matched = write_midi(
        root
        / "lmd_matched"
        / "A"
        / "B"
        / "C"
        / "TRABCDE12345678901"
        / "ffeeddccbbaa99887766554433221100.mid",
        [
            ("Lead", 80, False, _song_notes(57, 24)[:24]),
            ("Drums", 0, True, [(36, b * 0.5, b * 0.5 + 0.1, 100) for b in range(24)]),
        ],
    )
    corrupt = root / "lmd_full" / "b" / "b0000000000000000000000000000000.mid"
    corrupt.parent.mkdir(parents=True, exist_ok=True)
    corrupt.write_bytes(b"MThd\x00\x00\x00\x06garbage")
    return {"full": full, "matched": matched, "corrupt": corrupt}


def write_maestro(root: Path, *, drop_column: str | None = None) -> Path:
    """maestro-v3.0.0.csv, two performances under year folders and a corrupt one."""
    columns = [
        "canonical_composer", "canonical_title", "split", "year", "midi_filename",
        "audio_filename", "duration",
    ]  # fmt: skip
    rows = []
    specs = [("2018", "train", 60, 100), ("2017", "test", 62, 50)]
    for i, (year, split, tonic, velocity) in enumerate(specs):
        name = f"{year}/MIDI-Unprocessed_{i}.midi"
        notes = _song_notes(tonic, 16, velocity)
        write_midi(
            root / name,
            [("Piano", 0, False, notes)],
            controls=[(0.0, 64, 100), (2.0, 64, 0), (4.0, 67, 127), (5.0, 67, 0)],
        )
        rows.append(
            ["Composer", f"Piece {i}", split, year, name, name.replace(".midi", ".wav"), "8.0"]
        )
    bad = "2018/MIDI-corrupt.midi"
    (root / bad).write_bytes(b"not a midi file")
    rows.append(["Composer", "Broken", "validation", "2018", bad, "x.wav", "1.0"])
    keep = [c for c in columns if c != drop_column]
    lines = [",".join(keep)] + [
        ",".join(
            f'"{v}"' if " " in v else v
            for c, v in zip(columns, row, strict=True)
            if c != drop_column
        )
        for row in rows
    ]
    index = root / "maestro-v3.0.0.csv"
    index.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return index


def write_groove(root: Path) -> Path:
    """info.csv with a 4-4 beat, a fill (ignored) and a 3-4 beat (ignored)."""
    columns = (
        "drummer,session,id,style,bpm,beat_type,time_signature,"
        "midi_filename,audio_filename,duration,split"
    )
    bpm = 100.0
    step = 60.0 / bpm / 4
    hits = []
    for bar in range(4):
        for s in range(16):
            t = (bar * 16 + s) * step
            if s % 2 == 0:
                hits.append((42, t + 0.1 * step * (s % 4 == 2), t + 0.05, 70))
            if s in (0, 8):
                hits.append((36, t, t + 0.05, 100))
            if s in (4, 12):
                hits.append((38, t - 0.05 * step, t + 0.05, 110))
    names = [
        ("drummer1/session1/1_funk_100_beat_4-4.mid", "beat", "4-4", "train"),
        ("drummer1/session1/2_funk_100_fill_4-4.mid", "fill", "4-4", "train"),
        ("drummer1/session1/3_jazz_100_beat_3-4.mid", "beat", "3-4", "test"),
    ]
    lines = [columns]
    for i, (name, kind, sig, split) in enumerate(names):
        write_midi(root / name, [("Drums", 0, True, hits)], tempo=bpm)
        lines.append(
            f"drummer1,drummer1/session1,drummer1/session1/{i},funk,{bpm:g},{kind},{sig},{name},,9.6,{split}"
        )
    (root / "info.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return root / "info.csv"


def write_deam(root: Path, *, seconds: float = 18.0) -> dict[str, Path]:
    """DEAM layout: MP3 audio, static CSVs with spaces after commas, ragged dynamic rows."""
    audio_dir = root / "DEAM_audio" / "MEMD_audio"
    audio_dir.mkdir(parents=True)
    sr = 44100
    t = np.arange(int(seconds * sr)) / sr
    for song, freq in ((2, 440.0), (3, 220.0), (4, 330.0)):
        tone = (0.3 * np.sin(2 * np.pi * freq * t)).astype(np.float32)
        soundfile.write(audio_dir / f"{song}.mp3", tone, sr, format="MP3", subtype="MPEG_LAYER_III")
    (audio_dir / "5.mp3").write_bytes(b"\x00not an mp3")
    ann = root / "DEAM_Annotations" / "annotations" / "annotations averaged per song"
    static_dir = ann / "song_level"
    static_dir.mkdir(parents=True)
    (static_dir / "static_annotations_averaged_songs_1_2000.csv").write_text(
        "song_id, valence_mean, valence_std, arousal_mean, arousal_std\n"
        "2, 7, 0.9, 3, 1.1\n3, 1, 1.0, 9, 0.8\n5, 5, 1, 5, 1\n",
        encoding="utf-8",
    )
    (static_dir / "static_annotations_averaged_songs_2000_2058.csv").write_text(
        "song_id, valence_mean, valence_std, arousal_mean, arousal_std\n4, 6, 1, 4, 1\n",
        encoding="utf-8",
    )
    dyn = ann / "dynamic (per second annotations)"
    dyn.mkdir(parents=True)
    header = "song_id," + ",".join(f"sample_{ms}ms" for ms in range(15000, 17500, 500))
    # song 2 has all five samples, song 3 a ragged (shorter) row; song 4 has none
    (dyn / "arousal.csv").write_text(
        header + "\n2,0.1,0.2,0.3,0.4,0.5\n3,-0.5,-0.4,\n", encoding="utf-8"
    )
    (dyn / "valence.csv").write_text(
        header + "\n2,0.6,0.6,0.6,0.6,0.6\n3,-0.1,-0.2\n", encoding="utf-8"
    )
    return {"audio": audio_dir, "static": static_dir, "dynamic": dyn}
