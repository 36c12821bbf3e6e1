"""Run the peers on audio files; executed by the peers' own venv, never Kelly's.

    <bench-venv>/bin/python peers_runner.py <cache folder> <audio> [<audio> ...]

Imports neither Kelly nor this package (only numpy, soundfile, soxr and the peers), so
it runs in a venv without Kelly. Writes ``<cache>/<audio stem>.<peer>.json`` for each
peer that imports; an existing file for the same audio (size and modification time)
is kept. Each result: ``beats``, ``downbeats`` (or null), ``beats_per_bar`` (or null),
``tempo`` (BPM), ``key`` (``"C:major"`` or null), ``keys`` (per key profile),
``seconds`` (analysis time, decoding and resampling excluded).

- madmom: ``RNNDownBeatProcessor`` + ``DBNDownBeatTrackingProcessor(beats_per_bar=[2, 3,
  4], fps=100)`` on 44100 Hz mono.
- essentia: ``RhythmExtractor2013(method="multifeature")`` beats and BPM, and
  ``KeyExtractor`` with the profiles krumhansl (its ``key``), edma, bgate and temperley,
  on 44100 Hz mono.
- librosa: ``beat.beat_track`` with its defaults at 22050 Hz; key: the sum of
  ``chroma_cqt`` correlated with the 24 rotated Krumhansl–Kessler profiles.
"""

from __future__ import annotations

import json
import os
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
KK_MAJOR = (6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88)
KK_MINOR = (6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17)


_PROCESSORS: dict[str, Any] = {}


def _load(path: Path, rate: int) -> Any:
    import soundfile
    import soxr  # type: ignore[import-untyped]  # no stubs

    data, source = soundfile.read(str(path), dtype="float32", always_2d=True)
    mono = data.mean(axis=1)
    if source != rate:
        mono = soxr.resample(mono, source, rate, "HQ")
    return np.ascontiguousarray(mono, dtype=np.float32)


def _summary(beats: Any, downbeats: Any = None, per_bar: Any = None) -> dict[str, Any]:
    beats = np.asarray(beats, dtype=np.float64)
    tempo = float(np.median(60.0 / np.diff(beats))) if beats.size > 1 else 0.0
    return {
        "beats": [round(float(b), 4) for b in beats],
        "downbeats": None if downbeats is None else [round(float(b), 4) for b in downbeats],
        "beats_per_bar": per_bar,
        "tempo": round(tempo, 3),
    }


def run_madmom(path: Path) -> dict[str, Any]:
    """madmom's RNN downbeat activations decoded by its bar-pointer DBN."""
    from madmom.audio.signal import Signal  # type: ignore[import-not-found]
    from madmom.features.downbeats import (  # type: ignore[import-not-found]
        DBNDownBeatTrackingProcessor,
        RNNDownBeatProcessor,
    )

    if "madmom" not in _PROCESSORS:  # start-up (loading the models) is not timed
        _PROCESSORS["madmom"] = (
            RNNDownBeatProcessor(),
            DBNDownBeatTrackingProcessor(beats_per_bar=[2, 3, 4], fps=100),
        )
    network, decoder = _PROCESSORS["madmom"]
    signal = Signal(_load(path, 44100), sample_rate=44100, num_channels=1)
    started = time.perf_counter()
    decoded = decoder(network(signal))
    seconds = time.perf_counter() - started
    beats = decoded[:, 0]
    numbers = decoded[:, 1].astype(int)
    downbeats = beats[numbers == 1]
    per_bar = int(numbers.max()) if numbers.size else None
    out = _summary(beats, downbeats, per_bar)
    out.update(key=None, keys={}, seconds=seconds)
    return out


def run_essentia(path: Path) -> dict[str, Any]:
    """essentia's multifeature beat tracker and its key extractor with four profiles."""
    import essentia.standard as es  # type: ignore[import-not-found]

    audio = _load(path, 44100)
    started = time.perf_counter()
    _, ticks, _, _, _ = es.RhythmExtractor2013(method="multifeature")(audio)
    rhythm_s = time.perf_counter() - started
    keys: dict[str, str] = {}
    key_s = 0.0
    for profile in ("krumhansl", "edma", "bgate", "temperley"):
        started = time.perf_counter()
        key, scale, _ = es.KeyExtractor(profileType=profile)(audio)
        key_s += time.perf_counter() - started if profile == "krumhansl" else 0.0
        keys[profile] = f"{key}:{scale}"
    out = _summary(ticks)
    out.update(key=keys["krumhansl"], keys=keys, seconds=rhythm_s + key_s)
    out["seconds_rhythm"] = rhythm_s
    out["seconds_key"] = key_s
    return out


def kk_key(chroma: Any) -> str:
    """Krumhansl–Schmuckler: the best-correlated of the 24 rotated profiles."""
    best = ("C:major", -2.0)
    for mode, profile in (("major", KK_MAJOR), ("minor", KK_MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(chroma, np.roll(profile, tonic))[0, 1])
            if r > best[1]:
                best = (f"{NAMES[tonic]}:{mode}", r)
    return best[0]


def run_librosa(path: Path) -> dict[str, Any]:
    """librosa's beat_track (defaults) and CQT chroma with Krumhansl–Kessler profiles."""
    import librosa

    audio = _load(path, 22050)
    started = time.perf_counter()
    _, frames = librosa.beat.beat_track(y=audio, sr=22050)
    beats = librosa.frames_to_time(frames, sr=22050)
    beat_s = time.perf_counter() - started
    chroma = librosa.feature.chroma_cqt(y=audio, sr=22050).sum(axis=1)
    out = _summary(beats)
    key = kk_key(chroma) if np.any(chroma) else None
    out.update(key=key, keys={"kk-cqt": key}, seconds=time.perf_counter() - started)
    out["seconds_beats"] = beat_s
    return out


PEERS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "madmom": run_madmom,
    "essentia": run_essentia,
    "librosa": run_librosa,
}


def _available() -> list[str]:
    found = []
    for name in PEERS:
        try:
            __import__(name)
        except Exception as exc:  # a peer that does not import is skipped, said once
            print(f"peer {name} is missing: {exc}", file=sys.stderr)
            continue
        found.append(name)
    return found


def _warm_up(peer: str, audio: Path) -> None:
    """Run ``peer`` once untimed on ``audio``: JIT compiling and model loading are not timed."""
    PEERS[peer](audio)


def main(argv: list[str]) -> int:
    """Analyse every audio file with every peer that imports."""
    cache = Path(argv[0])
    cache.mkdir(parents=True, exist_ok=True)
    peers = _available()
    warm: set[str] = set()
    for audio in map(Path, argv[1:]):
        stat = audio.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        for peer in peers:
            target = cache / f"{audio.stem}.{peer}.json"
            if target.is_file() and json.loads(target.read_text()).get("stamp") == stamp:
                continue
            if peer not in warm:
                _warm_up(peer, audio)
                warm.add(peer)
            try:
                result = PEERS[peer](audio)
            except Exception:  # one failing analysis must not stop the rest
                result = {"error": traceback.format_exc(limit=2)}
            result["stamp"] = stamp
            scratch = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            scratch.write_text(json.dumps(result))
            scratch.replace(target)
            print(f"{peer} {audio.stem}: {result.get('seconds', 'error')}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
