"""The five-model pipeline: shapes, ranges, fallback stages, determinism, bad input."""

from __future__ import annotations

import importlib.util
import json
import warnings
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_NAMES
from kelly_core.encodings import C_MAJOR, NEUTRAL_EMOTION
from kelly_core.errors import BackendError, KellyWarning, SpecError
from kelly_runtime.beat import BeatOutput
from kelly_runtime.pipeline import STAGES, Pipeline
from tests.unit.kelly_runtime.helpers import random_frames, runtime_registry, write_models

REGISTRY = runtime_registry()


@pytest.fixture(scope="module")
def models_dirs(tmp_path_factory: pytest.TempPathFactory) -> dict[int, Path]:
    """Two folders of the five models exported with seeds 0 and 3 (written once)."""
    root = tmp_path_factory.mktemp("pipeline_models")
    return {
        seed: write_models(root / str(seed), REGISTRY, seed=seed, names=MODEL_NAMES)
        for seed in (0, 3)
    }


def _full(folders: dict[int, Path], seed: int = 0) -> Pipeline:
    return Pipeline.from_directory(folders[seed], backend="numpy", registry=REGISTRY)


def _stream(pipeline: Pipeline, windows: np.ndarray) -> list[BeatOutput]:
    beats = []
    for window in windows:
        pipeline.push_window(window)
        beats.append(pipeline.step_beat())
    return beats


class TestOutputs:
    def test_shapes_and_ranges(self, models_dirs: dict[int, Path]) -> None:
        """Every beat has the documented shapes; softmax sums to 1, sigmoid in [0, 1]."""
        pipeline = _full(models_dirs)
        assert pipeline.fallback_stages == ()
        beats = _stream(pipeline, random_frames(128, 9, 1))
        for beat in beats:
            assert beat.emotion.shape == (64,)
            assert beat.notes.shape == (128,)
            assert beat.chords.shape == (64,)
            assert beat.expression.shape == (16,)
            assert np.all((beat.notes >= 0) & (beat.notes <= 1))
            assert np.all((beat.expression >= 0) & (beat.expression <= 1))
            assert beat.chords.sum() == pytest.approx(1.0, abs=1e-5)
            assert np.all(np.abs(beat.emotion) <= 1)
            assert -1 <= beat.valence <= 1
            assert -1 <= beat.arousal <= 1
        assert [b.beat_in_bar for b in beats] == [0, 1, 2, 3, 0, 1, 2, 3, 0]
        assert [b.groove is not None for b in beats] == [i % 4 == 0 for i in range(9)]
        groove = beats[4].groove
        assert groove is not None
        assert groove.shape == (32,)
        assert np.all(np.abs(groove) <= 1)

    def test_chords_are_fed_back(self, models_dirs: dict[int, Path]) -> None:
        """The same emotion gives different chords on the second beat (feedback)."""
        pipeline = _full(models_dirs)
        first = pipeline.step_beat()
        second = pipeline.step_beat()
        assert not np.allclose(first.chords, second.chords)

    def test_deterministic(self, models_dirs: dict[int, Path]) -> None:
        """Same weights and windows give identical outputs, also after reset()."""
        windows = random_frames(128, 6, 2)
        a = _stream(_full(models_dirs, seed=3), windows)
        pipeline = _full(models_dirs, seed=3)
        b = _stream(pipeline, windows)
        pipeline.reset()
        c = _stream(pipeline, windows)
        for x, y, z in zip(a, b, c, strict=True):
            for field in ("emotion", "notes", "chords", "expression"):
                np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
                np.testing.assert_array_equal(getattr(x, field), getattr(z, field))
            assert x.beat == y.beat == z.beat

    def test_beat_vector_round_trip(self, models_dirs: dict[int, Path]) -> None:
        """to_vector/from_vector round-trip a beat, with and without groove."""
        pipeline = _full(models_dirs)
        for beat in (pipeline.step_beat(), pipeline.step_beat()):
            back = BeatOutput.from_vector(beat.to_vector())
            assert (back.beat, back.beat_in_bar) == (beat.beat, beat.beat_in_bar)
            np.testing.assert_array_equal(back.notes, beat.notes)
            assert (back.groove is None) == (beat.groove is None)


class TestFallback:
    def test_all_fallback(self) -> None:
        """Pipeline.fallback() reports every stage and gives the §5 outputs."""
        pipeline = Pipeline.fallback()
        assert pipeline.fallback_stages == STAGES
        beat = pipeline.step_beat()
        np.testing.assert_array_equal(beat.emotion, NEUTRAL_EMOTION)
        assert int(np.argmax(beat.chords)) == C_MAJOR
        np.testing.assert_allclose(beat.notes, 1 / 128)

    def test_missing_and_invalid_files(self, tmp_path: Path) -> None:
        """A missing and a corrupt file each warn, and those stages run on fallback."""
        names = ("EmotionRecognizer", "MelodyTransformer", "HarmonyPredictor")
        folder = write_models(tmp_path / "m", REGISTRY, seed=0, names=names)
        (folder / "harmonypredictor.json").write_text("{not json", encoding="utf-8")
        with pytest.warns(KellyWarning) as record:
            pipeline = Pipeline.from_directory(folder, registry=REGISTRY)
        assert pipeline.fallback_stages == (
            "HarmonyPredictor",
            "DynamicsEngine",
            "GroovePredictor",
        )
        messages = " ".join(str(w.message) for w in record)
        assert "harmonypredictor.json" in messages
        assert "dynamicsengine.json" in messages
        default = "NumbaBackend" if importlib.util.find_spec("numba") else "NumpyBackend"
        assert pipeline.stage_backends["EmotionRecognizer"] == default  # the preferred one
        assert pipeline.stage_backends["GroovePredictor"] == "FallbackBackend"
        assert pipeline.step_beat().chords.shape == (64,)

    def test_wrong_model_in_file(self, tmp_path: Path) -> None:
        """A file holding another model is reported and replaced by the fallback."""
        folder = write_models(tmp_path / "m", REGISTRY, seed=0, names=("GroovePredictor",))
        (folder / "groovepredictor.json").rename(folder / "melodytransformer.json")
        with pytest.warns(KellyWarning) as record:
            pipeline = Pipeline.from_directory(folder, registry=REGISTRY)
        assert any("expected 'MelodyTransformer'" in str(w.message) for w in record)
        assert "MelodyTransformer" in pipeline.fallback_stages

    @pytest.mark.parametrize(
        ("name", "earlier", "current"),
        [
            ("MelodyTransformer", "emotion", "melody_context_v2"),
            ("MelodyTransformer", "melody_context", "melody_context_v2"),
            ("HarmonyPredictor", "context", "harmony_context_v2"),
        ],
    )
    def test_file_of_an_earlier_input_design(
        self, tmp_path: Path, name: str, earlier: str, current: str
    ) -> None:
        """A file whose spec names an earlier input design (the emotion code; the melody
        context or harmony context that did not hear the song) is refused by name, saying
        why, and the stage falls back."""
        folder = write_models(tmp_path / "m", REGISTRY, seed=0, names=(name,))
        path = folder / f"{name.lower()}.json"
        data = json.loads(path.read_text(encoding="utf-8"))
        data["metadata"]["spec"]["input_name"] = earlier
        path.write_text(json.dumps(data), encoding="utf-8")
        with pytest.warns(KellyWarning) as record:
            pipeline = Pipeline.from_directory(folder, registry=REGISTRY)
        assert any(
            f"input_name {earlier!r} (expected {current!r})" in str(w.message) for w in record
        )
        assert name in pipeline.fallback_stages

    def test_backends_per_stage(self, models_dirs: dict[int, Path]) -> None:
        """backends= picks a backend for one stage."""
        folder = models_dirs[0]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            pipeline = Pipeline.from_directory(
                folder,
                backend="numpy",
                registry=REGISTRY,
                backends={"GroovePredictor": "fallback"},
            )
        assert pipeline.stage_backends["GroovePredictor"] == "FallbackBackend"
        assert pipeline.stage_backends["DynamicsEngine"] == "NumpyBackend"

    def test_not_a_folder(self, tmp_path: Path) -> None:
        """A missing models folder is an error, not five fallbacks."""
        with pytest.raises(SpecError, match="no such folder of model files"):
            Pipeline.from_directory(tmp_path / "nope", registry=REGISTRY)

    def test_unknown_stage(self, tmp_path: Path) -> None:
        """A backends= key that is not a stage is an error."""
        with pytest.raises(SpecError, match="unknown stages"):
            Pipeline.from_directory(tmp_path, registry=REGISTRY, backends={"Nope": "numpy"})


class TestBadInput:
    @pytest.mark.parametrize(
        "window",
        [
            np.zeros(127, dtype=np.float32),
            np.full(128, np.nan, dtype=np.float32),
            np.zeros(128, dtype=np.int32),
        ],
    )
    def test_bad_window_leaves_state(
        self, models_dirs: dict[int, Path], window: np.ndarray
    ) -> None:
        """A bad window raises BackendError and the pipeline state is unchanged."""
        pipeline = _full(models_dirs)
        twin = _full(models_dirs)
        good = random_frames(128, 2, 4)
        for p in (pipeline, twin):
            p.push_window(good[0])
            p.step_beat()
        with pytest.raises(BackendError) as info:
            pipeline.push_window(window)
        assert info.value.field == "window"
        np.testing.assert_array_equal(pipeline.emotion, twin.emotion)
        assert pipeline.beat == twin.beat
        np.testing.assert_array_equal(pipeline.push_window(good[1]), twin.push_window(good[1]))
        np.testing.assert_array_equal(pipeline.step_beat().chords, twin.step_beat().chords)
