"""The song's beat grid: beats, bars and meter, detected from the audio or given.

- **Beats**: the onset front end (:mod:`kelly_core.encodings.onsets`, band-wise spectral
  flux at 86 frames per second) gives a beat activation, :func:`beat_activation`; a
  hidden Markov model over beat phase and tempo
  (:func:`kelly_core.barpointer.decode_beats`) decodes the beats from it
  over the whole clip. Beat times come from the decoding, not from a grid at one
  quantised tempo, so they follow tempo changes and do not drift.
- **Bars and meter**: each beat gets a downbeat strength
  (:func:`~kelly_runtime.generate.activations.downbeat_strength`: the tracker's downbeat
  activation, low-frequency onsets at the beat, the change of the spectrum and of the
  chroma from the previous beat),
  and :func:`kelly_core.barpointer.choose_meter` picks 2, 3 or 4 beats per
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
- ``--tempo-hint`` keeps the detected beats but looks for them within
  :data:`~kelly_core.barpointer.TEMPO_HINT_SPAN` of that tempo, so the beat is counted at
  the hinted metrical level (a slow groove the tracker would hear in eighths, a fast one
  it would hear in half notes).
- ``--tempo`` replaces the detected beats by a steady grid at that tempo, anchored on
  the first detected beat; ``--bars`` cuts (or extends) the music to that many bars from
  the first downbeat.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.barpointer import DEFAULT_BEAT_HMM, Meter, choose_meter, decode_beats, near_tempo
from kelly_core.constants import BEATS_PER_BAR  # a grid's meter when nothing says otherwise
from kelly_core.encodings.chroma import offline_chroma
from kelly_core.encodings.onsets import DEFAULT_ONSETS, frame_seconds
from kelly_runtime.generate.activations import TRACKER_FILE, activations

__all__ = [
    "BEATS_PER_BAR",
    "DEFAULT_TEMPO",
    "METERS",
    "BeatGrid",
    "detect_beats",
]

logger = logging.getLogger(__name__)

METERS: Final = (2, 3, 4)
"""Beats per bar the detection chooses from."""
MIN_PEAK: Final = 0.1
"""A clip whose beat activation never reaches this has no beats."""
DEFAULT_TEMPO: Final = 120.0
"""Beats per minute when nothing can be detected (silence, a clip under two beats)."""
_MIN_LEAD_S: Final = 0.005
_LEAD_UNIT: Final = 0.25
"""A lead-in is written to the MIDI file in whole sixteenths (quarters of a beat)."""


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
    tracker: Path | None = TRACKER_FILE,
    chroma: FloatArray | None = None,
    tempo_hint: float | None = None,
) -> BeatGrid:
    """Detect the beat grid of mono ``samples`` at ``sr`` (22050 Hz).

    Activations (:func:`kelly_runtime.generate.activations.activations`) are decoded
    into beats; a clip with no onset at all, or whose strongest beat activation is under
    :data:`MIN_PEAK`, has no beats (a steady grid is used).

    :param spectrum: The clip's log-mel frames ``(F, 128)`` (for the bar lines).
    :param spectrum_hop: Their hop in samples.
    :param tempo: Use a steady grid at this BPM instead of the detected tempo.
    :param bars: Bars wanted from the first downbeat (``--bars``); None = as long as the
        audio.
    :param meter: Beats per bar (``--meter``); None = detected among :data:`METERS`.
    :param tracker: The beat tracker file; None uses the onset rules.
    :param chroma: The clip's chroma frames (:func:`kelly_core.encodings.chroma.offline_chroma`,
        for the bar lines); None computes them here.
    :param tempo_hint: The song's beat is near this BPM (``--tempo-hint``): beats are
        decoded within :data:`~kelly_core.barpointer.TEMPO_HINT_SPAN` of it; a clip
        with no beats heard gets a steady grid at this tempo.
    :raises ValueError: If both ``tempo`` and ``tempo_hint`` are given.
    """
    if tempo is not None and tempo_hint is not None:
        raise ValueError("give a steady tempo or a tempo hint, not both")
    config = DEFAULT_ONSETS
    hmm = DEFAULT_BEAT_HMM if tempo_hint is None else near_tempo(tempo_hint)
    found_by = activations(samples, sr, tracker=tracker, config=config)
    audible = float(found_by.curves[:, 0].max(initial=0.0)) > 0.0
    frames = (
        decode_beats(found_by.beat, config.fps, hmm)
        if audible and float(found_by.beat.max(initial=0.0)) >= MIN_PEAK
        else np.zeros(0, dtype=np.int64)
    )
    found = frame_seconds(frames, config)
    if chroma is None and frames.size >= 2:
        chroma = offline_chroma(samples, sr)
    strength = found_by.downbeat_strength(
        frames, spectrum, spectrum_per_frame=config.hop / spectrum_hop, chroma=chroma
    )
    chosen: Meter = choose_meter(strength, (meter,) if meter is not None else METERS)
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
        steady = DEFAULT_TEMPO if tempo_hint is None else tempo_hint
        logger.info("no beats detected; a steady %g BPM grid is used", steady)
        return BeatGrid.steady(steady, duration=duration, beats=beats, beats_per_bar=per_bar)
    return BeatGrid.from_beats(
        found, duration=duration, phase=chosen.phase, beats=beats, beats_per_bar=per_bar
    )
