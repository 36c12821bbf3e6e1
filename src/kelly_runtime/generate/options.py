"""The options of one generation run, as a frozen value object."""

from __future__ import annotations

import math
from typing import Final

import attrs

from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.keys import Key, PitchRange

__all__ = ["DEFAULT_RANGE", "DEFAULT_TEMPO", "MAX_TEMPO", "MIN_TEMPO", "GenerateOptions"]

DEFAULT_TEMPO: Final = 120.0
"""Beats per minute when no beat can be detected and none is given."""
MIN_TEMPO: Final = 20.0
MAX_TEMPO: Final = 400.0
DEFAULT_RANGE: Final = PitchRange(low=60, high=84)
"""C4..C6: the melody's default range."""


def _to_key(value: Key | str | None) -> Key | None:
    if value is None or isinstance(value, Key):
        return value
    return Key.parse(value)


def _to_range(value: PitchRange | str) -> PitchRange:
    return value if isinstance(value, PitchRange) else PitchRange.parse(value)


def _check_tempo(
    instance: GenerateOptions, attribute: attrs.Attribute[float | None], value: float | None
) -> None:
    if value is not None and not (math.isfinite(value) and MIN_TEMPO <= value <= MAX_TEMPO):
        raise GenerateOptionError(
            f"tempo must be within {MIN_TEMPO:g}..{MAX_TEMPO:g} BPM, got {value}",
            field="tempo",
            expected=(MIN_TEMPO, MAX_TEMPO),
            got=value,
        )


def _check_bars(
    instance: GenerateOptions, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and (isinstance(value, bool) or value < 1):
        raise GenerateOptionError(
            f"bars must be a positive integer, got {value!r}",
            field="bars",
            expected="int >= 1",
            got=value,
        )


def _check_temperature(
    instance: GenerateOptions, attribute: attrs.Attribute[float], value: float
) -> None:
    if not (math.isfinite(value) and value > 0.0):
        raise GenerateOptionError(
            f"temperature must be a finite number > 0, got {value}",
            field="temperature",
            expected="> 0",
            got=value,
        )


@attrs.frozen(kw_only=True)
class GenerateOptions:
    """How to turn audio into MIDI; every field has a default.

    ``key`` and ``pitch_range`` also accept the strings the command line takes
    (``"Am"``, ``"C4-C6"``).
    """

    tempo: float | None = attrs.field(
        default=None, converter=attrs.converters.optional(float), validator=_check_tempo
    )
    """A steady tempo in BPM instead of the detected beats; None = follow the audio."""
    bars: int | None = attrs.field(default=None, validator=_check_bars)
    """Length in 4/4 bars from the first downbeat; None = as long as the audio."""
    backend: str | None = None
    """Inference backend name (``"numba"``, ``"numpy"``, ``"torch"``); None = the first
    usable of :data:`kelly_runtime.select.PREFERENCE` (numba where installed, else numpy)."""
    seed: int = 0
    """Seed of the melody sampling; the same seed and input give the same file."""
    key: Key | None = attrs.field(default=None, converter=_to_key)
    """Key of melody, chords and bass; None = estimated from the audio."""
    temperature: float = attrs.field(default=1.0, converter=float, validator=_check_temperature)
    """Melody sampling temperature (> 0): lower follows the model more closely."""
    pitch_range: PitchRange = attrs.field(default=DEFAULT_RANGE, converter=_to_range)
    """Inclusive MIDI range of the melody."""

    def beats_for(self, duration: float) -> int:
        """Number of beats to generate for ``duration`` seconds of audio (at least one)."""
        if self.bars is not None:
            return 4 * self.bars
        return max(1, round(duration * (self.tempo or DEFAULT_TEMPO) / 60.0))
