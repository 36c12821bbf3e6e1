"""Synthetic data: shapes, determinism, and learnable structure (simple classifiers)."""

from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kelly_core.catalog import MODEL_SPECS
from kelly_core.encodings.emotion import decode_coarse_emotions, decode_emotions
from kelly_core.encodings.emotion_frame import EMOTION_FRAME_COLUMNS
from kelly_core.encodings.melody import notes_to_multihot
from kelly_core.errors import DatasetError
from kelly_core.records import Example
from kelly_models.datasets.labeller import mode_score
from kelly_models.datasets.synthetic import (
    MAJOR,
    MINOR,
    flip_mode,
    sounding_multihot,
    synthetic_dynamics,
    synthetic_emotion,
    synthetic_groove,
    synthetic_harmony,
    synthetic_melody,
)
from kelly_models.datasets.synthetic.emotion import _room, _segment_notes, _voicing

FACTORIES = [
    synthetic_emotion,
    synthetic_melody,
    synthetic_harmony,
    synthetic_dynamics,
    synthetic_groove,
]


@pytest.fixture(scope="module")
def emotion_items() -> list[Example]:
    """160 synthetic emotion items of 20 windows (10 s), generated once."""
    ds = synthetic_emotion(items=160, steps=20)
    return [ds[i] for i in range(160)]


class TestShapes:
    @pytest.mark.parametrize("factory", FACTORIES)
    def test_model_sizes(self, factory: object) -> None:
        """Every item matches its model's input and output sizes, and is deterministic."""
        ds = factory(items=3, steps=8)  # type: ignore[operator]  # a factory
        spec = MODEL_SPECS[ds.model_name]
        ex = ds[2]
        assert ex.inputs.shape == (8, spec.input_size)
        assert ex.targets.shape == (8, spec.output_size)
        again = factory(items=3, steps=8)[2]  # type: ignore[operator]  # a factory
        np.testing.assert_array_equal(ex.inputs, again.inputs)
        other = factory(items=3, steps=8, seed=1)[2]  # type: ignore[operator]  # a factory
        assert not np.array_equal(ex.targets, other.targets) or not np.array_equal(
            ex.inputs, other.inputs
        )

    def test_no_root(self) -> None:
        """A synthetic dataset refuses a real root folder, accepts '-'."""
        with pytest.raises(DatasetError):
            synthetic_groove(Path("some/folder"))
        assert len(synthetic_groove(Path("-"), items=2)) == 2


class TestLearnable:
    def test_emotion_no_level_or_register_shortcut(self, emotion_items: list[Example]) -> None:
        """Level is random (levelled, then ±15 dB per segment and ±6 dB per window) and
        the register is drawn apart from the emotion: neither a window's loudness (its
        frame's level) nor its spectral centroid tracks arousal or valence."""
        x = np.concatenate([e.inputs for e in emotion_items]).astype(np.float64)
        y = np.concatenate([decode_emotions(e.targets) for e in emotion_items])
        loudness = x[:, EMOTION_FRAME_COLUMNS["level"].start]
        power = 10 ** (6 * x[:, EMOTION_FRAME_COLUMNS["shape"]])  # relative power per band
        centroid = (power * np.arange(power.shape[1])).sum(axis=1) / power.sum(axis=1)
        for feature in (loudness, centroid):
            assert abs(np.corrcoef(feature, y[:, 1])[0, 1]) < 0.2
            assert abs(np.corrcoef(feature, y[:, 0])[0, 1]) < 0.2
        assert np.ptp(loudness) > 20 / 60  # the level does vary (more than 20 dB)

    def test_emotion_arousal_audible(self, emotion_items: list[Example]) -> None:
        """Ridge regression on four consecutive windows predicts arousal on held-out items
        (tempo, notes per beat and articulation are audible whatever the level)."""
        rows, target, item = [], [], []
        for i, example in enumerate(emotion_items):
            x, y = example.inputs, decode_emotions(example.targets)
            for t in range(3, len(x)):
                rows.append(x[t - 3 : t + 1].ravel())
                target.append(y[t, 1])
                item.append(i)
        z, a, train = np.array(rows), np.array(target), np.array(item) < 120
        mu, sd = z[train].mean(0), z[train].std(0) + 1e-6
        z = np.c_[(z - mu) / sd, np.ones(len(z))]
        w = np.linalg.solve(z[train].T @ z[train] + 30 * np.eye(z.shape[1]), z[train].T @ a[train])
        assert np.corrcoef(z[~train] @ w, a[~train])[0, 1] > 0.4

    def test_emotion_mode_carries_valence(self) -> None:
        """The notes of a segment are in major when valence is high, minor when low."""
        agree = 0
        for k in range(80):
            valence = 0.8 if k % 2 else -0.8
            rng = np.random.default_rng(k)
            _, major, notes = _segment_notes(rng, valence, float(rng.uniform(-1, 1)), 5.0)
            pcs = [p % 12 for _, p, _, _, _ in notes]
            hist = np.bincount(pcs, weights=[d for *_, d, _ in notes], minlength=12)
            agree += int(major == (valence > 0)) + int((mode_score(hist[None])[0] > 0) == major)
        assert agree / 160 > 0.85

    def test_emotion_register_apart_from_emotion(self) -> None:
        """The tune's register spans three octaves and the bass two or three octaves below
        it (never below E1), whatever the emotion: register cannot carry valence or arousal."""
        tops, basses, valences, arousals = [], [], [], []
        for k in range(200):
            rng = np.random.default_rng([7, k])
            valence, arousal = rng.uniform(-1, 1, size=2)
            _, _, notes = _segment_notes(rng, float(valence), float(arousal), 4.0)
            tops.append(np.mean([p for v, p, *_ in notes if v == 0]))
            basses.append(min(p for v, p, *_, amp in notes if v == 1 and amp == 0.8))
            assert min(p for v, p, *_ in notes if v == 1) >= 28
            valences.append(valence)
            arousals.append(arousal)
        assert np.ptp(tops) > 30
        assert min(basses) == 28
        assert max(basses) > 55
        for label in (valences, arousals):
            assert abs(np.corrcoef(tops, label)[0, 1]) < 0.2

    def test_room_adds_a_decaying_tail(self) -> None:
        """The random room keeps the dry sound and adds a tail that decays after it."""
        dry = np.zeros(3 * 22050, dtype=np.float32)
        dry[:2205] = 1.0
        tails = []
        for seed in range(5):
            wet = _room(dry, np.random.default_rng(seed))
            assert wet.dtype == np.float32
            assert wet.shape == dry.shape
            early, late = (float(np.mean(wet[a : a + 2205] ** 2)) for a in (2205, 22050))
            assert late < early  # decays
            tails.append(early)
        assert max(tails) > 1e-3  # some rooms are audible
        assert np.ptp(tails) > 0  # and the rooms differ

    def test_voicing(self) -> None:
        """Close chords sit within an octave below the tune; spread ones over two."""
        close = _voicing(72, 0, (0, 4, 7), False)
        spread = _voicing(72, 0, (0, 4, 7), True)
        assert sorted(p % 12 for p in close) == sorted(p % 12 for p in spread) == [0, 4, 7]
        assert max(close) < 72
        assert np.ptp(close) < 12
        assert max(spread) < 72
        assert np.ptp(spread) > 12

    def test_flip_mode(self) -> None:
        """The parallel-mode flip maps C major's scale to C harmonic minor and back."""
        major = [60 + d for d in MAJOR] + [72 + 4]
        minor = flip_mode(major, 0, True)
        assert minor == [60 + d for d in MINOR] + [72 + 3]
        assert flip_mode(minor, 0, False) == major
        assert flip_mode([62 + d for d in MAJOR], 2, True) == [62 + d for d in MINOR]

    def test_melody_mode(self) -> None:
        """The key-profile labeller finds major vs minor in clearly valenced segments."""
        ds = synthetic_melody(items=40)
        hits = total = 0
        for i in range(40):
            ex = ds[i]
            labels = decode_coarse_emotions(ex.inputs[:, :16])
            for s in range(0, 64, 16):
                if abs(labels[s, 0]) < 0.3:
                    continue
                hist = ex.targets[s : s + 16, :120].reshape(16, 10, 12).sum(axis=(0, 1))
                hits += int((mode_score(hist[None])[0] > 0) == (labels[s, 0] > 0))
                total += 1
        assert hits / total > 0.65

    def test_melody_structure(self) -> None:
        """Emotion plus beat-in-phrase predicts the notes far better than the global prior.

        A lookup table of the mean training target per (valence band, arousal band,
        beat % 16) cell picks the k most likely pitches a beat (k = mean notes per beat,
        as the training baseline does); on held-out items its note F1 must clearly beat
        the k most frequent training pitches, and beat position must add to emotion alone.
        (The former random-walk generator scored 0.08 here against a prior of 0.09.)
        """
        items, steps = 200, 64
        ds = synthetic_melody(items=items, steps=steps)
        emotion = np.concatenate(
            [decode_coarse_emotions(ds[i].inputs[:, :16]) for i in range(items)]
        )
        notes = np.concatenate([ds[i].targets for i in range(items)]) > 0
        train = np.repeat([ds[i].split == "train" for i in range(items)], steps)
        beat = np.tile(np.arange(steps) % 16, items)
        band = np.digitize(emotion[:, 0], [-0.5, 0.0, 0.5]) * 6 + np.clip(
            ((emotion[:, 1] + 1) * 3).astype(int), 0, 5
        )
        k = round(float(notes[train].sum(axis=1).mean()))
        prior = notes[train].mean(axis=0)

        def held_out_f1(scores: np.ndarray) -> float:
            top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
            guess = np.zeros_like(notes)
            np.put_along_axis(guess, top, True, axis=1)
            hits = (guess & notes)[~train].sum()
            return float(2 * hits / (guess[~train].sum() + notes[~train].sum()))

        def table_f1(cell: np.ndarray) -> float:
            sums = np.zeros((int(cell.max()) + 1, notes.shape[1]))
            np.add.at(sums, cell[train], notes[train])
            counts = np.bincount(cell[train], minlength=len(sums))[:, None]
            table = np.where(counts > 0, sums / np.maximum(counts, 1), prior)
            return held_out_f1(table[cell])

        baseline = held_out_f1(np.broadcast_to(prior, notes.shape))
        emotion_only = table_f1(band)
        with_beat = table_f1(band * 16 + beat)
        assert with_beat > baseline + 0.25
        assert with_beat > 2 * baseline
        assert with_beat > emotion_only + 0.15

    def test_melody_phrases(self) -> None:
        """Fixed C reference tonic: every full 16-beat phrase ends on a C, alone."""
        ds = synthetic_melody(items=20)
        for i in range(20):
            targets = ds[i].targets
            for end in range(15, len(targets), 16):
                (pitches,) = np.nonzero(targets[end])
                assert len(pitches) == 1
                assert pitches[0] % 12 == 0

    def test_groove_arousal(self) -> None:
        """Nearest centroid on groove vectors separates high from low arousal."""
        ds = synthetic_groove(items=40)
        x = np.concatenate([ds[i].targets for i in range(40)])
        y = np.concatenate([decode_emotions(ds[i].inputs)[:, 1] > 0 for i in range(40)])
        train = np.repeat(np.arange(40), 16) < 30
        c1, c0 = x[train & y].mean(0), x[train & ~y].mean(0)
        pred = np.linalg.norm(x - c1, axis=1) < np.linalg.norm(x - c0, axis=1)
        assert (pred[~train] == y[~train]).mean() > 0.8

    def test_dynamics_velocity(self) -> None:
        """Velocity targets follow arousal."""
        ds = synthetic_dynamics(items=10)
        ex = ds[0]
        vel = np.concatenate([ds[i].targets[:, 0] for i in range(10)])
        coarse = np.concatenate([ds[i].inputs[:, :16] for i in range(10)])
        high = coarse.reshape(-1, 4, 4)[:, :, 2:].max(axis=(1, 2)) > coarse.reshape(-1, 4, 4)[
            :, :, :2
        ].max(axis=(1, 2))
        assert vel[high].mean() > vel[~high].mean() + 0.1
        assert ex.targets.min() >= 0
        assert ex.targets.max() <= 1

    def test_harmony_mode(self) -> None:
        """Minor-family chords dominate when valence is negative."""
        ds = synthetic_harmony(items=60)
        correct = 0
        for i in range(60):
            ex = ds[i]
            valence = decode_coarse_emotions(ex.inputs[:1, :16])[0, 0]
            chords = ex.targets.argmax(axis=1)
            minor = np.isin(chords % 5, (1, 2)) & (chords < 60)
            correct += int((minor.mean() > 0.4) == (valence < 0))
        assert correct / 60 > 0.7


class TestVectorised:
    @settings(max_examples=100, deadline=None)
    @given(
        notes=st.lists(
            st.tuples(st.integers(-2, 130), st.floats(-1.0, 9.0), st.floats(0.0, 2.0)),
            max_size=30,
        ),
        lengths=st.lists(st.floats(0.05, 1.0), min_size=1, max_size=16),
    )
    def test_sounding_multihot(
        self, notes: list[tuple[int, float, float]], lengths: list[float]
    ) -> None:
        """The vectorised sounding-pitch grid equals notes_to_multihot's loop."""
        bounds = np.concatenate([[0.0], np.cumsum(lengths)])
        triples = [(p, s, s + d) for p, s, d in notes]
        table = np.array(triples, dtype=np.float64).reshape(len(triples), 3)
        got = sounding_multihot(table[:, 0].astype(int), table[:, 1], table[:, 2], bounds)
        np.testing.assert_array_equal(got, notes_to_multihot(triples, bounds))


@pytest.mark.parametrize(
    ("module", "model"),
    [
        ("emotion", "EmotionRecognizer"),
        ("melody", "MelodyTransformer"),
        ("harmony", "HarmonyPredictor"),
        ("dynamics", "DynamicsEngine"),
        ("groove", "GroovePredictor"),
    ],
)
def test_each_generator_module_makes_its_models_items(module: str, model: str) -> None:
    """One module per generator: ``<module>_item(rng, steps)`` gives the model's sizes,
    and the same seed the same arrays."""
    generate = getattr(importlib.import_module(f"kelly_models.datasets.synthetic.{module}"),
                       f"{module}_item")  # fmt: skip
    spec = MODEL_SPECS[model]
    inputs, targets = generate(np.random.default_rng(5), 6)
    assert inputs.shape == (6, spec.input_size)
    assert targets.shape == (6, spec.output_size)
    again, _ = generate(np.random.default_rng(5), 6)
    np.testing.assert_array_equal(inputs, again)
