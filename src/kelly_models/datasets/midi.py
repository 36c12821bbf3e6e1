"""Typed wrapper around pretty_midi (untyped): load a file, get notes, beats, controls."""

from __future__ import annotations

import io
import re
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import attrs
import numpy as np

from kelly_core._optional import require
from kelly_core.encodings.tonal import estimate_key, to_reference, trusted_key
from kelly_models.datasets.cache import skip_reason
from kelly_models.datasets.common import MIDI_MAX_BYTES, Unusable, read_data_file

__all__ = [
    "MidiTrack",
    "PieceKey",
    "Score",
    "header_problem",
    "load_score",
    "midi_reason",
    "piece_key",
    "pitch_class_histogram",
    "transpose_notes",
]


@attrs.frozen(kw_only=True)
class MidiTrack:
    """One instrument's notes as ``(pitch, start_s, end_s, velocity)`` tuples."""

    name: str
    program: int
    is_drum: bool
    notes: tuple[tuple[int, float, float, int], ...]
    controls: tuple[tuple[float, int, int], ...] = ()
    """``(time_s, controller number, value)`` control changes."""


@attrs.frozen(kw_only=True)
class Score:
    """What Kelly's readers need from a MIDI file."""

    tracks: tuple[MidiTrack, ...]
    beats: np.ndarray = attrs.field(eq=False)
    """Beat times in seconds (pretty_midi ``get_beats``, tempo changes honoured)."""
    downbeats: np.ndarray = attrs.field(eq=False)
    end_s: float
    key_signatures: tuple[tuple[float, int, bool], ...] = ()
    """``(time_s, tonic pitch class, is_minor)`` of each MIDI key-signature event."""

    def pitched_notes(self) -> list[tuple[int, float, float, int]]:
        """All non-drum notes, sorted by onset."""
        return sorted(n for t in self.tracks if not t.is_drum for n in t.notes)

    def drum_notes(self) -> list[tuple[int, float, float, int]]:
        """All drum notes, sorted by onset."""
        return sorted(n for t in self.tracks if t.is_drum for n in t.notes)

    def controls(self, number: int) -> list[tuple[float, int]]:
        """``(time_s, value)`` of controller ``number`` over all tracks, time-ordered."""
        return sorted((t, v) for tr in self.tracks for t, n, v in tr.controls if n == number)

    def beat_bounds(self) -> np.ndarray:
        """Beat boundaries ``(B + 1,)``: the beats plus one more at the last interval."""
        return _with_end(self.beats, self.end_s)

    def beats_in_bar(self) -> np.ndarray:
        """Position of each beat in its bar, ``(B,)`` ints in 0..3.

        The beats since the latest downbeat (pretty_midi ``get_downbeats``), capped at 3
        (bars longer than four beats keep 3 to their end); beats of a pickup before the
        first downbeat count back from it (the beat before a downbeat is 3). Without
        downbeats: the beat index modulo 4.
        """
        count = len(self.beats)
        index = np.arange(count)
        if count == 0 or len(self.downbeats) == 0:
            plain: np.ndarray = index % 4
            return plain
        starts = np.searchsorted(self.beats, np.asarray(self.downbeats) - 1e-6)
        latest = np.searchsorted(starts, index, side="right") - 1
        since = np.where(
            latest >= 0, index - starts[np.maximum(latest, 0)], (index - starts[0]) % 4
        )
        result: np.ndarray = np.clip(since, 0, 3)
        return result


def _with_end(beats: np.ndarray, end_s: float) -> np.ndarray:
    if len(beats) == 0:
        return beats
    step = float(beats[-1] - beats[-2]) if len(beats) > 1 else 0.5
    bounds: np.ndarray = np.append(beats, beats[-1] + step)
    return bounds


_MIDI_MESSAGES: Final = (
    (r"data byte must be in range",
     "malformed file: a MIDI data byte is above 127; expected 0 to 127"),
    (r"running status without last_status",
     "malformed file: a track uses running status before any status byte"),
    (r"no MTrk header", "malformed file: a track chunk does not start with 'MTrk'"),
    (r"MThd not found", "not a MIDI file: it does not start with 'MThd'"),
    (r"undefined status byte (0x[0-9a-fA-F]+)", "malformed file: undefined MIDI status byte {0}"),
    (r"wrong number of bytes for (\w+) message",
     "malformed file: a {0} message has the wrong number of data bytes"),
    (r"Message length (\d+) exceeds maximum length (\d+)",
     "malformed file: a message claims {0} bytes; expected at most {1}"),
    (r"largest tick of (\d+)",
     "implausible timing: its largest tick is {0}; expected at most 10000000"),
    (r"denominator must be a power of 2",
     "malformed file: a time signature's denominator is not a power of 2"),
    (r"end time must be greater than start", "malformed file: a note ends before it starts"),
)  # fmt: skip
"""pretty_midi's and mido's messages -> skip reasons (sentences naming the field)."""


def header_problem(data: bytes) -> str | None:
    """Check the 14-byte ``MThd`` header and that no track chunk is empty (which makes
    pretty_midi fail with ``max() arg is an empty sequence``); ``None`` if fine."""
    if len(data) < 14:
        if not b"MThd".startswith(data[:4]):
            return "not a MIDI file: it does not start with 'MThd'"
        return "truncated file: shorter than the 14-byte MIDI header"
    if data[:4] != b"MThd":
        return "not a MIDI file: it does not start with 'MThd'"
    length = int.from_bytes(data[4:8], "big")
    if length < 6:
        return f"malformed file: the MIDI header is {length} bytes long; expected 6"
    if int.from_bytes(data[12:14], "big") == 0:
        return (
            "malformed file: the header's time division (ticks per beat) is 0; expected 1 to 32767"
        )
    position, track = 8 + length, 0
    while position + 8 <= len(data):
        size = int.from_bytes(data[position + 4 : position + 8], "big")
        if data[position : position + 4] == b"MTrk":
            track += 1
            if size == 0:
                return (
                    f"malformed file: track {track} has no events; expected at least its "
                    "end-of-track event"
                )
        position += 8 + size
    return None


def midi_reason(error: BaseException) -> str:
    """The skip reason for what pretty_midi or mido raised on a damaged file."""
    text = str(error)
    for pattern, reason in _MIDI_MESSAGES:
        match = re.search(pattern, text)
        if match is not None:
            return reason.format(*match.groups())
    return skip_reason(error)


def load_score(path: Path) -> Score:
    """Parse a MIDI file with pretty_midi; pretty_midi's parser warnings are silenced.

    The file is read with :func:`kelly_models.datasets.common.read_data_file` (a regular
    file of at most :data:`~kelly_models.datasets.common.MIDI_MAX_BYTES`), its header
    checked, then parsed from memory.

    :raises Unusable: On a file of the wrong kind or size, or one the parser refuses,
        with a sentence saying what is wrong (:func:`midi_reason`).
    """
    pretty_midi = require("pretty_midi", extra="data", purpose="reading MIDI files")
    data = read_data_file(path, limit=MIDI_MAX_BYTES, what="MIDI file")
    problem = header_problem(data)
    if problem is not None:
        raise Unusable(problem)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            pm = pretty_midi.PrettyMIDI(io.BytesIO(data))
            beats = np.asarray(pm.get_beats(), dtype=np.float64)
            downbeats = np.asarray(pm.get_downbeats(), dtype=np.float64)
            end_s = float(pm.get_end_time())
            keys = tuple(
                (float(k.time), int(k.key_number) % 12, int(k.key_number) >= 12)
                for k in pm.key_signature_changes
            )
    except Exception as exc:  # a damaged file makes the parser raise almost anything
        raise Unusable(midi_reason(exc), f"{type(exc).__name__}: {exc}") from None
    tracks = tuple(
        MidiTrack(
            name=str(inst.name),
            program=int(inst.program),
            is_drum=bool(inst.is_drum),
            notes=tuple(
                (int(n.pitch), float(n.start), float(n.end), int(n.velocity)) for n in inst.notes
            ),
            controls=tuple(
                (float(c.time), int(c.number), int(c.value)) for c in inst.control_changes
            ),
        )
        for inst in pm.instruments
    )
    return Score(tracks=tracks, beats=beats, downbeats=downbeats, end_s=end_s, key_signatures=keys)


def notes_in(
    notes: Sequence[tuple[int, float, float, int]],
) -> list[tuple[int, float, float]]:
    """Drop velocities: ``(pitch, start, end)`` for :func:`notes_to_multihot`."""
    return [(p, s, e) for p, s, e, _ in notes]


@attrs.frozen(kw_only=True)
class PieceKey:
    """The key a piece is brought to the reference tonic from, and where it came from."""

    tonic: int
    minor: bool
    source: str
    """``"signature"`` (the file's first key signature, trusted) or ``"estimate"``."""

    @property
    def shift(self) -> int:
        """Semitones that move the piece to the reference tonic (C), nearest in register."""
        return to_reference(self.tonic)


def pitch_class_histogram(notes: Sequence[tuple[int, float, float, int]]) -> np.ndarray:
    """Duration-weighted ``(12,)`` pitch-class histogram of ``(pitch, start, end, velocity)``."""
    hist = np.zeros(12)
    for pitch, start, end, _ in notes:
        hist[int(pitch) % 12] += max(end - start, 0.0)
    return hist


def piece_key(score: Score) -> PieceKey:
    """Return the key of ``score``: its first key signature when that fits the notes
    (:func:`kelly_core.encodings.tonal.trusted_key`), else the Krumhansl–Schmuckler
    estimate from the duration-weighted pitch-class histogram of every pitched note.
    """
    hist = pitch_class_histogram(score.pitched_notes())
    if score.key_signatures:
        _, tonic, minor = score.key_signatures[0]
        if trusted_key(hist, tonic, minor):
            return PieceKey(tonic=tonic, minor=minor, source="signature")
    tonic, minor = estimate_key(hist)
    return PieceKey(tonic=tonic, minor=minor, source="estimate")


def transpose_notes(
    notes: Sequence[tuple[int, float, float, int]], semitones: int
) -> list[tuple[int, float, float, int]]:
    """Move every note by ``semitones``; notes moved outside 0..127 are dropped."""
    moved = [(p + int(semitones), s, e, v) for p, s, e, v in notes]
    return [n for n in moved if 0 <= n[0] <= 127]
