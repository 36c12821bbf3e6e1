"""The metrical-level diagnostic names each ratio of tempi and counts pieces by bucket."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.benchmarks.listening import levels


@given(
    reference=st.floats(30.0, 300.0),
    index=st.integers(0, len(levels.LEVELS) - 1),
    error=st.floats(-0.035, 0.035),
)
def test_a_tempo_near_a_level_is_named_for_it(reference: float, index: int, error: float) -> None:
    name, factor = levels.LEVELS[index]
    assert levels.level(reference * factor * (1.0 + error), reference) == name


@given(reference=st.floats(30.0, 300.0), ratio=st.floats(1.06, 1.42))
def test_a_ratio_between_levels_is_other(reference: float, ratio: float) -> None:
    assert levels.level(reference * ratio, reference) == "other"


def test_no_tempo_is_other() -> None:
    assert levels.level(0.0, 120.0) == "other"
    assert levels.level(120.0, 0.0) == "other"


def test_buckets_by_the_truth() -> None:
    assert [levels.bucket(b) for b in (60.0, 89.9, 90.0, 139.9, 140.0)] == [
        "under 90",
        "under 90",
        "90-140",
        "90-140",
        "140 and over",
    ]
    counts = levels.tabulate([(160.0, 80.0), (81.0, 80.0), (100.0, 150.0), (120.0, 120.0)])
    assert counts == {
        ("under 90", "x2"): 1,
        ("under 90", "x1"): 1,
        ("140 and over", "x2/3"): 1,
        ("90-140", "x1"): 1,
    }


def _piece(folder: Path, name: str, tempo: float, reference: str = "midi") -> None:
    record = {"name": name, "tempo": tempo, "reference": reference}
    (folder / f"{name}.json").write_text(json.dumps(record))
    (folder / f"{name}.wav").write_bytes(b"")


def test_main_counts_a_folder_and_lists_the_misses(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _piece(tmp_path, "slow", 70.0)
    _piece(tmp_path, "fast", 150.0)
    _piece(tmp_path, "rec", 100.0, reference="madmom")
    (tmp_path / "no-audio.json").write_text(json.dumps({"name": "no-audio", "tempo": 1}))
    found = {"slow": 140.0, "fast": 151.0, "rec": 50.0}

    def fake_listen(path: str, tempo_hint: float | None = None) -> dict[str, Any]:
        return {"tempo": found[Path(path).stem]}

    monkeypatch.setattr(levels, "kelly_listen", fake_listen)
    assert levels.main(["--folder", str(tmp_path), "--list"]) == 0
    out = capsys.readouterr().out
    assert "slow: truth 70.0 BPM, Kelly 140.0" in out
    assert "fast:" not in out
    assert "| under 90 | 1 | 0 | 1 | 0 | 0 | 0 | 0 | 0 | 0 |" in out
    assert "| 140 and over | 1 | 1 | 0 |" in out
    assert "| all | 2 | 1 | 1 |" in out
    assert "2 pieces" in out


def test_main_without_pieces_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert levels.main(["--folder", str(tmp_path)]) == 2
    assert "no rendered piece" in capsys.readouterr().err
