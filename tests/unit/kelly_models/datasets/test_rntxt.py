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
    def test_absolute_keeps_roots(self, tmp_path: Path) -> None:
        """key_relative=False gives the chords in the written keys."""
        (tmp_path / "a.rntxt").write_text(RNTXT, encoding="utf-8")
        ds = open_rntxt(tmp_path, key_relative=False, cache_dir=tmp_path / "cache", workers=1)
        labels = [chord_label(int(i)) for i in ds[0].targets.argmax(axis=1)]
        assert labels == ["C:maj", "F:maj", "G:7", "C:maj", "A:min", "D:min", "E:7", "A:min"]
        assert ds.tonal_reference == "absolute"

    def test_g_major_is_moved_to_c(self, tmp_path: Path) -> None:
        """The same cadence in G major reads as the one in C major."""
        text = RNTXT.replace("m1 C:", "m1 G:").replace("m3 a:", "m3 e:")
        (tmp_path / "g.rntxt").write_text(text, encoding="utf-8")
        (tmp_path / "c.rntxt").write_text(RNTXT, encoding="utf-8")
        ds = open_rntxt(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        assert np.array_equal(ds[0].targets, ds[1].targets)

    def test_reads_numerals(self, tmp_path: Path) -> None:
        """Numerals become chord classes relative to the local tonic (A minor -> C minor)."""
        (tmp_path / "a.rntxt").write_text(RNTXT, encoding="utf-8")
        (tmp_path / "broken.rntxt").write_text("m1 C: Q9x\n", encoding="utf-8")
        ds = open_rntxt(tmp_path, cache_dir=tmp_path / "cache", workers=1)
        assert len(ds) == 1
        ex = ds[0]
        labels = [chord_label(int(i)) for i in ex.targets.argmax(axis=1)]
        assert labels == ["C:maj", "F:maj", "G:7", "C:maj", "C:min", "F:min", "G:7", "C:min"]
        assert ex.inputs.shape == (8, 128)
        assert ds.tonal_reference == "tonic"
        assert [s.path.name for s in ds.skipped] == ["broken.rntxt"]
        assert np.all(ex.inputs[0, 64:] == np.eye(64)[60])


class TestChordsJsonKeyRelative:
    def test_symbols_and_numerals_relative_to_the_key(self, tmp_path: Path) -> None:
        """Numerals, symbols with a key and symbols with an estimated key all read as C."""
        import json

        from kelly_models.datasets.chords import open_chords

        progressions = [
            {"numerals": ["I", "IV", "V7", "I"], "key": "D"},
            {"chords": ["D", "G", "A7", "D"], "key": "D"},
            {"chords": ["D", "G", "A7", "D", "Bm", "Em", "A7", "D"]},
            {"numerals": ["i", "iv", "V7", "i"], "key": "b"},
        ]
        (tmp_path / "p.json").write_text(json.dumps(progressions), encoding="utf-8")
        ds = open_chords(tmp_path, use_cache=False, workers=1)
        labels = [[chord_label(int(i)) for i in ex.targets.argmax(axis=1)] for ex in ds]
        assert labels[0] == labels[1] == ["C:maj", "F:maj", "G:7", "C:maj"]
        assert labels[2][:4] == labels[0]
        assert labels[3] == ["C:min", "F:min", "G:7", "C:min"]
        absolute = open_chords(tmp_path, key_relative=False, use_cache=False, workers=1)
        assert chord_label(int(absolute[1].targets[0].argmax())) == "D:maj"
