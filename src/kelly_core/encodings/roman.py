"""Roman-numeral analysis symbols (music21 / RomanText conventions) reduced to chord classes.

Grammar: ``[accidentals] numeral [quality] [figures] [[...]] [/secondary ...]`` where
``numeral`` is I..VII (upper case: major third, lower case: minor third), ``quality`` is
``o``/``°`` (diminished; with a seventh figure: diminished seventh), ``ø``/``/o``
(half-diminished), ``+`` (augmented) or ``M``/``maj`` (major seventh), and ``figures``
are inversion or seventh figures (``6``, ``64``, ``7``, ``65``, ``43``, ``42``, ``2``,
``9`` ...; music21's slashed figures ``6/4``, ``6/5``, ``4/3``, ``4/2`` are the same).
A seventh on an upper-case numeral is diatonic to the key (``V7`` → dominant seventh,
``I7`` → major seventh). In minor keys, degrees 6 and 7 are raised for lower-case or
diminished numerals (``viio7`` in A minor is on G#) and natural for
upper-case ones (``VII`` in A minor is G major), music21's "cautionary" default.
``/X`` tonicizes: ``V7/V`` in C is D:7 (a lower-case target means a minor key).
Special chords: ``N``/``N6`` (Neapolitan: major on flat 2), ``It6``, ``Ger65``, ``Fr43``
(augmented sixths: dominant-seventh sonority on flat 6), ``Cad64`` (the tonic).
Keys: ``C``, ``c``, ``Bb``, ``f#``, ``B-`` (music21), ``C major``, ``a minor``, ``Am``;
lower case or a minor suffix means minor.

With ``key_relative=True`` the class is relative to the key's tonic (root 0 = tonic; the
convention of :mod:`kelly_core.encodings.tonal`): ``V7`` is ``G:7`` in every major key and
``i`` is ``C:min`` in every minor key.
"""

from __future__ import annotations

import re
from typing import Final

from kelly_core.encodings.chords import chord_index, classify, parse_pitch_class
from kelly_core.errors import DatasetError

__all__ = ["parse_key", "reduce_roman"]

_MAJOR: Final = (0, 2, 4, 5, 7, 9, 11)
_NATURAL_MINOR: Final = (0, 2, 3, 5, 7, 8, 10)
_NUMERALS: Final = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5, "VI": 6, "VII": 7}
_SEVENTH_FIGURES: Final = ("7", "65", "43", "42", "2", "9", "11", "13")
_NUMERAL_RE: Final = re.compile(
    r"^(?P<acc>(?:b|#|-)*)(?P<num>VII|VI|IV|V|III|II|I|vii|vi|iv|v|iii|ii|i)"
    r"(?P<qual>o|°|ø|/o|\+|M|maj)?(?P<fig>(?:[b#]?\d)*)$"
)


def _error(numeral: str, key: str, message: str) -> DatasetError:
    return DatasetError(
        f"roman numeral {numeral!r} in {key!r}: {message}", field="numeral", got=numeral
    )


def parse_key(key: str) -> tuple[int, bool]:
    """Parse a key name; return ``(tonic pitch class, is_minor)``.

    :raises DatasetError: If ``key`` is not a key name.
    """
    text = key.strip().rstrip(":")
    tonic, used = parse_pitch_class(text, dash_is_flat=True)
    suffix = text[used:].strip().lower().lstrip(":").strip()
    if suffix in ("m", "min", "minor"):
        return tonic, True
    if suffix in ("", "maj", "major"):
        return tonic, text[0].islower() and suffix == ""
    raise DatasetError(f"key {key!r}: expected e.g. 'C', 'a', 'Bb major'", field="key", got=key)


def _scale_degree(tonic: int, minor: bool, degree: int, raised: bool) -> int:
    if not minor:
        return (tonic + _MAJOR[degree - 1]) % 12
    step = _NATURAL_MINOR[degree - 1]
    if raised and degree in (6, 7):
        step += 1
    return (tonic + step) % 12


def _in_scale(tonic: int, minor: bool, pc: int) -> bool:
    scale = _NATURAL_MINOR if minor else _MAJOR
    return (pc - tonic) % 12 in scale


def _special(name: str, tonic: int, minor: bool) -> int | None:
    base = re.sub(r"\d+$", "", name)
    if base in ("It", "Ger", "Fr"):
        return chord_index(tonic + 8, "7")
    if base == "N":
        return chord_index(tonic + 1, "maj")
    if base == "Cad":
        return chord_index(tonic, "min" if minor else "maj")
    return None


def _chord(numeral: str, tonic: int, minor: bool, original: str, key: str) -> tuple[int, int]:
    """Return ``(class, root pc)`` of one numeral (no secondary part)."""
    special = _special(numeral, tonic, minor)
    if special is not None:
        return special, -1
    match = _NUMERAL_RE.match(numeral)
    if match is None:
        raise _error(original, key, "expected e.g. 'V7', 'ii6', 'bVII', 'viio7', 'It6'")
    num, qual, fig = match.group("num"), match.group("qual") or "", match.group("fig")
    upper = num.isupper()
    degree = _NUMERALS[num.upper()]
    raised = not upper or qual in ("o", "°", "ø", "/o")
    root = _scale_degree(tonic, minor, degree, raised)
    root += sum(1 if ch == "#" else -1 for ch in match.group("acc"))
    root %= 12
    digits = re.sub(r"[b#]", "", fig)
    seventh = any(digits.startswith(f) for f in _SEVENTH_FIGURES) or qual in ("M", "maj")
    if qual in ("o", "°"):
        ivs = {0, 3, 6} | ({9} if seventh else set())
    elif qual in ("ø", "/o"):
        ivs = {0, 3, 6, 10}
    elif qual == "+":
        ivs = {0, 4, 8} | ({10} if seventh else set())
    else:
        ivs = {0, 4, 7} if upper else {0, 3, 7}
        if qual in ("M", "maj"):
            ivs.add(11)
        elif seventh:
            if upper:
                ivs.add(10 if _in_scale(tonic, minor, root + 10) else 11)
            else:
                ivs.add(10)
    return classify(root, ivs), root


def reduce_roman(numeral: str, key: str, *, key_relative: bool = False) -> int:
    """Reduce a Roman numeral in ``key`` to its chord class in 0..63.

    :param key_relative: Return the class relative to the key's tonic (``V`` in any major
        key → ``G:maj``) instead of in absolute pitch.
    :raises DatasetError: If the numeral or the key is not well formed.
    """
    tonic, minor = parse_key(key)
    if key_relative:
        tonic = 0
    text = re.sub(r"\[[^\]]*\]", "", numeral.strip())
    text = text.replace("/o", "ø")
    text = re.sub(r"(?<=\d)/(?=\d)", "", text)  # slashed figures: V6/5 is V65
    parts = text.split("/")
    if not parts[0]:
        raise _error(numeral, key, "empty numeral")
    # resolve secondary keys from the right: V/V/V -> key of V of (key of V)
    for target in reversed(parts[1:]):
        _, root = _chord(target, tonic, minor, numeral, key)
        if root < 0:
            raise _error(numeral, key, f"cannot tonicize {target!r}")
        match = _NUMERAL_RE.match(target)
        target_minor = match is not None and match.group("num").islower()
        tonic, minor = root, target_minor
    return _chord(parts[0], tonic, minor, numeral, key)[0]
