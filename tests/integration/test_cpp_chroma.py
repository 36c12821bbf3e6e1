"""The C++ companion's chroma, beat chroma and key against Kelly's Python reference.

The system C++ compiler builds tests/cpp/chroma_check.cpp once per module; each test
writes inputs from Python, runs one companion class over them and compares: chroma
frames within 1e-4 (as the log-mel), beat means within 1e-4, key evidence within 1e-6
and the chosen keys exactly (with the bass and without). Without a compiler the tests
skip, unless ``KELLY_REQUIRE_CXX=1``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.chroma import beat_chroma, offline_chroma
from kelly_core.encodings.keyfinding import KEY_PROFILES, estimate_key, key_evidence
from tests.cpp_checks import Runner, build_check, runner

SR = 22050
PROFILE_ORDER = ("krumhansl", "temperley", "aarden", "bellman", "albrecht", "sapp")


@pytest.fixture(scope="module")
def check_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_check("chroma_check", tmp_path_factory.mktemp("cpp"), what="the chroma check")


@pytest.fixture
def run(check_binary: Path, tmp_path: Path) -> Runner:
    return runner(check_binary, tmp_path)


def _music(seconds: float = 6.0) -> np.ndarray:
    """Chords with harmonics, a bass at E2, noise bursts (drums), silence, a loud burst."""
    t = np.arange(round(seconds * SR)) / SR
    x = np.zeros_like(t)
    for pitch, start in ((40, 0.0), (52, 0.0), (55, 1.5), (59, 3.0), (64, 3.0), (47, 4.5)):
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        on = t >= start
        for h in range(1, 5):
            x[on] += 0.08 / h * np.sin(2 * np.pi * h * f0 * t[on])
    rng = np.random.default_rng(3)
    for hit in np.arange(0.25, seconds, 0.5):
        i = int(hit * SR)
        x[i : i + 2000] += (
            0.3
            * rng.standard_normal(len(x[i : i + 2000]))
            * np.exp(-np.arange(len(x[i : i + 2000])) / 400)
        )
    x[int(2.0 * SR) : int(2.6 * SR)] = 0.0  # digital silence
    x[int(5.0 * SR) : int(5.0 * SR) + 4096] = 0.99 * np.sign(np.sin(2 * np.pi * 330 * t[:4096]))
    return x.astype(np.float32)


@pytest.mark.parametrize("chunk", ["512", "3001", "1000000"])
def test_chroma_matches_python(run: Runner, chunk: str) -> None:
    audio = _music()
    expected = offline_chroma(audio, SR)
    got = run("chroma", audio, 24, chunk)
    assert got.shape == expected.shape == (1 + (len(audio) - 8192) // 2048, 24)
    assert float(np.abs(got - expected).max()) < 1e-4
    assert expected[:, :12].max() == pytest.approx(1.0)
    assert expected[:, 12 + 4].max() > 0.05  # E2 in the bass
    assert not expected[22].any()  # samples 45056..53248 (2.04-2.41 s): the silence


def test_beat_chroma_matches_python(run: Runner) -> None:
    frames = np.random.default_rng(1).random((120, 24)).astype(np.float32)
    marks = np.array([0.1, 0.5, 0.52, 0.9, 1.7, 1.71, 3.05, 6.0, 11.5, 11.6], dtype=np.float32)
    got = run("beats", np.concatenate([[len(marks)], marks, frames.ravel()]), 24)
    expected = beat_chroma(frames, marks.astype(np.float64))
    assert got.shape == expected.shape == (len(marks), 24)
    assert float(np.abs(got - expected).max()) < 1e-6
    assert not expected[1].any()  # [0.5, 0.52) s: no frame centre (0.464, 0.557)
    assert not expected[-1].any()  # marked past the last frame


def test_host_flow_matches_python(run: Runner) -> None:
    """Audio in chunks, beats marked from the playhead: Python's offline beat chroma."""
    audio = _music(8.0)
    marks = np.arange(0.0, 8.0, 0.45, dtype=np.float32)
    got = run("host", np.concatenate([[len(marks)], marks, audio]), 24, "700")
    expected = beat_chroma(offline_chroma(audio, SR), marks.astype(np.float64))
    assert got.shape == expected.shape == (len(marks), 24)
    assert float(np.abs(got - expected).max()) < 1e-4
    assert int(np.argmax(expected[1, :12])) == 4  # E: the chord's root
    assert int(np.argmax(expected[1, 12:])) == 4  # and the bass (E2)


def test_key_matches_python(run: Runner) -> None:
    rng = np.random.default_rng(2)
    chroma = rng.random((120, 24)) ** 3
    chroma[0] = 0.3  # constant: no information, C major
    chroma[1] = 0.0
    major, minor = KEY_PROFILES["temperley"]
    chroma[2, :12] = np.roll(major, 5)
    chroma[3, :12] = np.roll(minor, 10)
    widths = np.where(np.arange(len(chroma)) % 3 == 0, 12, 24)
    widths[:4] = 12
    profiles = np.arange(len(chroma)) % len(PROFILE_ORDER)
    profiles[:4] = 1
    rows = np.column_stack([chroma, widths, profiles]).astype(np.float32)
    got = run("key", rows, 27)
    for row, (values, width, p) in enumerate(zip(rows[:, :24], widths, profiles, strict=True)):
        name, used = PROFILE_ORDER[p], values[:width]
        np.testing.assert_allclose(got[row, :24], key_evidence(used, name), atol=1e-6)
        key = estimate_key(used, name)
        assert got[row, 24] == key.index
        assert got[row, 26] == key.runner_up
        assert got[row, 25] == pytest.approx(key.confidence, abs=1e-6)
    assert got[:4, 24].tolist() == [0, 0, 5, 22]
    assert got[0, 25] == got[1, 25] == 0.0
    assert len(set(got[4:, 24].tolist())) > 5


def test_key_tracker_matches_python(run: Runner) -> None:
    frames = offline_chroma(_music(), SR)
    got = run("tracker", frames, 2)
    assert frames.shape[1] == 24
    for n in (1, 10, len(frames)):
        key = estimate_key(frames[:n].astype(np.float64).sum(axis=0))
        assert got[n - 1, 0] == key.index
        assert got[n - 1, 1] == pytest.approx(key.confidence, abs=1e-5)
