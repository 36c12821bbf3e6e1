"""The runtime's numpy backend and a fallback pipeline work without importing torch."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import numpy as np
import kelly_runtime
from kelly_core.registry import default_registry
from kelly_core.catalog import MODEL_SPECS
from kelly_runtime.pipeline import Pipeline
backend = default_registry().backend("numpy")
spec = MODEL_SPECS["GroovePredictor"]
backend.load(spec, {k: np.zeros(s, np.float32) for k, s in spec.array_shapes().items()})
backend.step(np.zeros(64, np.float32))
pipeline = Pipeline.fallback()
pipeline.push_window(np.zeros(128, np.float32))
pipeline.step_beat()
print("torch" in sys.modules)
"""


def test_numpy_backend_and_fallback_pipeline_leave_torch_out() -> None:
    """In a fresh process, numpy stepping and a fallback pipeline never import torch."""
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
