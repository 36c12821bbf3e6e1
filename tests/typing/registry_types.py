"""Static type tests: mypy checks these; pytest never runs them."""

from __future__ import annotations

from typing import assert_type

import numpy as np

from kelly_core import MODEL_SPECS, Backend, Dataset, Exporter, Model, ModelSpec, Registry
from kelly_core.arrays import FloatArray, check_frame


def registry_returns_interfaces(registry: Registry) -> None:
    assert_type(registry.backend("numpy"), Backend)
    assert_type(registry.exporter("rtneural"), Exporter)
    assert_type(registry.model("EmotionRecognizer", seed=0), Model)
    assert_type(registry.dataset("deam", None), Dataset)
    assert_type(registry.spec("EmotionRecognizer"), ModelSpec)
    assert_type(MODEL_SPECS["GroovePredictor"].parameter_count, int)


def frames_are_float32(frame: object) -> None:
    checked = check_frame(frame, 128)
    assert_type(checked, FloatArray)
    assert_type(checked.dtype, np.dtype[np.float32])
