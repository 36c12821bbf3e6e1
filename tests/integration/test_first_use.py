"""What a new user meets first: a models folder with no model file, Ctrl-C in training."""

from __future__ import annotations

import shlex
from pathlib import Path

import pytest

from kelly_core.cli import main
from tests.unit.kelly_runtime.helpers import runtime_registry, write_models

pytest.importorskip("pretty_midi")
pytest.importorskip("soundfile")


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    from tests.unit.kelly_runtime.generate.helpers import tone, write_wav

    return write_wav(tmp_path / "in.wav", tone(2.0, sr=22050, freq=330.0), sr=22050)


class TestGenerateModelsFolder:
    def test_a_folder_without_model_files_is_an_error(
        self, wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        """``--models run/checkpoints`` (the checkpoints, not the run folder): one line
        naming the folder, what was looked for and the parent that holds model files;
        nothing written, exit 2 (it used to run every stage on the fallback, exit 0)."""
        run = write_models(tmp_path / "run", runtime_registry(), seed=0, names=("GroovePredictor",))
        checkpoints = run / "checkpoints" / "groovepredictor"
        checkpoints.mkdir(parents=True)
        (checkpoints / "best.pt").write_bytes(b"not read")
        out = tmp_path / "out.mid"
        argv = ["generate", str(wav), "-o", str(out), "--models", str(run / "checkpoints")]
        assert main(argv) == 2
        err = capsys.readouterr().err
        assert err == (
            f"kelly: error: {run / 'checkpoints'}: --models: no model file in the models "
            "folder (looked for emotionrecognizer, melodytransformer, harmonypredictor, "
            f"dynamicsengine, groovepredictor ending .json or .pt); its parent folder holds "
            f"model files: --models {run}\n"
        )
        assert not out.exists()

    def test_an_empty_folder_and_a_missing_one(
        self, wav: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        (tmp_path / "empty").mkdir()
        out = str(tmp_path / "out.mid")
        assert main(["generate", str(wav), "-o", out, "--models", str(tmp_path / "empty")]) == 2
        err = capsys.readouterr().err
        assert "no model file in the models folder" in err
        assert "its parent" not in err
        assert main(["generate", str(wav), "-o", out, "--models", str(tmp_path / "nope")]) == 2
        assert "--models: no such folder of model files" in capsys.readouterr().err

    def test_a_folder_with_some_model_files_runs(self, wav: Path, tmp_path: Path) -> None:
        """One model file is enough: the other stages run on the fallback (a warning)."""
        models = write_models(
            tmp_path / "m", runtime_registry(), seed=0, names=("GroovePredictor",)
        )
        out = tmp_path / "out.mid"
        argv = ["generate", str(wav), "-o", str(out), "--models", str(models), "--tempo", "120"]
        assert main(argv) == 0
        assert out.read_bytes()[:4] == b"MThd"


class TestTrainInterrupted:
    def test_ctrl_c_says_how_to_resume_and_the_command_resumes(
        self,
        tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        caplog: pytest.LogCaptureFixture,
    ) -> None:
        """Ctrl-C after a model's epochs are checkpointed: exit 130 and one line with the
        same command plus --resume; that command continues from the checkpoint."""
        import kelly_models.training.run as run_module

        run = tmp_path / "run"
        argv = ["train", "--synthetic", "-o", str(run), "-m", "GroovePredictor", "-e", "2"]
        argv += ["-O", "items=12", "--no-progress"]

        def interrupt(*args: object, **kwargs: object) -> None:
            raise KeyboardInterrupt

        with monkeypatch.context() as patch:
            patch.setattr(run_module, "plot_history", interrupt)  # after the fit, before export
            assert main(argv) == 130
        err = capsys.readouterr().err
        (line,) = [x for x in err.splitlines() if x.startswith("kelly: interrupted")]
        assert line == (
            f"kelly: interrupted; the models finished are in {run}, each model's last "
            f"checkpoint under {run / 'checkpoints'}; to continue: "
            f"{shlex.join(['kelly', *argv, '--resume'])}"
        )
        assert list((run / "checkpoints" / "groovepredictor").glob("step-*.pt"))
        again = shlex.split(line.split("; to continue: ")[1])[1:]
        caplog.clear()
        with caplog.at_level("INFO"):
            assert main(again) == 0
        assert any("GroovePredictor: resumed from" in m for m in caplog.messages)
        assert (run / "groovepredictor.json").is_file()

    def test_an_interrupt_elsewhere_is_one_plain_line(
        self, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        def interrupt(*args: object, **kwargs: object) -> int:
            raise KeyboardInterrupt

        monkeypatch.setattr("kelly_core.cli._print_plugins", interrupt)
        assert main(["plugins"]) == 130
        assert capsys.readouterr().err == "kelly: interrupted\n"
