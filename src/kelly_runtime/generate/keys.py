"""Keys and pitch ranges: parsing user input, scale membership, key estimation.

A key is a tonic pitch class and a mode (major, or natural minor); the melody is
constrained to its seven pitch classes and the chords to the triads and dominant
sevenths built on its degrees (:func:`diatonic_chords`). Without ``--key`` the keys are
found in the audio (:func:`find_keys`): the chroma of
:mod:`kelly_core.encodings.chroma`, correlated with the 24 rotated key profiles of
:mod:`kelly_core.encodings.keyfinding` (Temperley's, chosen by measurement), one key per
section where the music modulates (:class:`KeySegment`). Names are spelled for the key:
flats in the keys whose signature has flats (F, Bb, Eb, Ab, Db major; D, G, C, F, Bb, Eb
minor), sharps otherwise.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Final, Literal, TypeAlias

import attrs
import numpy as np

from kelly_core.encodings import keyfinding
from kelly_runtime.generate.errors import GenerateOptionError

__all__ = [
    "PITCH_CLASS_NAMES",
    "Key",
    "KeyAnalysis",
    "KeySegment",
    "Mode",
    "PitchRange",
    "diatonic_chords",
    "estimate_key",
    "find_keys",
    "key_at",
    "note_name",
    "parse_pitch",
    "spell_chord",
]

Mode: TypeAlias = Literal["major", "minor"]

PITCH_CLASS_NAMES: Final = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
SHARP_NAMES: Final = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLAT_NAMES: Final = ("C", "Db", "D", "Eb", "E", "F", "Gb", "G", "Ab", "A", "Bb", "B")
_FLAT_KEYS: Final = {"major": frozenset({5, 10, 3, 8, 1}), "minor": frozenset({2, 7, 0, 5, 10, 3})}
_LETTERS: Final = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_SCALES: Final[dict[Mode, tuple[int, ...]]] = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
}
_MODE_WORDS: Final[dict[str, Mode]] = {
    "": "major",
    "maj": "major",
    "major": "major",
    "m": "minor",
    "min": "minor",
    "minor": "minor",
}

_KEY_RE: Final = re.compile(r"^\s*([A-Ga-g])([#b♯♭]?)\s*[:_ ]?\s*([A-Za-z]*)\s*$")
_PITCH_RE: Final = re.compile(r"^\s*([A-Ga-g])([#b♯♭]?)(-?\d+)\s*$")


def _pitch_class(letter: str, accidental: str) -> int:
    shift = {"": 0, "#": 1, "♯": 1, "b": -1, "♭": -1}[accidental]
    return (_LETTERS[letter.upper()] + shift) % 12


def note_name(pitch: int) -> str:
    """Return the scientific name of MIDI ``pitch`` (60 -> ``"C4"``)."""
    return f"{PITCH_CLASS_NAMES[pitch % 12]}{pitch // 12 - 1}"


@attrs.frozen(kw_only=True)
class Key:
    """A tonic pitch class (0 = C) and a mode; the melody uses its seven pitch classes."""

    tonic: int = attrs.field(validator=[attrs.validators.ge(0), attrs.validators.le(11)])
    mode: Mode = attrs.field(validator=attrs.validators.in_(("major", "minor")))

    @property
    def pitch_classes(self) -> frozenset[int]:
        """The scale's pitch classes (natural minor for ``"minor"``)."""
        return frozenset((self.tonic + step) % 12 for step in _SCALES[self.mode])

    def contains(self, pitch: int) -> bool:
        """Whether MIDI ``pitch`` belongs to the scale."""
        return pitch % 12 in self.pitch_classes

    @property
    def uses_flats(self) -> bool:
        """Whether the key's signature has flats (its names are spelled with flats)."""
        return self.tonic in _FLAT_KEYS[self.mode]

    def spell(self, pitch_class: int) -> str:
        """Name of ``pitch_class`` in this key (``10`` is ``"Bb"`` in F, ``"A#"`` in B)."""
        names = FLAT_NAMES if self.uses_flats else SHARP_NAMES
        return names[int(pitch_class) % 12]

    def __str__(self) -> str:
        return f"{self.spell(self.tonic)} {self.mode}"

    @classmethod
    def parse(cls, text: str) -> Key:
        """Parse ``"C"``, ``"Am"``, ``"F# minor"``, ``"Bb major"``, ``"eb:min"``.

        A bare letter is major; ``m``/``min``/``minor`` make it minor.

        :raises GenerateOptionError: On anything else.
        """
        match = _KEY_RE.match(text)
        mode = _MODE_WORDS.get(match.group(3).lower()) if match else None
        if match is None or mode is None:
            raise GenerateOptionError(
                f"cannot read key {text!r}; expected a tonic and an optional mode, "
                "e.g. 'C', 'Am', 'F# minor', 'Bb major'",
                field="key",
                got=text,
            )
        return cls(tonic=_pitch_class(match.group(1), match.group(2)), mode=mode)


def parse_pitch(text: str) -> int:
    """Parse a MIDI number (``"60"``) or a note name (``"C4"``, ``"F#5"``, ``"Bb-1"``).

    :raises GenerateOptionError: On anything else or a pitch outside 0..127.
    """
    stripped = text.strip()
    if re.fullmatch(r"\d+", stripped):
        pitch = int(stripped)
    else:
        match = _PITCH_RE.match(stripped)
        if match is None:
            raise GenerateOptionError(
                f"cannot read pitch {text!r}; expected a MIDI number or a name like 'C4'",
                field="range",
                got=text,
            )
        pitch = _pitch_class(match.group(1), match.group(2)) + 12 * (int(match.group(3)) + 1)
        if match.group(1).upper() == "B" and match.group(2) in ("#", "♯"):
            pitch += 12  # B#4 is C5
        if match.group(1).upper() == "C" and match.group(2) in ("b", "♭"):
            pitch -= 12  # Cb4 is B3
    if not 0 <= pitch <= 127:
        raise GenerateOptionError(
            f"pitch {text!r} is outside MIDI's 0..127", field="range", expected="0..127", got=pitch
        )
    return pitch


def _check_range(instance: PitchRange, attribute: attrs.Attribute[int], value: int) -> None:
    if not 0 <= instance.low <= instance.high <= 127:
        raise GenerateOptionError(
            f"expected 0 <= low <= high <= 127, got {instance.low}-{instance.high}",
            field="range",
            expected="0 <= low <= high <= 127",
            got=(instance.low, instance.high),
        )


@attrs.frozen(kw_only=True)
class PitchRange:
    """An inclusive MIDI pitch range for the melody."""

    low: int
    high: int = attrs.field(validator=_check_range)

    def __contains__(self, pitch: object) -> bool:
        return isinstance(pitch, int | np.integer) and self.low <= int(pitch) <= self.high

    def __str__(self) -> str:
        return f"{note_name(self.low)}-{note_name(self.high)}"

    @classmethod
    def parse(cls, text: str) -> PitchRange:
        """Parse ``"LOW-HIGH"`` with MIDI numbers or names: ``"60-84"``, ``"C4-C6"``.

        :raises GenerateOptionError: On a malformed or empty range.
        """
        match = re.fullmatch(r"\s*(\S+?)\s*(?:-|\.\.|:)\s*(\S+)\s*", text)
        if match is None:
            raise GenerateOptionError(
                f"cannot read range {text!r}; expected LOW-HIGH, e.g. '60-84' or 'C4-C6'",
                field="range",
                got=text,
            )
        return cls(low=parse_pitch(match.group(1)), high=parse_pitch(match.group(2)))


def estimate_key(histogram: Sequence[float] | np.ndarray) -> Key:
    """Return the key whose profile best correlates with ``histogram``.

    The default profile of :mod:`kelly_core.encodings.keyfinding` (Temperley's).

    :param histogram: Weight of each pitch class, shape ``(12,)``, index 0 = C.
        An all-equal histogram (no information) gives C major.
    """
    values = np.asarray(histogram, dtype=np.float64)
    if values.shape != (12,):
        raise GenerateOptionError(
            f"expected a pitch-class histogram of shape (12,), got {values.shape}",
            field="histogram",
            expected=(12,),
            got=values.shape,
        )
    return _key(keyfinding.estimate_key(values).index)


def _key(index: int) -> Key:
    return Key(tonic=index % 12, mode="minor" if index >= 12 else "major")


@attrs.frozen(kw_only=True)
class KeySegment:
    """A stretch of the audio in one key: ``[start, end)`` seconds."""

    start: float
    end: float
    key: Key
    confidence: float | None = None
    """The key's profile correlation minus the runner-up's (None: the key was given)."""


@attrs.frozen(kw_only=True)
class KeyAnalysis:
    """The key of a whole clip and its keys section by section."""

    key: Key
    """The key reported: the estimate of all the clip's frames summed when it is one of the
    sections' keys, else the key that lasts longest (ties: the earliest), so that it is
    always a key the music is in (40 s of C major then 40 s of A major sum to A minor)."""
    confidence: float
    """Its evidence minus the next key's (0: no information)."""
    segments: tuple[KeySegment, ...]
    """One segment, or one per section where the music modulates; they cover the clip."""


def find_keys(chroma: object, frame_s: float, duration: float) -> KeyAnalysis:
    """The keys of chroma frames (:func:`kelly_core.encodings.chroma.offline_chroma`).

    The segments come from :func:`kelly_core.encodings.keyfinding.local_keys` (one unless
    the music modulates for long enough: then the clip's key). Without frames (audio
    shorter than a window): C major, confidence 0.
    """
    frames = np.asarray(chroma, dtype=np.float64)
    sections = keyfinding.local_keys(frames, frame_s)
    if not sections:
        none = KeySegment(start=0.0, end=duration, key=_key(0), confidence=0.0)
        return KeyAnalysis(key=none.key, confidence=0.0, segments=(none,))
    whole = keyfinding.estimate_key(frames.sum(axis=0))
    starts = [0.0] + [s.start * frame_s for s in sections[1:]] + [duration]
    segments = tuple(
        KeySegment(start=a, end=b, key=_key(s.key.index), confidence=s.key.confidence)
        for a, b, s in zip(starts[:-1], starts[1:], sections, strict=True)
    )
    if any(s.key.index == whole.index for s in sections):
        return KeyAnalysis(key=_key(whole.index), confidence=whole.confidence, segments=segments)
    totals: dict[Key, float] = {}
    for segment in segments:
        totals[segment.key] = totals.get(segment.key, 0.0) + segment.end - segment.start
    longest = next(s for s in segments if totals[s.key] >= max(totals.values()) - 1e-9)
    return KeyAnalysis(key=longest.key, confidence=longest.confidence or 0.0, segments=segments)


def key_at(segments: Sequence[KeySegment], time: float) -> Key:
    """The key of the segment that ``time`` (seconds) falls in (the first before 0)."""
    current = segments[0].key
    for segment in segments:
        if segment.start <= time + 1e-9:
            current = segment.key
    return current


def diatonic_chords(key: Key) -> frozenset[int]:
    """Chord classes (64-class vocabulary) whose every tone is in ``key``'s scale."""
    from kelly_core.encodings.chords import NO_CHORD, chord_pitch_classes

    scale = key.pitch_classes
    return frozenset(i for i in range(NO_CHORD) if set(chord_pitch_classes(i)) <= scale)


def spell_chord(index: int, key: Key) -> str:
    """Label of chord class ``index`` with its root spelled for ``key`` (``"Bb:maj"``)."""
    from kelly_core.encodings.chords import chord_label

    label = chord_label(index)
    if ":" not in label:
        return label
    root, quality = label.split(":", 1)
    return f"{key.spell(_pitch_class(root[0], root[1:]))}:{quality}"
