"""Key finding measured: Kelly's chroma and profiles against librosa's chroma (not collected).

For every piece with a known key: the mir_eval weighted key score (1 same key, 0.5 a
fifth, 0.3 relative, 0.2 parallel) of

- ``stft+krumhansl``: librosa's STFT chroma (n_fft 4096, hop 2048, frames weighted by
  their RMS, as ``kelly generate`` did before) and the Krumhansl–Kessler profiles;
- ``cqt+<profile>``: librosa's ``chroma_cqt`` (defaults) summed over the clip;
- ``kelly+<profile>``: :func:`kelly_core.encodings.chroma.offline_chroma` summed over the
  clip (chroma and bass), with each profile of
  :data:`kelly_core.encodings.keyfinding.KEY_PROFILES`; ``kelly-bass+temperley`` without
  the bass columns;
- ``kelly local``: the sections of :func:`~kelly_core.encodings.keyfinding.local_keys`;
- ``kelly generate's key``: the one key ``kelly generate`` reports
  (:func:`kelly_runtime.generate.keys.find_keys`).

Pieces that modulate are scored by time: each instant's reference key against the local
key there (and the global methods' one key), weighted by duration. Seconds per minute of
audio are the chroma plus the key, on one core.

    .venv/bin/python -m tests.benchmarks.bench_key [--rendered DIR] [--split dev]

``--rendered`` (default ``~/.cache/kelly-key-dev``, made by ``key_pieces.py`` when missing)
is the tuning set of chorales and mma accompaniments; ``--split`` adds that split of the
listening benchmark's corpus when it is present.
"""

from __future__ import annotations

import argparse
import itertools
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from kelly_core.encodings.chroma import DEFAULT_CHROMA, offline_chroma
from kelly_core.encodings.keyfinding import KEY_PROFILES, estimate_key, local_keys

NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
Piece = tuple[str, np.ndarray, list[tuple[float, str]]]


def _name(index: int) -> str:
    return f"{NAMES[index % 12]} {'minor' if index >= 12 else 'major'}"


def _old_chroma(samples: np.ndarray, sr: int) -> np.ndarray:
    import librosa

    total = np.zeros(12)
    block = 30 * sr
    for start in range(0, len(samples), block):
        part = samples[start : start + block]
        if len(part) < 4096 or not np.any(part):
            continue
        chroma = librosa.feature.chroma_stft(y=part, sr=sr, n_fft=4096, hop_length=2048, tuning=0.0)
        frames = np.lib.stride_tricks.sliding_window_view(part[: (len(part) // 2048) * 2048], 2048)
        energy = np.sqrt(np.mean(frames[::2048] ** 2, axis=1))
        n = min(chroma.shape[1], len(energy))
        total += (chroma[:, :n] * energy[:n]).sum(axis=1)
    return total


def _score(
    reference: list[tuple[float, str]], sections: list[tuple[float, str]], end: float
) -> float:
    """Duration-weighted mir_eval key score of estimated sections against the reference."""
    import mir_eval  # type: ignore[import-untyped]  # no stubs

    cuts = sorted({t for t, _ in reference} | {t for t, _ in sections} | {0.0})
    cuts = [t for t in cuts if t < end] + [end]
    total = 0.0
    for a, b in itertools.pairwise(cuts):
        ref = [k for t, k in reference if t <= a][-1]
        est = (
            [k for t, k in sections if t <= a][-1]
            if any(t <= a for t, _ in sections)
            else sections[0][1]
        )
        total += (b - a) * mir_eval.key.weighted_score(ref, est)
    return total / end


def _rendered(folder: Path) -> Iterator[Piece]:
    import soundfile as sf

    from tests.benchmarks.key_pieces import build, load

    if not any(folder.glob("*.json")):
        build(folder)
    for wav, keys, kind in load(folder):
        samples, sr = sf.read(str(wav), dtype="float32", always_2d=True)
        assert sr == 22050, wav
        yield f"{kind}/{wav.stem}", samples.mean(axis=1), keys


def _listening(split: str) -> Iterator[Piece]:
    """The pieces of the listening corpus's ``split`` that have a key (``"Eb:minor"``)."""
    import soundfile as sf

    from tests.benchmarks.listening.corpus import load_pieces

    for record in load_pieces(split):
        key = record.get("key")
        if not key:
            continue
        samples, sr = sf.read(record["audio"], dtype="float32", always_2d=True)
        if sr != 22050:
            continue
        yield (
            f"{split}/{Path(record['audio']).stem}",
            samples.mean(axis=1),
            [(0.0, key.replace(":", " "))],
        )


def _methods() -> dict[str, Callable[[np.ndarray, np.ndarray], list[tuple[float, str]]]]:
    """Each method maps (samples, kelly chroma frames) to sections ``[(start_s, key)]``."""
    frame_s = DEFAULT_CHROMA.hop / DEFAULT_CHROMA.sr
    methods: dict[str, Callable[[np.ndarray, np.ndarray], list[tuple[float, str]]]] = {
        "stft+krumhansl": lambda x, c: [
            (0.0, _name(estimate_key(_old_chroma(x, 22050), "krumhansl").index))
        ],
    }

    def cqt(profile: str) -> Callable[[np.ndarray, np.ndarray], list[tuple[float, str]]]:
        def run(x: np.ndarray, c: np.ndarray) -> list[tuple[float, str]]:
            import librosa

            chroma = librosa.feature.chroma_cqt(y=x, sr=22050).sum(axis=1)
            return [(0.0, _name(estimate_key(chroma, profile).index))]

        return run

    def kelly(profile: str) -> Callable[[np.ndarray, np.ndarray], list[tuple[float, str]]]:
        return lambda x, c: [(0.0, _name(estimate_key(c.sum(axis=0), profile).index))]

    def local(x: np.ndarray, c: np.ndarray) -> list[tuple[float, str]]:
        return [(s.start * frame_s, _name(s.key.index)) for s in local_keys(c, frame_s)]

    for profile in ("krumhansl", "temperley"):
        methods[f"cqt+{profile}"] = cqt(profile)
    for profile in KEY_PROFILES:
        methods[f"kelly+{profile}"] = kelly(profile)
    methods["kelly-bass+temperley"] = lambda x, c: [
        (0.0, _name(estimate_key(c[:, :12].sum(axis=0), "temperley").index))
    ]
    methods["kelly local"] = local

    def generate_key(x: np.ndarray, c: np.ndarray) -> list[tuple[float, str]]:
        from kelly_runtime.generate.keys import find_keys

        return [(0.0, str(find_keys(c, frame_s, len(x) / 22050).key))]

    methods["kelly generate's key"] = generate_key
    return methods


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rendered", type=Path, default=Path.home() / ".cache" / "kelly-key-dev")
    parser.add_argument("--split", default=None, help="listening corpus split to add (dev)")
    parser.add_argument("--verbose", action="store_true", help="print every piece")
    args = parser.parse_args()
    pieces: list[Piece] = list(_rendered(args.rendered))
    if args.split is not None:
        pieces += list(_listening(args.split))
    methods = _methods()
    scores: dict[str, dict[str, list[float]]] = {m: {} for m in methods}
    cost, minutes = 0.0, 0.0
    seconds = dict.fromkeys(methods, 0.0)
    for name, samples, keys in pieces:
        start = time.process_time()
        frames = offline_chroma(samples, 22050)
        chroma_s = time.process_time() - start
        local_keys(frames, DEFAULT_CHROMA.hop / DEFAULT_CHROMA.sr)
        cost += time.process_time() - start
        minutes += len(samples) / 22050 / 60
        end = len(samples) / 22050
        group = name.split("/")[0]
        line = []
        for method, run in methods.items():
            start = time.process_time()
            got = run(samples, frames)
            seconds[method] += time.process_time() - start
            seconds[method] += chroma_s if method.startswith("kelly") else 0.0
            value = _score(keys, got, end)
            scores[method].setdefault(group, []).append(value)
            line.append(f"{method}={value:.1f}")
        if args.verbose:
            print(name, keys, " ".join(line))
    groups = sorted({g for m in scores.values() for g in m})
    print(
        f"{len(pieces)} pieces, {minutes:.1f} min of audio; "
        + ", ".join(f"{g}: {len(scores['kelly local'][g])}" for g in groups)
    )
    head = " ".join(f"{g:>12s}" for g in groups)
    print(f"{'method':22s} {'all':>6s} {head} {'s/min':>6s}")
    for method, by_group in scores.items():
        every = [v for g in groups for v in by_group[g]]
        cells = " ".join(f"{np.mean(by_group[g]):12.3f}" for g in groups)
        print(f"{method:22s} {np.mean(every):6.3f} {cells} {seconds[method] / minutes:6.3f}")
    print(f"kelly chroma + local key: {cost / minutes:.3f} s of CPU per minute of audio")


if __name__ == "__main__":
    main()
