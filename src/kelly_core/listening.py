"""The beat tracker network: what goes in, what comes out, and its layer table.

A sixth small network, beside the five of :data:`kelly_core.catalog.MODEL_SPECS` (it is
not one of the plugin's models: a plugin takes its beats from the host's playhead). It
maps the onset front end's frames (:func:`kelly_core.encodings.onsets.onset_bands`, 86
frames per second) to two activations per frame, each in 0..1:

- ``beat``: a beat (any beat, downbeats included) starts in this frame;
- ``downbeat``: a bar starts in this frame.

Its LSTM runs forward in time, so it sees the past only; to let it hear a little of what
follows a beat, it is trained to answer :data:`LOOKAHEAD_FRAMES` frames late: output
frame ``t`` describes input frame ``t - LOOKAHEAD_FRAMES`` (:func:`pad_for_lookahead`
and :func:`align_activations` undo the shift). Its file is RTNeural JSON like the five
models' (``metadata.spec`` holds this table), run on the numpy or numba backend.
"""

from __future__ import annotations

from typing import Final

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.encodings.onsets import DEFAULT_ONSETS, band_centres
from kelly_core.specs import LayerSpec, ModelSpec

__all__ = [
    "BAND_OFFSET",
    "BEAT_OUTPUTS",
    "BEAT_TRACKER_SPEC",
    "DOWNBEAT_REACH",
    "FLUX_SCALE",
    "LOOKAHEAD_FRAMES",
    "activation_at",
    "align_activations",
    "network_input",
    "pad_for_lookahead",
]

BEAT_OUTPUTS: Final = ("beat", "downbeat")
"""Columns of the tracker's output frame."""
LOOKAHEAD_FRAMES: Final = 16
"""Frames (186 ms at 86 frames per second) the tracker's answer lags its input."""

BEAT_TRACKER_SPEC: Final = ModelSpec(
    name="BeatTracker",
    input_size=2 * int(band_centres(DEFAULT_ONSETS).shape[0]),
    input_name="onset_bands",
    output_name="beat_activations",
    layers=(
        LayerSpec(kind="dense", size=64, activation="tanh"),
        LayerSpec(kind="lstm", size=96),
        LayerSpec(kind="dense", size=32, activation="tanh"),
        LayerSpec(kind="dense", size=len(BEAT_OUTPUTS), activation="sigmoid"),
    ),
)
"""52 band magnitudes and 52 band fluxes in (:func:`network_input`); beat and downbeat
activations out."""


BAND_OFFSET: Final = 0.8
"""Subtracted from the band magnitudes (their mean over the training corpus is 0.84)."""
FLUX_SCALE: Final = 5.0
"""Multiplies the band fluxes (their spread over the training corpus is 0.11, the
magnitudes' 0.65): both halves of the input reach the first layer on one scale."""


def network_input(bands: FloatArray) -> FloatArray:
    """The tracker's input frames from :func:`~kelly_core.encodings.onsets.onset_bands`:
    ``magnitude - BAND_OFFSET`` and ``flux × FLUX_SCALE``, fixed (no statistic of the clip)."""
    values = np.asarray(bands, dtype=np.float32)
    half = values.shape[1] // 2
    scaled: FloatArray = np.concatenate(
        [values[:, :half] - BAND_OFFSET, values[:, half:] * FLUX_SCALE], axis=1
    ).astype(np.float32)
    return scaled


DOWNBEAT_REACH: Final = 2
"""Frames either side of a beat searched for its downbeat activation."""


def activation_at(activation: object, frames: object, reach: int = DOWNBEAT_REACH) -> np.ndarray:
    """The largest of ``activation`` (one value per frame) within ``reach`` frames of each
    of ``frames`` (indices; the clip's ends bound the search): ``(len(frames),)`` float64."""
    values = np.asarray(activation, dtype=np.float64)
    index = np.asarray(frames, dtype=np.int64)
    if index.size == 0 or values.size == 0:
        return np.zeros(index.size, dtype=np.float64)
    near = np.clip(index[:, None] + np.arange(-reach, reach + 1)[None, :], 0, values.size - 1)
    largest: np.ndarray = values[near].max(axis=1)
    return largest


def pad_for_lookahead(features: FloatArray) -> FloatArray:
    """Append :data:`LOOKAHEAD_FRAMES` frames of zeros (silence after the clip's end), so
    that the network answers for every frame of the clip."""
    values = np.asarray(features, dtype=np.float32)
    padded: FloatArray = np.concatenate(
        [values, np.zeros((LOOKAHEAD_FRAMES, values.shape[1]), dtype=np.float32)]
    )
    return padded


def align_activations(outputs: FloatArray) -> FloatArray:
    """Row ``t`` of the result describes input frame ``t``: drop the first
    :data:`LOOKAHEAD_FRAMES` rows of the network's ``(frames + LOOKAHEAD_FRAMES, 2)``
    outputs on :func:`pad_for_lookahead`'s input."""
    values = np.asarray(outputs, dtype=np.float32)
    aligned: FloatArray = values[LOOKAHEAD_FRAMES:]
    return aligned
