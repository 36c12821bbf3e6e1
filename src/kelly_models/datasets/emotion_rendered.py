"""Real music rendered to audio for the EmotionRecognizer, labelled by the labeller.

The pieces (:func:`train_pieces`) are the beat tracker's train split
(:mod:`kelly_models.listening.trainset`): Bach chorales, Essen and Nottingham folk
tunes, Haydn quartets, Beach, J. R. Johnson, Liliuʻokalani, and charts in 79 ``mma``
grooves. None of their composers, collections or grooves is in the probe benchmark
(``tests/benchmarks/emotion_probe.py``; ``tests/unit/kelly_models/datasets/
test_emotion_rendered.py`` checks it). ``pieces`` of them are used, a seeded draw that
alternates scores and grooves.

Each piece is read once (:mod:`.emotion_music`): a score's excerpt, or a chart mma renders
in the groove, given drums (half the scores: a kit on the beats) or a melody (60 % of
the charts). Then :data:`TEMPI` beat tempos are drawn, one slower than 110 BPM and one
faster (55..175 BPM), and the piece is rendered at each, in its own mode and in the
parallel mode of its key: four clips of :data:`CLIP_SECONDS`. Apart from the labels,
each clip draws its own sounds (a program of each part's GM family, or of a random
melodic family for a score's part; a drum kit), register (an octave down, none or up:
1/4, 1/2, 1/4), room (:func:`~.emotion_render.draw_room`) and level (-20 dBFS RMS, then
a gain uniform in ±:data:`GAIN_DB` dB). Labels: :func:`~.emotion_music.label` (the
labeller: mode and harmonic tension → valence; tempo, onset density, articulation and
velocity → arousal), one per clip,
the same for every window. Inputs: :func:`kelly_core.encodings.emotion_frame.
offline_emotion_frames`.

All clips of a piece share its split (:func:`~.base.hash_split` of its name). Rendering
costs CPU (about 0.4 s per clip plus reading the score), so every piece's clips are
cached under ``<cache_dir>/emotion-rendered-<key>/<piece>.npz`` (the key hashes
:data:`RENDER_VERSION`, the frame's version and :func:`frame_fingerprint`, the clip
length, ``render_seed`` and :data:`~.labeller.LABELLER_VERSION`, since the labels are
stored with the frames), each
written atomically; pieces are built in ``workers`` processes (default 2).
"""

from __future__ import annotations

import concurrent.futures
import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Final

import numpy as np

from kelly_core.encodings.emotion import encode_emotions
from kelly_core.encodings.emotion_frame import (
    EMOTION_FRAME_SIZE,
    EMOTION_FRAME_VERSION,
    offline_emotion_frames,
)
from kelly_core.errors import KellyError
from kelly_core.fileio import atomic_path, atomic_write_json
from kelly_core.records import Example, SkippedFile
from kelly_models.datasets.base import ArrayDataset, ExampleRef, hash_split
from kelly_models.datasets.cache import default_cache_dir
from kelly_models.datasets.emotion_music import (
    Music,
    at_tempo,
    cut,
    from_groove,
    from_score,
    label,
    parallel_mode,
    programs_for,
    shifted,
    with_drums,
    with_melody,
)
from kelly_models.datasets.emotion_render import RATE, draw_room, level, render_music
from kelly_models.datasets.labeller import LABELLER_VERSION
from kelly_models.listening.charts import Style
from kelly_models.listening.pieces import piece_seed
from kelly_models.listening.render import check_tools
from kelly_models.listening.scores import ScoreSpec
from kelly_models.listening.trainset import TRAIN_SCORES, TRAIN_STYLES

__all__ = [
    "CLIPS_PER_PIECE",
    "CLIP_SECONDS",
    "GAIN_DB",
    "RENDER_VERSION",
    "TEMPI",
    "RenderedEmotion",
    "build_clips",
    "frame_fingerprint",
    "open_rendered_emotion",
    "train_pieces",
]

logger = logging.getLogger(__name__)

RENDER_VERSION: Final = 1
"""Bumped when a change makes different clips (the cache key holds it)."""
CLIP_SECONDS: Final = 15.0
TEMPI: Final = ((55.0, 110.0), (110.0, 175.0))
"""Ranges of the beat tempos a piece is rendered at (one draw from each)."""
GAIN_DB: Final = 15.0
OFFSETS: Final = tuple(range(8))
"""Places of a program in its GM family of eight (any)."""
KITS: Final = (0, 1, 8, 9, 16, 24, 25, 32, 33, 40)
"""FluidR3_GM drum kits: Standard, Standard 1, Room, Room 1, Power, Electronic, TR-808,
Jazz, Jazz 1, Brush."""
_READ_BPM: Final = 90.0
Source = ScoreSpec | Style


def train_pieces() -> list[tuple[str, Source]]:
    """Every piece the rendered data may use, scores and grooves alternating."""
    named_scores = [(f"em-{s.name.removeprefix('tr-')}", s) for s in TRAIN_SCORES]
    grooves = [(f"em-mma-{s.slug}", s) for s in TRAIN_STYLES]
    out: list[tuple[str, Source]] = []
    for k in range(max(len(named_scores), len(grooves))):
        out += [*named_scores[k : k + 1], *grooves[k : k + 1]]
    return out


def _pick(count: int, seed: int) -> list[tuple[str, Source]]:
    """``count`` pieces: a seeded shuffle of the scores and of the grooves, alternating."""
    pool = train_pieces()
    rng = np.random.default_rng(seed)
    scores = [pool[i] for i in rng.permutation(len(pool)) if isinstance(pool[i][1], ScoreSpec)]
    grooves = [pool[i] for i in rng.permutation(len(pool)) if isinstance(pool[i][1], Style)]
    mixed = [p for pair in zip(scores, grooves, strict=False) for p in pair]
    mixed += scores[len(grooves) :] + grooves[len(scores) :]
    return mixed[:count]


def _read(name: str, source: Source, rng: np.random.Generator, seconds: float) -> Music:
    """The piece's music, long enough for a clip at the fastest tempo."""
    if isinstance(source, ScoreSpec):
        music = from_score(source, bpm=_READ_BPM, seconds=seconds * TEMPI[-1][1] / _READ_BPM)
        return with_drums(music, rng) if rng.random() < 0.5 else music
    music = from_groove(source, rng, seconds=seconds * TEMPI[-1][1] / source.bpm[0], name=name)
    return with_melody(music, rng) if rng.random() < 0.6 else music


def build_clips(
    name: str, source: Source, seed: int, seconds: float = CLIP_SECONDS
) -> list[tuple[np.ndarray, np.ndarray, dict[str, object]]]:
    """The clips of one piece: ``(frames (W, 128), targets (W, 64), facts)`` each."""
    rng = np.random.default_rng(seed)
    music = _read(name, source, rng, seconds)
    steps = int(seconds / 0.5)
    clips = []
    for low, high in TEMPI:
        bpm = float(rng.uniform(low, high))
        fast = at_tempo(music, bpm / music.bpm)
        for flip in (False, True):
            clip = cut(parallel_mode(fast) if flip else fast, seconds)
            octave = int(rng.choice((-12, 0, 0, 12)))
            valence, arousal = label(clip)
            programs = programs_for(clip, rng, OFFSETS, KITS)
            audio = render_music(shifted(clip, octave), programs, draw_room(rng))
            gain = float(rng.uniform(-GAIN_DB, GAIN_DB))
            frames = offline_emotion_frames(level(audio, gain), RATE)[:steps]
            targets = encode_emotions(np.tile([valence, arousal], (len(frames), 1)))
            facts: dict[str, object] = {"bpm": round(bpm, 2), "parallel": flip, "octave": octave}
            facts["gain_db"] = gain
            facts |= {"valence": valence, "arousal": arousal, "programs": programs}
            clips.append((frames, targets, facts))
    return clips


@functools.lru_cache(maxsize=1)
def frame_fingerprint() -> str:
    """A hash of the emotion frames of a fixed 3 s test signal (a tone sweep over noise),
    so the cache follows any change to the frame, even one that keeps its version."""
    t = np.arange(3 * RATE) / RATE
    signal = 0.1 * np.sin(2 * np.pi * (220 + 110 * t) * t)
    signal += 0.01 * np.random.default_rng(0).normal(size=t.size)
    frames = offline_emotion_frames(signal.astype(np.float32), RATE)
    return hashlib.sha256(np.round(frames, 4).astype(np.float32).tobytes()).hexdigest()[:16]


def _cache_folder(cache_dir: Path | None, seconds: float, render_seed: int) -> Path:
    version = [RENDER_VERSION, EMOTION_FRAME_VERSION, frame_fingerprint()]
    key = json.dumps([*version, seconds, render_seed, LABELLER_VERSION])
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return (cache_dir or default_cache_dir()) / f"emotion-rendered-{digest}"


def _build(name: str, source: Source, seed: int, seconds: float, target: Path) -> str | None:
    """Build and save one piece's clips (a worker process); returns a problem or None."""
    try:
        clips = build_clips(name, source, seed, seconds)
    except KellyError as exc:
        return exc.reason
    except Exception as exc:  # a score or chart the tools cannot read: skip the piece
        return f"cannot render: {type(exc).__name__}: {exc}".splitlines()[0][:300]
    arrays = {f"inputs_{k}": c[0] for k, c in enumerate(clips)}
    arrays |= {f"targets_{k}": c[1] for k, c in enumerate(clips)}
    with atomic_path(target) as tmp, tmp.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
    atomic_write_json(target.with_suffix(".json"), [c[2] for c in clips])
    return None


def _refs(name: str, target: Path) -> list[ExampleRef] | None:
    """The cached clips of a piece, or None if it is not cached."""
    meta = target.with_suffix(".json")
    if not (target.is_file() and meta.is_file()):
        return None
    try:
        facts = json.loads(meta.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    split = hash_split(name)
    return [
        ExampleRef(path=target, index=k, source=f"emotion-rendered:{name}#{k}", split=split)
        for k in range(len(facts))
    ]


CLIPS_PER_PIECE: Final = 2 * len(TEMPI)


class RenderedEmotion:
    """A :class:`kelly_core.interfaces.Dataset` of the clips of some pieces, built (in
    parallel, into the cache) when the first clip is read, so a run that reads fewer
    items (``--max-items``) renders nothing. A piece that cannot be rendered gives clips of
    no windows (training drops them) and is listed in :attr:`skipped`."""

    def __init__(
        self,
        chosen: Sequence[tuple[str, Source]],
        folder: Path | None,
        *,
        render_seed: int,
        seconds: float,
        workers: int | None,
    ) -> None:
        self.name = "emotion-rendered"
        self._chosen = list(chosen)
        self._folder = folder
        self._render_seed = render_seed
        self._seconds = seconds
        self._workers = workers
        self._clips: list[Example | ExampleRef | None] | None = None
        self._skipped: list[SkippedFile] = []

    @property
    def model_name(self) -> str:
        """Name of the model these examples train."""
        return "EmotionRecognizer"

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        """The pieces that could not be rendered (known once a clip was read)."""
        return tuple(self._skipped)

    def __len__(self) -> int:
        """Clips: :data:`CLIPS_PER_PIECE` per piece."""
        return CLIPS_PER_PIECE * len(self._chosen)

    def __getitem__(self, index: int) -> Example:
        """Clip ``index`` (the first read builds every piece not yet cached)."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"item {index} out of range for {len(self)} items")
        index %= len(self)
        if self._clips is None:
            self._clips = self._prepare()
        clip = self._clips[index]
        if clip is None:
            empty = np.zeros((0, EMOTION_FRAME_SIZE), dtype=np.float32)
            name = self._chosen[index // CLIPS_PER_PIECE][0]
            split = hash_split(name)
            return Example(
                inputs=empty, targets=empty[:, :64], source=f"{self.name}:{name}", split=split
            )
        return clip if isinstance(clip, Example) else ArrayDataset(self.model_name, [clip])[0]

    def _prepare(self) -> list[Example | ExampleRef | None]:
        if self._folder is not None:
            return self._build_into(self._folder, keep=False)
        with tempfile.TemporaryDirectory(prefix="kelly-emotion-") as scratch:
            return self._build_into(Path(scratch), keep=True)

    def _build_into(self, folder: Path, *, keep: bool) -> list[Example | ExampleRef | None]:
        """Build the missing pieces into ``folder``; every clip (None: none), in memory
        when ``keep``."""
        folder.mkdir(parents=True, exist_ok=True)
        targets = {name: folder / f"{name}.npz" for name, _ in self._chosen}
        todo = [(n, s) for n, s in self._chosen if _refs(n, targets[n]) is None]
        problems = _build_all(todo, self._render_seed, self._seconds, targets, self._workers)
        self._skipped = [SkippedFile(path=Path(n), reason=r) for n, r in problems.items()]
        if self._skipped:
            logger.warning(
                "emotion-rendered: skipped %d of %d pieces", len(self._skipped), len(self._chosen)
            )
        clips: list[Example | ExampleRef | None] = []
        for name, _ in self._chosen:
            refs: list[ExampleRef | None] = list(_refs(name, targets[name]) or [])
            refs += [None] * (CLIPS_PER_PIECE - len(refs))
            loader = ArrayDataset(self.model_name, [r for r in refs if r is not None])
            loaded = iter(loader)
            clips += [next(loaded) if keep and r is not None else r for r in refs]
        return clips


def open_rendered_emotion(
    *,
    pieces: int,
    render_seed: int = 0,
    seconds: float = CLIP_SECONDS,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> RenderedEmotion:
    """The rendered clips of ``pieces`` pieces (built into the cache when first read;
    ``use_cache=False``: in a scratch folder, then kept in memory).

    :raises MissingDependencyError: If fluidsynth, mma or the GM SoundFont is missing.
    """
    check_tools("rendering music for the EmotionRecognizer")
    folder = _cache_folder(cache_dir, seconds, render_seed) if use_cache else None
    return RenderedEmotion(
        _pick(pieces, render_seed),
        folder,
        render_seed=render_seed,
        seconds=seconds,
        workers=workers,
    )


def _build_all(
    todo: Sequence[tuple[str, Source]],
    render_seed: int,
    seconds: float,
    targets: dict[str, Path],
    workers: int | None,
) -> dict[str, str]:
    """Build the pieces ``todo`` in ``workers`` processes; returns the problems by piece."""
    if not todo:
        return {}
    count = max(1, min(workers or min(2, os.cpu_count() or 1), len(todo)))
    logger.info("emotion-rendered: rendering %d pieces in %d processes", len(todo), count)
    jobs = [(n, s, piece_seed(n, render_seed), seconds, targets[n]) for n, s in todo]
    if count == 1:
        results = [_build(*job) for job in jobs]
    else:
        with concurrent.futures.ProcessPoolExecutor(max_workers=count) as pool:
            results = list(pool.map(_build, *zip(*jobs, strict=True)))
    return {job[0]: r for job, r in zip(jobs, results, strict=True) if r is not None}
