"""``kelly generate`` without ``--models``: the shipped reference models, said on stderr;
``--fallback`` for the rules; an installation without the files falls back, warning."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.cli import main
from kelly_export.rtneural import RTNeuralExporter
from kelly_runtime.generate import command as generate_command
from tests.unit.kelly_export.helpers import random_arrays
from tests.unit.kelly_runtime.generate.helpers import tone, write_wav

pytest.importorskip("pretty_midi")
pytest.importorskip("soundfile")


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    return write_wav(tmp_path / "in.wav", tone(2.0, freq=330.0))


def _stderr(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> str:
    return capsys.readouterr().err + "\n".join(caplog.messages)


def _shipped(monkeypatch: pytest.MonkeyPatch, folder: Path | None) -> None:
    monkeypatch.setattr(generate_command, "reference_models_dir", lambda: folder)


def test_no_models_runs_the_shipped_ones_and_says_so(
    wav: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    folder = tmp_path / "shipped"
    folder.mkdir()
    spec = MODEL_SPECS["GroovePredictor"]
    RTNeuralExporter().export(spec, random_arrays(spec, 1), folder)
    _shipped(monkeypatch, folder)
    assert main(["generate", str(wav), "-o", str(tmp_path / "a.mid"), "--tempo", "120"]) == 0
    err = _stderr(capsys, caplog)
    assert f"kelly generate: using Kelly's shipped reference models ({folder})" in err
    assert "running on fallback for 4 of 5 stages" in err  # the folder holds one model
    assert "GroovePredictor" not in err.split("running on fallback", 1)[1].splitlines()[0]


def test_fallback_flag_runs_the_rules(
    wav: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _shipped(monkeypatch, tmp_path)  # never consulted
    out = tmp_path / "b.mid"
    assert main(["generate", str(wav), "-o", str(out), "--tempo", "120", "--fallback"]) == 0
    assert out.read_bytes()[:4] == b"MThd"
    err = _stderr(capsys, caplog)
    assert "running on fallback for 5 of 5 stages" in err
    assert "(--fallback)" in err
    assert "shipped" not in err


def test_without_shipped_files_it_falls_back_and_warns(
    wav: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    _shipped(monkeypatch, None)
    assert main(["generate", str(wav), "-o", str(tmp_path / "c.mid"), "--tempo", "120"]) == 0
    err = _stderr(capsys, caplog)
    assert "running on fallback for 5 of 5 stages" in err
    assert "(no --models, no shipped models)" in err


def test_models_and_fallback_together_are_refused(
    wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as caught:
        main(
            [
                "generate",
                str(wav),
                "-o",
                str(tmp_path / "d.mid"),
                "--models",
                str(tmp_path),
                "--fallback",
            ]
        )
    assert caught.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err
    assert not (tmp_path / "d.mid").exists()


def test_shipped_and_fallback_differ(
    wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The shipped folder's model changes what is played (it is really run)."""
    folder = tmp_path / "shipped"
    folder.mkdir()
    spec = MODEL_SPECS["HarmonyPredictor"]
    RTNeuralExporter().export(spec, random_arrays(spec, 2, scale=1.0), folder)
    _shipped(monkeypatch, folder)
    a, b = tmp_path / "a.mid", tmp_path / "b.mid"
    assert main(["generate", str(wav), "-o", str(a), "--tempo", "120", "--bars", "4"]) == 0
    argv = ["generate", str(wav), "-o", str(b), "--tempo", "120", "--bars", "4", "--fallback"]
    assert main(argv) == 0
    assert a.read_bytes() != b.read_bytes()
    assert np.frombuffer(a.read_bytes()[:4], dtype=np.uint8).tolist() == list(b"MThd")
