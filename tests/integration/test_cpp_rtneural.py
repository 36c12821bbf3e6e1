"""Opt-in: the generated kelly_models.h and the example pipeline, built against RTNeural.

Runs only when ``RTNEURAL_DIR`` points at a checkout of RTNeural (with its vendored Eigen
under ``modules/Eigen``); skipped, saying so, otherwise. Kelly never downloads RTNeural.
Builds ``kelly cpp``'s example once (about a minute), then checks, with models exported
by Kelly and a Bach chorale rendered with fluidsynth (a synthetic clip without it):
every model's parity vectors through RTNeural, per-beat outputs against Kelly's Python
pipeline and ``kelly generate`` computed here on the same audio, and that the checking
loader refuses a mismatched file (naming the field) and runs that stage on the fallback.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_NAMES
from kelly_core.encodings import C_MAJOR, decode_emotion
from kelly_export.cpp_command import write_cpp
from kelly_export.rtneural import RTNeuralExporter
from kelly_models.build import build_model
from tests.integration.test_cpp_companion import render_chorale

RTNEURAL_DIR = os.environ.get("RTNEURAL_DIR", "")
pytestmark = pytest.mark.skipif(
    not (Path(RTNEURAL_DIR) / "RTNeural" / "RTNeural.h").is_file(),
    reason="set RTNEURAL_DIR to a checkout of RTNeural to build the C++ pipeline",
)
TEMPO = 100.0


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    """(pipeline binary, models folder, audio file)."""
    root = tmp_path_factory.mktemp("cpp_rtneural")
    files = write_cpp(root / "cpp")
    source = next(p for p in files if p.name == "kelly_pipeline.cpp")
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("clang++")
    assert compiler is not None, "RTNEURAL_DIR is set but there is no C++ compiler"
    binary = root / "kelly_pipeline"
    rtn = Path(RTNEURAL_DIR)
    command = [compiler, "-std=c++17", "-O2", "-DRTNEURAL_USE_EIGEN=1"]
    command += ["-DRTNEURAL_DEFAULT_ALIGNMENT=16", f"-I{root / 'cpp'}", f"-I{rtn}"]
    command += [f"-I{rtn / 'modules' / 'Eigen'}", str(source), "-o", str(binary)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    models = root / "models"
    models.mkdir()
    for seed, name in enumerate(MODEL_NAMES):
        model = build_model(name, seed=seed + 7)
        RTNeuralExporter().export(model.spec, model.state_arrays(), models)
    try:  # real music where fluidsynth and music21 are installed, else a synthetic clip
        audio = render_chorale(root)
    except pytest.skip.Exception:
        audio = root / "song.wav"
        sf = pytest.importorskip("soundfile")
        sr = 22050
        t = np.arange(int(7.3 * sr)) / sr
        rng = np.random.default_rng(0)
        x = 0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-(t % 1.0) * 3)
        x += 0.2 * np.sin(2 * np.pi * 330 * t) * (t > 3) + 0.05 * rng.standard_normal(len(t))
        sf.write(str(audio), x.astype(np.float32), sr, subtype="PCM_16")
    return binary, models, audio


def _run(binary: Path, models: Path, audio: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    command = [str(binary), str(models), str(audio), "--tempo", str(TEMPO), *extra]
    return subprocess.run(command, capture_output=True, text=True, check=False)


def test_parity_vectors_through_rtneural(built: tuple[Path, Path, Path]) -> None:
    binary, models, audio = built
    result = _run(binary, models, audio, "--parity", "1", "--beats", "1")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stderr.splitlines() if line.startswith("parity")]
    assert [line[1] for line in lines] == list(MODEL_NAMES)
    for line in lines:
        assert line[4] == "ok"
        assert float(line[3]) < 1e-5, line


def test_per_beat_outputs_match_python_pipeline(built: tuple[Path, Path, Path]) -> None:
    from kelly_runtime.generate.api import generate
    from kelly_runtime.generate.audio import read_audio
    from kelly_runtime.generate.options import GenerateOptions
    from kelly_runtime.generate.stages import run_stages

    binary, models, audio = built
    result = _run(binary, models, audio)
    assert result.returncode == 0, result.stderr
    beats = [json.loads(line) for line in result.stdout.splitlines()]
    clip = read_audio(audio)
    count = GenerateOptions(tempo=TEMPO).beats_for(clip.duration)
    python = run_stages(clip, models_dir=models, backend="numpy", beats=count, tempo=TEMPO)
    assert python.fallback_stages == ()
    assert len(beats) == count == max(1, round(clip.duration * TEMPO / 60))
    assert count >= 12
    for b, beat in enumerate(beats):
        valence, arousal = decode_emotion(python.beat_emotion[b])
        assert beat["valence"] == pytest.approx(valence, abs=1e-4)
        assert beat["arousal"] == pytest.approx(arousal, abs=1e-4)
        probs = python.notes[b]
        np.testing.assert_allclose(beat["note_probs"], probs, atol=1e-4, rtol=0)
        clear = np.abs(probs - 0.5) > 1e-4
        got_notes = set(beat["notes"])
        assert {p for p in range(128) if clear[p] and probs[p] >= 0.5} <= got_notes
        assert got_notes <= {p for p in range(128) if probs[p] >= 0.5 - 1e-4}
        np.testing.assert_allclose(beat["chord_probs"], python.chords[b], atol=1e-4, rtol=0)
        top = np.sort(python.chords[b])[-2:]
        if top[1] - top[0] > 1e-4:
            assert beat["chord"] == int(np.argmax(python.chords[b]))
        np.testing.assert_allclose(beat["expression"], python.expression[b], atol=1e-4, rtol=0)
        if b % 4 == 0:
            np.testing.assert_allclose(beat["groove"], python.groove[b // 4], atol=1e-4, rtol=0)
        else:
            assert beat["groove"] is None
    # what `kelly generate` writes per beat (--emotion-json): time, valence, arousal, chord
    summary = generate(audio, models, GenerateOptions(tempo=TEMPO)).summary()
    records = summary["beats"]
    assert isinstance(records, list)
    assert len(records) == len(beats)
    for record, beat in zip(records, beats, strict=True):
        assert beat["time"] == pytest.approx(record["time"], abs=1e-9)
        assert beat["valence"] == pytest.approx(record["valence"], abs=1e-4)
        assert beat["arousal"] == pytest.approx(record["arousal"], abs=1e-4)
        assert beat["chord_label"] == record["chord"]


def test_mismatched_file_is_refused_and_runs_on_fallback(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    binary, models, audio = built
    broken = tmp_path / "models"
    shutil.copytree(models, broken)
    path = broken / "harmonypredictor.json"
    document = json.loads(path.read_text())
    document["layers"][2]["activation"] = "sigmoid"  # RTNeural would load it silently
    path.write_text(json.dumps(document))
    result = _run(binary, broken, audio, "--beats", "3")
    assert result.returncode == 0, result.stderr
    assert 'layers[2].activation: expected "softmax", got "sigmoid"' in result.stderr
    assert "HarmonyPredictor" in result.stderr
    for line in result.stdout.splitlines():
        beat = json.loads(line)
        assert beat["chord"] == C_MAJOR
        assert beat["chord_probs"][C_MAJOR] == 1.0
    (broken / "groovepredictor.json").unlink()
    result = _run(binary, broken, audio, "--beats", "1")
    assert "groovepredictor.json: cannot open the file" in result.stderr
