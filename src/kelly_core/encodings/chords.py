"""The 64-class chord vocabulary and a total reduction of chord symbols onto it.

Classes (documented in ``docs/encodings.md``):

- ``5 * root + q`` for ``root`` in 0..11 (pitch class, C = 0) and ``q`` in
  ``QUALITIES = ("maj", "min", "dim", "aug", "7")``: 60 classes;
- ``60`` = ``N``: no chord (silence, Harte ``N`` and ``X``);
- ``61``, ``62``, ``63``: the three fully diminished seventh chords. A dim7 chord is
  symmetric, so only three pitch-class sets exist: ``C:dim7`` = {C, Eb, Gb, A},
  ``C#:dim7`` = {C#, E, G, Bb}, ``D:dim7`` = {D, F, Ab, B}; ``B:dim7`` reduces to
  ``D:dim7``.

Every chord is reduced through its interval set above the root (:func:`classify`):
a dim7 set → its dim7 class; minor third + diminished fifth → ``dim`` (half-diminished
too); major third + augmented fifth, no perfect fifth → ``aug``; major third + minor
seventh → ``7`` (9, 11, 13, 7b9 ...); minor third → ``min`` (min7, min6, minmaj7 ...);
major third → ``maj`` (maj7, 6, add9 ...); no third (sus2, sus4, power chord, single
note) → ``maj``. Bass notes and inversions are ignored. Three syntaxes are parsed
(:func:`reduce_chord`): pop symbols (``C``, ``Am``, ``F#dim``, ``Bb7``, ``Cmaj7/E``),
Harte labels (``C:maj7``, ``A:min/5``, ``C:(3,5,b7)``, ``N``, ``X``); Roman numerals in a
key go through :func:`reduce_roman` in :mod:`kelly_core.encodings.roman`.
"""

from __future__ import annotations

import re
from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.errors import DatasetError

__all__ = [
    "CHORD_VOCABULARY",
    "C_MAJOR",
    "NO_CHORD",
    "NUM_CHORDS",
    "QUALITIES",
    "chord_index",
    "chord_label",
    "chord_one_hot",
    "chord_pitch_classes",
    "classify",
    "parse_pitch_class",
    "reduce_chord",
    "reduce_roman",
]

QUALITIES: Final = ("maj", "min", "dim", "aug", "7")
"""Triad qualities per root, in class order; ``"7"`` is the dominant seventh."""
_QUALITY_ALIASES: Final = {"maj": 0, "min": 1, "dim": 2, "aug": 3, "7": 4, "dom7": 4}
_INTERVALS: Final = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "7": (0, 4, 7, 10),
}
ROOT_NAMES: Final = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
"""Spelling of each pitch class in labels."""
NUM_CHORDS: Final = 64
NO_CHORD: Final = 60
"""Class of ``N``: no chord."""
_DIM7_BASE: Final = 61
C_MAJOR: Final = 0
"""Class of C major: the HarmonyPredictor's fallback."""

CHORD_VOCABULARY: Final[tuple[str, ...]] = (
    *(f"{ROOT_NAMES[r]}:{q}" for r in range(12) for q in QUALITIES),
    "N",
    "C:dim7",
    "C#:dim7",
    "D:dim7",
)
"""The 64 labels, in class order (Harte-like: ``root:quality``)."""

_LETTERS: Final = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}


def _error(symbol: str, message: str) -> DatasetError:
    return DatasetError(f"chord {symbol!r}: {message}", field="chord", got=symbol)


def chord_index(root_pc: int, quality: str) -> int:
    """Return the class of a chord on ``root_pc`` (0..11, C = 0) of ``quality``.

    :param quality: One of ``maj min dim aug 7`` (``dom7`` is accepted for ``7``) or
        ``dim7``.
    :raises DatasetError: On an unknown quality.
    """
    root = int(root_pc) % 12
    if quality == "dim7":
        return _DIM7_BASE + root % 3
    if quality not in _QUALITY_ALIASES:
        raise _error(f"{root}:{quality}", f"unknown quality; expected one of {QUALITIES}")
    return 5 * root + _QUALITY_ALIASES[quality]


def _check_index(index: int) -> int:
    if not 0 <= int(index) < NUM_CHORDS:
        raise DatasetError(
            f"chord class {index} out of range", field="chord", expected="0..63", got=index
        )
    return int(index)


def chord_label(index: int) -> str:
    """Return the label of class ``index`` (``"C:maj"``, ``"N"``, ``"C#:dim7"``)."""
    return CHORD_VOCABULARY[_check_index(index)]


def chord_pitch_classes(index: int) -> tuple[int, ...]:
    """Return the sorted pitch classes of class ``index``; ``()`` for ``N``."""
    index = _check_index(index)
    if index == NO_CHORD:
        return ()
    if index > NO_CHORD:
        root = index - _DIM7_BASE
        return tuple(sorted((root + i) % 12 for i in (0, 3, 6, 9)))
    root, q = divmod(index, 5)
    return tuple(sorted((root + i) % 12 for i in _INTERVALS[QUALITIES[q]]))


def chord_one_hot(index: int) -> FloatArray:
    """Return the one-hot ``(64,)`` float32 vector of class ``index``."""
    vec = np.zeros(NUM_CHORDS, dtype=np.float32)
    vec[_check_index(index)] = 1.0
    return vec


def classify(root_pc: int, intervals: frozenset[int] | set[int]) -> int:
    """Reduce a chord given by its root and intervals above it (semitones mod 12)."""
    ivs = {i % 12 for i in intervals} | {0}
    root = int(root_pc) % 12
    if {0, 3, 6, 9} <= ivs and 4 not in ivs and 7 not in ivs and 10 not in ivs:
        return chord_index(root, "dim7")
    has_minor_third, has_major_third = 3 in ivs, 4 in ivs
    if has_major_third and 10 in ivs and 8 not in ivs:
        return chord_index(root, "7")
    if has_major_third and 8 in ivs and 7 not in ivs:
        return chord_index(root, "aug")
    if has_major_third:
        return chord_index(root, "7" if 10 in ivs else "maj")
    if has_minor_third:
        return chord_index(root, "dim" if (6 in ivs and 7 not in ivs) else "min")
    if 6 in ivs and 7 not in ivs:
        return chord_index(root, "dim")
    return chord_index(root, "maj")


_PC_RE: Final = re.compile(r"^([A-Ga-g])((?:#|b|♯|♭)*)")
_PC_DASH_RE: Final = re.compile(r"^([A-Ga-g])((?:#|b|♯|♭|-)*)")


def parse_pitch_class(text: str, *, dash_is_flat: bool = False) -> tuple[int, int]:
    """Parse a note name at the start of ``text``; return ``(pitch class, length used)``.

    Accepts a letter A-G (either case) and any number of ``#``, ``♯``, ``b``, ``♭``
    accidentals, and ``-`` (music21's flat) when ``dash_is_flat`` (in chord symbols a
    ``-`` means minor).

    :raises DatasetError: If ``text`` does not start with a note name.
    """
    match = (_PC_DASH_RE if dash_is_flat else _PC_RE).match(text)
    if match is None:
        raise _error(text, "expected a root note name (A-G with optional # or b)")
    pc = _LETTERS[match.group(1).upper()]
    for ch in match.group(2):
        pc += 1 if ch in "#♯" else -1
    return pc % 12, match.end()


# --- Harte labels (Harte et al. 2005, as in MIREX / mir_eval) --------------------------
_HARTE_SHORTHANDS: Final[dict[str, tuple[int, ...]]] = {
    "maj": (0, 4, 7), "min": (0, 3, 7), "dim": (0, 3, 6), "aug": (0, 4, 8),
    "maj7": (0, 4, 7, 11), "min7": (0, 3, 7, 10), "7": (0, 4, 7, 10),
    "dim7": (0, 3, 6, 9), "hdim7": (0, 3, 6, 10), "minmaj7": (0, 3, 7, 11),
    "maj6": (0, 4, 7, 9), "min6": (0, 3, 7, 9), "9": (0, 4, 7, 10, 2),
    "maj9": (0, 4, 7, 11, 2), "min9": (0, 3, 7, 10, 2), "11": (0, 4, 7, 10, 2, 5),
    "min11": (0, 3, 7, 10, 2, 5), "13": (0, 4, 7, 10, 2, 9), "maj13": (0, 4, 7, 11, 2, 9),
    "min13": (0, 3, 7, 10, 2, 9), "sus2": (0, 2, 7), "sus4": (0, 5, 7), "7sus4": (0, 5, 7, 10),
    "5": (0, 7), "1": (0,), "aug7": (0, 4, 8, 10), "dim6": (0, 3, 6, 9),
}  # fmt: skip
_DEGREE_SEMITONES: Final = {1: 0, 2: 2, 3: 4, 4: 5, 5: 7, 6: 9, 7: 11}
_DEGREE_RE: Final = re.compile(r"^(\*)?((?:b|#)*)(\d{1,2})$")


def _degree(token: str, symbol: str) -> tuple[bool, int]:
    match = _DEGREE_RE.match(token.strip())
    if match is None:
        raise _error(symbol, f"bad degree {token!r}; expected e.g. 'b3', '#5', '*3', '9'")
    number = int(match.group(3))
    if number < 1 or number > 13:
        raise _error(symbol, f"degree {number} out of range 1..13")
    semis = _DEGREE_SEMITONES[(number - 1) % 7 + 1]
    semis += sum(1 if ch == "#" else -1 for ch in match.group(2))
    return match.group(1) is not None, semis % 12


def _reduce_harte(symbol: str) -> int:
    body = symbol.split("/", 1)[0]
    if "/" in symbol:
        _degree(symbol.split("/", 1)[1], symbol)  # the bass must be a degree
    root, used = parse_pitch_class(body)
    rest = body[used:]
    if rest == "":
        return classify(root, set(_HARTE_SHORTHANDS["maj"]))
    if not rest.startswith(":"):
        raise _error(symbol, "expected ':' after the root in a Harte label")
    rest = rest[1:]
    match = re.match(r"^([A-Za-z0-9]*)(?:\(([^()]*)\))?$", rest)
    if match is None:
        raise _error(symbol, "expected 'shorthand(degrees)' after ':'")
    shorthand, degrees = match.group(1), match.group(2)
    if shorthand and shorthand not in _HARTE_SHORTHANDS:
        raise _error(symbol, f"unknown Harte shorthand {shorthand!r}")
    if not shorthand and degrees is None:
        raise _error(symbol, "empty quality")
    ivs = set(_HARTE_SHORTHANDS[shorthand]) if shorthand else {0}
    for token in (degrees or "").split(","):
        if not token.strip():
            continue
        omit, semis = _degree(token, symbol)
        if omit:
            ivs.discard(semis)
        else:
            ivs.add(semis)
    return classify(root, ivs)


# --- pop / lead-sheet symbols ------------------------------------------------------------
_POP_QUALITIES: Final[tuple[tuple[str, tuple[int, ...]], ...]] = tuple(
    sorted(
        {
            "": (0, 4, 7), "M": (0, 4, 7), "maj": (0, 4, 7), "major": (0, 4, 7),
            "m": (0, 3, 7), "min": (0, 3, 7), "minor": (0, 3, 7), "-": (0, 3, 7),
            "dim": (0, 3, 6), "o": (0, 3, 6), "°": (0, 3, 6),
            "aug": (0, 4, 8), "+": (0, 4, 8),
            "7": (0, 4, 7, 10), "dom7": (0, 4, 7, 10), "9": (0, 4, 7, 10, 2),
            "11": (0, 4, 7, 10, 5), "13": (0, 4, 7, 10, 9),
            "maj7": (0, 4, 7, 11), "M7": (0, 4, 7, 11), "Δ": (0, 4, 7, 11), "Δ7": (0, 4, 7, 11),
            "^7": (0, 4, 7, 11), "maj9": (0, 4, 7, 11, 2), "M9": (0, 4, 7, 11, 2),
            "maj13": (0, 4, 7, 11, 9),
            "m7": (0, 3, 7, 10), "min7": (0, 3, 7, 10), "-7": (0, 3, 7, 10),
            "m9": (0, 3, 7, 10, 2), "min9": (0, 3, 7, 10, 2), "m11": (0, 3, 7, 10, 5),
            "m13": (0, 3, 7, 10, 9), "m6": (0, 3, 7, 9), "min6": (0, 3, 7, 9),
            "mM7": (0, 3, 7, 11), "m(maj7)": (0, 3, 7, 11), "mmaj7": (0, 3, 7, 11),
            "minmaj7": (0, 3, 7, 11),
            "dim7": (0, 3, 6, 9), "o7": (0, 3, 6, 9), "°7": (0, 3, 6, 9),
            "m7b5": (0, 3, 6, 10), "m7(b5)": (0, 3, 6, 10), "ø": (0, 3, 6, 10),
            "ø7": (0, 3, 6, 10), "hdim7": (0, 3, 6, 10),
            "aug7": (0, 4, 8, 10), "+7": (0, 4, 8, 10), "7#5": (0, 4, 8, 10),
            "7+5": (0, 4, 8, 10), "7b5": (0, 4, 6, 10),
            "6": (0, 4, 7, 9), "maj6": (0, 4, 7, 9), "69": (0, 4, 7, 9, 2), "6/9": (0, 4, 7, 9, 2),
            "add9": (0, 4, 7, 2), "add2": (0, 4, 7, 2), "madd9": (0, 3, 7, 2),
            "sus": (0, 5, 7), "sus4": (0, 5, 7), "sus2": (0, 2, 7), "7sus4": (0, 5, 7, 10),
            "7sus": (0, 5, 7, 10), "9sus4": (0, 5, 7, 10, 2), "5": (0, 7), "1": (0,),
        }.items(),
        key=lambda item: -len(item[0]),
    )
)  # fmt: skip
_POP_EXTENSION_RE: Final = re.compile(r"^(?:\(?(?:add|no|omit|b|#|\+|-)?\d{1,2}\)?)*$")


def _reduce_pop(symbol: str) -> int:
    body, _, bass = symbol.partition("/")
    if bass and not re.fullmatch(r"[A-Ga-g](?:#|b|♯|♭)*|\d{1,2}", bass):
        raise _error(symbol, f"bad bass {bass!r}; expected a note name")
    root, used = parse_pitch_class(body)
    rest = body[used:]
    for name, ivs in _POP_QUALITIES:
        if rest.startswith(name) and _POP_EXTENSION_RE.match(rest[len(name) :]):
            return classify(root, set(ivs) | _extensions(rest[len(name) :]))
    raise _error(symbol, f"unknown chord quality {rest!r}")


def _extensions(text: str) -> set[int]:
    """Added degrees of ``(add9)``, ``b9``, ``#11``; ``no3``/``omit5`` are ignored."""
    added: set[int] = set()
    for prefix, number in re.findall(r"(add|no|omit|b|#|\+|-)?(\d{1,2})", text):
        if prefix in ("no", "omit"):
            continue
        semis = _DEGREE_SEMITONES[(int(number) - 1) % 7 + 1] if int(number) >= 1 else 0
        semis += {"b": -1, "-": -1, "#": 1, "+": 1}.get(prefix, 0)
        if int(number) >= 9:  # tensions never change the triad's class
            continue
        added.add(semis % 12)
    return added


def reduce_chord(symbol: str) -> int:
    """Reduce a chord symbol (pop or Harte syntax) to its class in 0..63.

    ``N``, ``N.C.``, ``NC`` and Harte ``X`` give :data:`NO_CHORD`; ``reduce_chord(
    chord_label(i)) == i`` for every class.

    :raises DatasetError: If ``symbol`` is not a well-formed chord symbol.
    """
    text = symbol.strip()
    if text in ("N", "X", "N.C.", "NC", "N.C", "n.c."):
        return NO_CHORD
    if not text:
        raise _error(symbol, "empty chord symbol")
    if ":" in text or re.fullmatch(r"[A-Ga-g](?:#|b)*/(?:\*|b|#)*\d+", text):
        return _reduce_harte(text)
    return _reduce_pop(text)


def reduce_roman(numeral: str, key: str, *, key_relative: bool = False) -> int:
    """Reduce a Roman numeral in a key to its class (see :mod:`kelly_core.encodings.roman`).

    ``("V7", "C")`` → G:7, ``("ii", "C")`` → D:min, ``("bVII", "F")`` → Eb:maj,
    ``("viio7", "a")`` → the dim7 class of G#. Lower-case keys are minor. With
    ``key_relative=True`` the root is relative to the tonic: ``("V7", "F")`` → G:7.

    :raises DatasetError: If the numeral or the key is not well formed.
    """
    from kelly_core.encodings.roman import reduce_roman as _reduce  # roman imports this module

    return _reduce(numeral, key, key_relative=key_relative)
