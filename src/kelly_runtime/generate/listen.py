"""What Kelly hears in a song: one analysis pass that every later stage reads.

:func:`listen` runs, over an :class:`~kelly_runtime.generate.audio.AudioClip` (mono,
22050 Hz):

- **Log-mel frames** (:class:`~kelly_core.encodings.logmel.StreamingLogMel`, one second of
  audio at a time) and the emotion frame of each 0.5 s window
  (:class:`~kelly_core.encodings.emotion_frame.StreamingEmotionFrames`, the
  EmotionRecognizer's input).
- **Beats, bars and meter** (:func:`kelly_runtime.generate.beats.detect_beats`: the beat
  tracker's activations decoded by the bar-pointer model, or a steady grid at
  ``tempo``).
- **Chroma** (:func:`~kelly_core.encodings.chroma.offline_chroma`: 12 pitch classes and
  a 12-value bass chroma per 0.093 s frame) and the **key**: given, else found in the
  chroma section by section (:func:`kelly_runtime.generate.keys.find_keys`).
- **Beat-synchronous chroma**: the chroma averaged over each played beat
  (:func:`~kelly_core.encodings.chroma.beat_chroma`), in absolute pitch classes (index 0
  = C); :meth:`Listening.relative_beat_chroma` turns it to the key's tonic.

The result is what ``kelly generate`` plays along to, and what the listening benchmark
scores (beats, downbeats, meter, tempo, key).
"""

from __future__ import annotations

from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.constants import WINDOW_S
from kelly_core.encodings.chroma import (
    DEFAULT_CHROMA,
    beat_chroma,
    offline_chroma,
    relative_to_tonic,
)
from kelly_core.encodings.emotion_frame import EMOTION_FRAME_SIZE, StreamingEmotionFrames
from kelly_core.encodings.logmel import StreamingLogMel
from kelly_runtime.generate.audio import AudioClip
from kelly_runtime.generate.beats import BeatGrid, detect_beats
from kelly_runtime.generate.keys import Key, KeyAnalysis, KeySegment, find_keys, key_at

__all__ = [
    "WINDOW_S",
    "Analysis",
    "Listening",
    "analyse",
    "audio_chroma",
    "listen",
    "song_key",
    "song_keys",
]

_CHUNK: Final = 22050


@attrs.frozen(kw_only=True, eq=False)
class Analysis:
    """What one pass over the audio gives: log-mel frames and the 0.5 s windows' emotion
    frames."""

    frames: FloatArray
    """Log-mel frames ``(F, 128)`` (hop 512 at 22050 Hz)."""
    windows: FloatArray
    """Emotion frames ``(W, 128)``, one per 0.5 s window."""
    sr: int
    hop: int
    n_fft: int


def analyse(clip: AudioClip) -> Analysis:
    """Stream ``clip`` through the log-mel and emotion-frame front ends one second at a
    time."""
    extractor = StreamingLogMel()
    emotion = StreamingEmotionFrames()
    frames: list[FloatArray] = []
    windows: list[FloatArray] = []
    for start in range(0, clip.samples.shape[0], _CHUNK):
        chunk = extractor.push(clip.samples[start : start + _CHUNK])
        frames.append(chunk)
        windows.extend(emotion.push(clip.samples[start : start + _CHUNK]))
    empty = np.zeros((0, extractor.config.n_mels), dtype=np.float32)
    return Analysis(
        frames=np.concatenate(frames).astype(np.float32, copy=False) if frames else empty,
        windows=(
            np.stack(windows).astype(np.float32)
            if windows
            else np.zeros((0, EMOTION_FRAME_SIZE), dtype=np.float32)
        ),
        sr=extractor.config.sr,
        hop=extractor.config.hop,
        n_fft=extractor.config.n_fft,
    )


def audio_chroma(clip: AudioClip) -> FloatArray:
    """Chroma and bass frames of ``clip``, ``(F, 24)``, index 0 = C (``offline_chroma``)."""
    return offline_chroma(clip.samples, clip.sample_rate)


def song_key(clip: AudioClip) -> Key:
    """The key ``kelly generate`` reports for ``clip`` (:func:`song_keys`' ``key``)."""
    return song_keys(clip).key


def song_keys(clip: AudioClip, chroma: FloatArray | None = None) -> KeyAnalysis:
    """The key of ``clip``, and its keys section by section where it modulates."""
    frames = audio_chroma(clip) if chroma is None else chroma
    return find_keys(frames, DEFAULT_CHROMA.hop / DEFAULT_CHROMA.sr, clip.duration)


@attrs.frozen(kw_only=True, eq=False)
class Listening:
    """What :func:`listen` heard in one clip."""

    analysis: Analysis
    """Log-mel frames and the windows' emotion frames."""
    grid: BeatGrid
    """Beats (with the lead-in), bars and meter."""
    keys: KeyAnalysis
    """The song's key, its confidence and its keys section by section."""
    key_given: bool
    """Whether the key was given (``--key``) rather than found."""
    chroma: FloatArray
    """Chroma and bass frames ``(F, 24)`` (index 0 = C; 12 = the bass's C)."""
    beat_chroma: FloatArray
    """Chroma and bass per played beat ``(beats, 24)``."""

    @property
    def beats(self) -> npt.NDArray[np.float64]:
        """Start of every played beat in seconds."""
        return self.grid.played

    @property
    def downbeats(self) -> npt.NDArray[np.float64]:
        """Start of every bar (played beats whose place in the bar is 0), in seconds."""
        grid = self.grid
        return np.asarray(
            [
                grid.times[i]
                for i in range(grid.first, grid.times.shape[0])
                if grid.beat_in_bar(i) == 0
            ],
            dtype=np.float64,
        )

    @property
    def beats_per_bar(self) -> int:
        """Beats in a bar."""
        return self.grid.beats_per_bar

    @property
    def tempo(self) -> float:
        """Median tempo of the played beats in BPM."""
        return self.grid.tempo

    @property
    def key(self) -> Key:
        """The key the song is in (the whole clip's)."""
        return self.keys.key

    def relative_beat_chroma(self) -> FloatArray:
        """:attr:`beat_chroma` with each beat's 12 + 12 values rotated so index 0 is the
        tonic of the key section the beat starts in."""
        out = np.empty_like(self.beat_chroma)
        for index, start in enumerate(self.beats):
            tonic = key_at(self.keys.segments, float(start)).tonic
            out[index, :12] = relative_to_tonic(self.beat_chroma[index, :12], tonic)
            out[index, 12:] = relative_to_tonic(self.beat_chroma[index, 12:], tonic)
        return out


def listen(
    clip: AudioClip,
    *,
    tempo: float | None = None,
    bars: int | None = None,
    meter: int | None = None,
    key: Key | None = None,
    tempo_hint: float | None = None,
) -> Listening:
    """Analyse ``clip`` once (module docstring).

    :param tempo: A steady grid at this BPM instead of the detected beats.
    :param bars: Bars wanted from the first downbeat; None = as long as the audio.
    :param meter: Beats per bar; None = detected.
    :param key: The song's key; None = found in the audio.
    :param tempo_hint: The beat is near this BPM: the beats are detected within
        :data:`~kelly_core.barpointer.TEMPO_HINT_SPAN` of it, at that metrical level.
    :raises ValueError: If both ``tempo`` and ``tempo_hint`` are given.
    """
    analysis = analyse(clip)
    chroma = audio_chroma(clip)
    grid = detect_beats(
        clip.samples,
        sr=clip.sample_rate,
        spectrum=analysis.frames,
        spectrum_hop=analysis.hop,
        duration=clip.duration,
        tempo=tempo,
        bars=bars,
        meter=meter,
        chroma=chroma,
        tempo_hint=tempo_hint,
    )
    keys = (
        song_keys(clip, chroma)
        if key is None
        else KeyAnalysis(
            key=key, confidence=0.0, segments=(KeySegment(start=0.0, end=clip.duration, key=key),)
        )
    )
    return Listening(
        analysis=analysis,
        grid=grid,
        keys=keys,
        key_given=key is not None,
        chroma=chroma,
        beat_chroma=beat_chroma(chroma, grid.played, end=grid.end),
    )
