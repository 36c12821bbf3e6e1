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
from kelly_runtime.generate.keys import Key
from kelly_runtime.generate.options import GenerateOptions
from kelly_runtime.generate.render import StageOutputs, chord_tones, render

pytest.importorskip("pretty_midi")


def outputs(beats: int = 8, chord: int = 0, windows: int = 8) -> StageOutputs:
    """Stage outputs as the fallback stages would give them, with a chosen chord."""
    return StageOutputs(
        window_emotion=np.tile(encode_emotion(0.5, -0.25), (windows, 1)),
        window_s=0.5,
        beat_emotion=np.tile(NEUTRAL_EMOTION, (beats, 1)),
        notes=np.full((beats, 128), 0.5, dtype=np.float32),
        chords=np.tile(chord_one_hot(chord), (beats, 1)),
        expression=np.tile(DEFAULT_EXPRESSION.to_vector(), (beats, 1)),
        groove=np.tile(NEUTRAL_GROOVE, (-(-beats // 4), 1)),
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

    def test_key_estimated_from_chords(self) -> None:
        """A piece on A minor chords is in A minor unless a key is given."""
        am = chord_index(9, "min")
        assert render(outputs(chord=am), GenerateOptions(), audio_duration=4.0).key == Key.parse(
            "Am"
        )
        given = render(outputs(chord=am), GenerateOptions(key="E"), audio_duration=4.0)
        assert given.key == Key.parse("E")
        melody = given.midi.instruments[0].notes
        assert all(Key.parse("E").contains(n.pitch) for n in melody)

    def test_shapes_checked(self) -> None:
        """Stage outputs of inconsistent lengths are refused."""
        good = outputs(8)
        with pytest.raises(BackendError):
            StageOutputs(
                window_emotion=good.window_emotion,
                window_s=0.5,
                beat_emotion=good.beat_emotion,
                notes=good.notes,
                chords=good.chords[:7],
                expression=good.expression,
                groove=good.groove,
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
