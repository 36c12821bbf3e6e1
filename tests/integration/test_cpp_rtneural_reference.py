"""Opt-in: the shipped reference models, parsed and run by RTNeural itself.

Runs only when ``RTNEURAL_DIR`` points at a checkout of RTNeural (with its vendored Eigen
under ``modules/Eigen``); skipped, saying so, otherwise. Each of the five compact files
(weights rounded to a few decimals) is loaded with
``RTNeural::json_parser::parseJson<float>()`` by tests/cpp/tracker_check.cpp (a generic
frame-by-frame runner) and stepped over the parity inputs from a reset state; its outputs
must equal the float64 reference of the file's weights within the parity tolerance.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_export.parity import PARITY_TOLERANCE, parity_inputs, reference_outputs
from kelly_runtime.reference import reference_model_files
from tests.cpp_checks import build_check

RTNEURAL_DIR = os.environ.get("RTNEURAL_DIR", "")
pytestmark = pytest.mark.skipif(
    not (Path(RTNEURAL_DIR) / "RTNeural" / "RTNeural.h").is_file(),
    reason="set RTNEURAL_DIR to a checkout of RTNeural to parse the reference models with it",
)


@pytest.fixture(scope="module")
def runner(tmp_path_factory: pytest.TempPathFactory) -> Path:
    rtn = Path(RTNEURAL_DIR)
    flags: tuple[str, ...] = (
        "-DRTNEURAL_USE_EIGEN=1",
        "-DRTNEURAL_DEFAULT_ALIGNMENT=16",
        "-Wno-error",
        f"-I{rtn}",
        f"-I{rtn / 'modules' / 'Eigen'}",
        f"-I{Path(__file__).parent.parent / 'cpp'}",
    )
    folder = tmp_path_factory.mktemp("reference_check")
    return build_check("tracker_check", folder, what="the RTNeural model check", flags=flags)


@pytest.mark.parametrize("name", sorted(MODEL_SPECS))
def test_rtneural_runs_the_shipped_model_like_the_reference(
    name: str, runner: Path, tmp_path: Path
) -> None:
    path = reference_model_files()[name]
    spec = MODEL_SPECS[name]
    inputs = parity_inputs(spec)
    src, dst = tmp_path / "in.f32", tmp_path / "out.f32"
    inputs.astype("<f4").tofile(src)
    sizes = (str(spec.input_size), str(spec.output_size))
    subprocess.run([str(runner), str(path), str(src), str(dst), *sizes], check=True)
    got = np.fromfile(dst, dtype="<f4").reshape(-1, spec.output_size).astype(np.float64)
    doc = json.loads(path.read_text())
    layers = [
        [np.asarray(w, dtype=np.float32) for w in layer["weights"]] for layer in doc["layers"]
    ]
    want = reference_outputs(spec, layers, inputs).astype(np.float64)
    assert got.shape == want.shape == (len(inputs), spec.output_size)
    np.testing.assert_allclose(got, want, atol=PARITY_TOLERANCE, rtol=0)
