"""Preprocessing cache: parse each source file once, in parallel, resumably.

A reader hands :func:`process_files` a list of files and a top-level worker function
``worker(path, options) -> list[Example]``. Results go to
``<cache_dir>/<reader>-<key>/<file key>.npz``: ``<key>`` hashes the reader's version and
every encoder setting (so changing one invalidates the cache), ``<file key>`` hashes the
file's path, size and modification time. Each file is written atomically
(:func:`kelly_core.fileio.atomic_path`), so an interrupted run resumes where it stopped.
A file the worker cannot read is skipped, counted and listed (never fatal) with a
sentence saying why (:func:`skip_reason`); so is one whose examples hold NaN or inf. Its
failure is not cached, so it is retried next time. Work runs on a process pool (one worker per
core by default) with a tqdm progress bar that stays quiet when stderr is not a terminal.
"""

from __future__ import annotations

import concurrent.futures
import hashlib
import json
import logging
import os
import struct
import sys
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Final, TypeAlias, cast

import attrs
import numpy as np

from kelly_core.errors import KellyError
from kelly_core.fileio import atomic_path, atomic_write_json
from kelly_core.records import Example, SkippedFile, Split
from kelly_models.datasets.base import ArrayDataset, ExampleRef
from kelly_models.datasets.common import Unusable, check_option_ranges

__all__ = [
    "CACHE_ENV",
    "Worker",
    "default_cache_dir",
    "log_skipped",
    "process_files",
    "read_dataset",
    "skip_reason",
]

logger = logging.getLogger(__name__)

CACHE_ENV: Final = "KELLY_CACHE_DIR"
Worker: TypeAlias = Callable[[Path, Mapping[str, object]], list[Example]]
"""Parses one file into examples; raises on a corrupt or unreadable file."""


def default_cache_dir() -> Path:
    """``$KELLY_CACHE_DIR``, else ``$XDG_CACHE_HOME/kelly``, else ``~/.cache/kelly``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "kelly"


def _digest(value: object) -> str:
    text = json.dumps(value, sort_keys=True, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _file_key(path: Path) -> str:
    stat = path.stat()
    return _digest([str(path.resolve()), stat.st_size, stat.st_mtime_ns])


def _save(examples: list[Example], target: Path) -> list[ExampleRef]:
    arrays: dict[str, np.ndarray] = {}
    meta = []
    for i, ex in enumerate(examples):
        arrays[f"inputs_{i}"] = ex.inputs
        arrays[f"targets_{i}"] = ex.targets
        meta.append({"source": ex.source, "split": ex.split})
    with atomic_path(target) as tmp, tmp.open("wb") as handle:
        np.savez(handle, **arrays)  # type: ignore[arg-type]  # numpy's stub types **kwds as bool
    atomic_write_json(target.with_suffix(".json"), meta)
    return _refs(target, meta)


def _refs(target: Path, meta: list[dict[str, str]]) -> list[ExampleRef]:
    return [
        ExampleRef(path=target, index=i, source=m["source"], split=cast(Split, m["split"]))
        for i, m in enumerate(meta)
    ]


def _load_refs(target: Path) -> list[ExampleRef] | None:
    meta_path = target.with_suffix(".json")
    if not (target.is_file() and meta_path.is_file()):
        return None
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return _refs(target, meta)


def _why(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    return skip_reason(exc)


_BY_TYPE: Final[tuple[tuple[type[BaseException], str], ...]] = (
    (FileNotFoundError, "no such file"),
    (PermissionError, "permission denied; expected a readable file"),
    (IsADirectoryError, "is a folder; expected a file"),
    (MemoryError, "too large to read into memory"),
    (RecursionError, "malformed file: nested too deeply to read"),
    (ZeroDivisionError, "malformed file: a value that must not be zero is zero"),
    (OverflowError, "malformed file: a number too large for its field"),
    (IndexError, "malformed file: a record points past the end of its data"),
    (struct.error, "malformed file: a record points past the end of its data"),
    (KeyError, "malformed file: an unknown field or event type"),
    (UnicodeError, "malformed file: text that is not valid UTF-8"),
    (TypeError, "malformed file: a value of the wrong type"),
    (AttributeError, "malformed file: a value of the wrong type"),
    (BrokenProcessPool, "the worker process reading it died (out of memory or killed)"),
)


def skip_reason(error: BaseException) -> str:
    """Say what was wrong with a file a worker could not read, as a sentence.

    A reader's own reasons (:class:`~kelly_models.datasets.common.Unusable`, a
    ``KellyError``) are kept; what a parser raises (a bare ``EOFError``,
    ``ZeroDivisionError``, ``max() arg is an empty sequence``) is named by the kind of
    damage, never by the exception's own text.
    """
    if isinstance(error, Unusable):
        return error.reason
    if isinstance(error, KellyError):
        return error.reason
    if isinstance(error, EOFError):
        return "truncated file: it ends in the middle of a record"
    for kind, reason in _BY_TYPE:
        if isinstance(error, kind):
            return reason
    if isinstance(error, OSError) and error.strerror:
        return f"cannot read the file: {error.strerror.lower()}"
    if isinstance(error, ValueError):
        return "malformed file: a value outside what its field allows"
    return "unreadable file: the reader stopped on it"


def _non_finite(examples: Sequence[Example]) -> str | None:
    for example in examples:
        for name in ("inputs", "targets"):
            array = getattr(example, name)
            bad = int(array.size - np.count_nonzero(np.isfinite(array)))
            if bad:
                return (
                    f"{name} hold {bad} non-finite value{'s' * (bad > 1)} (NaN or inf) "
                    f"in {example.source}; expected finite numbers"
                )
    return None


def _run_one(worker: Worker, path: Path, options: Mapping[str, object]) -> list[Example]:
    """Run ``worker`` on one file; any failure becomes :class:`Unusable` with a sentence
    (decided here, where the worker ran), and non-finite values are refused."""
    try:
        examples = worker(path, options)
    except Exception as exc:  # a corrupt file may make a parser raise anything
        if isinstance(exc, Unusable):
            raise
        raise Unusable(skip_reason(exc), f"{type(exc).__name__}: {exc}") from None
    problem = _non_finite(examples)
    if problem is not None:
        raise Unusable(problem)
    return examples


def _progress(total: int, desc: str) -> object:
    from tqdm import tqdm

    return tqdm(total=total, desc=desc, unit="file", disable=not sys.stderr.isatty(), leave=False)


def process_files(
    files: Sequence[Path],
    worker: Worker,
    *,
    reader: str,
    version: int,
    options: Mapping[str, object],
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    splits: Mapping[Path, Split] | None = None,
    report: bool = True,
    refused: Sequence[SkippedFile] = (),
    limit: int | None = None,
) -> tuple[list[Example | ExampleRef], list[SkippedFile]]:
    """Run ``worker`` on every file (cached), returning examples and skipped files.

    :param files: Source files, in the order their examples should appear; only the
        first ``limit`` are read (``None``: all).
    :param worker: A module-level function (it is pickled to worker processes).
    :param reader: Reader name, for the cache folder.
    :param version: Reader version; bump it when the worker's output changes.
    :param options: Encoder settings that change the output; part of the cache key.
    :param cache_dir: Cache root (default :func:`default_cache_dir`).
    :param use_cache: False keeps everything in memory and writes nothing.
    :param workers: Processes (default: CPU count); 1 runs in this process.
    :param splits: Split per file, overriding what the worker set (official split
        columns live in index files, not in the cached examples).
    :param report: Log the skipped count (a reader that skips more afterwards logs the
        total itself, with :func:`log_skipped`).
    :param refused: What the reader skipped before (paths, index rows); they come first
        in the returned list and count in the log line.
    :raises DatasetError: If ``limit`` or ``workers`` is outside its range
        (:data:`~kelly_models.datasets.common.OPTION_RANGES`), before any file is read.
    """
    check_option_ranges(reader, {"limit": limit, "workers": workers})
    files = list(files)[:limit]
    folder = (cache_dir or default_cache_dir()) / f"{reader}-{_digest([version, dict(options)])}"
    store = folder if use_cache else None
    results, skipped, todo = _look_up(files, store)
    _parse(worker, files, todo, options, reader, store, workers, results, skipped)
    items = [
        attrs.evolve(item, split=splits[files[i]]) if splits is not None else item
        for i in range(len(files))
        for item in results.get(i, [])
    ]
    skipped_list = [*refused, *(skipped[i] for i in sorted(skipped))]
    if report:
        log_skipped(reader, len(skipped_list), len(files) + len(refused))
    return items, skipped_list


def _look_up(
    files: Sequence[Path], store: Path | None
) -> tuple[dict[int, list[Example | ExampleRef]], dict[int, SkippedFile], list[int]]:
    """Split ``files`` by index into cached examples, unreadable cache entries, and the
    files still to parse (all of them when ``store`` is None: no cache)."""
    results: dict[int, list[Example | ExampleRef]] = {}
    skipped: dict[int, SkippedFile] = {}
    todo: list[int] = []
    for i, path in enumerate(files):
        if store is not None:
            try:
                refs = _load_refs(store / f"{_file_key(path)}.npz")
            except (OSError, ValueError) as exc:
                skipped[i] = SkippedFile(path=path, reason=f"cannot read file: {_why(exc)}")
                continue
            if refs is not None:
                results[i] = list(refs)
                continue
        todo.append(i)
    return results, skipped, todo


def _parse(
    worker: Worker,
    files: Sequence[Path],
    todo: Sequence[int],
    options: Mapping[str, object],
    reader: str,
    store: Path | None,
    workers: int | None,
    results: dict[int, list[Example | ExampleRef]],
    skipped: dict[int, SkippedFile],
) -> None:
    """Run ``worker`` on the files at ``todo`` (in ``workers`` processes), saving each one's
    examples to ``store`` (None: kept in memory) into ``results``, or its reason into
    ``skipped``."""
    if todo:
        logger.info("%s: parsing %d of %d files", reader, len(todo), len(files))
    count = min(workers or os.cpu_count() or 1, len(todo)) if todo else 1
    bar = _progress(len(todo), reader)

    def finish(i: int, examples: list[Example] | None, error: BaseException | None) -> None:
        bar.update(1)  # type: ignore[attr-defined]  # tqdm
        if error is not None:
            if isinstance(error, Unusable) and error.detail:
                logger.debug("%s: %s: %s", reader, files[i], error.detail)
            skipped[i] = SkippedFile(path=files[i], reason=skip_reason(error))
            return
        examples = examples or []
        if store is not None:
            results[i] = list(_save(examples, store / f"{_file_key(files[i])}.npz"))
        else:
            results[i] = list(examples)

    try:
        if count <= 1:
            for i in todo:
                try:
                    out = _run_one(worker, files[i], options)
                except Exception as exc:  # Unusable, or a failure outside the worker
                    finish(i, None, exc)
                else:
                    finish(i, out, None)
        else:
            with concurrent.futures.ProcessPoolExecutor(max_workers=count) as pool:
                futures = {pool.submit(_run_one, worker, files[i], options): i for i in todo}
                for future in concurrent.futures.as_completed(futures):
                    i = futures[future]
                    try:
                        out = future.result()
                    except Exception as exc:  # a corrupt file may raise anything
                        finish(i, None, exc)
                    else:
                        finish(i, out, None)
    finally:
        bar.close()  # type: ignore[attr-defined]  # tqdm


def log_skipped(reader: str, skipped: int, total: int) -> None:
    """Log ``reader: skipped N of M files or index rows`` once, if any were skipped."""
    if skipped:
        logger.warning(
            "%s: skipped %d of %d files or index rows (see Dataset.skipped)",
            reader,
            skipped,
            total,
        )


def read_dataset(
    files: Sequence[Path],
    worker: Worker,
    *,
    model: str,
    name: str,
    reader: str,
    version: int,
    key_relative: bool | None,
    options: Mapping[str, object] | None = None,
    limit: int | None = None,
    cache_dir: Path | None = None,
    use_cache: bool = True,
    workers: int | None = None,
    refused: Sequence[SkippedFile] = (),
    splits: Mapping[Path, Split] | None = None,
) -> ArrayDataset:
    """:func:`process_files`, then the :class:`ArrayDataset` of ``model`` named ``name``:
    the body every file reader shares.

    :param key_relative: ``None`` for a reader without the option; else it joins
        ``options`` (and so the cache key) and sets the dataset's tonal reference
        (``"tonic"`` or ``"absolute"``).
    :raises DatasetError: If ``limit`` or ``workers`` is outside its range, naming ``name``.
    """
    check_option_ranges(name, {"limit": limit, "workers": workers})
    settings = dict(options or {})
    if key_relative is not None:
        settings["key_relative"] = bool(key_relative)
    items, skipped = process_files(
        files,
        worker,
        reader=reader,
        version=version,
        options=settings,
        cache_dir=cache_dir,
        use_cache=use_cache,
        workers=workers,
        splits=splits,
        refused=refused,
        limit=limit,
    )
    if key_relative is None:
        return ArrayDataset(model, items, skipped, name=name)
    reference = "tonic" if key_relative else "absolute"
    return ArrayDataset(model, items, skipped, name=name, tonal_reference=reference)
