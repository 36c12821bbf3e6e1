"""``kelly bench``'s in-process baseline: the reference step timed, ratios, the estimate."""

from __future__ import annotations

import argparse
import io
import json

import pytest

from kelly_core.catalog import MODEL_SPECS
from kelly_core.records import LoadedModel
from kelly_runtime._reference import REFERENCE_MACHINE_US
from kelly_runtime.bench import (
    BASELINE_NAME,
    BackendBench,
    Latency,
    baseline_keys,
    bench_baseline,
    estimate_reference_us,
    write_baseline,
)
from kelly_runtime.commands import BenchCommand
from kelly_runtime.pipeline import STAGES
from tests.unit.kelly_runtime.helpers import random_arrays


def _models() -> dict[str, LoadedModel]:
    return {
        name: LoadedModel(spec=MODEL_SPECS[name], arrays=random_arrays(MODEL_SPECS[name], 3))
        for name in STAGES
    }


def _bench(name: str, pipeline_us: float) -> BackendBench:
    lat = Latency(median_us=pipeline_us, p99_us=2 * pipeline_us, p999_us=3 * pipeline_us, calls=9)
    return BackendBench(backend=name, models={s: lat for s in STAGES}, pipeline=lat)


def _run(argv: list[str]) -> int:
    command = BenchCommand()
    parser = argparse.ArgumentParser()
    command.configure(parser)
    return command.run(parser.parse_args(argv))


def test_bench_baseline_times_every_model() -> None:
    """The baseline is timed like a backend: five models and the pipeline."""
    result = bench_baseline(_models(), steps=5, warmup=1)
    assert result.backend == BASELINE_NAME
    assert set(result.models) == set(STAGES)
    assert result.pipeline.calls == 5
    assert 0 < result.pipeline.median_us <= result.pipeline.p99_us


def test_estimate_scales_by_the_reference_figure() -> None:
    """Half the baseline's time here is half of 128 µs there."""
    assert estimate_reference_us(50.0, 100.0) == pytest.approx(REFERENCE_MACHINE_US / 2)


def test_baseline_keys_and_text() -> None:
    """JSON gains the baseline object, the ratio and the estimate; the text says estimate."""
    keys = baseline_keys(_bench("numpy", 60.0), _bench(BASELINE_NAME, 120.0))
    baseline = keys["baseline"]
    assert isinstance(baseline, dict)
    assert baseline["backend"] == BASELINE_NAME
    assert baseline["pipeline"] == {"median_us": 120.0, "p99_us": 240.0}
    assert keys["ratio_to_baseline"] == 0.5
    assert keys["estimated_reference_machine_us"] == 64.0
    out = io.StringIO()
    write_baseline(out, [_bench("numpy", 60.0)], _bench(BASELINE_NAME, 120.0))
    text = out.getvalue()
    assert "0.50x the baseline" in text
    assert "~64 µs (an estimate, not a measurement)" in text


def test_command_json_keeps_keys_and_adds_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    """--json: the existing keys are unchanged, the baseline keys are added."""
    argv = ["--backend", "numpy", "--steps", "10", "--warmup", "1", "--no-async", "--json"]
    assert _run(argv) == 0
    document = json.loads(capsys.readouterr().out)
    assert {"backend", "models", "pipeline", "ratio"} <= set(document)
    assert document["baseline"]["backend"] == BASELINE_NAME
    assert set(document["baseline"]["models"]) == set(MODEL_SPECS)
    assert document["baseline"]["reference_machine_us"] == REFERENCE_MACHINE_US
    ratio = document["pipeline"]["median_us"] / document["baseline"]["pipeline"]["median_us"]
    assert document["ratio_to_baseline"] == pytest.approx(ratio, abs=1e-3)
    assert document["estimated_reference_machine_us"] == pytest.approx(
        ratio * REFERENCE_MACHINE_US, abs=0.1
    )


def test_command_no_baseline(capsys: pytest.CaptureFixture[str]) -> None:
    """--no-baseline skips it: no baseline keys, no baseline lines."""
    argv = ["--backend", "numpy", "--steps", "5", "--warmup", "1", "--no-async"]
    assert _run([*argv, "--json", "--no-baseline"]) == 0
    assert "baseline" not in json.loads(capsys.readouterr().out)
    assert _run([*argv, "--no-baseline"]) == 0
    assert "baseline" not in capsys.readouterr().out
    assert _run(argv) == 0
    assert "estimated on the reference machine" in capsys.readouterr().out
