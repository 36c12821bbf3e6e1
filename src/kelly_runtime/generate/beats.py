"""The song's beat grid: beats, bars and meter, detected from the audio or given.

- **Beats**: the onset front end (:mod:`kelly_core.encodings.onsets`, band-wise spectral
  flux at 86 frames per second) gives a beat activation, :func:`beat_activation`; a
  hidden Markov model over beat phase and tempo
  (:func:`kelly_runtime.generate.barpointer.decode_beats`) decodes the beats from it
  over the whole clip. Beat times come from the decoding, not from a grid at one
  quantised tempo, so they follow tempo changes and do not drift.
- **Bars and meter**: each beat gets a downbeat strength (:func:`downbeat_strength`:
  low-frequency onsets at the beat, the change of the spectrum from the previous beat),
  and :func:`kelly_runtime.generate.barpointer.choose_meter` picks 2, 3 or 4 beats per
  bar and the bar phase whose downbeats are the strongest beats. ``--meter`` fixes the
  beats per bar (the phase is still detected). A compound meter (6/8) is two beats per
  bar when the beat is the dotted quarter.
- **The grid**: the detected beats, extended before the first and after the last one at
  the median beat interval while they fit in the audio. What is left before the first
  beat (less than one beat) is a lead-in with no notes; it is written to the MIDI file as
  a short first beat of whole sixteenths at the detected tempo (:attr:`BeatGrid.lead`), or
  dropped when shorter than half a sixteenth. The MIDI file's tempo map puts every grid
  beat on a MIDI beat at exactly ``times[i]`` seconds, and its time signatures put bar
  lines on the downbeats (a pickup bar first where the music starts mid-bar).
- ``--tempo`` replaces the detected beats by a steady grid at that tempo, anchored on
  the first detected beat; ``--bars`` cuts (or extends) the music to that many bars from
  the first downbeat.
"""

from __future__ import annotations

import logging
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.encodings.onsets import DEFAULT_ONSETS, OnsetConfig, onset_curves
from kelly_runtime.generate.barpointer import Meter, choose_meter, decode_beats

__all__ = [
    "BEATS_PER_BAR",
    "DEFAULT_TEMPO",
    "METERS",
    "BeatGrid",
    "beat_activation",
    "detect_beats",
    "downbeat_strength",
]

logger = logging.getLogger(__name__)

BEATS_PER_BAR: Final = 4
"""Beats per bar of a grid when nothing says otherwise (a steady grid, too few beats)."""
METERS: Final = (2, 3, 4)
"""Beats per bar the detection chooses from."""
DEFAULT_TEMPO: Final = 120.0
"""Beats per minute when nothing can be detected (silence, a clip under two beats)."""
_MIN_LEAD_S: Final = 0.005
_LEAD_UNIT: Final = 0.25
"""A lead-in is written to the MIDI file in whole sixteenths (quarters of a beat)."""
_SMOOTH: Final = 5
"""Frames of the Hann window smoothing the onset curve (58 ms)."""
_LOCAL_MEAN_S: Final = 0.5
"""Seconds of the moving mean subtracted from the onset curve."""
_NORM_BLOCK_S: Final = 15.0
_NORM_PERCENTILE: Final = 98.0
_LOW_WEIGHT: Final = 2.0
"""Weight of the low-band flux (kick drum, bass notes) added to all bands' flux."""
_SPECTRUM_BANDS: Final = 80
"""Log-mel bands (of 128: below about 3.4 kHz) whose change from beat to beat counts."""


@attrs.frozen(kw_only=True, eq=False)
class BeatGrid:
    """Where the beats of the generated music fall, in seconds.

    ``times[first:]`` are the beats the models play on; ``times[:first]`` is the lead-in
    (at most one, shorter than a beat, silent). Beat ``i`` is a downbeat when
    ``(i - first_downbeat) % beats_per_bar == 0``.
    """

    times: npt.NDArray[np.float64]
    """Start of every beat, increasing, shape ``(n,)``; ``times[0]`` is 0."""
    end: float
    """Where the last beat ends (seconds)."""
    first: int
    """Index of the first beat with music: 1 with a lead-in, else 0."""
    first_downbeat: int
    """Index of the first downbeat at or after ``first``."""
    tempo: float
    """Median tempo of the played beats, in BPM."""
    detected: bool
    """Whether the beats come from the audio (False: a steady grid)."""
    beats_per_bar: int = attrs.field(default=BEATS_PER_BAR, validator=attrs.validators.ge(1))
    """Beats in every bar (the pickup bar may have fewer)."""

    @property
    def played(self) -> npt.NDArray[np.float64]:
        """Start times of the beats with music, shape ``(beats,)``."""
        return self.times[self.first :]

    @property
    def beats(self) -> int:
        """Number of beats with music."""
        return int(self.times.shape[0]) - self.first

    @property
    def bars(self) -> int:
        """Number of bars touched by the played beats (a partial first bar counts)."""
        return -(-(self.beats + self.pickup) // self.beats_per_bar)

    @property
    def pickup(self) -> int:
        """Beats of the first played bar before the music starts (0 .. beats_per_bar - 1)."""
        return (self.first - self.first_downbeat) % self.beats_per_bar

    @property
    def lead(self) -> float:
        """Length of the lead-in in beats, in whole sixteenths (0 without one).

        The lead-in's seconds divided by the first played beat's, rounded to a quarter of
        a beat (at least a quarter, at most one beat): its length in the MIDI file.
        """
        if self.first == 0:
            return 0.0
        intervals = self.intervals()
        ratio = float(intervals[0] / intervals[1]) if intervals.shape[0] > 1 else 1.0
        return float(min(1.0, max(_LEAD_UNIT, round(ratio / _LEAD_UNIT) * _LEAD_UNIT)))

    def beat_in_bar(self, index: int) -> int:
        """Position (``0 .. beats_per_bar - 1``) of grid beat ``index`` in its bar."""
        return (index - self.first_downbeat) % self.beats_per_bar

    def bar_of(self, index: int) -> int:
        """Bar (0-based, counted from the first played bar) of grid beat ``index``."""
        return (index - self.first + self.pickup) // self.beats_per_bar

    def intervals(self) -> npt.NDArray[np.float64]:
        """Length of every beat in seconds, shape ``(n,)``."""
        return np.diff(np.append(self.times, self.end))

    @classmethod
    def from_beats(
        cls,
        beat_times: npt.NDArray[np.float64] | FloatArray,
        *,
        duration: float,
        phase: int = 0,
        detected: bool = True,
        beats: int | None = None,
        beats_per_bar: int = BEATS_PER_BAR,
    ) -> BeatGrid:
        """Build the grid around ``beat_times`` (at least two, increasing).

        :param duration: Length of the audio; beats are added up to it.
        :param phase: Index (``0 .. beats_per_bar - 1``) of the first downbeat among
            ``beat_times``.
        :param beats: Played beats wanted from the first downbeat on (``--bars``): cut or
            extended at the last interval; None = as long as the audio.
        :param beats_per_bar: Beats in a bar.
        """
        times = np.asarray(beat_times, dtype=np.float64)
        if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
            raise ValueError("expected at least two increasing beat times")
        period = float(np.median(np.diff(times)))
        before = int(np.floor((times[0] + 1e-9) / period))
        times = np.concatenate([times[0] - period * np.arange(before, 0, -1), times])
        phase = (phase + before) % beats_per_bar
        after = max(0, int(np.ceil((duration - times[-1]) / period)) - 1)
        times = np.concatenate([times, times[-1] + period * np.arange(1, after + 1)])
        times = times[times < max(duration, times[1])]
        if beats is not None:
            keep = phase + beats
            if keep <= times.size:
                times = times[:keep]
            else:
                extra = keep - times.size
                times = np.concatenate([times, times[-1] + period * np.arange(1, extra + 1)])
            times = times[phase:] if phase else times
            phase = 0
        lead = 0
        if times[0] > max(_MIN_LEAD_S, period * _LEAD_UNIT / 2):
            lead = 1
            times = np.concatenate([[0.0], times])
        else:
            times[0] = 0.0
        last = float(np.median(np.diff(times[lead:]))) if times.size - lead > 1 else period
        played = np.diff(times[lead:])
        tempo = 60.0 / float(np.median(played)) if played.size else 60.0 / period
        return cls(
            times=times.astype(np.float64),
            end=float(times[-1] + last),
            first=lead,
            first_downbeat=lead + phase,
            tempo=tempo,
            detected=detected,
            beats_per_bar=beats_per_bar,
        )

    @classmethod
    def steady(
        cls,
        tempo: float,
        *,
        duration: float,
        start: float = 0.0,
        beats: int | None = None,
        phase: int = 0,
        beats_per_bar: int = BEATS_PER_BAR,
    ) -> BeatGrid:
        """A grid at ``tempo`` BPM with a beat at ``start`` (and before it, back to 0 s)."""
        period = 60.0 / tempo
        count = max(2, int(np.ceil((max(duration, period) - start) / period)) + 1)
        grid = cls.from_beats(
            start + period * np.arange(count),
            duration=max(duration, start + 2 * period),
            phase=phase,
            detected=False,
            beats=beats,
            beats_per_bar=beats_per_bar,
        )
        return attrs.evolve(grid, tempo=float(tempo))


def _moving_mean(values: np.ndarray, width: int) -> np.ndarray:
    kernel = np.ones(max(1, width)) / max(1, width)
    smoothed: np.ndarray = np.convolve(values, kernel, mode="same")
    return smoothed


def beat_activation(curves: FloatArray, config: OnsetConfig = DEFAULT_ONSETS) -> FloatArray:
    """Map the onset curves ``(frames, 3)`` to a beat activation in 0..1 per frame.

    All bands' flux plus twice the low bands' (kick drum, bass), smoothed by a 5-frame
    Hann window; its moving mean over 0.5 s is subtracted (what is left are onsets that
    stand out from their surroundings) and the result divided by the median of its 98th
    percentiles over 15 s blocks, then clipped to 0..1. The scale is the clip's own, so
    a quiet song's beats count like a loud one's.
    """
    values = np.asarray(curves, dtype=np.float64)
    if values.shape[0] == 0:
        return np.zeros(0, dtype=np.float32)
    flux = values[:, 0] + _LOW_WEIGHT * values[:, 1]
    window = np.hanning(_SMOOTH + 2)[1:-1]
    flux = np.convolve(flux, window / window.sum(), mode="same")
    flux = np.maximum(0.0, flux - _moving_mean(flux, round(_LOCAL_MEAN_S * config.fps)))
    block = max(1, round(_NORM_BLOCK_S * config.fps))
    scale = float(
        np.median(
            [
                np.percentile(flux[i : i + block], _NORM_PERCENTILE)
                for i in range(0, flux.size, block)
            ]
        )
    )
    if scale <= 1e-12:
        return np.zeros(flux.shape[0], dtype=np.float32)
    activation: FloatArray = np.clip(flux / scale, 0.0, 1.0).astype(np.float32)
    return activation


def _zscore(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-12 else np.zeros_like(values)


def downbeat_strength(
    curves: FloatArray,
    beat_frames: npt.NDArray[np.int64],
    spectrum: FloatArray,
    *,
    spectrum_per_frame: float,
) -> npt.NDArray[np.float64]:
    """How much each beat sounds like the start of a bar (z-score units, one per beat).

    The sum of two z-scored cues: the strongest low-band onset within ±3 frames (35 ms)
    of the beat (kick drums and bass notes fall on downbeats), and how far the mean
    log-mel spectrum of the beat (its bands below 3.4 kHz) is from the previous beat's
    (chords change at bar lines).

    :param curves: Onset curves ``(frames, 3)``.
    :param beat_frames: Onset frame of each beat, increasing.
    :param spectrum: Log-mel frames ``(F, 128)``.
    :param spectrum_per_frame: Log-mel frames per onset frame (0.5 at the defaults).
    """
    values = np.asarray(curves, dtype=np.float64)
    count = beat_frames.shape[0]
    if count == 0 or values.shape[0] == 0:
        return np.zeros(count, dtype=np.float64)
    padded = np.pad(values[:, 1], 3)
    low = np.array([padded[f : f + 7].max() for f in np.clip(beat_frames, 0, values.shape[0] - 1)])
    mel = np.asarray(spectrum, dtype=np.float64)[:, :_SPECTRUM_BANDS]
    change = np.zeros(count, dtype=np.float64)
    if mel.shape[0] > 0:
        bounds = np.clip(
            np.round(beat_frames * spectrum_per_frame).astype(np.int64), 0, mel.shape[0] - 1
        )
        ends = np.append(bounds[1:], mel.shape[0])
        means = np.stack(
            [mel[b : max(e, b + 1)].mean(axis=0) for b, e in zip(bounds, ends, strict=True)]
        )
        change[1:] = np.linalg.norm(np.diff(means, axis=0), axis=1)
        change[0] = float(np.median(change[1:])) if count > 1 else 0.0
    strength: npt.NDArray[np.float64] = _zscore(low) + _zscore(change)
    return strength


def detect_beats(
    samples: FloatArray,
    *,
    sr: int,
    spectrum: FloatArray,
    spectrum_hop: int,
    duration: float,
    tempo: float | None = None,
    bars: int | None = None,
    meter: int | None = None,
) -> BeatGrid:
    """Detect the beat grid of mono ``samples`` at ``sr`` (22050 Hz).

    An onset frame is placed at its window's centre (``k · hop / sr + n_fft / 2 / sr``):
    the flux of frame ``k`` rises when an onset enters the middle of its window.

    :param spectrum: The clip's log-mel frames ``(F, 128)`` (for the bar lines).
    :param spectrum_hop: Their hop in samples.
    :param tempo: Use a steady grid at this BPM instead of the detected tempo.
    :param bars: Bars wanted from the first downbeat (``--bars``); None = as long as the
        audio.
    :param meter: Beats per bar (``--meter``); None = detected among :data:`METERS`.
    """
    config = DEFAULT_ONSETS
    curves = onset_curves(samples, sr, config)
    activation = beat_activation(curves, config)
    frames = (
        decode_beats(activation, config.fps)
        if float(activation.max(initial=0.0)) > 0.0
        else np.zeros(0, dtype=np.int64)
    )
    found = frames * (config.hop / config.sr) + config.n_fft / 2 / config.sr
    chosen: Meter = choose_meter(
        downbeat_strength(curves, frames, spectrum, spectrum_per_frame=config.hop / spectrum_hop),
        (meter,) if meter is not None else METERS,
    )
    per_bar = chosen.beats_per_bar if found.size >= 2 else (meter or BEATS_PER_BAR)
    beats = None if bars is None else bars * per_bar
    if tempo is not None:
        start = float(found[0]) if found.size else 0.0
        return BeatGrid.steady(
            tempo,
            duration=duration,
            start=start,
            beats=beats,
            phase=chosen.phase if found.size else 0,
            beats_per_bar=per_bar,
        )
    if found.size < 2:
        logger.info("no beats detected; a steady %g BPM grid is used", DEFAULT_TEMPO)
        return BeatGrid.steady(DEFAULT_TEMPO, duration=duration, beats=beats, beats_per_bar=per_bar)
    return BeatGrid.from_beats(
        found, duration=duration, phase=chosen.phase, beats=beats, beats_per_bar=per_bar
    )
