"""Rendered pieces as harmony and melody data, and their split by composer and style."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.chords import chord_index
from kelly_core.encodings.context import HARMONY_BASS, HARMONY_CHROMA, MELODY_CHROMA
from kelly_core.errors import DatasetError
from kelly_models.datasets.rendered import (
    group_split,
    open_rendered_harmony,
    open_rendered_melody,
    piece_group,
)
from kelly_models.listening.trainset import TRAIN_SCORES, TRAIN_STYLES
from tests.benchmarks.listening.corpus import DEV_SCORES, DEV_STYLES, TEST_SCORES, TEST_STYLES

SR = 22050


def _tone(pitches: list[int], seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    waves = [0.2 * np.sin(2 * np.pi * 440.0 * 2 ** ((p - 69) / 12) * t) for p in pitches]
    return np.asarray(np.sum(waves, axis=0))


def _piece(folder: Path, name: str, record: dict[str, object], audio: np.ndarray) -> None:
    import pretty_midi
    import soundfile

    folder.mkdir(parents=True, exist_ok=True)
    soundfile.write(str(folder / f"{name}.wav"), audio.astype(np.float32), SR)
    pm = pretty_midi.PrettyMIDI()
    melody = pretty_midi.Instrument(program=0)
    melody.notes.append(pretty_midi.Note(velocity=90, pitch=72, start=0.0, end=4.0))
    pm.instruments.append(melody)
    pm.write(str(folder / f"{name}.mid"))
    (folder / f"{name}.json").write_text(json.dumps(record), encoding="utf-8")


@pytest.fixture
def pieces(tmp_path: Path) -> Path:
    """An mma piece in G major (chart G | D) and a score in G, each eight 0.5 s beats."""
    beats = [0.5 * i for i in range(8)]
    chart = "Tempo 120\nKeySig G major\nGroove Strut\n1 G\n2 D\n"
    audio = np.concatenate([_tone([55, 59, 62, 43], 2.0), _tone([62, 66, 69, 50], 2.0)])
    base = {"beats": beats, "downbeats": [0.0, 2.0], "beats_per_bar": 4, "key": "G:major"}
    _piece(tmp_path, "tr-mma-strut-0", {**base, "source": "mma", "style": "Strut",
                                        "chart": chart, "tempo": 120.0}, audio)  # fmt: skip
    _piece(tmp_path, "tr-haydn", {**base, "source": "music21", "composer": "Haydn",
                                  "origin": "haydn/x.mxl", "tempo": 60.0}, audio)  # fmt: skip
    return tmp_path


class TestReader:
    def test_chart_chords_and_audio_chroma_relative_to_the_key(self, pieces: Path) -> None:
        """The chart's G then D are I and V in G (C and G relative to the tonic); the
        audio chroma heard is turned to the tonic: the I chord's tones 0, 4, 7 are loudest."""
        ds = open_rendered_harmony(pieces, use_cache=False, workers=1)
        by_name = {Path(ds[i].source).stem: ds[i] for i in range(len(ds))}
        mma = by_name["tr-mma-strut-0"]
        labels = mma.targets.argmax(axis=1).tolist()
        assert labels == [chord_index(0, "maj")] * 4 + [chord_index(7, "maj")] * 4
        heard = mma.inputs[1, HARMONY_CHROMA]
        assert set(np.argsort(heard)[-3:].tolist()) == {0, 4, 7}
        assert int(np.argmax(mma.inputs[1, HARMONY_BASS])) == 0
        assert int(np.argmax(mma.inputs[6, HARMONY_BASS])) == 7  # D bass: the fifth

    def test_lag_hears_the_previous_beat(self, pieces: Path) -> None:
        own = open_rendered_harmony(pieces, use_cache=False, workers=1)[0].inputs
        late = open_rendered_harmony(pieces, chroma_lag=1, use_cache=False, workers=1)[0].inputs
        np.testing.assert_array_equal(late[1:, HARMONY_CHROMA], own[:-1, HARMONY_CHROMA])
        assert not late[0, HARMONY_CHROMA].any()
        with pytest.raises(DatasetError, match="chroma_lag"):
            open_rendered_harmony(pieces, chroma_lag=2)

    def test_melody_from_scores_only(self, pieces: Path) -> None:
        """mma charts have no melody; the score's first part is the target, moved so the
        tonic G is C (up 5: C5 72 -> 77)."""
        ds = open_rendered_melody(pieces, use_cache=False, workers=1)
        assert len(ds) == 1
        example = ds[0]
        assert np.flatnonzero(example.targets[0]).tolist() == [77]
        assert example.inputs[:, MELODY_CHROMA].max() > 0.5


class TestHeldOut:
    def test_groups_and_splits(self) -> None:
        assert piece_group({"source": "mma", "style": "Strut"}) == "mma:Strut"
        assert piece_group({"composer": "folk", "origin": "essenFolksong/erk10.abc"}) == (
            "folk:erk10"
        )
        assert group_split("Bach") == "train"

    def test_training_pieces_hold_out_composers_and_styles(self) -> None:
        """Over the train-beats pieces the reader is fed, every composer or style lands in
        one split, test and validation each hold at least one, and none of the listening
        and play-along benchmarks' pieces (their composers, mma grooves) is among them."""
        groups = {piece_group({"composer": s.composer, "origin": s.path}) for s in TRAIN_SCORES}
        groups |= {piece_group({"source": "mma", "style": s.groove}) for s in TRAIN_STYLES}
        splits = {g: group_split(g) for g in groups}
        assert {"train", "validation", "test"} <= set(splits.values())
        bench = {f"mma:{s.groove}" for s in (*TEST_STYLES, *DEV_STYLES)}
        bench |= {s.composer for s in TEST_SCORES}
        assert not groups & bench
        assert not {s.path for s in TRAIN_SCORES} & {s.path for s in (*TEST_SCORES, *DEV_SCORES)}
