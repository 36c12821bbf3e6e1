"""A zero-latency stream plays along: the pipeline's beats, synchronous or from the async
worker, go through ``PlayAlong`` beat by beat, each beat hearing the previous beat's chroma."""

from __future__ import annotations

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.encodings.chords import chord_index
from kelly_runtime.async_pipeline import beat_frame
from kelly_runtime.beat import BeatOutput
from kelly_runtime.generate.keys import Key
from kelly_runtime.generate.playalong import PlayAlong, PlayedBeat
from kelly_runtime.pipeline import Pipeline
from tests.unit.kelly_runtime.helpers import async_beats

C = Key.parse("C")
BARS = ((0, (0, 4, 7)), (5, (5, 9, 0)), (7, (7, 11, 2)), (9, (9, 0, 4))) * 2
"""A song of bars C, F, G and A minor, twice: (bass, chord tones)."""
EXPECTED = [chord_index(r, q) for r, q in ((0, "maj"), (5, "maj"), (7, "maj"), (9, "min"))] * 2


def _song() -> FloatArray:
    rows = []
    for bass, tones in BARS:
        row = np.zeros(24, dtype=np.float32)
        row[list(tones)] = 1.0
        row[12 + bass] = 1.0
        rows += [row] * 4
    return np.stack(rows)


def _lagged(chroma: FloatArray, beat: int) -> FloatArray | None:
    return None if beat == 0 else chroma[beat - 1]


def _play(outputs: list[BeatOutput], chroma: FloatArray) -> list[PlayedBeat]:
    player = PlayAlong(zero_latency=True)
    return [
        player.step(out.chords, _lagged(chroma, i), C, out.beat_in_bar)
        for i, out in enumerate(outputs)
    ]


def test_the_stream_changes_chord_a_beat_after_each_bar_line() -> None:
    """The fallback HarmonyPredictor always says the tonic; the stream still follows the
    song, one beat late (it hears a bar's chord once that bar's first beat is over)."""
    chroma = _song()
    pipeline = Pipeline.fallback()
    outputs = [pipeline.step_beat(i % 4, chroma=_lagged(chroma, i)) for i in range(chroma.shape[0])]
    played = _play(outputs, chroma)
    assert [p.chord for p in played] == [EXPECTED[0]] + [
        EXPECTED[(i - 1) // 4] for i in range(1, 32)
    ]
    # The bar line of the G bar (beat 8) keeps off the semitones of C, E, G, F and A heard
    # since the start; inside the bar beat 11 those of the last 5 heard beats only (beats 6
    # and 7: F A C; beats 8 to 10: G B D), and in the next bar beat 15 those of G B D and
    # A C E (beats 10 to 14), no longer F A C's E.
    assert {1, 3, 6, 8, 10, 11} <= played[8].hearing.avoid
    assert played[11].hearing.avoid == frozenset({4, 6, 8, 10, 11, 1, 0, 3})
    assert played[15].hearing.avoid == frozenset({6, 8, 10, 0, 1, 3, 5, 11})
    assert all(not set(p.tones) & p.hearing.avoid for p in played)


def test_the_async_worker_s_beats_play_along_the_same() -> None:
    """Beats polled from the async pipeline (BeatOutput.from_vector) give the same chords
    and hearing as the synchronous pipeline's."""
    chroma = _song()
    pipeline = Pipeline.fallback()
    sync = [pipeline.step_beat(i % 4, chroma=_lagged(chroma, i)) for i in range(chroma.shape[0])]
    frames = [
        beat_frame(beat_in_bar=i % 4, chroma=_lagged(chroma, i)) for i in range(chroma.shape[0])
    ]
    vectors = async_beats(Pipeline.fallback(), frames, capacity=4)
    assert len(vectors) == chroma.shape[0]  # every frame's beat was polled
    polled = [BeatOutput.from_vector(v) for v in vectors]
    assert _play(polled, chroma) == _play(sync, chroma)
    assert len({p.chord for p in _play(polled, chroma)}) == 4
