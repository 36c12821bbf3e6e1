"""The C++ companion (kelly_companion.h) against Kelly's Python reference.

The system C++ compiler builds tests/cpp/companion_check.cpp once per session; each test
writes reference inputs from Python, runs one companion function over them and compares:
log-mel within 1e-4, decode within 1e-5, contexts, vocabulary, transposition, groove,
expression and fallbacks exactly. Without a compiler the tests skip, saying so, unless
``KELLY_REQUIRE_CXX=1`` (``.ci/run`` sets it), where a missing compiler fails.
"""

from __future__ import annotations

import subprocess
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pytest

from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.encodings import (
    CHORD_VOCABULARY,
    DEFAULT_EXPRESSION,
    chord_pitch_classes,
    compact_context,
    decode_emotions,
    decode_groove,
    encode_emotions,
    melody_pitch_classes,
)
from kelly_core.encodings.context import (
    harmony_context,
    melody_context,
    melody_contexts,
    song_harmony,
)
from kelly_core.encodings.emotion import coarse_emotion, coarse_emotions
from kelly_core.encodings.expression import Expression
from kelly_core.encodings.logmel import (
    StreamingLogMel,
    WindowAverager,
    frames_per_window,
    offline_log_mel,
)
from kelly_core.encodings.melody import melody_feedback
from kelly_core.encodings.tonal import (
    tonic_shift,
    transpose_chords,
    transpose_pitch_classes,
    transpose_pitches,
)
from kelly_core.interfaces import Backend
from kelly_core.specs import ModelSpec
from kelly_runtime.backends.fallback import FALLBACK_OUTPUTS, FallbackBackend
from kelly_runtime.pipeline import Pipeline
from tests.cpp_checks import Runner, build_check, runner
from tests.music_checks import have_fluidsynth, render_wav


@pytest.fixture(scope="module")
def check_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_check(
        "companion_check",
        tmp_path_factory.mktemp("cpp"),
        what="the C++ companion",
        flags=("-pthread",),
    )


@pytest.fixture
def run(check_binary: Path, tmp_path: Path) -> Runner:
    return runner(check_binary, tmp_path)


def _audio(seconds: float = 3.0) -> np.ndarray:
    """Tones, a chirp, noise, silence and a full-scale burst: every regime of the dB map."""
    sr = 22050
    t = np.arange(int(seconds * sr)) / sr
    rng = np.random.default_rng(3)
    x = 0.3 * np.sin(2 * np.pi * 220 * t) + 0.2 * np.sin(2 * np.pi * (300 + 900 * t) * t)
    x += 0.05 * rng.standard_normal(len(t))
    x[sr : sr + sr // 4] = 0.0  # digital silence: the -80 dB floor
    x[2 * sr : 2 * sr + 2048] = np.sign(np.sin(2 * np.pi * 1000 * t[:2048]))  # loud square
    return x.astype(np.float32)


@pytest.mark.parametrize("chunk", ["512", "777", "100000"])
def test_log_mel_matches_python(run: Runner, chunk: str) -> None:
    audio = _audio()
    expected = offline_log_mel(audio, 22050)
    got = run("logmel", audio, 128, chunk)
    assert got.shape == expected.shape == (126, 128)
    assert float(np.abs(got - expected).max()) < 1e-4
    assert expected.min() == pytest.approx(-1.0)  # the floor is exercised


def test_window_means_match_python_streaming(run: Runner) -> None:
    frames = StreamingLogMel().push(_audio(5.0))
    expected = WindowAverager(frames_per_window()).push(frames)
    got = run("windows", frames, 128)
    assert got.shape == expected.shape == (9, 128)
    np.testing.assert_array_equal(got, expected)


def test_emotion_codes_match_python(run: Runner) -> None:
    points = np.random.default_rng(0).uniform(-1.3, 1.3, size=(500, 2)).astype(np.float32)
    fine, coarse = run("encode", points, 64), run("coarse", points, 16)
    assert float(np.abs(fine - encode_emotions(points)).max()) <= 1e-7
    assert float(np.abs(coarse - coarse_emotions(points)).max()) <= 1e-7


def test_decode_matches_python_within_1e_5(run: Runner) -> None:
    rng = np.random.default_rng(1)
    points = rng.uniform(-1, 1, size=(300, 2))
    exact = encode_emotions(points)
    noisy = np.clip(exact + rng.normal(0, 0.2, exact.shape), -1, 1)
    faint = 0.2 * exact - 0.7
    network = np.tanh(rng.standard_normal((300, 64)))
    special = np.stack([np.zeros(64), np.full(64, 0.3), np.where(np.arange(64) == 5, np.nan, -1.0)])
    codes = np.concatenate([exact, noisy, faint, network, special]).astype(np.float32)
    got = run("decode", codes, 2)
    expected = decode_emotions(codes)
    assert float(np.abs(got - expected).max()) < 1e-5
    assert float(np.abs(got[:300] - points).max()) < 1e-3  # exact codes decode to their point
    np.testing.assert_array_equal(got[-3:-1], 0.0)  # constant codes: the neutral point


def _chroma_rows(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 24)`` beat chroma: above 1 (clipped), negative (zeroed), faint bass (under the
    0.05 floor), silence, and ordinary beats."""
    chroma = rng.uniform(-0.2, 1.3, size=(n, 24)).astype(np.float32)
    chroma[::5, 12:] *= 0.03  # faint bass: divided by the floor, not its largest value
    chroma[::7] = 0.0  # silence stays zeros
    return chroma


def test_song_harmony_matches_python(run: Runner) -> None:
    rng = np.random.default_rng(12)
    n = 240
    chroma = _chroma_rows(rng, n)
    tonics = rng.integers(-13, 25, size=n)
    heard = (rng.random(n) > 0.1).astype(np.float32)
    rows = np.concatenate([chroma, tonics[:, None], heard[:, None]], axis=1)
    got = run("song", rows, 24)
    expected = np.stack(
        [
            song_harmony(c, int(k)) if h else np.zeros(24)
            for c, k, h in zip(chroma, tonics, heard, strict=True)
        ]
    )
    np.testing.assert_array_equal(got, expected)
    assert got[:, :12].max() == 1.0
    assert got[:, 12:].max() == 1.0
    faint = [r for r in range(0, n, 5) if r % 7 and heard[r]]
    assert 0.0 < got[faint, 12:].max() < 1.0  # the floor, not the largest value
    assert (got >= 0.0).all()


def test_contexts_match_python(run: Runner) -> None:
    rng = np.random.default_rng(2)
    n = 200
    coarse = np.tanh(rng.standard_normal((n, 16))).astype(np.float32)
    positions = rng.integers(-3, 9, size=n)
    chroma = _chroma_rows(rng, n)
    heard = np.stack([song_harmony(c, int(k)) for c, k in zip(chroma, positions, strict=True)])
    earlier = np.stack([song_harmony(c, 0) for c in _chroma_rows(rng, n)])
    held = rng.integers(-1, 12, size=n)
    held[:10] = np.arange(10)
    previous = rng.dirichlet(np.ones(64), size=n).astype(np.float32)
    rows = np.concatenate(
        [coarse, positions[:, None], heard, earlier, held[:, None], previous], axis=1
    )
    harmony = run("harmony", rows, 128)
    expected = np.stack(
        [
            harmony_context(c, int(b), h, e, int(k), p)
            for c, b, h, e, k, p in zip(
                coarse, positions, heard, earlier, held, previous, strict=True
            )
        ]
    )
    np.testing.assert_array_equal(harmony, expected)
    assert harmony[:10, 56:64].sum(axis=1).tolist() == [0.0] + [1.0] * 9  # none, 1..8, 8+
    assert harmony[9, 63] == harmony[8, 63] == 1.0
    emotions = np.tanh(rng.standard_normal((100, 64))).astype(np.float32)
    beats = rng.integers(0, 9, size=(100, 1)).astype(np.float32)
    pcs = (rng.random((100, 12)) < 0.3).astype(np.float32)
    compact = run("compact", np.concatenate([emotions, beats, pcs], axis=1), 32)
    expected = np.stack(
        [compact_context(e, int(b[0]), p) for e, b, p in zip(emotions, beats, pcs, strict=True)]
    )
    np.testing.assert_array_equal(compact[:, 16:], expected[:, 16:])  # beat one-hot, profile
    assert float(np.abs(compact[:, :16] - expected[:, :16]).max()) < 1e-5  # via decode


def _previous_beats(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 128)`` sparse previous beats: rests, chords, sub-threshold noise, the extremes."""
    previous = np.zeros((n, 128), dtype=np.float32)
    for row in range(n):
        if rng.random() < 0.3:
            continue  # a rest
        pitches = rng.integers(0, 128, size=rng.integers(1, 5))
        previous[row, pitches] = rng.uniform(0.5, 1.0, size=len(pitches))
        quiet = rng.integers(0, 128, size=3)  # below 0.5: never sounds
        previous[row, quiet] = np.where(previous[row, quiet] >= 0.5, previous[row, quiet], 0.4999)
    previous[0] = 0.0  # a rest
    previous[1] = 0.0
    previous[1, [3, 17]] = 1.0  # top pitch 17 < 24: octave slot 0
    previous[2] = 0.0
    previous[2, [100, 127]] = 1.0  # top pitch 127 > 107: octave slot 7
    previous[3] = 0.0
    previous[3, [0, 50]] = [0.5, 0.49]  # exactly 0.5 sounds; 0.49 does not: top pitch 0
    return previous


def test_melody_context_matches_python(run: Runner) -> None:
    rng = np.random.default_rng(7)
    n = 400
    points = rng.uniform(-1, 1, size=(n, 2))
    coarse = coarse_emotions(points).astype(np.float32)
    coarse[n // 2 :] = np.tanh(rng.standard_normal((n - n // 2, 16)))  # any code is copied
    beats = rng.integers(-3, 9, size=n)
    beats[:9] = np.arange(9)
    previous = _previous_beats(rng, n)
    chroma = _chroma_rows(rng, n)
    tonics = rng.integers(0, 12, size=n)
    heard = np.stack([song_harmony(c, int(k)) for c, k in zip(chroma, tonics, strict=True)])
    has = (rng.random(n) > 0.2).astype(np.float32)
    rows = np.concatenate([coarse, beats[:, None], previous, heard, has[:, None]], axis=1)
    got = run("melody", rows, 64)
    expected = np.stack(
        [
            melody_context(c, int(b), p[None], h if s else None)
            for c, b, p, h, s in zip(coarse, beats, previous, heard, has, strict=True)
        ]
    )
    np.testing.assert_array_equal(got, expected)
    # the cases are exercised (and a constant answer would fail them)
    np.testing.assert_array_equal(got[0, 20:40], 0.0)  # a rest
    assert got[1, 20 + 5] == got[1, 32 + 0] == 1.0  # pitch 17: F, slot 0
    assert got[2, 20 + 7] == got[2, 32 + 7] == 1.0  # pitch 127: G, slot 7
    assert got[3, 20 + 0] == got[3, 32 + 0] == 1.0
    assert got[:, 16:20].sum(axis=1).tolist() == [1.0] * n
    assert {int(np.argmax(r)) for r in got[:, 16:20]} == {0, 1, 2, 3}
    np.testing.assert_array_equal(got[has == 0, 40:], 0.0)  # nothing heard
    assert 0.0 < got[has == 1, 40:52].mean() < 1.0
    assert got[has == 1, 52:].max() == 1.0
    # the overload taking a decoded emotion, a MelodyHistory and the absolute chroma codes
    # the coarse emotion and turns the chroma to the tonic itself
    va = points.astype(np.float32)
    rows = np.concatenate([va, beats[:, None], previous, chroma, tonics[:, None]], axis=1)
    from_emotion = run("melody-emotion", rows, 64)
    want = np.stack(
        [
            melody_context(coarse_emotion(*v), int(b), p[None], song_harmony(c, int(k)))
            for v, b, p, c, k in zip(va, beats, previous, chroma, tonics, strict=True)
        ]
    )
    np.testing.assert_array_equal(from_emotion[:, 16:], want[:, 16:])
    assert float(np.abs(from_emotion[:, :16] - want[:, :16]).max()) <= 1e-7


def _feedback_cases(rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Probabilities and thresholds: notes >= threshold, none but sounding, silent, edges."""
    rows: list[np.ndarray] = []
    thresholds: list[float] = []
    for threshold in (0.5, 0.3, 0.7):
        for _ in range(40):  # some pitches at or above the threshold
            p = rng.random(128) ** 6
            p[rng.integers(0, 128, size=rng.integers(1, 4))] = rng.uniform(threshold, 1.0)
            rows.append(p)
            thresholds.append(threshold)
    for _ in range(60):  # none >= 0.5, but 1 - prod(1 - p) >= 0.5: the argmax sounds
        rows.append(rng.uniform(0.0, 0.05, 128))
        thresholds.append(0.5)
    for _ in range(60):  # silent: a rest
        rows.append(rng.uniform(0.0, 0.003, 128))
        thresholds.append(0.5)
    edge = 1.0 - 0.5 ** (1.0 / 128.0)  # every pitch at this: 1 - prod(1 - p) is 0.5
    for q in (edge * (1 + 1e-6), edge * (1 - 1e-6)):  # just sounding (pitch 0: ties), just not
        rows.append(np.full(128, q))
        thresholds.append(0.5)
    rows.append(np.full(128, 1.0 / 128.0))  # the fallback's output: sounds, pitch 0
    thresholds.append(0.5)
    tie = np.full(128, 0.01)
    tie[[40, 90]] = 0.2  # equal maxima: the first
    rows.append(tie)
    thresholds.append(0.5)
    wild = rng.uniform(-1.0, 0.4, 128)
    wild[7] = 1.5  # clipped to 1: sounds; negative values clip to 0
    rows.append(wild)
    thresholds.append(0.5)
    exact = np.zeros(128)
    exact[64] = 0.5  # exactly the threshold sounds
    rows.append(exact)
    thresholds.append(0.5)
    nan = np.full(128, 0.01)
    nan[3] = np.nan  # no pitch >= threshold and a NaN: a rest
    rows.append(nan)
    thresholds.append(0.5)
    negative = np.full(128, 0.006)
    negative[[1, 2, 3, 4]] = -1.0  # clipped to 0 (not 1 - p = 2): 0.006 x 124 still sounds
    negative[99] = 0.0061
    rows.append(negative)
    thresholds.append(0.5)
    high = np.full(128, 0.3)
    high[11] = 0.95  # threshold above every value: the argmax
    rows.append(high)
    thresholds.append(0.99)
    return np.stack(rows).astype(np.float32), np.array(thresholds, dtype=np.float32)


def test_melody_feedback_matches_python(run: Runner) -> None:
    probs, thresholds = _feedback_cases(np.random.default_rng(8))
    got = run("feedback", np.concatenate([probs, thresholds[:, None]], axis=1), 128)
    expected = np.stack(
        [melody_feedback(p, float(t)) for p, t in zip(probs, thresholds, strict=True)]
    )
    np.testing.assert_array_equal(got, expected)
    counts = got.sum(axis=1)
    assert (counts[:120] >= 1).all()  # the pitches >= threshold
    assert counts[:120].max() >= 2
    argmax = counts[120:180] == 1
    assert argmax.all()
    assert (np.argmax(got[120:180], axis=1) == np.argmax(probs[120:180], axis=1)).all()
    np.testing.assert_array_equal(got[180:240], 0.0)  # silent
    assert counts[240:].tolist() == [1.0, 0.0, 1.0, 1.0, 1.0, 1.0, 0.0, 1.0, 1.0]
    chosen = [int(np.argmax(r)) for r in got[[240, 242, 243, 245, 247, 248]]]
    assert chosen == [0, 0, 40, 64, 99, 11]
    assert got[244, 7] == 1.0


def test_melody_history_streams_like_the_pipeline(run: Runner) -> None:
    """MelodyHistory + melody_feedback beat by beat, as ``Pipeline.step_beat`` feeds back."""
    rng = np.random.default_rng(9)
    probs, _ = _feedback_cases(rng)
    n = 60
    order = rng.permutation(len(probs))[:n]
    notes = probs[order]
    va = rng.uniform(-1, 1, size=(n, 2)).astype(np.float32)
    beats = np.arange(n) % 4
    resets = np.zeros(n, dtype=np.float32)
    resets[[0, 37]] = 1.0  # a new song at row 37: a rest again
    rows = np.concatenate([resets[:, None], va, beats[:, None], notes], axis=1)
    got = run("melody-stream", rows, 192)
    history = np.zeros((1, 128), dtype=np.float32)
    expected = []
    for row in range(n):
        if resets[row]:
            history = np.zeros((1, 128), dtype=np.float32)
        context = melody_context(coarse_emotion(*va[row]), int(beats[row]), history)
        fed = melody_feedback(notes[row])
        history[0] = fed
        expected.append(np.concatenate([context, fed]))
    want = np.stack(expected)
    np.testing.assert_array_equal(got[:, 16:], want[:, 16:])
    assert float(np.abs(got[:, :16] - want[:, :16]).max()) <= 1e-7
    np.testing.assert_array_equal(got[[0, 37], 20:64], 0.0)  # reset: no history
    assert got[1:37, 20:40].any(axis=1).mean() > 0.5
    # streaming the fed-back notes equals the teacher-forced contexts of those notes
    for start, stop in ((0, 37), (37, n)):
        forced = melody_contexts(want[start:stop, :16], beats[start:stop], got[start:stop, 64:])
        np.testing.assert_array_equal(got[start:stop, 16:64], forced[:, 16:])


class _Scripted:
    """A backend answering each step with the next of ``outputs`` and recording its input."""

    def __init__(self, name: str, outputs: FloatArray) -> None:
        self.spec = MODEL_SPECS[name]
        self.outputs = outputs
        self.frames: list[FloatArray] = []

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        """Nothing to load: the answers are given."""

    def step(self, frame: FloatArray) -> FloatArray:
        self.frames.append(np.array(frame, copy=True))
        out: FloatArray = self.outputs[(len(self.frames) - 1) % len(self.outputs)].copy()
        return out

    def run(self, frames: FloatArray) -> FloatArray:
        return np.stack([self.step(f) for f in frames])

    def reset(self) -> None:
        """The answers go on in order (the contexts' state is the pipeline's)."""


def _chord_runs(rng: np.random.Generator, n: int) -> np.ndarray:
    """``(n, 64)`` chord distributions whose argmax holds for runs of 1..11 beats."""
    out = rng.dirichlet(np.ones(64), size=n).astype(np.float32)
    row = 0
    while row < n:
        length = int(rng.integers(1, 12))
        chord = int(rng.integers(0, 64))
        out[row : row + length, chord] += 2.0
        row += length
    scaled: np.ndarray = (out / out.sum(axis=1, keepdims=True)).astype(np.float32)
    return scaled


@pytest.mark.parametrize(("melody_relative", "harmony_relative"), [(1, 1), (0, 1), (1, 0)])
def test_song_contexts_stream_like_the_pipeline(
    run: Runner, melody_relative: int, harmony_relative: int
) -> None:
    """MelodyHistory, SongHistory, song_harmony and the two contexts stepped beat by beat
    as the C++ example steps them equal what ``Pipeline.step_beat`` feeds its models, over
    120 beats with chord changes, held chords past 8 beats, key changes, silent beats, a
    beat without chroma and a reset."""
    rng = np.random.default_rng(21)
    n = 120
    chords = _chord_runs(rng, n)
    notes = np.where(rng.random((n, 128)) < 0.02, 0.9, 0.01).astype(np.float32)
    notes[::9] = 0.001  # rests
    chroma = _chroma_rows(rng, n)
    has = np.ones(n, dtype=np.float32)
    has[[5, 50]] = 0.0  # no chroma given: silence
    tonics = np.repeat(rng.integers(0, 12, size=4), n // 4)  # the key changes
    beats = rng.integers(0, 4, size=n)
    resets = np.zeros(n, dtype=np.float32)
    resets[[0, 70]] = 1.0
    points = rng.uniform(-1, 1, size=(n, 2))
    melody = _Scripted("MelodyTransformer", notes)
    harmony = _Scripted("HarmonyPredictor", chords)
    emotion = _Scripted("EmotionRecognizer", encode_emotions(points).astype(np.float32))
    backends: dict[str, Backend] = {}
    for name, spec in MODEL_SPECS.items():
        backends[name] = FallbackBackend()
        backends[name].load(spec, {})
    backends.update(MelodyTransformer=melody, HarmonyPredictor=harmony, EmotionRecognizer=emotion)
    references = {
        "MelodyTransformer": "tonic" if melody_relative else "absolute",
        "HarmonyPredictor": "tonic" if harmony_relative else "absolute",
    }
    pipeline = Pipeline(backends, tonal_references=references)
    decoded = np.zeros((n, 2), dtype=np.float32)
    for row in range(n):
        if resets[row]:
            pipeline.reset()
        pipeline.push_window(np.zeros(128, dtype=np.float32))
        decoded[row] = pipeline.valence_arousal
        pipeline.set_key(int(tonics[row]))
        pipeline.step_beat(int(beats[row]), chroma=chroma[row] if has[row] else None)
    flags = np.stack([resets, *decoded.T, beats, tonics], axis=1).astype(np.float32)
    relative = np.tile([melody_relative, harmony_relative], (n, 1)).astype(np.float32)
    rows = np.concatenate([flags, relative, has[:, None], chroma, chords, notes], axis=1)
    got = run("song-stream", rows, 192)
    want = np.concatenate([np.stack(melody.frames), np.stack(harmony.frames)], axis=1)
    coarse = np.zeros(192, dtype=bool)
    coarse[[*range(16), *range(64, 80)]] = True
    np.testing.assert_array_equal(got[:, ~coarse], want[:, ~coarse])
    assert float(np.abs(got[:, coarse] - want[:, coarse]).max()) <= 1e-7
    held = np.argmax(got[:, 64 + 56 : 64 + 64], axis=1) + got[:, 120:128].any(axis=1)
    assert held.max() == 8  # runs longer than 8 beats fill the last slot
    assert held[[0, 70]].tolist() == [0, 0]  # the start and a reset: no previous chord
    assert 10 < int((np.diff(held) < 0).sum()) < n // 2  # the chord changes, not every beat
    assert got[1:, 64 + 44 : 64 + 56].any(axis=1).mean() > 0.5  # the chroma a beat before
    assert got[:, 64 + 20 : 64 + 44].any(axis=1).mean() > 0.8


def test_melody_pitch_classes_match_python(run: Runner) -> None:
    probs = np.random.default_rng(4).random((200, 128)).astype(np.float32) ** 4
    probs[0] = 0.5  # exactly the threshold counts
    expected = np.stack([melody_pitch_classes(p) for p in probs])
    np.testing.assert_array_equal(run("pcs", probs, 12), expected)
    assert expected[0].tolist() == [1.0] * 12


def test_transposition_matches_tonal_module(run: Runner) -> None:
    rng = np.random.default_rng(5)
    shifts = np.arange(-12, 13, dtype=np.float32)[:, None]
    notes = rng.random((len(shifts), 128)).astype(np.float32)
    pcs = rng.random((len(shifts), 12)).astype(np.float32)
    chords = rng.dirichlet(np.ones(64), size=len(shifts)).astype(np.float32)
    got = run("transpose", np.concatenate([notes, pcs, chords, shifts], axis=1), 205)
    for row, s in enumerate(shifts[:, 0].astype(int)):
        np.testing.assert_array_equal(got[row, :128], transpose_pitches(notes[row], s))
        np.testing.assert_array_equal(got[row, 128:140], transpose_pitch_classes(pcs[row], s))
        np.testing.assert_array_equal(got[row, 140:204], transpose_chords(chords[row], s))
        assert got[row, 204] == tonic_shift(s)


def test_chord_vocabulary_matches_python(check_binary: Path) -> None:
    lines = subprocess.run(
        [str(check_binary), "labels"], capture_output=True, text=True, check=True
    ).stdout.splitlines()
    assert len(lines) == 64
    for index, line in enumerate(lines):
        label, *pcs = line.split()
        assert label == CHORD_VOCABULARY[index]
        assert tuple(int(p) for p in pcs) == chord_pitch_classes(index)


def test_groove_and_expression_decoding_match_python(run: Runner) -> None:
    rng = np.random.default_rng(6)
    grooves = np.tanh(2 * rng.standard_normal((200, 32))).astype(np.float32)
    grooves[0, 16:] = (2 * np.arange(16) + 0.5) / 127 - 1  # halfway cases: round half to even
    got = run("groove", grooves, 32)
    for row, vector in enumerate(grooves):
        offsets, velocities = decode_groove(vector)
        np.testing.assert_array_equal(got[row, :16], offsets)
        np.testing.assert_array_equal(got[row, 16:], velocities)
    values = rng.uniform(-0.5, 1.5, size=(100, 16)).astype(np.float32)
    expected = np.stack([Expression.from_vector(v).to_vector() for v in values])
    np.testing.assert_array_equal(run("expression", values, 16), expected)


def test_fallbacks_match_python(run: Runner) -> None:
    got = run("fallback", np.zeros(0, dtype=np.float32), 304)[0]
    expected = np.concatenate(
        [
            FALLBACK_OUTPUTS[name]()
            for name in (
                "EmotionRecognizer",
                "MelodyTransformer",
                "HarmonyPredictor",
                "DynamicsEngine",
                "GroovePredictor",
            )
        ]
    )
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(got[256:272], DEFAULT_EXPRESSION.to_vector())


def test_spsc_queue_hands_over_in_order(check_binary: Path) -> None:
    result = subprocess.run(
        [str(check_binary), "spsc"], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout
    assert result.stdout.strip() == "spsc 20000 items, 0 out of order, empty 1"


def render_chorale(folder: Path, seconds: float = 12.0) -> Path:
    """Render music21's Bach chorale BWV 66.6 with fluidsynth (GM piano) to a 22050 Hz WAV.

    Skips when music21, fluidsynth or the FluidR3 GM SoundFont is missing.
    """
    if not have_fluidsynth():
        pytest.skip("fluidsynth or the FluidR3 GM SoundFont is not installed")
    corpus = pytest.importorskip("music21.corpus")
    score = corpus.parse("bach/bwv66.6")
    mid = folder / "bwv66_6.mid"
    score.write("midi", fp=str(mid))
    wav = render_wav(mid, folder / "bwv66_6.wav", sr=22050)
    sf = pytest.importorskip("soundfile")
    data, rate = sf.read(str(wav), dtype="float32", always_2d=True)
    assert rate == 22050
    sf.write(str(wav), data[: int(seconds * rate)], rate, subtype="PCM_16")
    return wav


def test_log_mel_on_real_music_matches_python(run: Runner, tmp_path: Path) -> None:
    from kelly_runtime.generate.audio import read_audio

    clip = read_audio(render_chorale(tmp_path))
    expected = offline_log_mel(clip.samples, 22050)
    got = run("logmel", clip.samples, 128, "1024")
    assert got.shape == expected.shape
    assert len(got) > 400
    assert float(np.abs(got - expected).max()) < 1e-4
    windows = run("windows", got, 128)
    np.testing.assert_allclose(
        windows, WindowAverager(frames_per_window()).push(expected), atol=1e-6, rtol=0
    )
