"""The song's beat grid: beat times and bar lines, detected from the audio or given.

- **Beats**: librosa's dynamic-programming beat tracker (Ellis 2007,
  ``librosa.beat.beat_track``) on an onset-strength envelope computed from the same
  log-mel frames the EmotionRecognizer hears (hop 512 at 22050 Hz, 23 ms), so the audio
  goes through one FFT only.
  On files longer than a minute the tempo is librosa's estimate per minute (the median),
  so memory does not grow with a whole-file tempogram.
- **Bars (downbeats)**: librosa has no downbeat tracker. Of the four ways to group the
  beats into 4/4 bars, the one whose first beats carry the most low-frequency onset
  energy (mel bands below ~300 Hz: kick drum, bass notes, chord changes in the bass) is
  chosen.
- **The grid**: the detected beats, extended before the first and after the last one at
  the median beat interval while they fit in the audio; if the first beat is not at 0 s a
  short lead-in (no notes) fills the time before it, with as many beats as needed for the
  first downbeat to fall on a bar line. The MIDI file's tempo map puts grid beat ``i`` on
  MIDI beat ``i`` at exactly ``times[i]`` seconds, so the MIDI plays in time with the
  audio.
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

from kelly_core._optional import require
from kelly_core.arrays import FloatArray

__all__ = [
    "BEATS_PER_BAR",
    "DEFAULT_TEMPO",
    "BeatGrid",
    "detect_beats",
    "downbeat_phase",
    "onset_envelope",
]

logger = logging.getLogger(__name__)

BEATS_PER_BAR: Final = 4
DEFAULT_TEMPO: Final = 120.0
"""Beats per minute when nothing can be detected (silence, a clip under two beats)."""
_LOW_BANDS: Final = 16
"""Mel bands (of 128, at 22050 Hz) counted as low-frequency for the downbeat estimate."""
_MIN_LEAD_S: Final = 0.005
TEMPO_BLOCK_S: Final = 60.0
"""Seconds of onset envelope per tempo estimate on long files (memory stays bounded)."""


@attrs.frozen(kw_only=True, eq=False)
class BeatGrid:
    """Where the beats of the generated music fall, in seconds.

    ``times[first:]`` are the beats the models play on; ``times[:first]`` is the lead-in
    (the time before the music's first beat, silent). Beat ``i`` is a downbeat when
    ``(i - first_downbeat) % 4 == 0``.
    """

    times: npt.NDArray[np.float64]
    """Start of every beat, increasing, shape ``(n,)``; ``times[0]`` is 0."""
    end: float
    """Where the last beat ends (seconds)."""
    first: int
    """Index of the first beat with music (the lead-in's length in beats)."""
    first_downbeat: int
    """Index of the first downbeat at or after ``first``."""
    tempo: float
    """Median tempo of the played beats, in BPM."""
    detected: bool
    """Whether the beats come from the audio (False: a steady grid)."""

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
        return -(-(self.beats + self.pickup) // BEATS_PER_BAR)

    @property
    def pickup(self) -> int:
        """Beats of the first played bar before the music starts (0..3)."""
        return (self.first - self.first_downbeat) % BEATS_PER_BAR

    def beat_in_bar(self, index: int) -> int:
        """Position (0..3) of grid beat ``index`` in its bar."""
        return (index - self.first_downbeat) % BEATS_PER_BAR

    def bar_of(self, index: int) -> int:
        """Bar (0-based, counted from the first played bar) of grid beat ``index``."""
        return (index - self.first + self.pickup) // BEATS_PER_BAR

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
    ) -> BeatGrid:
        """Build the grid around ``beat_times`` (at least two, increasing).

        :param duration: Length of the audio; beats are added up to it.
        :param phase: Index (0..3) of the first downbeat among ``beat_times``.
        :param beats: Played beats wanted from the first downbeat on (``--bars``): cut or
            extended at the last interval; None = as long as the audio.
        """
        times = np.asarray(beat_times, dtype=np.float64)
        if times.ndim != 1 or times.size < 2 or np.any(np.diff(times) <= 0):
            raise ValueError("expected at least two increasing beat times")
        period = float(np.median(np.diff(times)))
        before = int(np.floor((times[0] + 1e-9) / period))
        times = np.concatenate([times[0] - period * np.arange(before, 0, -1), times])
        phase = (phase + before) % BEATS_PER_BAR
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
        if times[0] > _MIN_LEAD_S:
            lead = (-phase) % BEATS_PER_BAR or BEATS_PER_BAR
            times = np.concatenate([np.arange(lead) * (times[0] / lead), times])
        else:
            times[0] = 0.0
        last = float(np.median(np.diff(times[lead:]))) if times.size - lead > 1 else period
        played = np.diff(times[lead:])
        tempo = 60.0 / float(np.median(played)) if played.size else 60.0 / period
        return cls(
            times=times.astype(np.float64),
            end=float(times[-1] + last),
            first=lead,
            first_downbeat=lead + phase if phase < BEATS_PER_BAR else lead,
            tempo=tempo,
            detected=detected,
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
        )
        return attrs.evolve(grid, tempo=float(tempo))


def onset_envelope(frames: FloatArray, *, sr: int, hop: int) -> FloatArray:
    """librosa's onset strength of log-mel ``frames`` ``(F, 128)`` (Kelly's scaled units).

    :raises MissingDependencyError: If librosa is not installed.
    """
    onset = require("librosa.onset", extra="data", purpose="beat tracking")
    db = np.asarray(frames, dtype=np.float32).T * 60.0  # back to decibels (the offset cancels)
    env = onset.onset_strength(S=db, sr=sr, hop_length=hop)
    return np.asarray(env, dtype=np.float32)


def downbeat_phase(frames: FloatArray, beat_frames: np.ndarray) -> int:
    """Return which of the first four beats starts a bar (0..3), by low-band onset energy.

    :param frames: Log-mel frames ``(F, 128)``.
    :param beat_frames: Frame index of each beat.
    """
    if beat_frames.size < 2 * BEATS_PER_BAR:
        return 0
    low = np.asarray(frames[:, :_LOW_BANDS], dtype=np.float64)
    flux = np.maximum(np.diff(low, axis=0, prepend=low[:1]), 0.0).sum(axis=1)
    # a beat's strength: the strongest low-band onset within +-2 frames (46 ms)
    padded = np.pad(flux, 2)
    strength = np.array([padded[f : f + 5].max() for f in np.clip(beat_frames, 0, len(flux) - 1)])
    scores = [float(strength[p::BEATS_PER_BAR].mean()) for p in range(BEATS_PER_BAR)]
    return int(np.argmax(scores))


def _global_tempo(env: FloatArray, *, sr: int, hop: int) -> float | None:
    """librosa's tempo estimate, per :data:`TEMPO_BLOCK_S` block of the envelope; the median.

    librosa's tempogram of a whole file holds ``384 × frames`` float64 values (150 MB for
    20 minutes); blocks keep it bounded. None for a clip of one block: ``beat_track``
    estimates it itself.
    """
    block = round(TEMPO_BLOCK_S * sr / hop)
    if env.shape[0] <= block:
        return None
    feature = require("librosa.feature", extra="data", purpose="beat tracking")
    tempi = [
        float(feature.tempo(onset_envelope=env[start : start + block], sr=sr, hop_length=hop)[0])
        for start in range(0, env.shape[0] - block // 2, block)
    ]
    return float(np.median(tempi))


def detect_beats(
    frames: FloatArray,
    *,
    sr: int,
    hop: int,
    duration: float,
    tempo: float | None = None,
    beats: int | None = None,
    latency: float = 0.0,
) -> BeatGrid:
    """Detect the beat grid of audio given as log-mel ``frames`` ``(F, 128)``.

    Frame ``k`` is at ``k × hop / sr + latency`` seconds. The frames are not centred, so
    on isolated clicks the beats come ~35 ms before the clicks; on piano rendered by
    fluidsynth the beat F-measure against the MIDI's beats was better with no shift (on
    two 20 s chorales 0.89 and 0.90 with the frames' centres, at least 0.93 without), so
    the default is 0.

    :param latency: Seconds added to every detected beat.
    :param tempo: Use a steady grid at this BPM instead of the detected tempo.
    :param beats: Played beats wanted (``4 × --bars``); None = as long as the audio.
    """
    found = np.zeros(0, dtype=np.float64)
    phase = 0
    if frames.shape[0] > 8:
        beat_module = require("librosa.beat", extra="data", purpose="beat tracking")
        env = onset_envelope(frames, sr=sr, hop=hop)
        if float(env.max(initial=0.0)) > 0.0:
            _, beat_frames = beat_module.beat_track(
                onset_envelope=env,
                sr=sr,
                hop_length=hop,
                units="frames",
                bpm=_global_tempo(env, sr=sr, hop=hop),
            )
            beat_frames = np.asarray(beat_frames, dtype=np.int64)
            found = beat_frames.astype(np.float64) * hop / sr + latency
            phase = downbeat_phase(frames, beat_frames)
    if tempo is not None:
        start = float(found[0]) if found.size else 0.0
        return BeatGrid.steady(
            tempo, duration=duration, start=start, beats=beats, phase=phase if found.size else 0
        )
    if found.size < 2:
        logger.info("no beats detected; a steady %g BPM grid is used", DEFAULT_TEMPO)
        return BeatGrid.steady(DEFAULT_TEMPO, duration=duration, beats=beats)
    return BeatGrid.from_beats(found, duration=duration, phase=phase, beats=beats)
