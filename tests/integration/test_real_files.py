"""Readers on real music shipped by installed packages (offline): miditoolkit's pop-piano
example ``1390.mid`` in the Lakh layout, and music21's Roman-numeral corpus."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import numpy as np
import pytest

from kelly_core.encodings.emotion import decode_coarse_emotions
from kelly_models.datasets.lakh import open_lakh
from kelly_models.datasets.midi import load_score, piece_key

miditoolkit = pytest.importorskip("miditoolkit")
EXAMPLE = Path(miditoolkit.__file__).parent / "midi" / "examples_data" / "1390.mid"


@pytest.fixture
def lakh_root(tmp_path: Path) -> Path:
    """The real file placed as Lakh's lmd_full ships it: ``lmd_full/<md5[0]>/<md5>.mid``."""
    if not EXAMPLE.is_file():
        pytest.skip("miditoolkit's example 1390.mid is not installed")
    digest = hashlib.md5(EXAMPLE.read_bytes()).hexdigest()  # Lakh's naming
    target = tmp_path / "lmd_full" / digest[0] / f"{digest}.mid"
    target.parent.mkdir(parents=True)
    shutil.copyfile(EXAMPLE, target)
    return tmp_path / "lmd_full"


class TestLakhOnRealMidi:
    def test_melody_track_is_the_one_named_melody(self, lakh_root: Path) -> None:
        """The reader picks the 'melody' track over the busier piano track."""
        dataset = open_lakh(lakh_root, use_cache=False, workers=1)
        assert len(dataset) == 1
        assert list(dataset.skipped) == []
        example = dataset[0]
        score = load_score(EXAMPLE)
        shift = piece_key(score).shift  # the reader moves the piece to C
        tracks = {t.name: t for t in score.tracks}
        melody_pitches = {n[0] + shift for n in tracks["melody"].notes}
        sounding = set(np.nonzero(example.targets.any(axis=0))[0].tolist())
        assert sounding
        assert sounding <= melody_pitches
        assert len(sounding) >= 0.9 * len(melody_pitches)  # the melody, not a fragment of it
        piano_only = {n[0] + shift for n in tracks["piano"].notes} - melody_pitches
        assert piano_only  # the test would be vacuous if the tracks shared every pitch

    def test_key_relative_melody(self, lakh_root: Path) -> None:
        """The melody is moved to the tonic C; key_relative=False keeps the written pitches."""
        score = load_score(EXAMPLE)
        key = piece_key(score)
        relative = open_lakh(lakh_root, use_cache=False, workers=1)[0].targets
        absolute = open_lakh(lakh_root, key_relative=False, use_cache=False, workers=1)[0].targets
        assert key.shift != 0  # the file is not in C, so the test moves something
        assert np.array_equal(np.roll(absolute, key.shift, axis=1), relative)

    def test_shapes_and_labels(self, lakh_root: Path) -> None:
        """One step per beat of the real tempo map; emotion labels decode inside the square."""
        example = open_lakh(lakh_root, use_cache=False, workers=1)[0]
        beats = len(load_score(EXAMPLE).beat_bounds()) - 1
        assert example.inputs.shape == (beats, 64)
        assert example.targets.shape == (beats, 128)
        va = decode_coarse_emotions(example.inputs[:, :16])
        assert np.all(np.abs(va) <= 1.0 + 1e-6)
        assert va[:, 0].std() > 0 or va[:, 1].std() > 0  # the labeller follows the music


class TestMusic21Analyses:
    def test_real_roman_numeral_analyses(self) -> None:
        """Real chorale analyses: one-hot chord targets, contexts fed the previous chord."""
        pytest.importorskip("music21")
        from kelly_core.encodings.chords import NO_CHORD, chord_label
        from kelly_models.datasets.rntxt import open_rntxt

        dataset = open_rntxt(None, limit=3, use_cache=False, workers=1)
        assert len(dataset) == 3
        assert list(dataset.skipped) == []
        for index in range(len(dataset)):
            example = dataset[index]
            assert np.all(example.targets.sum(axis=1) == 1)
            chords = example.targets.argmax(axis=1)
            # context = [emotion 64 | previous chord 64]: teacher forcing on the true chord
            previous = example.inputs[1:, 64:].argmax(axis=1)
            assert np.array_equal(previous, chords[:-1])
            common = np.bincount(chords, minlength=64).argmax()
            assert common != NO_CHORD
            assert chord_label(int(common)).split(":")[1] in ("maj", "min")

    def test_chorales_key_relative_centre_on_the_tonic(self) -> None:
        """Real chorales in several keys: the tonic triad (C, or Cm in minor) and the
        dominant (G, G7) are the commonest chords once read relative to the tonic."""
        pytest.importorskip("music21")
        from kelly_core.encodings.chords import chord_index
        from kelly_models.datasets.rntxt import corpus_rntxt_files, open_rntxt

        chorales = next(p.parent for p in corpus_rntxt_files() if "choraleAnalyses" in str(p))
        relative = open_rntxt(chorales, limit=4, use_cache=False, workers=1)
        absolute = open_rntxt(chorales, limit=4, key_relative=False, use_cache=False, workers=1)
        core = [chord_index(0, "maj"), chord_index(0, "min"), chord_index(7, "maj"),
                chord_index(7, "7")]  # fmt: skip
        rel = np.concatenate([e.targets for e in relative]).argmax(axis=1)
        ab = np.concatenate([e.targets for e in absolute]).argmax(axis=1)
        assert np.isin(rel, core).mean() > 0.4
        assert np.isin(rel, core).mean() > np.isin(ab, core).mean() + 0.1
        assert len(set(rel.tolist())) < len(set(ab.tolist()))  # fewer distinct classes
