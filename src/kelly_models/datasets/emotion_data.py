"""``synthetic-emotion``: what trains the EmotionRecognizer without a dataset folder.

Two sources, chosen with ``sources`` (``kelly train -O sources=synthetic,rendered``):

- ``synthetic``: ``items`` generated items of ``steps`` windows
  (:func:`kelly_models.datasets.synthetic.synthetic_emotion`, seeded by ``seed``, which
  ``kelly train`` sets from ``--seed``);
- ``rendered``: the clips of ``pieces`` pieces of real music rendered with fluidsynth
  (:mod:`kelly_models.datasets.emotion_rendered`; four 15 s clips per piece, drawn by
  ``render_seed``, cached under ``cache_dir``, built in ``workers`` processes). Where
  fluidsynth, mma or the GM SoundFont is missing, a warning says so and only the
  synthetic items train.

Both keep their own splits (the synthetic items by index, the rendered clips by piece),
so the test split holds pieces never trained on.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Final

from kelly_core.errors import DatasetError, MissingDependencyError
from kelly_core.interfaces import Dataset
from kelly_core.records import Example, SkippedFile
from kelly_models.datasets.common import check_option_ranges
from kelly_models.datasets.synthetic import synthetic_emotion

__all__ = ["DEFAULT_PIECES", "DEFAULT_SOURCES", "SOURCES", "MixedDataset", "open_emotion"]

logger = logging.getLogger(__name__)

SOURCES: Final = ("synthetic", "rendered")
DEFAULT_SOURCES: Final = SOURCES
DEFAULT_PIECES: Final = 120
"""Rendered pieces by default (480 clips; about 4 CPU-minutes to build, then cached)."""
DEFAULT_ITEMS: Final = 400


class MixedDataset:
    """The examples of several datasets of one model, one after the other."""

    def __init__(self, model_name: str, parts: Sequence[Dataset], *, name: str) -> None:
        self._model_name = model_name
        self._parts = list(parts)
        self.name = name

    @property
    def model_name(self) -> str:
        """Name of the model these examples train."""
        return self._model_name

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        """What the parts skipped."""
        return [s for part in self._parts for s in part.skipped]

    def __len__(self) -> int:
        """Examples of all parts."""
        return sum(len(part) for part in self._parts)

    def __getitem__(self, index: int) -> Example:
        """Example ``index``, counting through the parts in order."""
        if not -len(self) <= index < len(self):
            raise IndexError(f"item {index} out of range for {len(self)} items")
        index %= len(self)
        for part in self._parts:
            if index < len(part):
                return part[index]
            index -= len(part)
        raise IndexError(index)  # not reached: the range was checked


def _sources(sources: Sequence[str]) -> tuple[str, ...]:
    chosen = tuple(dict.fromkeys(sources))
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown or not chosen:
        raise DatasetError(
            f"synthetic-emotion: sources {','.join(chosen) or '(none)'}; expected one or both "
            f"of {', '.join(SOURCES)}",
            field="--option sources",
            expected=SOURCES,
            got=chosen,
        )
    return chosen


def open_emotion(
    root: Path | None = None,
    *,
    seed: int = 0,
    items: int = DEFAULT_ITEMS,
    steps: int = 20,
    sources: Sequence[str] = DEFAULT_SOURCES,
    pieces: int = DEFAULT_PIECES,
    render_seed: int = 0,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
) -> Dataset:
    """Open ``synthetic-emotion`` (see the module docstring).

    :raises DatasetError: On a root folder, an unknown source or an option out of range.
    """
    chosen = _sources(sources)
    check_option_ranges(
        "synthetic-emotion", {"pieces": pieces, "render_seed": render_seed, "workers": workers}
    )
    parts: list[Dataset] = []
    if "synthetic" in chosen:
        parts.append(synthetic_emotion(root, seed=seed, items=items, steps=steps))
    elif root is not None and str(root) not in ("-", ""):
        raise DatasetError("synthetic-emotion takes no root folder (use '-')", path=root)
    if "rendered" in chosen:
        from kelly_models.datasets.emotion_rendered import open_rendered_emotion

        try:
            parts.append(
                open_rendered_emotion(
                    pieces=pieces,
                    render_seed=render_seed,
                    cache_dir=cache_dir,
                    use_cache=use_cache,
                    workers=workers,
                )
            )
        except MissingDependencyError as exc:
            if chosen == ("rendered",):
                raise
            logger.warning("synthetic-emotion: no rendered music (%s)", exc.reason)
    return MixedDataset("EmotionRecognizer", parts, name="synthetic-emotion")
