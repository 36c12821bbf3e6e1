"""The reference models shipped in the package (``kelly train-reference --install``):
five valid compact files that the runtime loads, trained on the data the docs name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.cli import main
from kelly_export.compact import DEFAULT_DECIMALS
from kelly_export.parity import PARITY_TOLERANCE, parity_inputs, reference_outputs
from kelly_runtime.loading import load_backend
from kelly_runtime.pipeline import Pipeline
from kelly_runtime.reference import REFERENCE_DIR, reference_model_files, reference_models_dir

TRAINED_ON = {
    "EmotionRecognizer": "synthetic-emotion",
    "MelodyTransformer": "rendered-melody",
    "HarmonyPredictor": "rendered-harmony",
    "DynamicsEngine": "synthetic-dynamics",
    "GroovePredictor": "synthetic-groove",
}
"""The dataset each shipped model was trained on (docs/training.md)."""
MAX_BYTES = 8_000_000
"""The five files together (measured 7.35 MB at 3 decimals)."""


def _layers(path: Path) -> list[list[np.ndarray]]:
    doc = json.loads(path.read_text())
    return [[np.asarray(w, dtype=np.float32) for w in layer["weights"]] for layer in doc["layers"]]


def test_all_five_ship_and_generate_finds_them() -> None:
    files = reference_model_files()
    assert sorted(files) == sorted(MODEL_SPECS)
    assert reference_models_dir() == REFERENCE_DIR
    assert sum(p.stat().st_size for p in files.values()) < MAX_BYTES
    pipeline = Pipeline.from_directory(REFERENCE_DIR, backend="numpy")
    assert list(pipeline.fallback_stages) == []


def test_kelly_validate_passes_them(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", str(REFERENCE_DIR)]) == 0
    out = capsys.readouterr().out
    assert "5 of 5 model files valid" in out


@pytest.mark.parametrize("name", sorted(MODEL_SPECS))
def test_compact_trained_on_the_named_data_and_run_like_the_reference(name: str) -> None:
    path = reference_model_files()[name]
    text = path.read_text()
    doc = json.loads(text)
    assert doc["metadata"]["model_name"] == name
    training = doc["metadata"]["training"]
    assert training["dataset"] == TRAINED_ON[name]
    assert training["synthetic"] is TRAINED_ON[name].startswith("synthetic")
    weights_text = text.split('"metadata"', 1)[0]
    decimals = max(len(m) for m in re.findall(r"\.(\d+)", weights_text))
    assert decimals <= DEFAULT_DECIMALS
    spec = MODEL_SPECS[name]
    inputs = parity_inputs(spec)
    want = reference_outputs(spec, _layers(path), inputs).astype(np.float64)
    backend = load_backend(path, "numpy")
    backend.reset()
    got = np.asarray(backend.run(inputs), dtype=np.float64)
    np.testing.assert_allclose(got, want, atol=PARITY_TOLERANCE, rtol=0)
    assert float(want.std()) > 1e-3  # a trained model's outputs move with its input
