"""Expression per beat: 16 performance values in [0, 1] (docs/encodings.md).

Fields, in vector order, each in [0, 1] (clipped), with their unit:

==  ==================  ===============================================================
 0  velocity_mean       mean onset velocity / 127
 1  velocity_spread     standard deviation of onset velocities / 64
 2  accent_1            mean velocity / 127 of onsets in the beat's 1st sixteenth
 3  accent_2            ... 2nd sixteenth (velocity_mean where it has no onset)
 4  accent_3            ... 3rd sixteenth
 5  accent_4            ... 4th sixteenth
 6  articulation        mean duration / inter-onset interval, / 2 (0.5 = legato, 1:1)
 7  timing_offset       mean onset deviation from the sixteenth grid in sixteenths,
                        + 0.5 (0.5 = on the grid, 0 = half a sixteenth early)
 8  timing_spread       standard deviation of that deviation in sixteenths × 2
 9  sustain_pedal       fraction of the beat with CC64 ≥ 64
10  soft_pedal          fraction of the beat with CC67 ≥ 64
11  density             onsets in the beat / 16
12  register            (mean onset pitch - 21) / 87 (the piano range A0..C8)
13  register_span       (highest - lowest onset pitch) / 87
14  polyphony           time-averaged number of sounding notes / 10
15  velocity_trend      slope of velocity over the beat, velocity units per beat / 128
                        + 0.5 (0.5 = flat, > 0.5 = crescendo)
==  ==================  ===============================================================

A beat without onsets keeps the defaults of :data:`DEFAULT_EXPRESSION` for the onset
fields (velocities, accents, articulation, timing, register, trend), density 0 and
measured pedals and polyphony.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final

import attrs
import numpy as np

from kelly_core.arrays import FloatArray, as_float32, check_shape

__all__ = [
    "DEFAULT_EXPRESSION",
    "EXPRESSION_FIELDS",
    "Expression",
    "expression_for_beat",
    "expressions_for_beats",
    "pedal_intervals",
]

_unit = attrs.field(default=0.0, converter=lambda x: float(min(max(float(x), 0.0), 1.0)))


@attrs.frozen(kw_only=True)
class Expression:
    """Sixteen performance values for one beat, each in [0, 1] (see the module table)."""

    velocity_mean: float = _unit
    velocity_spread: float = _unit
    accent_1: float = _unit
    accent_2: float = _unit
    accent_3: float = _unit
    accent_4: float = _unit
    articulation: float = _unit
    timing_offset: float = _unit
    timing_spread: float = _unit
    sustain_pedal: float = _unit
    soft_pedal: float = _unit
    density: float = _unit
    register: float = _unit
    register_span: float = _unit
    polyphony: float = _unit
    velocity_trend: float = _unit

    def to_vector(self) -> FloatArray:
        """Return the ``(16,)`` float32 vector in :data:`EXPRESSION_FIELDS` order."""
        return as_float32([getattr(self, name) for name in EXPRESSION_FIELDS])

    @classmethod
    def from_vector(cls, vector: object) -> Expression:
        """Build from a ``(16,)`` vector (values clipped to [0, 1])."""
        array = np.asarray(vector, dtype=np.float64)
        check_shape(array, (len(EXPRESSION_FIELDS),), name="expression")
        return cls(**{name: float(v) for name, v in zip(EXPRESSION_FIELDS, array, strict=True)})


EXPRESSION_FIELDS: Final[tuple[str, ...]] = tuple(a.name for a in attrs.fields(Expression))
"""The 16 field names, in vector order."""

DEFAULT_EXPRESSION: Final = Expression(
    velocity_mean=80 / 127,
    velocity_spread=8 / 64,
    accent_1=90 / 127,
    accent_2=75 / 127,
    accent_3=82 / 127,
    accent_4=75 / 127,
    articulation=0.45,
    timing_offset=0.5,
    timing_spread=0.0,
    sustain_pedal=0.0,
    soft_pedal=0.0,
    density=2 / 16,
    register=(64 - 21) / 87,
    register_span=12 / 87,
    polyphony=2 / 10,
    velocity_trend=0.5,
)
"""The DynamicsEngine's fallback: velocity 80 with a mild downbeat accent, on the grid."""

Note = tuple[int, float, float, int]
"""``(pitch, start_s, end_s, velocity)``."""


def pedal_intervals(
    events: Sequence[tuple[float, int]], *, threshold: int = 64
) -> list[tuple[float, float]]:
    """Turn time-ordered ``(time_s, value)`` controller events into pressed intervals.

    A pedal is down while its value is at least ``threshold``; an interval still open at
    the end is closed at infinity.
    """
    out: list[tuple[float, float]] = []
    down_at: float | None = None
    for time_s, value in sorted(events):
        if value >= threshold and down_at is None:
            down_at = float(time_s)
        elif value < threshold and down_at is not None:
            out.append((down_at, float(time_s)))
            down_at = None
    if down_at is not None:
        out.append((down_at, float("inf")))
    return out


def _covered(intervals: Sequence[tuple[float, float]], start: float, end: float) -> float:
    total = sum(max(0.0, min(b, end) - max(a, start)) for a, b in intervals)
    return total / (end - start)


def expression_for_beat(
    notes: Sequence[Note],
    beat_start_s: float,
    beat_end_s: float,
    *,
    sustain: Sequence[tuple[float, float]] = (),
    soft: Sequence[tuple[float, float]] = (),
    next_onsets: Sequence[float] | np.ndarray = (),
) -> Expression:
    """Extract the expression of one beat.

    :param notes: Notes of the piece (or at least those sounding in the beat).
    :param beat_start_s: Beat start in seconds.
    :param beat_end_s: Beat end in seconds (> start).
    :param sustain: Sustain-pedal (CC64) down intervals, from :func:`pedal_intervals`.
    :param soft: Soft-pedal (CC67) down intervals.
    :param next_onsets: Sorted onset times of the whole piece, for inter-onset
        intervals; by default the onsets of ``notes``.
    """
    beat = beat_end_s - beat_start_s
    if beat <= 0:
        raise ValueError(f"beat must have positive length, got {beat_start_s}..{beat_end_s}")
    sixteenth = beat / 4
    d = DEFAULT_EXPRESSION
    onsets = [n for n in notes if beat_start_s - sixteenth / 2 <= n[1] < beat_end_s - sixteenth / 2]
    sounding = sum(max(0.0, min(n[2], beat_end_s) - max(n[1], beat_start_s)) for n in notes)
    fields: dict[str, float] = {
        "sustain_pedal": _covered(sustain, beat_start_s, beat_end_s),
        "soft_pedal": _covered(soft, beat_start_s, beat_end_s),
        "density": len(onsets) / 16,
        "polyphony": sounding / beat / 10,
    }
    if not onsets:
        return attrs.evolve(d, **fields)
    vel = np.array([n[3] for n in onsets], dtype=np.float64)
    times = np.array([n[1] for n in onsets], dtype=np.float64)
    pitches = np.array([n[0] for n in onsets], dtype=np.float64)
    position = (times - beat_start_s) / sixteenth
    slot = np.clip(np.floor(position + 0.5), 0, 3).astype(int)
    deviation = position - np.floor(position + 0.5)
    all_onsets = np.asarray(next_onsets if len(next_onsets) else sorted(n[1] for n in notes))
    ratios = []
    for n in onsets:  # the last note of a piece has no inter-onset interval: skipped
        later = all_onsets[np.searchsorted(all_onsets, n[1] + 0.01, side="left") :]
        if len(later):
            ratios.append(min((n[2] - n[1]) / max(float(later[0] - n[1]), 1e-3), 2.0))
    if not ratios:
        ratios = [min((n[2] - n[1]) / beat, 2.0) for n in onsets]
    mean_vel = float(vel.mean())
    for k in range(4):
        in_slot = vel[slot == k]
        fields[f"accent_{k + 1}"] = (in_slot.mean() if len(in_slot) else mean_vel) / 127
    trend = 0.0
    if len(onsets) >= 2 and np.ptp(times) > 0:
        trend = float(np.polyfit((times - beat_start_s) / beat, vel, 1)[0])
    fields.update(
        velocity_mean=mean_vel / 127,
        velocity_spread=float(vel.std()) / 64,
        articulation=float(np.mean(ratios)) / 2,
        timing_offset=float(deviation.mean()) + 0.5,
        timing_spread=float(deviation.std()) * 2,
        register=(float(pitches.mean()) - 21) / 87,
        register_span=float(np.ptp(pitches)) / 87,
        velocity_trend=trend / 128 + 0.5,
    )
    return attrs.evolve(d, **fields)


def expressions_for_beats(
    notes: Sequence[Note],
    beat_times: object,
    *,
    sustain: Sequence[tuple[float, float]] = (),
    soft: Sequence[tuple[float, float]] = (),
) -> FloatArray:
    """Extract ``(B, 16)`` expression vectors for beats bounded by ``beat_times`` ``(B + 1,)``.

    Notes are bucketed by time first, so a long piece costs about one pass over its notes.
    """
    bounds = np.asarray(beat_times, dtype=np.float64)
    check_shape(bounds, (None,), name="beat_times")
    beats = max(len(bounds) - 1, 0)
    ordered = sorted(notes, key=lambda n: n[1])
    starts = np.array([n[1] for n in ordered], dtype=np.float64)
    ends = np.array([n[2] for n in ordered], dtype=np.float64)
    ends_max = np.maximum.accumulate(ends) if len(ends) else ends
    out = np.empty((beats, len(EXPRESSION_FIELDS)), dtype=np.float32)
    sus, sus_starts, sus_ends = _sorted_intervals(sustain)
    sft, sft_starts, sft_ends = _sorted_intervals(soft)
    for b in range(beats):
        lo_t, hi_t = bounds[b], bounds[b + 1]
        hi = int(np.searchsorted(starts, hi_t, side="left"))
        lo = int(np.searchsorted(ends_max, lo_t - (hi_t - lo_t), side="right"))
        window = ordered[lo:hi]
        out[b] = expression_for_beat(
            window,
            lo_t,
            hi_t,
            sustain=_overlapping(sus, sus_starts, sus_ends, lo_t, hi_t),
            soft=_overlapping(sft, sft_starts, sft_ends, lo_t, hi_t),
            next_onsets=starts,
        ).to_vector()
    return out


def _sorted_intervals(
    intervals: Sequence[tuple[float, float]],
) -> tuple[list[tuple[float, float]], np.ndarray, np.ndarray]:
    ordered = sorted(intervals)
    starts = np.array([a for a, _ in ordered], dtype=np.float64)
    ends = np.array([b for _, b in ordered], dtype=np.float64)
    return ordered, starts, np.maximum.accumulate(ends) if len(ends) else ends


def _overlapping(
    ordered: list[tuple[float, float]],
    starts: np.ndarray,
    ends_max: np.ndarray,
    lo: float,
    hi: float,
) -> list[tuple[float, float]]:
    first = int(np.searchsorted(ends_max, lo, side="right"))
    last = int(np.searchsorted(starts, hi, side="left"))
    return ordered[first:last]
