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

    Row ``b`` is :func:`expression_for_beat` of beat ``b`` (with the piece's onsets as
    ``next_onsets``), computed for all beats at once: a beat's onsets are a contiguous run
    of the notes sorted by start, note and pedal overlaps are summed per (note, beat) pair,
    and the per-beat statistics are segment reductions, so a piece costs a few array
    passes over its notes rather than a Python loop per beat.

    :raises ValueError: If a beat has no positive length.
    """
    bounds = np.asarray(beat_times, dtype=np.float64)
    check_shape(bounds, (None,), name="beat_times")
    beats = max(len(bounds) - 1, 0)
    lo_t, hi_t = bounds[:-1], bounds[1:]
    length = hi_t - lo_t
    if beats and not np.all(length > 0):
        b = int(np.argmin(length > 0))
        raise ValueError(f"beat must have positive length, got {lo_t[b]}..{hi_t[b]}")
    ordered = sorted(notes, key=lambda n: n[1])
    table = np.array([n[:4] for n in ordered], dtype=np.float64).reshape(len(ordered), 4)
    out = np.tile(DEFAULT_EXPRESSION.to_vector().astype(np.float64), (beats, 1))
    if beats == 0:
        return as_float32(out)
    out[:, _COL["sustain_pedal"]] = _overlap_sums(_interval_table(sustain), bounds) / length
    out[:, _COL["soft_pedal"]] = _overlap_sums(_interval_table(soft), bounds) / length
    out[:, _COL["polyphony"]] = _overlap_sums(table[:, 1:3], bounds) / length / 10
    sixteenth = length / 4
    first = np.searchsorted(table[:, 1], lo_t - sixteenth / 2, side="left")
    count = np.searchsorted(table[:, 1], hi_t - sixteenth / 2, side="left") - first
    out[:, _COL["density"]] = count / 16
    has = np.flatnonzero(count > 0)
    if len(has):
        _onset_fields(out, table, has, first[has], count[has], lo_t[has], length[has])
    return as_float32(np.clip(out, 0.0, 1.0))


_COL: Final = {name: k for k, name in enumerate(EXPRESSION_FIELDS)}


def _interval_table(intervals: Sequence[tuple[float, float]]) -> np.ndarray:
    return np.array(sorted(intervals), dtype=np.float64).reshape(len(intervals), 2)


def _overlap_sums(intervals: np.ndarray, bounds: np.ndarray) -> np.ndarray:
    """Sum ``max(0, min(end, hi) - max(start, lo))`` over ``(start, end)`` rows per beat.

    Terms are added per beat in row order, as :func:`expression_for_beat` adds them.
    """
    beats = len(bounds) - 1
    if len(intervals) == 0:
        return np.zeros(beats)
    start, end = intervals[:, 0], intervals[:, 1]
    b0 = np.maximum(np.searchsorted(bounds, start, side="right") - 1, 0)
    b1 = np.minimum(np.searchsorted(bounds, end, side="left"), beats)
    spans = np.maximum(b1 - b0, 0)
    row = np.repeat(np.arange(len(intervals)), spans)
    beat = b0[row] + np.arange(len(row)) - np.repeat(np.cumsum(spans) - spans, spans)
    overlap = np.maximum(
        0.0, np.minimum(end[row], bounds[beat + 1]) - np.maximum(start[row], bounds[beat])
    )
    sums: np.ndarray = np.bincount(beat, weights=overlap, minlength=beats)
    return sums


def _segment_sums(values: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Sums of consecutive runs of ``values`` of the given lengths (0 for an empty run)."""
    sums = np.zeros(len(counts))
    full = counts > 0
    if np.any(full):
        sums[full] = np.add.reduceat(values, (np.cumsum(counts) - counts)[full])
    return sums


def _onset_fields(
    out: np.ndarray,
    table: np.ndarray,
    has: np.ndarray,
    first: np.ndarray,
    count: np.ndarray,
    lo_t: np.ndarray,
    length: np.ndarray,
) -> None:
    """Fill the onset fields of rows ``has`` of ``out`` (beats with ``count`` onsets)."""
    offsets = np.cumsum(count) - count
    group = np.repeat(np.arange(len(has)), count)
    index = np.arange(int(count.sum())) - offsets[group] + first[group]
    pitch, start, end, vel = table[index].T

    def mean(values: np.ndarray) -> np.ndarray:
        means: np.ndarray = _segment_sums(values, count) / count
        return means

    def std(values: np.ndarray, centre: np.ndarray) -> np.ndarray:
        d = values - centre[group]
        spread: np.ndarray = np.sqrt(_segment_sums(d * d, count) / count)
        return spread

    sixteenth = length / 4
    position = (start - lo_t[group]) / sixteenth[group]
    rounded = np.floor(position + 0.5)
    slot = np.clip(rounded, 0, 3).astype(np.intp)
    deviation = position - rounded
    # inter-onset ratio: the next onset of the piece at least 10 ms later
    all_starts = table[:, 1]
    nxt = np.searchsorted(all_starts, start + 0.01, side="left")
    valid = nxt < len(all_starts)
    gap = all_starts[np.minimum(nxt, len(all_starts) - 1)] - start
    ratio = np.minimum((end - start) / np.maximum(gap, 1e-3), 2.0)
    n_valid = np.bincount(group[valid], minlength=len(has))
    articulation = _segment_sums(ratio[valid], n_valid) / np.maximum(n_valid, 1)
    fallback = mean(np.minimum((end - start) / length[group], 2.0))
    articulation = np.where(n_valid > 0, articulation, fallback)
    mean_vel = mean(vel)
    key = group * 4 + slot
    order = np.argsort(key, kind="stable")
    in_slot = np.bincount(key, minlength=4 * len(has))
    slot_sums = _segment_sums(vel[order], in_slot)
    accents = np.where(
        in_slot > 0, slot_sums / np.maximum(in_slot, 1), np.repeat(mean_vel, 4)
    ).reshape(len(has), 4)
    x = (start - lo_t[group]) / length[group]
    dx = x - mean(x)[group]
    sxx = _segment_sums(dx * dx, count)
    sxy = _segment_sums(dx * (vel - mean_vel[group]), count)
    t_span = np.maximum.reduceat(start, offsets) - np.minimum.reduceat(start, offsets)
    sloped = (count >= 2) & (t_span > 0) & (sxx > 0)  # sxx underflows only for ~1e-150 s
    trend = np.where(sloped, sxy / np.where(sloped, sxx, 1.0), 0.0)
    p_lo, p_hi = np.minimum.reduceat(pitch, offsets), np.maximum.reduceat(pitch, offsets)
    c = _COL
    out[has, c["velocity_mean"]] = mean_vel / 127
    out[has, c["velocity_spread"]] = std(vel, mean_vel) / 64
    out[has, c["accent_1"] : c["accent_4"] + 1] = accents / 127
    out[has, c["articulation"]] = articulation / 2
    out[has, c["timing_offset"]] = mean(deviation) + 0.5
    out[has, c["timing_spread"]] = std(deviation, mean(deviation)) * 2
    out[has, c["register"]] = (mean(pitch) - 21) / 87
    out[has, c["register_span"]] = (p_hi - p_lo) / 87
    out[has, c["velocity_trend"]] = trend / 128 + 0.5
