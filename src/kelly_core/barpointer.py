"""Beat tracking by a hidden Markov model over beat phase and tempo (a bar pointer).

The state space is the efficient one of Krebs, Böck and Widmer (2015, "An efficient
state-space model for joint tempo and meter tracking"): for each of
:attr:`BeatHmmConfig.tempi` beat periods ``τ`` (whole frames, spaced evenly on a log scale
between the periods of :attr:`BeatHmmConfig.max_bpm` and :attr:`BeatHmmConfig.min_bpm`)
the pointer takes the positions ``0 .. τ - 1`` of one beat; it moves one position per
frame and, at the end of a beat, may move to another period ``τ'`` with probability
proportional to ``exp(-λ · |τ' / τ - 1|)`` (λ = :attr:`BeatHmmConfig.transition_lambda`),
so the tempo can change at beat boundaries only and is not tied to one quantised value:
alternating periods of 21 and 22 frames follow a tempo between them without drift.

Observations: the first ``τ / observation_lambda`` positions of a beat are "beat" states,
in which an activation ``a`` (0..1) has likelihood ``a``; elsewhere ``(1 - a) /
(observation_lambda - 1)``. The Viterbi path is decoded over the whole clip (offline), and
each beat is placed on the frame of highest activation among the beat states the path
runs through (madmom's ``correct`` option does the same). Only the beat-start states
keep back-pointers (one per period per frame), so memory is ``frames × tempi`` int16.

The decoder is written from the paper; no code of other projects is used.
"""

from __future__ import annotations

import functools
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

__all__ = [
    "DEFAULT_BEAT_HMM",
    "DUPLE_PREFERENCE",
    "TEMPO_HINT_SPAN",
    "BeatHmmConfig",
    "Meter",
    "choose_meter",
    "decode_beats",
    "near_tempo",
    "state_space",
]


@attrs.frozen(kw_only=True)
class BeatHmmConfig:
    """Parameters of the beat tracking model (module docstring)."""

    min_bpm: float = 55.0
    """Slowest tempo the model can follow."""
    max_bpm: float = 215.0
    """Fastest tempo the model can follow."""
    tempi: int = 60
    """Number of beat periods (fewer where periods round to the same frame count)."""
    transition_lambda: float = 100.0
    """How strongly the tempo sticks from one beat to the next."""
    observation_lambda: int = 16
    """A beat's first ``1 / observation_lambda`` is where a beat may be observed."""


DEFAULT_BEAT_HMM: Final = BeatHmmConfig()

TEMPO_HINT_SPAN: Final = 1.3
"""How far from a tempo hint the beat may be: ``bpm / 1.3`` to ``bpm × 1.3``. Narrow
enough to rule out the metrical levels next to the hinted one (×2, ×½, ×3/2, ×2/3), wide
enough for a rough hint and a tempo that changes; chosen on the listening benchmark's dev
pieces (docs/listening.md, "Telling Kelly the tempo")."""


def near_tempo(bpm: float, config: BeatHmmConfig = DEFAULT_BEAT_HMM) -> BeatHmmConfig:
    """``config`` with its tempo range narrowed to :data:`TEMPO_HINT_SPAN` around ``bpm``:
    the decoder then finds the beats at the metrical level of the hint (the tracker's
    activation often peaks about as high on the off-beat eighths, so at double or half the
    tempo a listener would count) and their phase and tempo changes from the audio.

    :raises ValueError: If ``bpm`` is not a positive finite number.
    """
    if not (np.isfinite(bpm) and bpm > 0):
        raise ValueError(f"a tempo hint must be a positive number of BPM, got {bpm}")
    return attrs.evolve(config, min_bpm=bpm / TEMPO_HINT_SPAN, max_bpm=bpm * TEMPO_HINT_SPAN)


@attrs.frozen(kw_only=True, eq=False)
class StateSpace:
    """The states of :func:`state_space`: ``periods[j]`` positions for period ``j``."""

    periods: npt.NDArray[np.int64]
    """Beat period of each tempo in frames, increasing."""
    starts: npt.NDArray[np.int64]
    """Index of each period's first state (position 0)."""
    ends: npt.NDArray[np.int64]
    """Index of each period's last state."""
    position: npt.NDArray[np.float64]
    """Each state's position in its beat, 0..1."""
    log_transition: npt.NDArray[np.float64]
    """``[from, to]`` log-probability of moving between periods at a beat's end."""

    @property
    def size(self) -> int:
        """Number of states."""
        return int(self.position.shape[0])


@functools.lru_cache(maxsize=8)
def state_space(fps: float, config: BeatHmmConfig = DEFAULT_BEAT_HMM) -> StateSpace:
    """Return the state space for activations at ``fps`` frames per second."""
    shortest = 60.0 * fps / config.max_bpm
    longest = 60.0 * fps / config.min_bpm
    periods = np.unique(
        np.round(np.exp(np.linspace(np.log(shortest), np.log(longest), config.tempi)))
    ).astype(np.int64)
    periods = periods[periods >= 2]
    starts = np.concatenate([[0], np.cumsum(periods)[:-1]])
    ends = starts + periods - 1
    position = np.concatenate([np.arange(p) / p for p in periods])
    ratio = np.abs(periods[None, :] / periods[:, None] - 1.0)
    log_transition = -config.transition_lambda * ratio
    log_transition -= np.log(np.exp(log_transition).sum(axis=1, keepdims=True))
    return StateSpace(
        periods=periods,
        starts=starts,
        ends=ends,
        position=position,
        log_transition=log_transition,
    )


def decode_beats(
    activation: npt.ArrayLike, fps: float, config: BeatHmmConfig = DEFAULT_BEAT_HMM
) -> npt.NDArray[np.int64]:
    """Return the frames of the beats in ``activation`` (one value in 0..1 per frame).

    :returns: Increasing frame indices; empty when the clip is shorter than two of the
        slowest beats.
    """
    act = np.clip(np.asarray(activation, dtype=np.float64).ravel(), 1e-6, 1.0 - 1e-6)
    space = state_space(fps, config)
    if act.shape[0] < 2 * int(space.periods[-1]):
        return np.zeros(0, dtype=np.int64)
    beat_state = space.position < 1.0 / config.observation_lambda
    log_beat = np.log(act)
    log_other = np.log((1.0 - act) / (config.observation_lambda - 1))
    back = np.empty((act.shape[0], space.periods.shape[0]), dtype=np.int16)
    delta = np.where(beat_state, log_beat[0], log_other[0]) - np.log(space.size)
    moved = np.empty_like(delta)
    for frame in range(1, act.shape[0]):
        moved[1:] = delta[:-1]
        candidates = delta[space.ends][:, None] + space.log_transition
        best = np.argmax(candidates, axis=0)
        back[frame] = best
        moved[space.starts] = candidates[best, np.arange(best.shape[0])]
        moved += np.where(beat_state, log_beat[frame], log_other[frame])
        delta, moved = moved - moved.max(), delta
    path = _backtrack(space, back, int(np.argmax(delta)))
    return _beat_frames(path, beat_state, act)


def _backtrack(space: StateSpace, back: np.ndarray, last: int) -> npt.NDArray[np.int64]:
    """The Viterbi path's state at every frame, from its last state ``last``."""
    period_of = np.repeat(np.arange(space.periods.shape[0]), space.periods)
    path = np.empty(back.shape[0], dtype=np.int64)
    state = last
    for frame in range(back.shape[0] - 1, -1, -1):
        path[frame] = state
        period = period_of[state]
        if state == space.starts[period]:
            if frame:
                state = int(space.ends[back[frame, period]])
        else:
            state -= 1
    return path


def _beat_frames(
    path: npt.NDArray[np.int64], beat_state: np.ndarray, act: np.ndarray
) -> npt.NDArray[np.int64]:
    """One frame per run of beat states on ``path``: the run's highest activation."""
    on = beat_state[path]
    edges = np.diff(np.concatenate([[0], on.astype(np.int8), [0]]))
    begins = np.flatnonzero(edges == 1)
    finishes = np.flatnonzero(edges == -1)
    frames = [int(b + np.argmax(act[b:f])) for b, f in zip(begins, finishes, strict=True)]
    return np.asarray(frames, dtype=np.int64)


@attrs.frozen(kw_only=True)
class Meter:
    """Beats per bar and where the bars start, as :func:`choose_meter` finds them."""

    beats_per_bar: int
    """2, 3 or 4 (or what ``--meter`` says)."""
    phase: int
    """Index (``0 .. beats_per_bar - 1``) of the first downbeat among the beats."""
    contrast: float
    """Mean strength of the downbeats minus that of the other beats (z-score units)."""


DUPLE_PREFERENCE: Final = 1.1
"""2 beats per bar wins over 4 only when its contrast is this many times 4's: beats 1 and
3 of a 4/4 bar are often equally strong, so a comb of two cannot tell the two apart. On
the listening benchmark's dev pieces 1.1 and 1.0 found the same meters (11 of 13) and
downbeats (F 0.80), 1.3 the same meters with downbeat F 0.75."""


def choose_meter(strength: npt.ArrayLike, meters: tuple[int, ...] = (2, 3, 4)) -> Meter:
    """Return the meter and bar phase whose downbeats are the strongest beats.

    :param strength: One downbeat strength per beat (any scale: it is z-scored here).
    :param meters: Beats per bar to choose from; one value fixes the meter (only the phase
        is chosen).
    """
    values = np.asarray(strength, dtype=np.float64).ravel()
    if values.shape[0] < 2 * max(meters) or float(values.std()) <= 1e-12:
        return Meter(beats_per_bar=4 if 4 in meters else meters[0], phase=0, contrast=0.0)
    z = (values - values.mean()) / values.std()
    best: dict[int, Meter] = {}
    for count in meters:
        for phase in range(count):
            mask = np.zeros(z.shape[0], dtype=bool)
            mask[phase::count] = True
            contrast = float(z[mask].mean() - z[~mask].mean())
            if count not in best or contrast > best[count].contrast:
                best[count] = Meter(beats_per_bar=count, phase=phase, contrast=contrast)
    if 2 in best and 4 in best and best[2].contrast < DUPLE_PREFERENCE * best[4].contrast:
        del best[2]
    return max(best.values(), key=lambda m: m.contrast)
