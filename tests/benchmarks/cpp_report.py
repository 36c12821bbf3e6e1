"""The numbers in docs/cpp.md: companion parity, file sizes, read time, C++ step times.

    .venv/bin/python -m tests.benchmarks.cpp_report            # companion + file sizes
    RTNEURAL_DIR=/path/to/RTNeural .venv/bin/python -m tests.benchmarks.cpp_report
    (KELLY_CXXFLAGS="-O3 -march=native" before it: other optimisation flags)

Builds tests/cpp/companion_check.cpp with the system compiler and prints the largest
absolute difference to Python per function (melody context and feedback included);
writes the five models (seeded, untrained: sizes and read times do not depend on
training) in the old 17-digit float64 text and the shortest float32 text and prints
sizes and ``json.loads`` medians measured in this process; with ``RTNEURAL_DIR``, builds
the example pipeline and prints each model's parity through RTNeural and its step time
(median and p99) beside the numpy backend's, measured in this process, and the example's
per-beat outputs against ``run_stages`` on a rendered chorale (Python's beat grid and a
given key passed to both).
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

import numpy as np

from kelly_core.catalog import MODEL_NAMES, MODEL_SPECS
from kelly_core.encodings import compact_context, decode_emotions, encode_emotions
from kelly_core.encodings.context import melody_context, song_harmony
from kelly_core.encodings.emotion import coarse_emotions
from kelly_core.encodings.logmel import (
    StreamingLogMel,
    WindowAverager,
    frames_per_window,
    offline_log_mel,
)
from kelly_core.encodings.melody import melody_feedback
from kelly_export.cpp_command import write_cpp
from kelly_export.cpp_files import companion_header
from kelly_export.rtneural import RTNeuralExporter, document_text, rtneural_weights, to_document
from kelly_models.build import build_model
from kelly_runtime.loading import load_backend

ROOT = Path(__file__).resolve().parents[2]


def _run(binary: Path, mode: str, rows: np.ndarray, width: int, work: Path) -> np.ndarray:
    src, dst = work / "in.f32", work / "out.f32"
    np.ascontiguousarray(rows, dtype="<f4").tofile(src)
    subprocess.run([str(binary), mode, str(src), str(dst)], check=True)
    return np.fromfile(dst, dtype="<f4").reshape(-1, width)


def companion(work: Path, compiler: str) -> None:
    binary = work / "companion_check"
    source = ROOT / "tests" / "cpp" / "companion_check.cpp"
    flags = ["-std=c++17", "-O2", "-pthread", f"-I{companion_header().parent}"]
    subprocess.run([compiler, *flags, str(source), "-o", str(binary)], check=True)
    sr = 22050
    t = np.arange(10 * sr) / sr
    rng = np.random.default_rng(0)
    audio = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * (300 + 400 * t) * t)
    audio = (audio + 0.05 * rng.standard_normal(len(t))).astype(np.float32)
    try:
        from kelly_runtime.generate.audio import read_audio
        from tests.integration.test_cpp_companion import render_chorale

        chorale = read_audio(render_chorale(work)).samples
        got = _run(binary, "logmel", chorale, 128, work)
        diff = np.abs(got - offline_log_mel(chorale, sr)).max()
        print(f"log-mel     Bach chorale (fluidsynth) {len(got)} frames  max abs diff {diff:.2e}")
    except BaseException as exc:  # pytest.skip raises a BaseException
        print(f"log-mel     Bach chorale not rendered ({exc})")
    frames = _run(binary, "logmel", audio, 128, work)
    print(
        f"log-mel     {frames.shape[0]} frames  max abs diff "
        f"{np.abs(frames - offline_log_mel(audio, sr)).max():.2e}  (target 1e-4)"
    )
    py_frames = StreamingLogMel().push(audio)
    windows = _run(binary, "windows", py_frames, 128, work)
    expected = WindowAverager(frames_per_window()).push(py_frames)
    print(
        f"windows     {len(windows)} windows  max abs diff {np.abs(windows - expected).max():.2e}"
    )
    points = rng.uniform(-1, 1, (1000, 2))
    codes = np.concatenate(
        [encode_emotions(points), np.tanh(rng.standard_normal((1000, 64)))]
    ).astype(np.float32)
    decoded = _run(binary, "decode", codes, 2, work)
    print(
        f"decode      {len(codes)} codes  max abs diff "
        f"{np.abs(decoded - decode_emotions(codes)).max():.2e}  (target 1e-5)"
    )
    points32 = points.astype(np.float32)
    encoded = _run(binary, "encode", points32, 64, work)
    print(f"encode      max abs diff {np.abs(encoded - encode_emotions(points32)).max():.2e}")
    beats = rng.integers(0, 4, (1000, 1)).astype(np.float32)
    pcs = (rng.random((1000, 12)) < 0.3).astype(np.float32)
    emo = codes[1000:]
    got = _run(binary, "compact", np.concatenate([emo, beats, pcs], axis=1), 32, work)
    want = np.stack(
        [compact_context(e, int(b[0]), p) for e, b, p in zip(emo, beats, pcs, strict=True)]
    )
    print(
        f"compact     max abs diff {np.abs(got - want).max():.2e} "
        f"(beat + pitch classes exact: {bool((got[:, 16:] == want[:, 16:]).all())})"
    )
    _melody(binary, work, rng)


def _melody(binary: Path, work: Path, rng: np.random.Generator) -> None:
    """melody_context and melody_feedback against kelly_core (the test cases, more rows)."""
    from tests.integration.test_cpp_companion import (
        _chroma_rows,
        _feedback_cases,
        _previous_beats,
    )

    n = 2000
    coarse = coarse_emotions(rng.uniform(-1, 1, (n, 2))).astype(np.float32)
    beats = rng.integers(0, 4, n)
    previous = _previous_beats(rng, n)
    chroma, tonics = _chroma_rows(rng, n), beats * 3
    heard = np.stack([song_harmony(c, int(k)) for c, k in zip(chroma, tonics, strict=True)])
    rows = np.concatenate([coarse, beats[:, None], previous, heard, np.ones((n, 1))], axis=1)
    got = _run(binary, "melody", rows, 64, work)
    want = np.stack(
        [
            melody_context(c, int(b), p[None], h)
            for c, b, p, h in zip(coarse, beats, previous, heard, strict=True)
        ]
    )
    print(
        f"melody      {n} contexts max abs diff {np.abs(got - want).max():.2e} "
        f"(bit-exact: {bool((got == want).all())})"
    )
    cases = [_feedback_cases(np.random.default_rng(seed)) for seed in range(20)]
    probs = np.concatenate([c[0] for c in cases])
    thresholds = np.concatenate([c[1] for c in cases])
    fed = _run(binary, "feedback", np.concatenate([probs, thresholds[:, None]], axis=1), 128, work)
    same = sum(
        bool((f == melody_feedback(p, float(t))).all())
        for f, p, t in zip(fed, probs, thresholds, strict=True)
    )
    print(f"feedback    {same} of {len(probs)} beats identical (notes, argmax, rest cases)")


def _median_s(fn: object, repeats: int = 3) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def files(work: Path) -> Path:
    old_total = new_total = 0
    old_read = new_read = 0.0
    models = work / "models"
    models.mkdir()
    for seed, name in enumerate(MODEL_NAMES):
        model = build_model(name, seed=seed)
        spec, arrays = model.spec, model.state_arrays()
        old = json.dumps(to_document(spec, arrays), allow_nan=False)
        new = document_text(spec, rtneural_weights(spec, arrays))
        old_total += len(old)
        new_total += len(new)
        old_read += _median_s(lambda text=old: json.loads(text))
        new_read += _median_s(lambda text=new: json.loads(text))
        RTNeuralExporter().export(spec, arrays, models)
    print(
        f"files       17-digit {old_total / 1e6:.1f} MB, shortest float32 {new_total / 1e6:.1f} MB "
        f"({100 * (1 - new_total / old_total):.0f}% smaller)"
    )
    print(
        f"json.loads  17-digit {old_read:.2f} s, shortest {new_read:.2f} s "
        f"({100 * (1 - new_read / old_read):.0f}% faster), five files, median of 3"
    )
    return models


def build_example(work: Path, compiler: str, rtn: Path, optimise: list[str]) -> tuple[Path, Path]:
    """Write the C++ kit (``kelly cpp``) to ``work/cpp``, build its example pipeline
    against RTNeural with ``optimise`` flags; return the binary and a 1 s silent wav."""
    cpp = work / "cpp"
    write_cpp(cpp)
    binary = work / "kelly_pipeline"
    flags = ["-std=c++17", *optimise, "-DRTNEURAL_USE_EIGEN=1", "-DRTNEURAL_DEFAULT_ALIGNMENT=16"]
    flags += [f"-I{cpp}", f"-I{rtn}", f"-I{rtn / 'modules' / 'Eigen'}"]
    source = cpp / "example" / "kelly_pipeline.cpp"
    subprocess.run([compiler, *flags, str(source), "-o", str(binary)], check=True)
    import soundfile as sf

    wav = work / "a.wav"
    sf.write(str(wav), np.zeros(22050, dtype=np.float32), 22050)
    return binary, wav


def rtneural(work: Path, compiler: str, models: Path, rtn: Path) -> None:
    optimise = os.environ.get("KELLY_CXXFLAGS", "-O2").split()  # e.g. "-O3 -march=native"
    print(f"compiler    {compiler} {' '.join(optimise)} (KELLY_CXXFLAGS)")
    binary, wav = build_example(work, compiler, rtn, optimise)
    result = subprocess.run(
        [str(binary), str(models), str(wav), "--beats", "1", "--parity", "1", "--bench", "20000"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    _per_beat(binary, models, work)
    cpp_us = {}
    for line in result.stderr.splitlines():
        parts = line.split()
        if parts[0] == "parity":
            print(f"parity      {parts[1]:18s} RTNeural vs Python max abs diff {parts[3]}")
        if parts[0] == "bench":
            cpp_us[parts[1]] = (float(parts[3]), float(parts[5]))
    for name in MODEL_NAMES:
        backend = load_backend(models / f"{name.lower()}.json", backend="numpy")
        frame = np.zeros(MODEL_SPECS[name].input_size, dtype=np.float32)
        times = []
        for _ in range(2000):
            start = time.perf_counter()
            backend.step(frame)
            times.append((time.perf_counter() - start) * 1e6)
        numpy_us = statistics.median(times)
        median, p99 = cpp_us[name]
        print(
            f"step        {name:18s} C++ median {median:7.2f} us  p99 {p99:8.2f} us   "
            f"numpy backend median {numpy_us:7.2f} us  ratio {numpy_us / median:5.1f}x"
        )


def _per_beat(binary: Path, models: Path, work: Path) -> None:
    """The example against ``run_stages`` on Python's own beat grid, in a given key."""
    from kelly_runtime.generate.audio import read_audio
    from kelly_runtime.generate.keys import Key
    from kelly_runtime.generate.stages import run_stages
    from tests.integration.test_cpp_companion import render_chorale

    try:
        wav = render_chorale(work)
    except BaseException as exc:  # pytest.skip raises a BaseException
        print(f"per-beat    not measured ({exc})")
        return
    tempo, key = 100.0, "E minor"
    py = run_stages(
        read_audio(wav), models_dir=models, backend="numpy", tempo=tempo, key=Key.parse(key)
    )
    grid = py.grid
    beat_file = work / "beats.txt"
    beat_file.write_text(
        "".join(
            f"{float(grid.times[i])!r} {grid.beat_in_bar(i)}\n"
            for i in range(grid.first, len(grid.times))
        )
    )
    out = subprocess.run(
        [str(binary), str(models), str(wav), "--beat-times", str(beat_file), "--key", key],
        capture_output=True, text=True, check=True,
    ).stdout  # fmt: skip
    beats = [json.loads(line) for line in out.splitlines()]
    references = {
        stem: json.loads((models / f"{stem}.json").read_text())["metadata"].get(
            "tonal_reference", "absolute"
        )
        for stem in ("melodytransformer", "harmonypredictor", "dynamicsengine")
    }
    print(
        f"per-beat    {len(beats)} beats of Python's grid at {tempo:g} BPM "
        f"(first played beat at {grid.played[0]:.3f} s), key {key}, tonal_reference {references}"
    )
    va = max(
        float(np.abs(np.array([b["valence"], b["arousal"]]) - r).max())
        for b, r in zip(beats, py.beat_va, strict=True)
    )
    print(f"per-beat    valence/arousal C++ vs Python max abs diff {va:.2e}")
    for name, ref in (
        ("note_probs", py.notes),
        ("chord_probs", py.chords),
        ("expression", py.expression),
    ):
        diff = max(
            float(np.abs(np.array(b[name]) - r).max()) for b, r in zip(beats, ref, strict=True)
        )
        print(f"per-beat    {name:15s} C++ vs Python max abs diff {diff:.2e}")
    grooves = [
        float(np.abs(np.array(b["groove"]) - py.groove[grid.bar_of(grid.first + i)]).max())
        for i, b in enumerate(beats)
        if b["groove"] is not None
    ]
    print(f"per-beat    groove          C++ vs Python max abs diff {max(grooves):.2e} "
          f"over {len(grooves)} bars")  # fmt: skip
    same = sum(b["chord"] == int(np.argmax(r)) for b, r in zip(beats, py.chords, strict=True))
    print(f"per-beat    most likely chord equal on {same} of {len(beats)} beats")


def main() -> None:
    compiler = os.environ.get("CXX") or shutil.which("g++") or shutil.which("clang++")
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if compiler is None:
            print("no C++ compiler: companion parity not measured")
        else:
            companion(work, compiler)
        models = files(work)
        rtn = os.environ.get("RTNEURAL_DIR")
        if compiler and rtn and (Path(rtn) / "RTNeural" / "RTNeural.h").is_file():
            rtneural(work, compiler, models, Path(rtn))
        else:
            print("RTNEURAL_DIR not set: RTNeural parity and step times not measured")


if __name__ == "__main__":
    main()
