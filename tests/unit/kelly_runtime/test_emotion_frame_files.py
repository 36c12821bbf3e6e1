"""EmotionRecognizer files record the emotion frame; a file of the earlier design (128
log-mel window means) is refused by name, and the stage falls back."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.encodings.emotion_frame import EMOTION_FRAME_SIZE, EMOTION_FRAME_VERSION
from kelly_core.errors import KellyWarning
from kelly_export.rtneural import document_to_loaded
from kelly_runtime.pipeline import Pipeline
from tests.unit.kelly_runtime.helpers import runtime_registry, write_models

REGISTRY = runtime_registry()


def test_the_catalog_reads_the_emotion_frame() -> None:
    spec = MODEL_SPECS["EmotionRecognizer"]
    assert spec.input_name == EMOTION_FRAME_VERSION == "emotion_frame"
    assert spec.input_size == EMOTION_FRAME_SIZE


def test_a_written_file_records_the_frame(tmp_path: Path) -> None:
    folder = write_models(tmp_path / "m", REGISTRY, seed=0, names=("EmotionRecognizer",))
    data = json.loads((folder / "emotionrecognizer.json").read_text(encoding="utf-8"))
    assert data["metadata"]["spec"]["input_name"] == "emotion_frame"
    assert document_to_loaded(data).spec == MODEL_SPECS["EmotionRecognizer"]


def test_a_log_mel_file_is_refused_by_name(tmp_path: Path) -> None:
    """A file whose spec reads 128 log-mel window means falls back, saying why."""
    folder = write_models(tmp_path / "m", REGISTRY, seed=0, names=("EmotionRecognizer",))
    path = folder / "emotionrecognizer.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    data["metadata"]["spec"]["input_name"] = "log_mel"
    path.write_text(json.dumps(data), encoding="utf-8")
    with pytest.warns(KellyWarning) as record:
        pipeline = Pipeline.from_directory(folder, registry=REGISTRY)
    messages = [str(w.message) for w in record]
    assert any(
        "emotionrecognizer.json" in m and "input_name 'log_mel' (expected 'emotion_frame')" in m
        for m in messages
    ), messages
    assert "EmotionRecognizer" in pipeline.fallback_stages
