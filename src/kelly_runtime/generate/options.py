"""The options of one generation run, as a frozen value object."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Final

import attrs

from kelly_core.argtypes import MAX_SEED
from kelly_runtime.generate.errors import GenerateOptionError
from kelly_runtime.generate.keys import Key, PitchRange

__all__ = [
    "DEFAULT_RANGE",
    "DEFAULT_TEMPO",
    "MAX_BARS",
    "MAX_BEATS",
    "MAX_METER",
    "MAX_TEMPERATURE",
    "MAX_TEMPO",
    "MIN_METER",
    "MIN_TEMPO",
    "GenerateOptions",
]

DEFAULT_TEMPO: Final = 120.0
"""Beats per minute when no beat can be detected and none is given."""
MIN_TEMPO: Final = 20.0
MAX_TEMPO: Final = 400.0
MAX_BEATS: Final = 20_000
"""Most beats one MIDI file holds: at 480 ticks per beat its last tick stays under
pretty_midi's ``MAX_TICK`` (10,000,000), beyond which pretty_midi refuses to read a file
("likely corrupt"). 20,000 beats is 2 h 47 min at 120 BPM, 50 min at 400 BPM."""
MAX_BARS: Final = MAX_BEATS // 4
"""Largest ``--bars`` (5000); ``bars × meter`` must also stay within :data:`MAX_BEATS`."""
MAX_TEMPERATURE: Final = 100.0
"""Largest sampling temperature (at 100 the melody is already all but uniform)."""
MIN_METER: Final = 2
MAX_METER: Final = 7
"""Beats per bar ``--meter`` accepts."""
_LEAD_BEATS: Final = 16
"""Beats kept free of :data:`MAX_BEATS` for a lead-in and the grid's extension."""
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
        name = attribute.name.replace("_", " ")
        raise GenerateOptionError(
            f"{name} must be within {MIN_TEMPO:g}..{MAX_TEMPO:g} BPM, got {value}",
            field=attribute.name,
            expected=(MIN_TEMPO, MAX_TEMPO),
            got=value,
        )


def _check_bars(
    instance: GenerateOptions, attribute: attrs.Attribute[int | None], value: object
) -> None:
    if value is not None and (
        isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BARS
    ):
        raise GenerateOptionError(
            f"bars must be an integer in 1..{MAX_BARS}, got {value!r}",
            field="bars",
            expected=(1, MAX_BARS),
            got=value,
        )


def _check_seed(instance: GenerateOptions, attribute: attrs.Attribute[int], value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_SEED:
        raise GenerateOptionError(
            f"seed must be an integer in 0..{MAX_SEED}, got {value!r}",
            field="seed",
            expected=(0, MAX_SEED),
            got=value,
        )


def _check_meter(
    instance: GenerateOptions, attribute: attrs.Attribute[int | None], value: int | None
) -> None:
    if value is not None and (isinstance(value, bool) or not MIN_METER <= value <= MAX_METER):
        raise GenerateOptionError(
            f"meter must be {MIN_METER}..{MAX_METER} beats per bar, got {value!r}",
            field="meter",
            expected=f"int in {MIN_METER}..{MAX_METER}",
            got=value,
        )


def _check_temperature(
    instance: GenerateOptions, attribute: attrs.Attribute[float], value: float
) -> None:
    if not (math.isfinite(value) and 0.0 < value <= MAX_TEMPERATURE):
        raise GenerateOptionError(
            f"temperature must be a number > 0 and <= {MAX_TEMPERATURE:g}, got {value}",
            field="temperature",
            expected=(0.0, MAX_TEMPERATURE),
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
    tempo_hint: float | None = attrs.field(
        default=None, converter=attrs.converters.optional(float), validator=_check_tempo
    )
    """The song's beat is near this BPM: the beats are still detected in the audio, at
    this metrical level (:func:`kelly_core.barpointer.near_tempo`); None = the level the
    tracker hears. Not with ``tempo``."""
    bars: int | None = attrs.field(default=None, validator=_check_bars)
    """Length in bars from the first downbeat; None = as long as the audio."""
    meter: int | None = attrs.field(default=None, validator=_check_meter)
    """Beats per bar (2..7); None = detected from the audio (2, 3 or 4)."""
    backend: str | None = None
    """Inference backend name (``"numba"``, ``"numpy"``, ``"torch"``); None = the usable
    backend of highest ``BackendEntry.priority``
    (:func:`kelly_runtime.select.select_backend_name`: numba where installed, else numpy,
    unless a plugin's backend ranks higher)."""
    seed: int = attrs.field(default=0, validator=_check_seed)
    """Seed of the melody sampling (0..2**64-1); the same seed and input give the same
    file."""
    key: Key | None = attrs.field(default=None, converter=_to_key)
    """Key of melody, chords and bass; None = estimated from the audio."""
    temperature: float = attrs.field(default=1.0, converter=float, validator=_check_temperature)
    """Melody sampling temperature (> 0, <= 100): lower follows the model more closely."""
    pitch_range: PitchRange = attrs.field(default=DEFAULT_RANGE, converter=_to_range)
    """Inclusive MIDI range of the melody."""
    zero_latency: bool = attrs.field(default=False, validator=attrs.validators.instance_of(bool))
    """Play as a zero-latency plugin would: each beat hears only the previous beat's chroma
    (the models' contexts and the play-along rule alike), so chords follow the song a beat
    late and the notes keep off what the recent beats avoided (docs/generate.md, "Zero
    latency"). The beats and the key stay the whole clip's analysis."""

    def __attrs_post_init__(self) -> None:
        if self.tempo is not None and self.tempo_hint is not None:
            raise GenerateOptionError(
                "give a steady tempo or a tempo hint, not both",
                field="tempo_hint",
                expected="None with tempo",
                got=self.tempo_hint,
            )
        if self.bars is not None and self.meter is not None and self.bars * self.meter > MAX_BEATS:
            raise GenerateOptionError(
                f"{self.bars} bars of {self.meter} beats is {self.bars * self.meter} beats; "
                f"a MIDI file holds at most {MAX_BEATS}",
                field="bars",
                expected=MAX_BEATS // self.meter,
                got=self.bars,
            )

    def check_length(self, duration: float, *, source: Path | None = None) -> None:
        """Refuse ``duration`` seconds of audio whose music would not fit one MIDI file.

        Called on the header's length, before any analysis: ``--bars`` is bounded by
        itself; a steady ``--tempo`` plays ``duration × tempo / 60`` beats. Detected beats
        fit in any audio that :func:`~kelly_runtime.generate.audio.read_audio` accepts.

        :raises GenerateOptionError: Naming ``--tempo``, the beats and the limit.
        """
        if self.bars is not None or self.tempo is None:
            return
        beats = duration * self.tempo / 60.0
        if beats > MAX_BEATS - _LEAD_BEATS:
            longest = (MAX_BEATS - _LEAD_BEATS) * 60.0 / self.tempo / 60.0
            raise GenerateOptionError(
                f"{duration / 60.0:.1f} min at {self.tempo:g} BPM is {beats:,.0f} beats; a MIDI "
                f"file holds at most {MAX_BEATS:,} (at this tempo {longest:.1f} min of audio); "
                "give --bars, a slower --tempo or a shorter file",
                path=source,
                field="tempo",
                expected=MAX_BEATS,
                got=round(beats),
            )

    def beats_for(self, duration: float) -> int:
        """Number of beats to generate for ``duration`` seconds of audio (at least one)."""
        if self.bars is not None:
            return (self.meter or 4) * self.bars
        return max(1, round(duration * (self.tempo or DEFAULT_TEMPO) / 60.0))
