"""Tests of kelly_runtime.generate.render: decoding stage outputs into a GenerationResult."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.chords import NO_CHORD, chord_index, chord_one_hot
from kelly_core.encodings.emotion import NEUTRAL_EMOTION, encode_emotion
from kelly_core.encodings.expression import DEFAULT_EXPRESSION
from kelly_core.encodings.groove import NEUTRAL_GROOVE
from kelly_core.errors import BackendError
from kelly_runtime.generate.beats import BeatGrid
from kelly_runtime.generate.keys import Key
from kelly_runtime.generate.options import GenerateOptions
from kelly_runtime.generate.render import StageOutputs, choose_chord, chord_tones, render

pytest.importorskip("pretty_midi")


def outputs(
    beats: int = 8, chord: int = 0, windows: int = 8, key: str = "C", chords: object = None
) -> StageOutputs:
    """Stage outputs as the fallback stages would give them, with a chosen chord."""
    grid = BeatGrid.steady(120.0, duration=beats * 0.5)
    return StageOutputs(
        window_emotion=np.tile(encode_emotion(0.5, -0.25), (windows, 1)),
        window_va=np.tile(np.array([0.5, -0.25], dtype=np.float32), (windows, 1)),
        window_s=0.5,
        beat_emotion=np.tile(NEUTRAL_EMOTION, (beats, 1)),
        beat_va=np.zeros((beats, 2), dtype=np.float32),
        notes=np.full((beats, 128), 0.5, dtype=np.float32),
        chords=np.tile(chord_one_hot(chord), (beats, 1)) if chords is None else chords,  # type: ignore[arg-type]
        expression=np.tile(DEFAULT_EXPRESSION.to_vector(), (beats, 1)),
        groove=np.tile(NEUTRAL_GROOVE, (grid.bars, 1)),
        grid=grid,
        key=Key.parse(key),
        fallback_stages=("GroovePredictor",),
    )


class TestChordTones:
    def test_root_first(self) -> None:
        """A minor is A, C, E; G7 is G, B, D, F; no chord is empty."""
        assert chord_tones(chord_index(9, "min")) == (9, 0, 4)
        assert chord_tones(chord_index(7, "7")) == (7, 11, 2, 5)
        assert chord_tones(NO_CHORD) == ()
        assert chord_tones(chord_index(2, "dim7"))[0] == 2


class TestRender:
    def test_result(self, tmp_path: Path) -> None:
        """Tracks, trajectory, chords, fallback list and key come through."""
        result = render(outputs(), GenerateOptions(), audio_duration=4.0, source=tmp_path / "a.wav")
        assert [i.name for i in result.midi.instruments] == ["melody", "chords", "drums"]
        assert result.midi.get_end_time() == pytest.approx(4.0, abs=0.01)
        assert len(result.emotion_trajectory) == 8
        assert result.emotion_trajectory[1].time == 0.5
        assert result.emotion_trajectory[0].valence == pytest.approx(0.5, abs=0.05)
        assert [c.label for c in result.chords] == ["C:maj"] * 8
        assert result.fallback_stages == ("GroovePredictor",)
        assert result.key == Key(tonic=0, mode="major")

    def test_chords_kept_in_key_and_spelled_for_it(self) -> None:
        """The likeliest chord of the key wins over a likelier one outside it; F's
        subdominant is spelled Bb, B major's dominant F#."""
        dist = np.zeros(64, dtype=np.float32)
        dist[chord_index(1, "maj")] = 0.6  # C# major: not in C major
        dist[chord_index(7, "maj")] = 0.3  # G major
        dist[chord_index(2, "min")] = 0.1
        assert choose_chord(dist, Key.parse("C")) == chord_index(7, "maj")
        result = render(
            outputs(chord=chord_index(10, "maj"), key="F"), GenerateOptions(), audio_duration=4.0
        )
        assert {c.label for c in result.chords} == {"Bb:maj"}
        result = render(
            outputs(chord=chord_index(6, "maj"), key="B"), GenerateOptions(), audio_duration=4.0
        )
        assert {c.label for c in result.chords} == {"F#:maj"}
        assert all(Key.parse("B").contains(n.pitch) for n in result.midi.instruments[0].notes)

    def test_no_chord_only_when_likely(self) -> None:
        """N wins only above one half; the chord track is then silent."""
        dist = np.zeros(64, dtype=np.float32)
        dist[NO_CHORD] = 0.45
        dist[chord_index(9, "min")] = 0.3
        assert choose_chord(dist, Key.parse("C")) == chord_index(9, "min")
        dist[NO_CHORD] = 0.7
        assert choose_chord(dist, Key.parse("C")) == NO_CHORD

    def test_shapes_checked(self) -> None:
        """Stage outputs of inconsistent lengths are refused."""
        good = outputs(8)
        with pytest.raises(BackendError):
            StageOutputs(
                window_emotion=good.window_emotion,
                window_va=good.window_va,
                window_s=0.5,
                beat_emotion=good.beat_emotion,
                beat_va=good.beat_va,
                notes=good.notes,
                chords=good.chords[:7],
                expression=good.expression,
                groove=good.groove,
                grid=good.grid,
                key=good.key,
            )

    def test_side_outputs(self, tmp_path: Path) -> None:
        """JSON and CSV side outputs hold the per-window emotion and per-beat chords."""
        import csv
        import json

        result = render(outputs(), GenerateOptions(), audio_duration=4.0)
        doc = json.loads(result.write_side_output(tmp_path / "e.json").read_text())
        assert len(doc["emotion"]) == 8
        assert set(doc["emotion"][0]) == {"time", "valence", "arousal"}
        assert doc["chords"][0] == {"time": 0.0, "label": "C:maj"}
        assert doc["fallback_stages"] == ["GroovePredictor"]
        with result.write_side_output(tmp_path / "e.csv").open() as handle:
            rows = list(csv.DictReader(handle))
        assert len(rows) == 8
        assert rows[3]["chord"] == "C:maj"
        assert float(rows[1]["time"]) == pytest.approx(0.5)

    def test_plot(self, tmp_path: Path) -> None:
        """The emotion plot is a PNG file."""
        pytest.importorskip("matplotlib")
        path = render(outputs(), GenerateOptions(), audio_duration=4.0).plot(tmp_path / "p.png")
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


class TestPlotSmoothing:
    def test_smooth_keeps_constants_and_damps_noise(self) -> None:
        """The moving average keeps a constant, and cuts white noise's variance by ~9x."""
        from kelly_runtime.generate.plot import smooth

        np.testing.assert_allclose(smooth(np.full(20, 0.3)), 0.3)
        noise = np.random.default_rng(0).standard_normal(2000)
        assert float(np.var(smooth(noise))) < 0.2 * float(np.var(noise))
        assert smooth(np.zeros(0)).size == 0
