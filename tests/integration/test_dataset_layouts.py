"""Readers on generated fixtures in each official layout (pretty_midi, soundfile MP3)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.context import melody_contexts, previous_top_pitches
from kelly_core.encodings.emotion import decode_coarse_emotions, decode_emotions, encode_emotion
from kelly_core.errors import DatasetError
from kelly_core.interfaces import Dataset
from kelly_models.datasets.chords import open_chords
from kelly_models.datasets.deam import open_deam
from kelly_models.datasets.groove_midi import open_groove
from kelly_models.datasets.lakh import open_lakh
from kelly_models.datasets.maestro import open_maestro
from kelly_models.datasets.plugin import guess_layout
from tests.unit.kelly_models.datasets.helpers import (
    write_deam,
    write_groove,
    write_lakh,
    write_maestro,
)


def _check(dataset: Dataset, model: str, size_in: int, size_out: int) -> None:
    assert isinstance(dataset, Dataset)
    assert dataset.model_name == model
    for i in range(len(dataset)):
        ex = dataset[i]
        assert ex.inputs.shape[1] == size_in
        assert ex.targets.shape[1] == size_out
        assert len(ex.inputs) > 0
        assert np.isfinite(ex.inputs).all()
        assert np.isfinite(ex.targets).all()


class TestDeam:
    def test_layout(self, tmp_path: Path) -> None:
        """MP3 audio, spaced headers, ragged rows: codes at 2 Hz, a corrupt MP3 skipped."""
        write_deam(tmp_path)
        ds = open_deam(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        _check(ds, "EmotionRecognizer", 128, 64)
        assert len(ds) == 3
        assert [s.path.name for s in ds.skipped] == ["5.mp3"]
        by_song = {Path(ds[i].source).stem: ds[i] for i in range(len(ds))}
        # song 2: five dynamic samples (15.0..17.0 s), window [t-0.5, t) -> windows 29..33
        song2 = by_song["2"]
        assert len(song2.inputs) == 5
        np.testing.assert_allclose(
            decode_emotions(song2.targets)[:, 1], [0.1, 0.2, 0.3, 0.4, 0.5], atol=0.02
        )
        # song 3: ragged row, two usable samples
        assert len(by_song["3"].inputs) == 2
        # song 4: no dynamic rows, static (6, 4) -> (0.25, -0.25) on every window
        np.testing.assert_allclose(
            decode_emotions(by_song["4"].targets),
            [[0.25, -0.25]] * len(by_song["4"].targets),
            atol=0.02,
        )
        assert len(by_song["4"].inputs) == 35  # 18 s: 772 frames, 21.53 per window
        assert np.all(np.abs(song2.inputs) <= 1.5)

    def test_static_fill(self, tmp_path: Path) -> None:
        """unannotated='static' keeps the first 15 s, labelled with the static rating."""
        write_deam(tmp_path)
        ds = open_deam(tmp_path, unannotated="static", cache_dir=tmp_path / "cache", workers=1)
        song2 = next(ds[i] for i in range(len(ds)) if Path(ds[i].source).stem == "2")
        assert len(song2.inputs) == 34
        np.testing.assert_allclose(song2.targets[0], encode_emotion(0.5, -0.5), atol=1e-6)
        assert guess_layout(tmp_path) == "deam"

    def test_missing_column(self, tmp_path: Path) -> None:
        """A static CSV without arousal_mean fails at once naming the file and column."""
        paths = write_deam(tmp_path)
        static = paths["static"] / "static_annotations_averaged_songs_1_2000.csv"
        static.write_text("song_id, valence_mean\n2, 5\n", encoding="utf-8")
        with pytest.raises(DatasetError) as info:
            open_deam(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        assert info.value.field == "valence_std"
        assert info.value.path == static


class TestLakh:
    def test_layout(self, tmp_path: Path) -> None:
        """lmd_full and lmd_matched files read; the melody track is picked; corrupt skipped."""
        files = write_lakh(tmp_path)
        ds = open_lakh(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        _check(ds, "MelodyTransformer", 64, 128)
        assert len(ds) == 2
        assert [s.path for s in ds.skipped] == [files["corrupt"]]
        full = next(ds[i] for i in range(2) if "lmd_full" in ds[i].source)
        # the "Melody" track (one note per beat, above the chords) is the target
        assert np.all(full.targets[:32].sum(axis=1) == 1)
        assert full.targets[:, :72].sum() == 0
        assert set(np.unique(full.targets)) <= {0.0, 1.0}
        # a C-major song is labelled with positive valence (the context's coarse code)
        assert decode_coarse_emotions(full.inputs[:, :16])[:, 0].mean() > 0.3
        # the rest of the context: beat in bar and the true notes of the beats before
        np.testing.assert_array_equal(
            full.inputs,
            melody_contexts(full.inputs[:, :16], np.arange(len(full.inputs)) % 4, full.targets),
        )
        assert previous_top_pitches(full.inputs[1:2])[0] == int(np.argmax(full.targets[0]))
        assert guess_layout(tmp_path) == "lakh"


class TestMaestro:
    def test_layout(self, tmp_path: Path) -> None:
        """Official split honoured; pedals and velocities reach the expression targets."""
        write_maestro(tmp_path)
        ds = open_maestro(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        _check(ds, "DynamicsEngine", 32, 16)
        assert [ds[i].split for i in range(len(ds))] == ["train", "test"]
        assert [s.path.name for s in ds.skipped] == ["MIDI-corrupt.midi"]
        loud, soft = ds[0].targets, ds[1].targets
        assert loud[:, 0].mean() > soft[:, 0].mean()
        assert loud[0, 9] == pytest.approx(1.0)  # sustain down 0..2 s
        assert loud[8, 10] == pytest.approx(1.0)  # soft pedal 4..5 s
        assert np.all((loud >= 0) & (loud <= 1))
        assert ds[0].inputs[:4, 16:20].tolist() == np.eye(4).tolist()
        only_test = open_maestro(
            tmp_path, splits=("test",), cache_dir=tmp_path / "cache", workers=1
        )
        assert len(only_test) == 1
        assert guess_layout(tmp_path) == "maestro"

    def test_missing_column(self, tmp_path: Path) -> None:
        """A CSV without the split column fails at once, naming path and column."""
        index = write_maestro(tmp_path, drop_column="split")
        with pytest.raises(DatasetError) as info:
            open_maestro(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        assert info.value.field == "split"
        assert info.value.path == index

    def test_missing_index(self, tmp_path: Path) -> None:
        """No maestro-v*.csv fails at once."""
        with pytest.raises(DatasetError, match="maestro"):
            open_maestro(tmp_path)


class TestGroove:
    def test_layout(self, tmp_path: Path) -> None:
        """Only 4-4 beat rows; backbeat at the right steps with micro-timing."""
        write_groove(tmp_path)
        ds = open_groove(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        _check(ds, "GroovePredictor", 64, 32)
        assert len(ds) == 1
        ex = ds[0]
        assert ex.split == "train"
        assert len(ex.targets) == 4
        velocities = np.rint((ex.targets[0, 16:] + 1) * 127 / 2)
        assert velocities[[0, 4, 8, 12]].tolist() == [100, 110, 100, 110]
        assert velocities[1] == 0
        assert ex.targets[0, 4] == pytest.approx(-0.1, abs=0.02)  # snare 0.05 step early
        assert guess_layout(tmp_path) == "groove"

    def test_missing_index(self, tmp_path: Path) -> None:
        """No info.csv fails at once naming it."""
        with pytest.raises(DatasetError) as info:
            open_groove(tmp_path)
        assert info.value.path == tmp_path / "info.csv"


class TestChords:
    def test_json(self, tmp_path: Path) -> None:
        """Progressions with explicit emotion, mood tags, numerals; a bad file skipped."""
        (tmp_path / "a.json").write_text(
            '{"progressions": ['
            '{"chords": ["C", "Am", "F", "G7"], "valence": 0.6, "arousal": 0.2, "split": "test"},'
            '{"key": "a", "numerals": ["i", "iv", "V7", "i"], "mood": "sad"}]}',
            encoding="utf-8",
        )
        (tmp_path / "bad.json").write_text('[{"chords": ["C", "Hmaj"]}]', encoding="utf-8")
        ds = open_chords(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        _check(ds, "HarmonyPredictor", 128, 64)
        assert len(ds) == 2
        assert [s.path.name for s in ds.skipped] == ["bad.json"]
        first = ds[0]
        assert first.split == "test"
        assert first.targets.argmax(axis=1).tolist() == [0, 46, 25, 39]
        assert first.inputs[0, 64 + 60] == 1.0  # previous chord of the first step: N
        assert first.inputs[1, 64 + 0] == 1.0
        np.testing.assert_allclose(
            decode_coarse_emotions(ds[1].inputs[:, :16])[0], [-0.7, -0.4], atol=0.05
        )
        # the song heard is the chord itself: C major's chroma on C, E and G
        assert np.flatnonzero(first.inputs[0, 20:32] >= 0.5).tolist() == [0, 4, 7]
