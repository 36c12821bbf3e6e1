"""Opt-in: the generated kelly_models.h and the example pipeline, built against RTNeural.

Runs only when ``RTNEURAL_DIR`` points at a checkout of RTNeural (with its vendored Eigen
under ``modules/Eigen``); skipped, saying so, otherwise. Kelly never downloads RTNeural.
Builds ``kelly cpp``'s example once (about a minute), then checks, with models exported
by Kelly and a Bach chorale rendered with fluidsynth (a synthetic clip without it):
every model's parity vectors through RTNeural; per-beat outputs against Kelly's Python
pipeline (``run_stages``) and ``kelly generate`` computed here on the same audio (and the
notes the example feeds back to the MelodyTransformer against ``melody_feedback``), with the
beats of Python's grid passed to the example (``--beat-times``: it detects no beats) and
the same key given to both (``--key``: it estimates no key), for key-relative files and
for files marked absolute, with each beat hearing its own chroma (as ``kelly generate``)
and the previous beat's (``--chroma-lag 1``, a zero-latency plugin); and that the checking
loader refuses a mismatched file (naming the field) and runs that stage on the fallback.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING, Any
from unittest import mock

import attrs
import numpy as np
import pytest

from kelly_core.catalog import MODEL_NAMES
from kelly_core.encodings import C_MAJOR, chord_label
from kelly_core.encodings.melody import melody_feedback
from kelly_core.encodings.tonal import tonic_shift, transpose_pitches
from kelly_export.cpp_command import write_cpp
from kelly_export.rtneural import RTNeuralExporter
from kelly_models.build import build_model
from kelly_runtime.generate.keys import Key
from kelly_runtime.generate.playalong import PlayAlong
from tests.integration.test_cpp_companion import render_chorale

if TYPE_CHECKING:
    from kelly_runtime.generate.render import StageOutputs

RTNEURAL_DIR = os.environ.get("RTNEURAL_DIR", "")
pytestmark = pytest.mark.skipif(
    not (Path(RTNEURAL_DIR) / "RTNeural" / "RTNeural.h").is_file(),
    reason="set RTNEURAL_DIR to a checkout of RTNeural to build the C++ pipeline",
)
TEMPO = 100.0
KEY = "E minor"  # tonic_shift 4: every key-relative vector moves


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


def _python_stages(models: Path, audio: Path, *, lag: bool = False) -> StageOutputs:
    """Kelly's Python pipeline on ``audio``: a steady grid at TEMPO, in the key KEY; with
    ``lag`` each beat is given the previous beat's chroma (the first beat silence)."""
    from kelly_runtime.generate import stages
    from kelly_runtime.generate.audio import read_audio
    from kelly_runtime.generate.listen import Listening, listen

    def late(*args: Any, **kwargs: Any) -> Listening:
        heard = listen(*args, **kwargs)
        chroma = np.zeros_like(heard.beat_chroma)
        chroma[1:] = heard.beat_chroma[:-1]
        return attrs.evolve(heard, beat_chroma=chroma)

    clip = read_audio(audio)
    with mock.patch.object(stages, "listen", late) if lag else contextlib.nullcontext():
        return stages.run_stages(
            clip, models_dir=models, backend="numpy", tempo=TEMPO, key=Key.parse(KEY)
        )


def _beat_file(python: StageOutputs, path: Path) -> Path:
    """The played beats of Python's grid as ``--beat-times`` lines: time and place in bar."""
    grid = python.grid
    played = range(grid.first, len(grid.times))
    lines = [f"{float(grid.times[i])!r} {grid.beat_in_bar(i)}" for i in played]
    path.write_text("\n".join(lines) + "\n")
    return path


def _assert_beats_match(beats: list[dict[str, Any]], python: StageOutputs) -> None:
    grid = python.grid
    assert len(beats) == grid.beats
    for b, beat in enumerate(beats):
        index = grid.first + b
        assert beat["time"] == pytest.approx(float(grid.times[index]), abs=1e-12)
        assert beat["beat_in_bar"] == grid.beat_in_bar(index)
        valence, arousal = python.beat_va[b]
        assert beat["valence"] == pytest.approx(float(valence), abs=1e-4)
        assert beat["arousal"] == pytest.approx(float(arousal), abs=1e-4)
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
        if beat["beat_in_bar"] == 0:
            groove = python.groove[grid.bar_of(index)]
            np.testing.assert_allclose(beat["groove"], groove, atol=1e-4, rtol=0)
        else:
            assert beat["groove"] is None


def _assert_fed_back(beats: list[dict[str, Any]], python: StageOutputs, shift: int) -> int:
    """The notes the example pushed onto its melody history are Python's ``melody_feedback``.

    The MelodyTransformer's raw output is ``python.notes`` moved down by ``shift`` (pitches
    moved past 127 are lost, so with ``shift`` != 0 only the pitches at or above 0.5 are
    checked); a beat is skipped where a decision is closer to its boundary than ten times
    the beat's largest C++/Python note difference (measured about 1e-7). Returns the
    number of beats checked.
    """
    checked = 0
    for b, beat in enumerate(beats):
        fed = set(beat["fed_back"])
        margin = 10 * float(np.abs(np.asarray(beat["note_probs"]) - python.notes[b]).max())
        raw = transpose_pitches(python.notes[b], -shift)
        known = np.zeros(128, dtype=bool)
        known[max(0, -shift) : 128 - max(0, shift)] = True
        if (np.abs(raw[known] - 0.5) <= margin).any():
            continue
        sure = {int(p) for p in np.nonzero(known & (raw >= 0.5))[0]}
        if shift == 0:
            sounding = 1.0 - float(np.prod(1.0 - raw.astype(np.float64)))
            if abs(sounding - 0.5) <= margin:
                continue
            assert fed == {int(p) for p in np.nonzero(melody_feedback(raw))[0]}, b
        elif sure:
            assert {p for p in fed if known[p]} == sure, b
        else:
            continue
        checked += 1
    return checked


def _assert_played(beats: list[dict[str, Any]], python: StageOutputs, zero_latency: bool) -> None:
    """The example's play-along choices (``played_*``, ``strong``, ``avoid``) are Python's
    ``PlayAlong`` stepped over the same inputs: the chord probabilities and the chroma it
    printed, the key KEY, each beat's place in its bar. The chroma it heard is Python's
    beat chroma within 1e-4, and on Python's own chord probabilities and chroma the same
    chord is played on at least 90 % of the beats (ties may fall either way)."""
    key = Key.parse(KEY)
    same, theirs = PlayAlong(zero_latency=zero_latency), PlayAlong(zero_latency=zero_latency)
    assert python.beat_chroma is not None
    agree = 0
    for b, beat in enumerate(beats):
        heard = np.asarray(beat["heard"], dtype=np.float32)
        np.testing.assert_allclose(heard, python.beat_chroma[b], atol=1e-4, rtol=0)
        chords = np.asarray(beat["chord_probs"], dtype=np.float32)
        played = same.step(chords, heard, key, beat["beat_in_bar"])
        assert beat["played_chord"] == played.chord, b
        assert beat["played_label"] == chord_label(played.chord)
        assert beat["played_tones"] == list(played.tones), b
        assert beat["strong"] == sorted(played.hearing.strong), b
        assert beat["avoid"] == sorted(played.hearing.avoid), b
        own = theirs.step(python.chords[b], python.beat_chroma[b], key, beat["beat_in_bar"])
        agree += own.chord == played.chord
    assert agree >= 0.9 * len(beats)
    assert any(beat["avoid"] for beat in beats)
    assert any(len(beat["played_tones"]) >= 3 for beat in beats)


def test_parity_vectors_through_rtneural(built: tuple[Path, Path, Path]) -> None:
    binary, models, audio = built
    result = _run(binary, models, audio, "--parity", "1", "--beats", "1")
    assert result.returncode == 0, result.stderr
    lines = [line.split() for line in result.stderr.splitlines() if line.startswith("parity")]
    assert [line[1] for line in lines] == list(MODEL_NAMES)
    for line in lines:
        assert line[4] == "ok"
        assert float(line[3]) < 1e-5, line


def test_per_beat_outputs_match_python_pipeline(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    from kelly_runtime.generate.api import generate
    from kelly_runtime.generate.options import GenerateOptions

    binary, models, audio = built
    python = _python_stages(models, audio)
    assert python.fallback_stages == ()
    assert python.grid.beats >= 12
    beat_file = _beat_file(python, tmp_path / "beats.txt")
    result = _run(binary, models, audio, "--beat-times", str(beat_file), "--key", KEY)
    assert result.returncode == 0, result.stderr
    beats = [json.loads(line) for line in result.stdout.splitlines()]
    assert {beat["tonic"] for beat in beats} == {Key.parse(KEY).tonic}
    _assert_beats_match(beats, python)
    _assert_played(beats, python, zero_latency=False)
    assert _assert_fed_back(beats, python, tonic_shift(Key.parse(KEY).tonic)) >= len(beats) // 2
    assert any(beat["fed_back"] for beat in beats)  # the melody history is not only rests
    # what `kelly generate` writes per beat (--emotion-json): time, valence, arousal
    options = GenerateOptions(tempo=TEMPO, key=KEY)
    records = generate(audio, models, options).summary()["beats"]
    assert isinstance(records, list)
    assert len(records) == len(beats)
    for record, beat in zip(records, beats, strict=True):
        assert beat["time"] == pytest.approx(record["time"], abs=1e-9)
        assert beat["valence"] == pytest.approx(record["valence"], abs=1e-4)
        assert beat["arousal"] == pytest.approx(record["arousal"], abs=1e-4)
    # the key is applied: the same beats in C give other notes and chords; with the
    # previous beat's chroma the first beat hears silence, so its key-relative notes are
    # the same, moved by the key
    lagged = ("--beat-times", str(beat_file), "--chroma-lag", "1")
    in_c = _run(binary, models, audio, *lagged, "--tonic", "0")
    in_key = _run(binary, models, audio, *lagged, "--key", KEY)
    assert in_c.returncode == in_key.returncode == 0, in_c.stderr + in_key.stderr
    first = json.loads(in_c.stdout.splitlines()[0])
    first_in_key = json.loads(in_key.stdout.splitlines()[0])
    shift = tonic_shift(Key.parse(KEY).tonic)
    np.testing.assert_allclose(
        np.roll(first["note_probs"], shift)[max(shift, 0) : 128 + min(shift, 0)],
        np.asarray(first_in_key["note_probs"])[max(shift, 0) : 128 + min(shift, 0)],
        atol=1e-6,
    )
    assert not np.allclose(first["note_probs"], first_in_key["note_probs"], atol=1e-4)


def test_previous_beat_chroma_matches_python_pipeline(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    """--chroma-lag 1 (a zero-latency plugin) equals Python's pipeline given each beat the
    previous beat's chroma, and differs from hearing each beat's own."""
    binary, models, audio = built
    python = _python_stages(models, audio, lag=True)
    beat_file = _beat_file(python, tmp_path / "beats.txt")
    args = ("--beat-times", str(beat_file), "--key", KEY)
    result = _run(binary, models, audio, *args, "--chroma-lag", "1")
    assert result.returncode == 0, result.stderr
    beats = [json.loads(line) for line in result.stdout.splitlines()]
    _assert_beats_match(beats, python)
    _assert_played(beats, python, zero_latency=True)
    assert beats[0]["heard"] == [0.0] * 24  # the first beat hears silence
    assert beats[0]["strong"] == beats[0]["avoid"] == []
    own = _run(binary, models, audio, *args)
    assert own.returncode == 0, own.stderr
    heard = [json.loads(line) for line in own.stdout.splitlines()]
    differ = [
        not np.allclose(a["chord_probs"], b["chord_probs"], atol=1e-3)
        for a, b in zip(beats, heard, strict=True)
    ]
    assert sum(differ) >= len(beats) // 2


def test_absolute_files_are_not_transposed(built: tuple[Path, Path, Path], tmp_path: Path) -> None:
    binary, models, audio = built
    mixed = tmp_path / "models"
    shutil.copytree(models, mixed)
    for stem in ("melodytransformer", "dynamicsengine"):  # HarmonyPredictor stays "tonic"
        path = mixed / f"{stem}.json"
        document = json.loads(path.read_text())
        assert document["metadata"]["tonal_reference"] == "tonic"
        document["metadata"]["tonal_reference"] = "absolute"
        path.write_text(json.dumps(document))
    python = _python_stages(mixed, audio)
    assert python.fallback_stages == ()
    beat_file = _beat_file(python, tmp_path / "beats.txt")
    result = _run(binary, mixed, audio, "--beat-times", str(beat_file), "--key", KEY)
    assert result.returncode == 0, result.stderr
    beats = [json.loads(line) for line in result.stdout.splitlines()]
    _assert_beats_match(beats, python)
    assert _assert_fed_back(beats, python, 0) >= len(beats) // 2  # every pitch checked


def test_bad_beat_file_and_key_are_one_line_errors(
    built: tuple[Path, Path, Path], tmp_path: Path
) -> None:
    binary, models, audio = built
    bad = tmp_path / "beats.txt"
    bad.write_text("0.0 0\n0.6 1\n0.5 2\n")
    result = _run(binary, models, audio, "--beat-times", str(bad))
    assert result.returncode == 1
    assert result.stderr.strip() == f"{bad}:3: expected increasing times >= 0"
    bad.write_text("0.0 7\n")
    result = _run(binary, models, audio, "--beat-times", str(bad))
    assert result.returncode == 1
    assert f"{bad}:1: expected" in result.stderr
    result = _run(binary, models, audio, "--key", "H minor")
    assert result.returncode == 2
    assert "--key: expected a tonic" in result.stderr
    result = _run(binary, models, audio, "--chroma-lag", "2")
    assert result.returncode == 2
    assert result.stderr.startswith("--chroma-lag: expected 0")
    result = _run(binary, models, audio, "--beats", "0")
    assert result.returncode == 2
    assert result.stderr.strip() == "--beats: expected a positive count"
    counted = tmp_path / "counted.txt"
    counted.write_text("# no places in the bar: counted in fours\n0.25\n0.75\n\n1.5\n2.0\n2.5\n")
    result = _run(binary, models, audio, "--beat-times", str(counted), "--key", "Bb")
    assert result.returncode == 0, result.stderr
    beats = [json.loads(line) for line in result.stdout.splitlines()]
    assert [b["beat_in_bar"] for b in beats] == [0, 1, 2, 3, 0]
    assert [b["time"] for b in beats] == [0.25, 0.75, 1.5, 2.0, 2.5]
    assert {b["tonic"] for b in beats} == {10}


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
