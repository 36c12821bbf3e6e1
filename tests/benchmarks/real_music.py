"""Measure HarmonyPredictor and MelodyTransformer on real music shipped with music21.

Not collected by pytest (the file name does not start with ``test_``). Run::

    python -m tests.benchmarks.real_music --work /tmp/kelly-real --folds 5

1. **Harmony**: the Bach chorale Roman-numeral analyses (``.rntxt``) of music21's corpus,
   read by the ``music21-chords`` reader (key-relative), k-fold by file; the model against
   the unigram and bigram fitted on each fold's training files (top-1, top-3, NLL).
2. **Melody**: folk tunes (Essen, O'Neill) and chorale soprano lines from music21's
   corpus written to MIDI in the Lakh layout ``lmd_full/<md5[0]>/<md5>.mid`` and read by
   the ``lakh`` reader; k-fold by file; the model against the per-pitch frequency prior and
   the 5×5 valence×arousal emotion-bin lookup and the melodic bigram on the previous
   beat's top pitch (note F1), the number of distinct top-1 pitches, and the same model
   with the emotion input shuffled across tunes.

Prints one table per model (mean ± standard deviation over the folds) and writes
``<work>/real_music.json``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
import warnings
from pathlib import Path

__all__ = ["build_tunes", "main"]


def _melody_scores(limit: int) -> list[object]:
    """Monophonic melodies from music21's corpus: folk tunes and chorale soprano lines."""
    from music21 import corpus

    melodies: list[object] = []
    per_source = max(limit // 3, 1)
    for name in ("essenFolksong/han1", "essenFolksong/kinder", "oneills1850/0001-0050"):
        try:
            opus = corpus.parse(name)
        except Exception:  # a corpus file missing from this music21 build
            continue
        melodies.extend(list(opus.scores)[:per_source])
    for path in sorted(corpus.getComposer("bach"))[: max(limit - len(melodies), 0)]:
        if not str(path).endswith(".mxl"):
            continue
        try:
            score = corpus.parse(path)
            melodies.append(score.parts[0])
        except Exception:  # skip a chorale music21 cannot parse
            continue
        if len(melodies) >= limit:
            break
    return melodies[:limit]


def build_tunes(root: Path, limit: int = 400) -> Path:
    """Write ``limit`` corpus melodies as MIDI files in the Lakh layout below ``root``.

    Returns ``root / "lmd_full"``; files already there are kept (the build is resumable).
    """
    folder = root / "lmd_full"
    done = folder / ".complete"
    if done.is_file():
        return folder
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for index, melody in enumerate(_melody_scores(limit)):
            scratch = root / f"tune-{index}.mid"
            try:
                melody.write("midi", fp=str(scratch))  # type: ignore[attr-defined]
            except Exception:  # a tune music21 cannot write
                continue
            data = scratch.read_bytes()
            scratch.unlink()
            digest = hashlib.md5(data).hexdigest()  # Lakh's naming
            target = folder / digest[0] / f"{digest}.mid"
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
    done.write_text("ok\n", encoding="utf-8")
    return folder


_ROWS: dict[str, tuple[tuple[str, str], ...]] = {
    "HarmonyPredictor": (
        ("model", "top1"), ("model", "top3"), ("model", "nll"),
        ("unigram", "top1"), ("unigram", "top3"), ("unigram", "nll"),
        ("bigram", "top1"), ("bigram", "top3"), ("bigram", "nll"),
        ("emotion shuffled", "top1"), ("emotion shuffled", "loss"),
    ),
    "MelodyTransformer": (
        ("model", "note_f1"), ("model", "loss"), ("model", "distinct_top1"),
        ("prior", "note_f1"), ("prior", "loss"),
        ("emotion_bin", "note_f1"), ("emotion_bin", "loss"),
        ("previous", "note_f1"), ("previous", "loss"),
        ("emotion shuffled", "note_f1"), ("emotion shuffled", "loss"),
    ),
}  # fmt: skip


def _key(predictor: str, metric: str) -> str:
    if predictor == "model":
        return metric
    if predictor == "emotion shuffled":
        return f"shuffled_{metric}"
    return f"{predictor}_{metric}"


def _table(model: str, folds: list[dict[str, float]]) -> tuple[str, dict[str, object]]:
    lines = [f"{model}: {len(folds)} folds by file (mean ± std over folds)"]
    out: dict[str, object] = {}
    for predictor, metric in _ROWS[model]:
        values = [f[_key(predictor, metric)] for f in folds if _key(predictor, metric) in f]
        if not values:
            continue
        mean = sum(values) / len(values)
        std = math.sqrt(sum((v - mean) ** 2 for v in values) / len(values))
        out[f"{predictor}/{metric}"] = {"mean": mean, "std": std, "folds": values}
        lines.append(f"  {predictor:<17} {metric:<14} {mean:8.4f} ± {std:.4f}")
    return "\n".join(lines) + "\n", out


def _measure(
    model: str, dataset: str, root: Path, output: Path, epochs: int, folds: int, batch_size: int = 8
) -> tuple[str, dict[str, object]]:
    from kelly_core.registry import default_registry
    from kelly_models.training.config import TrainConfig
    from kelly_models.training.discovery import DatasetChoice
    from kelly_models.training.run import RunOptions, train_model

    registry = default_registry()
    config = TrainConfig(epochs=epochs, folds=folds, patience=4, seed=0, batch_size=batch_size)
    options = RunOptions(output=output, progress=False)
    choice = DatasetChoice(name=dataset, root=root, reason="real-music benchmark")
    report = train_model(registry, model, choice, config, options)
    metrics = json.loads((output / "metrics" / f"{report.model.lower()}_metrics.json").read_text())
    return _table(model, [f["test"] for f in metrics["folds"]])


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, run both measurements, print the tables."""
    import logging

    from kelly_models.datasets.rntxt import corpus_rntxt_files

    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/kelly-real"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tunes", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=30, help="harmony epochs")
    parser.add_argument("--melody-folds", type=int, default=5)
    parser.add_argument("--melody-epochs", type=int, default=30)
    parser.add_argument("--only", choices=("harmony", "melody", "corpus"), default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    args.work.mkdir(parents=True, exist_ok=True)
    results: dict[str, object] = {}
    text = ""
    if args.only in (None, "corpus", "melody"):
        lakh = build_tunes(args.work, args.tunes)
        sys.stdout.write(f"{len(list(lakh.rglob('*.mid')))} tunes in {lakh}\n")
    if args.only in (None, "harmony"):
        chorales = next(p.parent for p in corpus_rntxt_files() if "choraleAnalyses" in str(p))
        table, results["HarmonyPredictor"] = _measure(
            "HarmonyPredictor", "music21-chords", chorales, args.work / "harmony",
            args.epochs, args.folds,
        )  # fmt: skip
        text += table
        sys.stdout.write(table)
    if args.only in (None, "melody"):
        table, results["MelodyTransformer"] = _measure(
            "MelodyTransformer", "lakh", args.work / "lmd_full", args.work / "melody",
            args.melody_epochs, args.melody_folds, 16,
        )  # fmt: skip
        text += table
        sys.stdout.write(table)
    if results:
        target = args.work / "real_music.json"
        previous = json.loads(target.read_text()) if target.is_file() else {}
        target.write_text(json.dumps({**previous, **results}, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
