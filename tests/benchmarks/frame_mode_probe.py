"""How well a linear probe tells major from the parallel minor: log-mel means vs emotion frame.

Renders ``--pieces`` synthetic emotion segments (:mod:`kelly_models.datasets.synthetic`:
random key, register, timbres, room and level), each once as drawn and once with the same
notes, timbres and gain in the parallel mode, so the mode is the only difference. Each
0.5 s window becomes (a) the mean of its 128 log-mel frames (the EmotionRecognizer's input
before the emotion frame) and (b) its emotion frame; a ridge classifier (standardised
inputs, labels ±1, ``--ridge``) is fitted on the windows of the first 2/3 of the pieces
and scored on the windows of the rest (other keys, timbres and rooms). Prints the
held-out accuracy per window and per render (its windows' mean score), for the whole
input and for the emotion frame's column groups alone. About a minute on one core::

    .venv/bin/python tests/benchmarks/frame_mode_probe.py
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence

import numpy as np

from kelly_core.encodings.emotion_frame import EMOTION_FRAME_COLUMNS, offline_emotion_frames
from kelly_core.encodings.logmel import frames_per_window, offline_log_mel, window_means
from kelly_models.datasets.synthetic.emotion import _render_segment  # the generator's renderer

SR = 22050
GROUPS = {
    "emotion frame": slice(0, 128),
    "  shape + level only": slice(0, EMOTION_FRAME_COLUMNS["level_spread"].stop),
    "  mode cues only": EMOTION_FRAME_COLUMNS["mode"],
    "  tonic chroma only": slice(
        EMOTION_FRAME_COLUMNS["tonic_chroma"].start,
        EMOTION_FRAME_COLUMNS["window_tonic_chroma"].stop,
    ),
}


def renders(pieces: int, seconds: float) -> list[tuple[int, bool, np.ndarray]]:
    """``(piece, major, audio)``: each piece as drawn and in its parallel mode."""
    out = []
    for piece in range(pieces):
        valence = 0.6 if piece % 2 else -0.6  # major with probability sigmoid(12) or 1 - it
        arousal = float(np.random.default_rng([piece, 1]).uniform(-1, 1))
        for flip in (False, True):
            rng = np.random.default_rng([piece, 0])
            audio = _render_segment(rng, valence, arousal, seconds, flip=flip)
            out.append((piece, (valence > 0) != flip, np.asarray(audio, dtype=np.float64)))
    return out


def probe(
    x: np.ndarray, y: np.ndarray, render: np.ndarray, train: np.ndarray, ridge: float
) -> tuple[float, float]:
    """Held-out accuracy per window and per render of a ridge classifier."""
    mu, sd = x[train].mean(0), x[train].std(0) + 1e-6
    z = np.c_[(x - mu) / sd, np.ones(len(x))]
    w = np.linalg.solve(z[train].T @ z[train] + ridge * np.eye(z.shape[1]), z[train].T @ y[train])
    score = z @ w
    test = ~train
    per_window = float(np.mean(np.sign(score[test]) == y[test]))
    ids = np.unique(render[test])
    per_render = float(
        np.mean([np.sign(score[render == r].mean()) == y[render == r][0] for r in ids])
    )
    return per_window, per_render


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pieces", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--ridge", type=float, default=30.0)
    args = parser.parse_args(argv)
    start = time.perf_counter()
    old, new, labels, piece_of, render_of = [], [], [], [], []
    for index, (piece, major, audio) in enumerate(renders(args.pieces, args.seconds)):
        means = window_means(offline_log_mel(audio, SR), frames_per_window())
        frames = offline_emotion_frames(audio, SR)
        old.append(means)
        new.append(frames)
        labels += [1.0 if major else -1.0] * len(frames)
        piece_of += [piece] * len(frames)
        render_of += [index] * len(frames)
    y, pieces, rendered = np.array(labels), np.array(piece_of), np.array(render_of)
    train = pieces < (2 * args.pieces) // 3
    x_old, x_new = np.concatenate(old), np.concatenate(new)
    print(f"{len(y)} windows, {train.sum()} for fitting; held out: accuracy per window / render")
    rows = [("128 log-mel window means", x_old)]
    rows += [(name, x_new[:, part]) for name, part in GROUPS.items()]
    for name, x in rows:
        window, render = probe(x.astype(np.float64), y, rendered, train, args.ridge)
        print(f"{name:28s} {window:.3f} / {render:.3f}")
    print(f"({time.perf_counter() - start:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
