"""Opt-in: the shipped beat tracker files, parsed and run by RTNeural itself.

Runs only when ``RTNEURAL_DIR`` points at a checkout of RTNeural (with its vendored Eigen
under ``modules/Eigen``); skipped, saying so, otherwise. Each shipped tracker file is
loaded with ``RTNeural::json_parser::parseJson<float>()`` by tests/cpp/tracker_check.cpp
and run frame by frame over the onset front end's frames of a real rendered piece (a
synthetic clip where fluidsynth is missing); its beat and downbeat activations must equal
the numpy backend's, which ``kelly generate`` runs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.onsets import DEFAULT_ONSETS, onset_bands
from kelly_core.listening import BEAT_TRACKER_SPEC, network_input
from kelly_runtime.generate.activations import BACKWARD_TRACKER_FILE, LSTM_TRACKER_FILE
from kelly_runtime.loading import load_backend
from tests.cpp_checks import build_check

RTNEURAL_DIR = os.environ.get("RTNEURAL_DIR", "")
pytestmark = pytest.mark.skipif(
    not (Path(RTNEURAL_DIR) / "RTNeural" / "RTNeural.h").is_file(),
    reason="set RTNEURAL_DIR to a checkout of RTNeural to parse the beat trackers with it",
)


def _frames(tmp_path: Path) -> np.ndarray:
    """Network input frames of 8 s of music: a rendered chorale, else a synthetic clip."""
    from tests.integration.test_cpp_companion import render_chorale

    sr = DEFAULT_ONSETS.sr
    try:
        import soundfile

        audio, rate = soundfile.read(str(render_chorale(tmp_path)), dtype="float32")
        samples = audio.mean(axis=1) if audio.ndim == 2 else audio
        assert rate == sr
    except pytest.skip.Exception:
        t = np.arange(8 * sr) / sr
        samples = (0.3 * np.sin(2 * np.pi * 220 * t) * np.exp(-(t % 0.5) * 8)).astype(np.float32)
    bands = onset_bands(samples[: 8 * sr], sr, DEFAULT_ONSETS)
    return np.ascontiguousarray(network_input(bands), dtype=np.float32)


@pytest.mark.parametrize("path", [LSTM_TRACKER_FILE, BACKWARD_TRACKER_FILE], ids=lambda p: p.stem)
def test_rtneural_runs_the_shipped_tracker_like_the_numpy_backend(
    path: Path, tmp_path: Path
) -> None:
    rtn = Path(RTNEURAL_DIR)
    flags: tuple[str, ...] = (
        "-DRTNEURAL_USE_EIGEN=1",
        "-DRTNEURAL_DEFAULT_ALIGNMENT=16",
        "-Wno-error",
    )
    flags += (
        f"-I{rtn}",
        f"-I{rtn / 'modules' / 'Eigen'}",
        f"-I{Path(__file__).parent.parent / 'cpp'}",
    )
    binary = build_check("tracker_check", tmp_path, what="the RTNeural tracker check", flags=flags)
    frames = _frames(tmp_path)
    inputs, outputs = BEAT_TRACKER_SPEC.input_size, BEAT_TRACKER_SPEC.output_size
    assert frames.shape[1] == inputs
    assert frames.shape[0] > 500
    src, dst = tmp_path / "frames.f32", tmp_path / "activations.f32"
    frames.astype("<f4").tofile(src)
    command = [str(binary), str(path), str(src), str(dst), str(inputs), str(outputs)]
    subprocess.run(command, check=True)
    got = np.fromfile(dst, dtype="<f4").reshape(-1, outputs)
    backend = load_backend(path, "numpy", model=BEAT_TRACKER_SPEC.name)
    backend.reset()
    want = np.asarray(backend.run(frames), dtype=np.float64)
    assert got.shape == want.shape
    assert float(want.std()) > 0.01  # the music moves the activations
    np.testing.assert_allclose(got, want, atol=2e-4, rtol=0)
