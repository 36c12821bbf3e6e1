"""Tests of kelly_models.listening.tcn and ``kelly train-beats --architecture tcn``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.beat_tcn import FORMAT, INPUT_SIZE, from_document, run_tcn
from kelly_core.errors import SpecError
from kelly_core.registry import Registry
from kelly_export import plugin as export_plugin
from kelly_models.listening.command import TrainBeatsCommand
from kelly_models.listening.corpus import load_pieces
from kelly_models.listening.tcn import TcnNetwork, TcnTrainConfig, fit_tcn
from kelly_runtime.generate.activations import activations
from tests.unit.kelly_models.listening.test_beat_training import SR, _clicks

pytest.importorskip("soundfile")


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**16), frames=st.integers(1, 300))
def test_numpy_forward_equals_torch(seed: int, frames: int) -> None:
    """The runtime's numpy pass gives the torch network's activations (eval mode) within
    float32 rounding, through the JSON file."""
    torch.manual_seed(seed)
    network = TcnNetwork().eval()
    x = np.random.default_rng(seed).standard_normal((frames, INPUT_SIZE)).astype(np.float32)
    with torch.no_grad():
        expected = network(torch.from_numpy(x[None]))[0].numpy()
    weights = from_document(json.loads(json.dumps(_document(network))))
    got = run_tcn(weights, x)
    np.testing.assert_allclose(got, expected, atol=2e-5)
    assert weights.parameter_count() == 37_610


def _document(network: TcnNetwork) -> dict[str, object]:
    from kelly_core.beat_tcn import to_document

    return to_document(network.weights({"seed": 1}))


def test_fit_lowers_the_loss_and_keeps_the_best_epoch(tmp_path: Path) -> None:
    """A few steps on click tracks lower the loss; the network returned is the best
    epoch's and gives activations in 0..1 for every frame."""
    for k, period in enumerate((0.4, 0.5, 0.6, 0.45)):
        _clicks(tmp_path / f"c{k}.wav", period, 8.0)
    pieces = list(load_pieces([tmp_path]))
    config = TcnTrainConfig(epochs=3, steps_per_epoch=15, batch_size=4, crop=256, val_fraction=0.3)
    trained = fit_tcn(pieces, config, progress=lambda line: None)
    losses = [loss for loss, _ in trained.history]
    assert len(losses) == 3
    assert losses[-1] < 0.8 * losses[0]
    scores = [score for _, score in trained.history]
    assert trained.best_score == max(scores)
    assert trained.best_epoch == scores.index(max(scores)) + 1
    out = run_tcn(trained.network.weights(), pieces[0].features)
    assert out.shape == (pieces[0].features.shape[0], 2)
    assert np.all((out >= 0.0) & (out <= 1.0))


def _command() -> tuple[TrainBeatsCommand, argparse.ArgumentParser]:
    command = TrainBeatsCommand(Registry(plugins=[export_plugin]))
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return command, parser


def test_command_writes_a_tracker_generate_runs(tmp_path: Path) -> None:
    """kelly train-beats (tcn by default) writes the convolutional file; the runtime tells
    it apart from an RTNeural one and runs it without a backward partner."""
    for k, period in enumerate((0.4, 0.5, 0.6)):
        _clicks(tmp_path / f"c{k}.wav", period, 8.0)
    command, parser = _command()
    output = tmp_path / "out" / "beattracker_tcn.json"
    argv = ["--corpus", str(tmp_path), "-o", str(output), "--epochs", "1"]
    assert command.run(parser.parse_args([*argv, "--steps-per-epoch", "2"])) == 0
    document = json.loads(output.read_text())
    assert document["format"] == FORMAT
    assert document["metadata"]["architecture"] == "tcn"
    assert document["metadata"]["epochs"] == 1
    assert [p.name for p in output.parent.iterdir()] == ["beattracker_tcn.json"]  # no temp
    samples = np.zeros(SR * 3, dtype=np.float32)
    samples[SR] = 0.5
    found = activations(samples, SR, tracker=output, backward=output)
    assert found.source == "tcn"
    assert found.downbeat is not None
    weights = from_document(document)
    from kelly_core.encodings.onsets import DEFAULT_ONSETS, onset_bands
    from kelly_core.listening import network_input

    direct = run_tcn(weights, network_input(onset_bands(samples, SR, DEFAULT_ONSETS)))
    np.testing.assert_allclose(found.beat, direct[:, 0], atol=1e-6)


def test_backward_needs_the_lstm(tmp_path: Path) -> None:
    command, parser = _command()
    args = parser.parse_args(["--corpus", str(tmp_path), "-o", str(tmp_path / "x.json")])
    args.backward = True
    with pytest.raises(SpecError, match="--architecture lstm") as caught:
        command.run(args)
    assert caught.value.field == "--backward"
    assert not (tmp_path / "x.json").exists()


def test_a_broken_tracker_file_falls_back_to_rules(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A convolutional file with a misshapen weight is refused with a warning naming the
    field; beats then come from the onset rules."""
    torch.manual_seed(0)
    document = _document(TcnNetwork())
    document["output"] = {"weight": [[0.0]], "bias": [0.0, 0.0]}
    path = tmp_path / "broken.json"
    path.write_text(json.dumps(document))
    samples = np.zeros(SR * 2, dtype=np.float32)
    with caplog.at_level("WARNING"):
        found = activations(samples, SR, tracker=path)
    assert found.source == "rules"
    assert "output.weight" in caplog.text
