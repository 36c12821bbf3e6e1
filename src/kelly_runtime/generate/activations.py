"""Beat and downbeat activations: from the trained beat tracker, or from onset rules.

- **The beat tracker** Kelly ships is the convolutional one (:mod:`kelly_core.beat_tcn`),
  ``models/beattracker_tcn.json`` beside this module (trained by ``kelly train-beats``;
  docs/listening.md), run in numpy over the onset front end's frames
  (:func:`kelly_core.encodings.onsets.onset_bands`): a beat and a downbeat activation per
  frame, each frame heard with about 24 s of music on either side.
- **The LSTM trackers** (:data:`kelly_core.listening.BEAT_TRACKER_SPEC`,
  ``models/beattracker.json`` and ``models/beattracker_backward.json``, RTNeural JSON;
  ``kelly train-beats --architecture lstm [--backward]``) are shipped too and used when
  asked for (``tracker=LSTM_TRACKER_FILE``): the forward one runs on the numpy backend,
  the backward one (the same network trained on music played from its end) over the
  frames in reverse order, and the two activations are averaged: an LSTM that runs
  forward only hears the past, the pair hears both sides of a frame. A tracker file is
  told apart by its ``format`` field.
- **Rules** where the file is missing or unreadable (a warning says so) or
  ``tracker=None`` is asked for: :func:`beat_activation` (spectral flux) and
  :func:`downbeat_strength` (low-band onsets and spectral change per beat).

The downbeat strength of a beat, for :func:`kelly_core.barpointer.choose_meter`, is a
weighted sum of z-scored cues (:data:`CUE_WEIGHTS`): the tracker's largest downbeat
activation within ±2 frames of it (when the tracker runs), the strongest low-band onset at
it, the change of the spectrum from the previous beat and the change of the chroma from
the previous beat (chords change at bar lines; :func:`downbeat_strength`). The weights
were chosen on the 60 validation pieces of the trackers' training split (never the
benchmark's pieces), where they raised the downbeat F-measure from 0.65 (tracker, low
onsets and spectral change, equal weights) to 0.72 (docs/listening.md).
"""

from __future__ import annotations

import functools
import json
import logging
from pathlib import Path
from typing import Final

import attrs
import numpy as np
import numpy.typing as npt

from kelly_core.arrays import FloatArray
from kelly_core.beat_tcn import TcnWeights, from_document, is_tcn_document, run_tcn
from kelly_core.encodings.chroma import CHROMA, DEFAULT_CHROMA
from kelly_core.encodings.chroma import frame_times as chroma_frame_times
from kelly_core.encodings.onsets import (
    DEFAULT_ONSETS,
    OnsetConfig,
    curves_from_bands,
    frame_seconds,
    onset_bands,
)
from kelly_core.errors import KellyError
from kelly_core.fileio import read_regular_bytes
from kelly_core.interfaces import Backend
from kelly_core.listening import (
    BEAT_TRACKER_SPEC,
    activation_at,
    align_activations,
    network_input,
    pad_for_lookahead,
)

__all__ = [
    "BACKWARD_TRACKER_FILE",
    "CUE_WEIGHTS",
    "LSTM_TRACKER_FILE",
    "TRACKER_FILE",
    "Activations",
    "activations",
    "beat_activation",
    "downbeat_strength",
]

logger = logging.getLogger(__name__)

TRACKER_FILE: Final = Path(__file__).with_name("models") / "beattracker_tcn.json"
"""The beat tracker Kelly uses: the convolutional one (:mod:`kelly_core.beat_tcn`)."""
LSTM_TRACKER_FILE: Final = TRACKER_FILE.with_name("beattracker.json")
"""The forward LSTM tracker Kelly also ships (``kelly train-beats --architecture lstm``)."""
BACKWARD_TRACKER_FILE: Final = TRACKER_FILE.with_name("beattracker_backward.json")
"""The backward LSTM tracker Kelly also ships (``... --architecture lstm --backward``)."""
_TRACKER_FILE_LIMIT: Final = 64 * 1024 * 1024
"""Largest tracker file read (the shipped ones are under 2 MB)."""

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
CUE_WEIGHTS: Final = {"tracker": 0.5, "low": 1.0, "spectrum": 0.5, "chroma": 2.0}
"""Weights of the z-scored downbeat cues (module docstring)."""


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


def _from_previous(distances: np.ndarray) -> np.ndarray:
    """One value per beat from the ``beats - 1`` distances of each beat to the previous
    one; the first beat, which has none, gets the median of the others."""
    change = np.zeros(distances.shape[0] + 1, dtype=np.float64)
    if distances.shape[0]:
        change[1:] = distances
        change[0] = float(np.median(distances))
    return change


def _inner_beat_chroma(chroma: FloatArray, times: np.ndarray) -> np.ndarray:
    """Each beat's mean chroma over the frames whose window lies inside the beat (centres
    at least half a window from either end); a beat shorter than a window gets the frame
    nearest its middle. ``(beats, 12)``. A beat's mean over every frame centred in it
    (:func:`~kelly_core.encodings.chroma.beat_chroma`) also hears the next beat's onset
    half a window early, which moves a chord change onto the beat before it."""
    frames = np.asarray(chroma, dtype=np.float64)[:, CHROMA]
    centres = chroma_frame_times(frames.shape[0])
    half = DEFAULT_CHROMA.n_fft / 2 / DEFAULT_CHROMA.sr
    period = float(np.median(np.diff(times))) if times.shape[0] > 1 else 2 * half
    bounds = np.append(times, times[-1] + period)
    out = np.zeros((times.shape[0], frames.shape[1]), dtype=np.float64)
    for beat in range(times.shape[0]):
        start, end = float(bounds[beat]), float(bounds[beat + 1])
        inset = min(half, (end - start) / 2)
        lo = int(np.searchsorted(centres, start + inset, side="left"))
        hi = int(np.searchsorted(centres, end - inset, side="right"))
        if hi > lo:
            out[beat] = frames[lo:hi].mean(axis=0)
        else:
            nearest = int(np.argmin(np.abs(centres - (start + end) / 2)))
            out[beat] = frames[nearest]
    return out


def _chroma_change(chroma: FloatArray, beat_frames: npt.NDArray[np.int64]) -> np.ndarray:
    """One minus the cosine between each beat's chroma (:func:`_inner_beat_chroma`) and the
    previous beat's; the first beat gets the median of the others."""
    per_beat = _inner_beat_chroma(chroma, frame_seconds(beat_frames, DEFAULT_ONSETS))
    unit = per_beat / np.maximum(np.linalg.norm(per_beat, axis=1, keepdims=True), 1e-9)
    return _from_previous(1.0 - np.sum(unit[1:] * unit[:-1], axis=1))


def downbeat_strength(
    curves: FloatArray,
    beat_frames: npt.NDArray[np.int64],
    spectrum: FloatArray,
    *,
    spectrum_per_frame: float,
    chroma: FloatArray | None = None,
) -> npt.NDArray[np.float64]:
    """How much each beat sounds like the start of a bar (z-score units, one per beat).

    The weighted sum (:data:`CUE_WEIGHTS`) of z-scored cues: the strongest low-band onset
    within ±3 frames (35 ms) of the beat (kick drums and bass notes fall on downbeats),
    how far the mean log-mel spectrum of the beat (its bands below 3.4 kHz) is from the
    previous beat's, and, with ``chroma``, one minus the cosine of the beat's mean chroma
    with the previous beat's (chords change at bar lines).

    :param curves: Onset curves ``(frames, 3)``.
    :param beat_frames: Onset frame of each beat, increasing.
    :param spectrum: Log-mel frames ``(F, 128)``.
    :param spectrum_per_frame: Log-mel frames per onset frame (0.5 at the defaults).
    :param chroma: Chroma frames ``(C, 24)`` of the same audio
        (:func:`kelly_core.encodings.chroma.offline_chroma`); None leaves that cue out.
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
        change = _from_previous(np.linalg.norm(np.diff(means, axis=0), axis=1))
    strength: npt.NDArray[np.float64] = CUE_WEIGHTS["low"] * _zscore(low) + CUE_WEIGHTS[
        "spectrum"
    ] * _zscore(change)
    if chroma is not None and np.asarray(chroma).shape[0] > 0:
        strength += CUE_WEIGHTS["chroma"] * _zscore(_chroma_change(chroma, beat_frames))
    return strength


@attrs.frozen(kw_only=True, eq=False)
class Activations:
    """What the beat decoder and the meter choice need from one clip."""

    beat: FloatArray
    """``(frames,)`` beat activation, 0..1, at the onset front end's frame rate."""
    downbeat: FloatArray | None
    """``(frames,)`` downbeat activation from the tracker; None from the rules."""
    curves: FloatArray
    """``(frames, 3)`` onset curves (for the rules' downbeat cues)."""
    source: str
    """``"tcn"`` (the convolutional tracker), ``"trackers"`` (forward and backward LSTM
    trackers), ``"tracker"`` (the forward one) or ``"rules"``."""

    def downbeat_strength(
        self,
        beat_frames: npt.NDArray[np.int64],
        spectrum: FloatArray,
        *,
        spectrum_per_frame: float,
        chroma: FloatArray | None = None,
    ) -> npt.NDArray[np.float64]:
        """One downbeat strength per beat (module docstring)."""
        cues = downbeat_strength(
            self.curves,
            beat_frames,
            spectrum,
            spectrum_per_frame=spectrum_per_frame,
            chroma=chroma,
        )
        if self.downbeat is None or beat_frames.shape[0] == 0:
            return cues
        tracker = activation_at(self.downbeat, beat_frames)
        strength: npt.NDArray[np.float64] = CUE_WEIGHTS["tracker"] * _zscore(tracker) + cues
        return strength


@functools.lru_cache(maxsize=4)
def _tracker(path: Path) -> Backend | TcnWeights | None:
    """The tracker in ``path`` (a convolutional tracker's weights, or an LSTM tracker on
    the numpy backend), or None (logged) if it cannot load."""
    from kelly_runtime.loading import load_backend

    if not path.is_file():
        logger.warning("no beat tracker at %s; beats come from onset rules", path)
        return None
    try:
        raw = read_regular_bytes(path, limit=_TRACKER_FILE_LIMIT, what="beat tracker file")
        try:
            document = json.loads(raw)
        except (ValueError, RecursionError):
            document = None  # the RTNeural loader says what is wrong with it
        if is_tcn_document(document):
            return from_document(document, path=path)
        backend = load_backend(path, "numpy", model=BEAT_TRACKER_SPEC.name)
    except KellyError as exc:
        logger.warning("beat tracker not used (%s); beats come from onset rules", exc)
        return None
    return backend


def activations(
    samples: FloatArray,
    sr: int,
    *,
    tracker: Path | None = TRACKER_FILE,
    backward: Path | None = BACKWARD_TRACKER_FILE,
    config: OnsetConfig = DEFAULT_ONSETS,
) -> Activations:
    """Beat (and downbeat) activations of mono ``samples`` at ``sr``.

    :param tracker: A beat tracker file, convolutional or LSTM; None uses the onset rules.
    :param backward: With an LSTM ``tracker``: a backward tracker file (trained on music
        played from its end), run from the clip's end to its start; its activations are
        averaged with the forward tracker's, so each frame is judged from both sides. None
        or a missing file: the forward tracker alone. Not used with a convolutional
        tracker, which hears both sides itself.
    """
    bands = onset_bands(samples, sr, config)
    curves = curves_from_bands(bands, config)
    network = _tracker(tracker) if tracker is not None else None
    if network is None or bands.shape[0] == 0:
        return Activations(
            beat=beat_activation(curves, config), downbeat=None, curves=curves, source="rules"
        )
    frames = network_input(bands)
    if isinstance(network, TcnWeights):
        out, source = run_tcn(network, frames), "tcn"
    else:
        out, source = _run(network, frames), "tracker"
        reverse = _tracker(backward) if backward is not None and backward.is_file() else None
        if reverse is not None and not isinstance(reverse, TcnWeights):  # LSTM partners only
            out, source = 0.5 * (out + _run(reverse, frames[::-1])[::-1]), "trackers"
    return Activations(
        beat=np.ascontiguousarray(out[:, 0]),
        downbeat=np.ascontiguousarray(out[:, 1]),
        curves=curves,
        source=source,
    )


def _run(network: Backend, frames: FloatArray) -> FloatArray:
    """The network's ``(frames, 2)`` answers for ``frames``, aligned to them."""
    network.reset()
    return align_activations(network.run(pad_for_lookahead(np.ascontiguousarray(frames))))
