"""Tests for the RomanText reader (music21)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.chords import chord_label
from kelly_models.datasets.rntxt import open_rntxt

pytest.importorskip("music21")

RNTXT = """Composer: Test
Title: Cadence
Analyst: Kelly
Time Signature: 4/4

m1 C: I b3 IV
m2 V7 b3 I
m3 a: i b3 iv
m4 V7 b3 i
"""


class TestRntxt:
    def test_reads_numerals(self, tmp_path: Path) -> None:
        """Numerals become chord classes; the key's mode sets valence."""
        (tmp_path / "a.rntxt").write_text(RNTXT, encoding="utf-8")
        (tmp_path / "broken.rntxt").write_text("m1 C: Q9x\n", encoding="utf-8")
        ds = open_rntxt(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        assert len(ds) == 1
        ex = ds[0]
        labels = [chord_label(int(i)) for i in ex.targets.argmax(axis=1)]
        assert labels == ["C:maj", "F:maj", "G:7", "C:maj", "A:min", "D:min", "E:7", "A:min"]
        assert ex.inputs.shape == (8, 128)
        assert [s.path.name for s in ds.skipped] == ["broken.rntxt"]
        assert np.all(ex.inputs[0, 64:] == np.eye(64)[60])
