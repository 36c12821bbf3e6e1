"""The C++ companion's ``kelly::PlayAlong`` against Kelly's Python ``PlayAlong``.

The same beats go through both, one at a time (tests/cpp/companion_check.cpp, mode
``playalong``), and every choice must be equal: the chord, the voiced tones, the strong and
avoided pitch classes, ``song_safe`` and ``song_prior`` over all 128 pitches, with each
beat's own chroma and at zero latency. The sequences hold silence (no chroma), quiet beats
under ``SOUNDING_FLOOR``, "no chord" above ``NO_CHORD_ABOVE``, bar lines, key changes in
major and minor keys, ties, negative chroma and random chroma (seeded NumPy and
Hypothesis). Without a compiler the tests skip, saying so, unless ``KELLY_REQUIRE_CXX=1``.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.chords import NO_CHORD
from kelly_runtime.generate.keys import Key, diatonic_chords
from kelly_runtime.generate.playalong import (
    BAR_LINE_BEATS,
    NO_CHORD_ABOVE,
    RECENT_BEATS,
    SONG_TONE_BONUS,
    SOUNDING_FLOOR,
    PlayAlong,
    chord_fit,
    song_prior,
    song_safe,
)
from tests.cpp_checks import Runner, build_check, runner

WIDTH = 5 + 24 + 64
"""Input row: reset | tonic | minor | beat in bar | has chroma | chroma 24 | chords 64."""
OUT = 30 + 2 * 128
"""Output row: chord | tone count | tones 4 | strong 12 | avoid 12 | safe 128 | prior 128."""
PITCHES = np.arange(128, dtype=np.int64)


@pytest.fixture(scope="module")
def check_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("cpp_playalong")
    return build_check("companion_check", folder, what="the C++ companion", flags=("-pthread",))


@pytest.fixture(scope="module")
def run(check_binary: Path) -> Runner:
    return runner(check_binary, check_binary.parent)


def _python(rows: np.ndarray, *, zero_latency: bool, no_chord_above: float) -> np.ndarray:
    """What Python's PlayAlong chooses for ``rows``, in the check program's output layout."""
    player = PlayAlong(zero_latency=zero_latency, no_chord_above=no_chord_above)
    out = np.zeros((len(rows), OUT), dtype=np.float32)
    for r, x in enumerate(rows):
        if x[0]:
            player.reset()
        key = Key(tonic=int(x[1]), mode="minor" if x[2] else "major")
        chroma = x[5:29] if x[4] else None
        beat = player.step(x[29:], chroma, key, int(x[3]))
        out[r, 0], out[r, 1] = beat.chord, len(beat.tones)
        out[r, 2:6] = [*beat.tones, *[-1] * (4 - len(beat.tones))]
        out[r, 6:18][sorted(beat.hearing.strong)] = 1.0
        out[r, 18:30][sorted(beat.hearing.avoid)] = 1.0
        out[r, 30:158][song_safe(PITCHES, beat.hearing)] = 1.0
        out[r, 158:] = song_prior(PITCHES, beat.tones, beat.hearing)
    return out


def _both(
    run: Runner, rows: np.ndarray, *, zero_latency: bool, no_chord_above: float = NO_CHORD_ABOVE
) -> tuple[np.ndarray, np.ndarray]:
    """(C++, Python) outputs for the same rows; asserts they are equal."""
    rows = rows.astype(np.float32)
    extra = ("1" if zero_latency else "0", repr(no_chord_above))
    got = run("playalong", rows, OUT, *extra)
    want = _python(rows, zero_latency=zero_latency, no_chord_above=no_chord_above)
    np.testing.assert_array_equal(got, want)
    return got, want


def _sequence(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` beats of every kind the rule distinguishes (module docstring)."""
    chroma = rng.uniform(0.0, 1.0, size=(n, 24)) ** 3  # a few loud pitch classes per beat
    chroma[::6] = rng.choice([0.0, 0.25, 0.5, 1.0], size=(len(chroma[::6]), 24))  # ties
    chroma[1::9] *= 0.09  # quiet: the largest value under SOUNDING_FLOOR
    chroma[2::11, :12] -= 0.3  # negative values: no fit, but compared for strength
    chroma[3::8, 12:] *= 0.02  # bass under BASS_FLOOR
    chroma[4::13] = 0.0  # a silent beat heard as zeros
    chords = rng.dirichlet(np.full(64, 0.3), size=n)
    chords[5::10] = 1.0 / 64  # uniform: the model does not tell the chords apart
    chords[6::12, NO_CHORD] = 0.6  # "no chord" wins
    chords[7::12, NO_CHORD] = 0.5  # not above NO_CHORD_ABOVE: a chord is played
    has = (rng.random(n) > 0.12).astype(np.float64)  # no chroma: silence
    tonics = np.repeat(rng.integers(0, 12, size=n // 20 + 1), 20)[:n]  # the key changes
    minor = np.repeat(rng.integers(0, 2, size=n // 15 + 1), 15)[:n]
    beat = np.arange(n) % 4
    beat[rng.random(n) < 0.1] = 0  # bars of other lengths
    resets = np.zeros(n)
    resets[[0, n // 2]] = 1.0
    flags = np.stack([resets, tonics, minor, beat, has], axis=1)
    return np.concatenate([flags, chroma, chords], axis=1)


@pytest.mark.parametrize("zero_latency", [False, True])
def test_play_along_matches_python(run: Runner, zero_latency: bool) -> None:
    rows = _sequence(np.random.default_rng(31), 600)
    got, _ = _both(run, rows, zero_latency=zero_latency)
    chords = got[:, 0].astype(int)
    assert (chords == NO_CHORD).sum() == len(rows[6::12])  # exactly the rows above 0.5
    outside = [
        c != NO_CHORD
        and c not in diatonic_chords(Key(tonic=int(t), mode="minor" if m else "major"))
        for c, t, m in zip(chords, rows[:, 1], rows[:, 2], strict=True)
    ]
    assert 0 < sum(outside) < len(rows) // 2  # the song's chroma can leave the key
    assert (chords[1:] == chords[:-1]).mean() > 0.05  # the keep bonus holds some chords
    assert set(got[:, 1].astype(int)) >= {0, 2, 3}  # N, and tones the song avoids dropped
    assert got[:, 18:30].any(axis=1).mean() > 0.5
    assert (got[:, 158:] == SONG_TONE_BONUS).any()
    quiet = rows[:, 4].astype(bool) & (rows[:, 5:17].max(axis=1) < SOUNDING_FLOOR)
    if not zero_latency:
        assert quiet.any()
        assert not got[quiet, 6:30].any()  # nothing strong, nothing avoided
    else:
        every = got[:, 18:30].all(axis=1)
        assert every.any()  # all 12 avoided: song_safe keeps every pitch
        assert got[every, 30:158].all()


def test_no_chord_above_is_the_players(run: Runner) -> None:
    rows = _sequence(np.random.default_rng(32), 200)
    got, _ = _both(run, rows, zero_latency=False, no_chord_above=0.3)
    assert (got[:, 0] == NO_CHORD).sum() > len(rows[6::12])  # the 0.5 rows rest too


def test_silence_chooses_among_the_diatonic_chords_of_all_24_keys(run: Runner) -> None:
    rng = np.random.default_rng(33)
    blocks = []
    for index in range(24):
        block = np.zeros((20, WIDTH))
        block[:, 1], block[:, 2] = index % 12, index // 12
        block[:, 3] = np.arange(20) % 4
        block[:, 29:] = rng.dirichlet(np.full(64, 0.2), size=20)
        block[:3, 29:] = 1.0 / 64  # ties: the first diatonic chord
        blocks.append(block)
    rows = np.concatenate(blocks)
    got, _ = _both(run, rows, zero_latency=True)
    for index, block in enumerate(np.split(got, 24)):
        allowed = diatonic_chords(Key(tonic=index % 12, mode="minor" if index // 12 else "major"))
        assert set(block[:, 0].astype(int)) <= allowed
        assert block[0, 0] == min(allowed)
    assert not got[:, 6:30].any()


def test_chord_fit_matches_python(run: Runner) -> None:
    rows = _sequence(np.random.default_rng(34), 300)[:, 5:29].astype(np.float32)
    got = run("fit", rows, 64)
    np.testing.assert_array_equal(got, np.stack([chord_fit(r) for r in rows]))
    assert got.max() > 1.0  # the bass at the root adds to the cosine


@pytest.mark.parametrize(("margin", "kept"), [(0.795, True), (0.805, False)])
def test_the_keep_bonus_decides_near_its_value(run: Runner, margin: float, kept: bool) -> None:
    """Silence heard as zeros: the previous beat's C major stays unless the model's G major
    beats it by more than KEEP_BONUS / MODEL_WEIGHT (0.8)."""
    rows = np.zeros((2, WIDTH))
    rows[:, 4] = 1.0
    rows[0, 29] = 1.0
    rows[1, 29], rows[1, 29 + 35] = 0.05, 0.05 + margin
    got, _ = _both(run, rows, zero_latency=False)
    assert got[:, 0].tolist() == ([0, 0] if kept else [0, 35])


@pytest.mark.parametrize(("margin", "inside"), [(0.45, False), (0.55, True)])
def test_a_root_in_the_bass_outweighs_the_key_by_its_margin(
    run: Runner, margin: float, inside: bool
) -> None:
    """Only C# in the bass: C#'s chords fit BASS_WEIGHT (0.2), less OUTSIDE_KEY_COST (0.15)
    in C major; C major wins where the model prefers it by more than 0.05 / MODEL_WEIGHT."""
    rows = np.zeros((1, WIDTH))
    rows[0, 4] = 1.0
    rows[0, 5 + 12 + 1] = 0.8
    rows[0, 29] = margin
    got, _ = _both(run, rows, zero_latency=False)
    assert got[0, 0] == (0 if inside else 5)


def _one_sounding(pc: int) -> np.ndarray:
    chroma = np.zeros(24)
    chroma[pc] = 1.0
    return chroma


@pytest.mark.parametrize(
    ("ago", "bar_line", "avoided"),
    [
        (BAR_LINE_BEATS - 1, True, True),
        (BAR_LINE_BEATS, True, False),
        (BAR_LINE_BEATS + 1, True, False),
        (RECENT_BEATS - 1, False, True),
        (RECENT_BEATS, False, False),
    ],
)
def test_zero_latency_spans(run: Runner, ago: int, bar_line: bool, avoided: bool) -> None:
    """C sounds alone ``ago`` beats before the last (silence since): the last beat avoids
    B and C# exactly while C is within its span (BAR_LINE_BEATS at a bar line, else
    RECENT_BEATS; the span counts the last heard beat itself)."""
    n = ago + 1
    rows = np.zeros((n, WIDTH))
    rows[:, 4] = 1.0  # heard, as zeros
    rows[:, 29 + 7 * 5] = 1.0  # G major: C major (C sounds) first, then G major, kept
    rows[0, 5:29] = _one_sounding(0)
    rows[:, 3] = 1  # inside a bar, except the last beat at a bar line
    rows[-1, 3] = 0 if bar_line else 2
    got, _ = _both(run, rows, zero_latency=True)
    assert got[0, 18:30].nonzero()[0].tolist() == [1, 11]
    assert got[-1, 18:30].nonzero()[0].tolist() == ([1, 11] if avoided else [])
    assert got[-1, 2:6].tolist() == ([7, 11, 2, -1] if not avoided else [7, 2, -1, -1])


def test_reset_forgets_what_was_heard(run: Runner) -> None:
    rows = np.zeros((3, WIDTH))
    rows[:, 4] = 1.0
    rows[:, 29] = 0.5  # C major
    rows[0, 5:29] = _one_sounding(0)
    rows[2, 0] = 1.0  # a reset on the bar line
    got, _ = _both(run, rows, zero_latency=True)
    assert got[1, 18:30].nonzero()[0].tolist() == [1, 11]
    assert not got[2, 18:30].any()


_VALUES = st.sampled_from([0.0, 0.05, 0.099, 0.1, 0.2, 0.25, 0.5, 0.51, 1.0, -0.1])


@st.composite
def _beats(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 40))
    row = st.tuples(
        st.booleans(),
        st.integers(0, 11),
        st.booleans(),
        st.integers(0, 3),
        st.booleans(),
        st.lists(_VALUES, min_size=24, max_size=24),
        st.lists(st.sampled_from([0.0, 0.01, 0.1, 0.3, 0.5, 0.6]), min_size=64, max_size=64),
    )
    drawn = draw(st.lists(row, min_size=n, max_size=n))
    return np.array([[float(r), t, float(m), b, float(h), *c, *p] for r, t, m, b, h, c, p in drawn])


@settings(max_examples=40, deadline=None)
@given(rows=_beats(), zero_latency=st.booleans())
def test_play_along_matches_python_on_any_beats(
    run: Runner, rows: np.ndarray, zero_latency: bool
) -> None:
    """Hypothesis: sequences of coarse values (ties everywhere, beats at the floors)."""
    got, _ = _both(run, rows, zero_latency=zero_latency)
    assert got.shape == (len(rows), OUT)
    assert set(got[:, 0].astype(int)) <= set(range(64))


def test_bench_mode_times_play_along_beside_harmony_context(check_binary: Path) -> None:
    """``companion_check bench-playalong STEPS`` (docs/cpp.md, "Playing along") prints the
    median and p99 per call of harmony_context and of both PlayAlong modes."""
    result = subprocess.run(
        [str(check_binary), "bench-playalong", "200"], capture_output=True, text=True, check=True
    )
    lines = [line.split() for line in result.stdout.splitlines()]
    assert [line[0] for line in lines] == [
        "harmony_context",
        "PlayAlong",
        "PlayAlong(zero_latency)",
        "steps",
    ]
    assert all(float(line[2]) > 0 and float(line[4]) >= float(line[2]) for line in lines[:3])
    assert lines[3][1] == "200"
