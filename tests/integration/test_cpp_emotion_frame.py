"""The C++ companion's StreamingEmotionFrames against Kelly's Python emotion frame.

The system C++ compiler builds tests/cpp/emotion_frame_check.cpp once per module; each
test writes audio from Python, streams it through the companion in chunks and compares
the 128-value frames with :func:`~kelly_core.encodings.emotion_frame.offline_emotion_frames`
within 1e-5 (float32 precision; measured: equal). Without a compiler the tests skip,
unless ``KELLY_REQUIRE_CXX=1``.
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.emotion_frame import EMOTION_FRAME_COLUMNS, offline_emotion_frames
from tests.cpp_checks import Runner, build_check, runner

SR = 22050


@pytest.fixture(scope="module")
def check_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cpp")
    return build_check("emotion_frame_check", folder, what="the emotion frame check")


@pytest.fixture
def run(check_binary: Path, tmp_path: Path) -> Runner:
    return runner(check_binary, tmp_path)


@functools.lru_cache(maxsize=1)
def _music() -> np.ndarray:
    """Eight seconds: minor chords with a bass at 100 BPM over hi-hat noise, a drum hit
    every beat, digital silence, then a loud major chord."""
    t = np.arange(8 * SR) / SR
    x = np.zeros_like(t)
    beat = 0.6
    rng = np.random.default_rng(7)
    for index, start in enumerate(np.arange(0.0, 5.4, beat)):
        root = (57, 53, 52, 57)[index % 4]  # Am, F, E (as Em), Am
        on = (t >= start) & (t < start + beat)
        for pitch in (root, root + 3 + (index % 4 == 2), root + 7, root - 24):
            f0 = 440.0 * 2 ** ((pitch - 69) / 12)
            for h in (1, 2, 3):
                x[on] += 0.05 / h * np.sin(2 * np.pi * h * f0 * t[on]) * np.exp(-(t[on] - start))
        hit = int(start * SR)
        x[hit : hit + 1500] += 0.3 * rng.standard_normal(1500) * np.exp(-np.arange(1500) / 300)
    x[: int(5.4 * SR)] += 0.01 * rng.standard_normal(int(5.4 * SR))
    x[int(5.6 * SR) : int(6.4 * SR)] = 0.0
    on = t >= 6.4
    for pitch in (60, 64, 67):
        x[on] += 0.3 * np.sin(2 * np.pi * 440.0 * 2 ** ((pitch - 69) / 12) * t[on])
    return x.astype(np.float32)


@pytest.mark.parametrize("chunk", ["1", "517", "1000000"])
def test_frames_match_python(run: Runner, chunk: str) -> None:
    audio = _music()
    expected = offline_emotion_frames(audio, SR)
    got = run("frames", audio, 128, chunk)
    assert got.shape == expected.shape == (15, 128)
    np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0)
    # the audio exercises every group: onsets, a pulse, minor and major evidence
    assert expected[:, EMOTION_FRAME_COLUMNS["onset_rate"]].max() > 0.1
    assert expected[:, EMOTION_FRAME_COLUMNS["pulse_clarity"]].max() > 0.3
    assert expected[:, EMOTION_FRAME_COLUMNS["key_mode"]].min() < 0
    assert expected[-1, EMOTION_FRAME_COLUMNS["window_triad_mode"]][0] > 0


def test_reset_starts_a_new_stream(run: Runner) -> None:
    audio = _music()[: 3 * SR]
    expected = offline_emotion_frames(audio, SR)
    got = run("reset", audio, 128, "4096")
    np.testing.assert_allclose(got, np.concatenate([expected, expected]), atol=1e-5, rtol=0)
