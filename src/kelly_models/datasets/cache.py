"""Preprocessing cache: parse each source file once, in parallel, resumably.

A reader hands :func:`process_files` a list of files and a top-level worker function
``worker(path, options) -> list[Example]``. Results go to
``<cache_dir>/<reader>-<key>/<file key>.npz``: ``<key>`` hashes the reader's version and
every encoder setting (so changing one invalidates the cache), ``<file key>`` hashes the
file's path, size and modification time. Each file is written atomically
(:func:`kelly_core.fileio.atomic_path`), so an interrupted run resumes where it stopped.
A file the worker cannot read is skipped, counted and listed (never fatal); its failure
is not cached, so it is retried next time. Work runs on a process pool (one worker per
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
from pathlib import Path
from typing import Final, TypeAlias, cast

import attrs
import numpy as np

from kelly_core.fileio import atomic_path, atomic_write_json
from kelly_core.records import Example, SkippedFile, Split
from kelly_models.datasets.base import ExampleRef

__all__ = ["CACHE_ENV", "Worker", "default_cache_dir", "process_files"]

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
        return exc.strerror
    return str(exc) or type(exc).__name__


def skip_reason(error: BaseException) -> str:
    """Say what was wrong with a file a worker could not read, in words.

    Parsers raise bare ``EOFError``, ``IndexError`` or ``KeyError`` on damaged files; the
    reason names the damage instead of only the exception type.
    """
    detail = str(error).strip().splitlines()[0] if str(error).strip() else ""
    if isinstance(error, EOFError):
        return "truncated file: it ends in the middle of a record" + (
            f" ({detail})" if detail else ""
        )
    if isinstance(error, FileNotFoundError):
        return "file not found"
    if isinstance(error, PermissionError):
        return "permission denied"
    if isinstance(error, IsADirectoryError):
        return "is a folder, not a file"
    if isinstance(error, MemoryError):
        return "too large to read into memory"
    if isinstance(error, (IndexError, KeyError, struct.error, TypeError, AttributeError)):
        return (
            f"malformed file: the parser failed ({type(error).__name__}: {detail or 'no detail'})"
        )
    if isinstance(error, (ValueError, OSError)) and detail:
        return detail
    return f"{type(error).__name__}: {detail or 'no detail'}"


def _run_one(worker: Worker, path: Path, options: Mapping[str, object]) -> list[Example]:
    return worker(path, options)


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
) -> tuple[list[Example | ExampleRef], list[SkippedFile]]:
    """Run ``worker`` on every file (cached), returning examples and skipped files.

    :param files: Source files, in the order their examples should appear.
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
        total itself).
    """
    folder = (cache_dir or default_cache_dir()) / f"{reader}-{_digest([version, dict(options)])}"
    results: dict[int, list[Example | ExampleRef]] = {}
    skipped: dict[int, SkippedFile] = {}
    todo: list[int] = []
    for i, path in enumerate(files):
        if use_cache:
            try:
                refs = _load_refs(folder / f"{_file_key(path)}.npz")
            except (OSError, ValueError) as exc:
                skipped[i] = SkippedFile(path=path, reason=f"cannot read file: {_why(exc)}")
                continue
            if refs is not None:
                results[i] = list(refs)
                continue
        todo.append(i)
    if todo:
        logger.info("%s: parsing %d of %d files", reader, len(todo), len(files))
    count = min(workers or os.cpu_count() or 1, len(todo)) if todo else 1
    bar = _progress(len(todo), reader)

    def finish(i: int, examples: list[Example] | None, error: BaseException | None) -> None:
        bar.update(1)  # type: ignore[attr-defined]  # tqdm
        if error is not None:
            skipped[i] = SkippedFile(path=files[i], reason=skip_reason(error))
            return
        examples = examples or []
        if use_cache:
            results[i] = list(_save(examples, folder / f"{_file_key(files[i])}.npz"))
        else:
            results[i] = list(examples)

    try:
        if count <= 1:
            for i in todo:
                try:
                    out = worker(files[i], options)
                except Exception as exc:  # a corrupt file may raise anything
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
    items = [
        attrs.evolve(item, split=splits[files[i]]) if splits is not None else item
        for i in range(len(files))
        for item in results.get(i, [])
    ]
    skipped_list = [skipped[i] for i in sorted(skipped)]
    if skipped_list and report:
        logger.warning(
            "%s: skipped %d of %d files (see Dataset.skipped)",
            reader,
            len(skipped_list),
            len(files),
        )
    return items, skipped_list
