"""Tests of kelly_models.listening: targets, the F-measure, the corpus reader, training."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.encodings.onsets import DEFAULT_ONSETS, frame_seconds
from kelly_core.errors import DatasetError
from kelly_core.listening import BEAT_TRACKER_SPEC
from kelly_core.registry import Registry
from kelly_export import plugin as export_plugin
from kelly_models.listening.command import TrainBeatsCommand
from kelly_models.listening.corpus import (
    frame_of,
    frame_targets,
    load_piece,
    load_pieces,
    reversed_piece,
)
from kelly_models.listening.train import BeatTrainConfig, f_measure, fit, track
from kelly_runtime.generate.activations import activations

pytest.importorskip("soundfile")
SR = 22050


def _clicks(path: Path, period: float, seconds: float, *, per_bar: int = 4) -> Path:
    """A click track (low click on each bar's first beat) with its truth JSON."""
    import soundfile

    audio = np.zeros(int(seconds * SR), dtype=np.float32)
    t = np.arange(int(0.04 * SR)) / SR
    beats = np.arange(0.3, seconds - 0.2, period)
    for k, onset in enumerate(beats):
        freq = 90.0 if k % per_bar == 0 else 1800.0
        burst = 0.6 * np.sin(2 * np.pi * freq * t) * np.exp(-t * 70)
        i = int(onset * SR)
        audio[i : i + burst.size] += burst[: audio.size - i]
    soundfile.write(str(path), audio, SR)
    truth = {"beats": beats.tolist(), "downbeats": beats[::per_bar].tolist()}
    path.with_suffix(".json").write_text(json.dumps(truth))
    return path


class TestTargets:
    def test_peak_and_neighbours(self) -> None:
        """A beat is 1 on its frame and 0.5 on each neighbour; a downbeat is a beat too."""
        beat = float(frame_seconds(100))
        targets = frame_targets([beat, float(frame_seconds(200))], [beat], 300)
        assert targets[100].tolist() == [1.0, 1.0]
        assert targets[[99, 101], 0].tolist() == [0.5, 0.5]
        assert targets[200].tolist() == [1.0, 0.0]
        assert targets[:, 0].sum() == pytest.approx(4.0)

    @given(st.lists(st.floats(0.1, 60.0), min_size=1, max_size=20))
    def test_frame_of_inverts_frame_seconds(self, times: list[float]) -> None:
        """The frame of a time is the one whose centre is nearest to it."""
        frames = frame_of(times)
        assert np.all(
            np.abs(frame_seconds(frames) - np.asarray(times)) <= 0.5 / DEFAULT_ONSETS.fps + 1e-9
        )


class TestFMeasure:
    @settings(max_examples=60, deadline=None)
    @given(
        st.lists(st.floats(5.0, 40.0), min_size=1, max_size=40, unique=True),
        st.lists(st.floats(5.0, 40.0), min_size=1, max_size=40, unique=True),
    )
    def test_equals_mir_eval(self, ref: list[float], est: list[float]) -> None:
        """Same value as mir_eval.beat.f_measure (beats from 5 s on: mir_eval warns when
        its trim leaves nothing)."""
        mir_eval = pytest.importorskip("mir_eval")
        r, e = np.sort(ref), np.sort(est)
        expected = mir_eval.beat.f_measure(mir_eval.beat.trim_beats(r), mir_eval.beat.trim_beats(e))
        assert f_measure(r, e) == pytest.approx(expected, abs=1e-9)


class TestCorpus:
    def test_piece_from_files(self, tmp_path: Path) -> None:
        """Frames of the onset front end and targets on the beats' frames."""
        piece = load_piece(_clicks(tmp_path / "a.wav", 0.5, 6.0))
        assert piece.features.shape[1] == BEAT_TRACKER_SPEC.input_size
        assert piece.targets.shape == (piece.features.shape[0], 2)
        assert int((piece.targets[:, 0] == 1.0).sum()) == piece.beats.size

    def test_bad_truth_is_one_line(self, tmp_path: Path) -> None:
        """Unordered beats: a DatasetError naming the file and the field."""
        wav = _clicks(tmp_path / "b.wav", 0.5, 4.0)
        wav.with_suffix(".json").write_text(json.dumps({"beats": [2.0, 1.0], "downbeats": []}))
        with pytest.raises(DatasetError, match=r"b\.json: beats: expected a list of increasing"):
            load_piece(wav)
        assert list(load_pieces([tmp_path])) == []  # skipped with a warning by the loader


class TestReversed:
    def test_mirror_of_a_piece(self, tmp_path: Path) -> None:
        """Played backwards: frames and targets reversed, beats mirrored onto the same
        frames (a beat's frame k becomes F - 1 - k); twice reversed is the piece."""
        piece = load_piece(_clicks(tmp_path / "r.wav", 0.5, 6.0))
        back = reversed_piece(piece)
        frames = piece.features.shape[0]
        np.testing.assert_array_equal(back.features, piece.features[::-1])
        assert (
            sorted((frames - 1 - frame_of(piece.beats)).tolist()) == frame_of(back.beats).tolist()
        )
        again = reversed_piece(back)
        np.testing.assert_allclose(again.beats, piece.beats, atol=1e-9)
        np.testing.assert_array_equal(again.targets, piece.targets)


class TestTraining:
    def test_fit_lowers_the_loss_and_keeps_the_best_epoch(self, tmp_path: Path) -> None:
        """A few steps on click tracks lower the loss from the untrained network's; the
        network returned is the best epoch's (its validation score is the best seen)."""
        for k, period in enumerate((0.4, 0.5, 0.6, 0.45)):
            _clicks(tmp_path / f"c{k}.wav", period, 8.0)
        pieces = list(load_pieces([tmp_path]))
        config = BeatTrainConfig(
            epochs=3, steps_per_epoch=20, batch_size=4, crop=128, val_fraction=0.3, patience=3
        )
        trained = fit(pieces, config, progress=lambda line: None)
        losses = [loss for loss, _ in trained.history]
        assert losses[-1] < 0.8 * losses[0]
        scores = [score for _, score in trained.history]
        assert trained.best_score == max(scores)
        assert trained.best_epoch == scores.index(max(scores)) + 1
        out = track(trained.network, pieces[0].features)
        assert out.shape == (pieces[0].features.shape[0], 2)
        assert np.all((out >= 0.0) & (out <= 1.0))

    def test_command_writes_a_tracker_generate_loads(self, tmp_path: Path) -> None:
        """kelly train-beats --architecture lstm writes an RTNeural file that the runtime
        runs, alone or with a backward partner."""
        for k, period in enumerate((0.4, 0.5, 0.6)):
            _clicks(tmp_path / f"c{k}.wav", period, 8.0)
        command = TrainBeatsCommand(Registry(plugins=[export_plugin]))
        parser = argparse.ArgumentParser()
        command.configure(parser)
        output = tmp_path / "out" / "beattracker.json"
        argv = ["--corpus", str(tmp_path), "-o", str(output), "--epochs", "1"]
        argv += ["--architecture", "lstm"]
        assert command.run(parser.parse_args([*argv, "--steps-per-epoch", "2"])) == 0
        document = json.loads(output.read_text())
        assert document["metadata"]["spec"]["name"] == "BeatTracker"
        assert document["metadata"]["architecture"] == "lstm"
        samples = np.zeros(SR * 3, dtype=np.float32)
        samples[SR] = 0.5
        found = activations(samples, SR, tracker=output, backward=None)
        assert found.source == "tracker"
        assert found.downbeat is not None
        assert found.downbeat.shape == found.beat.shape
        both = activations(samples, SR, tracker=output, backward=output)
        assert both.source == "trackers"
        assert both.beat.shape == found.beat.shape
        assert not np.allclose(both.beat, found.beat)  # the backward pass is averaged in


class TestActivationAt:
    def test_largest_within_reach_bounded_by_the_clip(self) -> None:
        """Each beat takes the largest value within 2 frames; the clip's ends bound it."""
        from kelly_core.listening import activation_at

        values = np.array([0.1, 0.9, 0.2, 0.0, 0.0, 0.3, 0.0, 0.7])
        assert activation_at(values, [0, 4, 7]).tolist() == [0.9, 0.3, 0.7]
        assert activation_at(values, []).shape == (0,)
