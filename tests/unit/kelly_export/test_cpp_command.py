"""``kelly cpp`` and the generated kelly_models.h (text only; compiling is in integration)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.cli import main
from kelly_core.errors import KellyError
from kelly_export.cpp_command import write_cpp
from kelly_export.cpp_files import EXAMPLE_FILES, companion_header, cpp_dir
from kelly_export.cpp_header import model_alias, models_header


def test_alias_lists_every_layer_with_its_activation() -> None:
    alias = model_alias(MODEL_SPECS["EmotionRecognizer"])
    assert alias.startswith("RTNeural::ModelT<float, 128, 64,")
    assert [part.strip() for part in alias.split("\n")[1:]] == [
        "RTNeural::DenseT<float, 128, 512>,",
        "RTNeural::TanhActivationT<float, 512>,",
        "RTNeural::DenseT<float, 512, 256>,",
        "RTNeural::TanhActivationT<float, 256>,",
        "RTNeural::LSTMLayerT<float, 256, 128>,",
        "RTNeural::DenseT<float, 128, 64>,",
        "RTNeural::TanhActivationT<float, 64>>",
    ]
    assert "RTNeural::SoftmaxActivationT<float, 64>>" in model_alias(
        MODEL_SPECS["HarmonyPredictor"]
    )


def test_header_carries_each_spec_hash_and_the_eigen_note() -> None:
    text = models_header()
    for spec in MODEL_SPECS.values():
        assert f"struct {spec.name} {{" in text
        assert f'spec_hash = "{spec.spec_hash}"' in text
        assert f"input_size = {spec.input_size};" in text
    assert "#define EIGEN_STACK_ALLOCATION_LIMIT 0" in text
    assert text.count("{") == text.count("}")


def test_header_says_how_the_companion_builds_each_input() -> None:
    text = models_header()
    melody = text.split("/// MelodyTransformer: 64 -> 128")[1].split("struct MelodyTransformer")[0]
    assert "/// Input: kelly::melody_context:" in melody
    assert "kelly::MelodyHistory" in melody
    assert "kelly::melody_feedback" in melody
    assert all(len(line) <= 100 for line in melody.splitlines())
    dynamics = text.split("/// DynamicsEngine:")[1].split("struct DynamicsEngine")[0]
    assert "kelly::compact_context" in dynamics
    companion = companion_header().read_text()
    for name in ("melody_context", "MelodyHistory", "melody_feedback", "compact_context"):
        assert f" {name}(" in companion or f"struct {name} " in companion


def test_kelly_cpp_writes_headers_and_example(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["cpp", "--output", str(tmp_path / "out")]) == 0
    written = sorted(
        p.relative_to(tmp_path / "out").as_posix()
        for p in (tmp_path / "out").rglob("*")
        if p.is_file()
    )
    assert written == sorted(["kelly_models.h", "kelly_companion.h", *EXAMPLE_FILES])
    assert (tmp_path / "out" / "kelly_companion.h").read_text() == companion_header().read_text()
    assert "wrote" in capsys.readouterr().out


def test_kelly_cpp_refuses_a_file_as_output(tmp_path: Path) -> None:
    target = tmp_path / "file.txt"
    target.write_text("x")
    with pytest.raises(KellyError, match="not a folder"):
        write_cpp(target)


def test_package_data_is_inside_the_package() -> None:
    assert (cpp_dir() / "kelly_companion.h").is_file()
    assert (cpp_dir() / "kelly_models.h.in").is_file()
    for name in EXAMPLE_FILES:
        assert (cpp_dir() / name).is_file()
