"""Checkpoints: atomic saves, the best and the last N kept, resume from the last good one.

A checkpoint is one ``torch.save`` file holding plain data only (tensors, numbers,
strings, lists, dicts), so it loads with ``torch.load(weights_only=True)``, which refuses
to run pickled code. It holds everything a resumed run needs to continue bit for bit:

- ``module``, ``optimizer``, ``schedule``, ``early_stopping``, ``history``;
- ``epoch`` (epochs finished) and ``batch`` (next batch inside the current epoch), the
  epoch's data ``order`` and the running loss sums when saved mid-epoch;
- ``rng``: Python's, NumPy's global, torch's (and CUDA's) generator states, and the state
  of the loop's own NumPy generator that shuffles the data;
- ``config`` and ``spec_hash``, checked on resume.

Files live in one folder per model: ``step-00000042.pt`` (named by optimizer step, so
names sort by age) and ``best.pt``. Every write goes through
:func:`kelly_core.fileio.atomic_path`: a crash while saving leaves the previous files,
and its temp files (``.step-00000042.pt.<pid>-<random>.kelly-tmp``) match neither
``step-*.pt`` nor ``*.pt``; the manager removes those left by a killed run when it
starts. Every file read is verified first (zip CRC-32 of each member,
:func:`kelly_models.checkpoint_format.verify_checkpoint_file`); on resume a damaged
newest file, or one holding non-finite weights, is passed over, with a warning saying
why, for the previous good one. A checkpoint with non-finite weights is never written.

The manager follows no symbolic link inside the run folder (``root``): a linked folder
or ``best.pt`` is refused (:func:`~.runfolder.check_no_link`), a linked ``step-*.pt`` is
skipped with its reason. It deletes only files it wrote: ``.kelly-checkpoints.json``
records each one it wrote (inode, size, modification time), and only a file that is
still exactly as recorded is pruned; any other file is left alone, whatever its name.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import stat
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import torch

from kelly_core.errors import ExportError, KellyError, KellyWarning
from kelly_core.fileio import atomic_path, atomic_write_json, remove_stale_temp_files
from kelly_models.checkpoint_format import checkpoint_write_error, verify_checkpoint_file
from kelly_models.training.runfolder import check_no_link

__all__ = [
    "BEST_NAME",
    "RECORD_NAME",
    "CheckpointManager",
    "capture_rng",
    "non_finite",
    "read_number",
    "restore_rng",
]

logger = logging.getLogger(__name__)

_N = TypeVar("_N", int, float)

_STEP_NAME: Final = re.compile(r"^step-(\d{8,})\.pt$")
BEST_NAME: Final = "best.pt"
RECORD_NAME: Final = ".kelly-checkpoints.json"
"""The record of the files the manager wrote in its folder (the only ones it deletes)."""
_RECORD_FORMAT: Final = 1


def capture_rng(shuffle: np.random.Generator) -> dict[str, object]:
    """Return every random generator state the loop depends on, as plain data."""
    kind, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, object] = {
        "python": _to_plain(random.getstate()),
        "numpy": {
            "kind": kind,
            "keys": torch.from_numpy(np.asarray(keys, dtype=np.int64)),
            "pos": int(pos),
            "has_gauss": int(has_gauss),
            "cached": float(cached),
        },
        "torch": torch.get_rng_state(),
        "shuffle": shuffle.bit_generator.state,
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng(state: Mapping[str, object], shuffle: np.random.Generator) -> None:
    """Restore the generator states captured by :func:`capture_rng`."""
    random.setstate(_to_tuple(state["python"]))
    numpy_state = state["numpy"]
    if not isinstance(numpy_state, Mapping):
        raise KellyError("checkpoint rng.numpy is not a mapping", field="rng.numpy")
    keys = numpy_state["keys"]
    if not isinstance(keys, torch.Tensor):
        raise KellyError("checkpoint rng.numpy.keys is not a tensor", field="rng.numpy.keys")
    np.random.set_state(
        (
            str(numpy_state["kind"]),
            keys.numpy().astype(np.uint32),
            read_number(numpy_state, "pos", int),
            read_number(numpy_state, "has_gauss", int),
            read_number(numpy_state, "cached", float),
        )
    )
    torch_state = state["torch"]
    if not isinstance(torch_state, torch.Tensor):
        raise KellyError("checkpoint rng.torch is not a tensor", field="rng.torch")
    torch.set_rng_state(torch_state)
    shuffle_state = state["shuffle"]
    if not isinstance(shuffle_state, Mapping):
        raise KellyError("checkpoint rng.shuffle is not a mapping", field="rng.shuffle")
    shuffle.bit_generator.state = dict(shuffle_state)
    cuda = state.get("cuda")
    if isinstance(cuda, list) and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([t for t in cuda if isinstance(t, torch.Tensor)])


def read_number(state: Mapping[str, object], key: str, kind: type[_N]) -> _N:
    """Return ``state[key]`` converted to ``kind`` (int or float), or raise ``KellyError``."""
    value = state.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise KellyError(f"checkpoint value {key!r} is not a number", field=key, got=value)
    return kind(value)


def _to_plain(value: object) -> object:
    if isinstance(value, tuple):
        return [_to_plain(v) for v in value]
    return value


def _to_tuple(value: object) -> tuple[object, ...]:
    if not isinstance(value, list):
        raise KellyError("checkpoint rng.python is not a list", field="rng.python")
    return tuple(_to_tuple(v) if isinstance(v, list) else v for v in value)


def non_finite(state: Mapping[str, object]) -> str | None:
    """Name the first tensor of ``state['module']`` or the optimizer state holding NaN or
    inf (``"module.layers.0.weight"``), or return None when every value is finite."""
    for key in ("module", "optimizer"):
        for name, tensor in _tensor_items(state.get(key), key):
            if tensor.is_floating_point() and not bool(torch.isfinite(tensor).all()):
                return name
    return None


def _tensor_items(value: object, prefix: str) -> list[tuple[str, torch.Tensor]]:
    if isinstance(value, torch.Tensor):
        return [(prefix, value)]
    if isinstance(value, Mapping):
        return [i for k, v in value.items() for i in _tensor_items(v, f"{prefix}.{k}")]
    if isinstance(value, list | tuple):
        return [i for k, v in enumerate(value) for i in _tensor_items(v, f"{prefix}.{k}")]
    return []


def _identity(path: Path) -> list[int] | None:
    """``[inode, size, mtime_ns]`` of a regular file (links not followed), else None."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if not stat.S_ISREG(info.st_mode):
        return None
    return [info.st_ino, info.st_size, info.st_mtime_ns]


def _kind(path: Path) -> str | None:
    """Why ``path`` is not read as a checkpoint (a link, not a regular file), or None."""
    try:
        mode = os.lstat(path).st_mode
    except OSError as exc:
        return f"cannot inspect: {exc.strerror or exc}"
    if stat.S_ISLNK(mode):
        return "is a symbolic link; checkpoints are read only from inside the run folder"
    if not stat.S_ISREG(mode):
        return "is not a regular file"
    return None


class CheckpointManager:
    """Saves and finds one model's checkpoints in ``folder``.

    :param folder: Where the files go (created on first save).
    :param keep_last: How many ``step-*.pt`` files to keep; older ones it wrote are deleted.
    :param root: The run folder: no link between it and any file the manager writes is
        followed (default: ``folder``'s parent, so ``folder`` itself is checked).
    :raises OutputError: If ``folder`` (or a folder above it, up to ``root``) is a link.
    """

    def __init__(self, folder: Path, *, keep_last: int = 2, root: Path | None = None) -> None:
        if keep_last < 1:
            raise ValueError(f"keep_last must be at least 1, got {keep_last}")
        self.folder = Path(folder)
        self.root = Path(root) if root is not None else self.folder.parent
        self.keep_last = keep_last
        self.latest_good: Path | None = None
        """The newest step file known to be good: the last one written or resumed from."""
        for name in (BEST_NAME, RECORD_NAME):
            check_no_link(self.folder / name, root=self.root)
        for stale in remove_stale_temp_files(self.folder):
            logger.info("removed a temp file left by an interrupted run: %s", stale)
        self._record = self._read_record()

    def save(self, state: Mapping[str, object], *, step: int) -> Path:
        """Write ``state`` as ``step-<step>.pt`` atomically, then prune older files it wrote.

        :raises KellyError: If ``state`` holds non-finite weights (nothing is written).
        """
        path = self.folder / f"step-{step:08d}.pt"
        self._write(state, path)
        self.latest_good = path
        owned = [p for p in self.checkpoints() if self._owned(p)]
        self._remove(owned[: -self.keep_last])
        return path

    def save_best(self, state: Mapping[str, object]) -> Path:
        """Write ``state`` as ``best.pt`` atomically (replacing the previous best)."""
        path = self.folder / BEST_NAME
        self._write(state, path)
        return path

    def start_afresh(self) -> list[Path]:
        """Remove the checkpoints an earlier run wrote here (a run without ``--resume``).

        Only files recorded as written by Kelly and unchanged since are removed.
        """
        owned = [p for p in [*self.checkpoints(), self.best_path] if self._owned(p)]
        self._remove(owned)
        if owned:
            logger.info("removed %d checkpoints of an earlier run in %s", len(owned), self.folder)
        return owned

    def checkpoints(self) -> list[Path]:
        """Return the ``step-*.pt`` regular files (links passed over), oldest first."""
        return [p for p in self._step_names() if _kind(p) is None]

    @property
    def best_path(self) -> Path:
        """Where the best checkpoint is (it may not exist yet)."""
        return self.folder / BEST_NAME

    def load(self, path: Path) -> dict[str, object]:
        """Read one checkpoint onto the CPU.

        :raises KellyError: If the file is a link, cannot be read or is not a checkpoint.
        """
        kind = _kind(path)
        if kind is not None:
            raise KellyError(kind, path=path)
        try:
            verify_checkpoint_file(path)
        except ExportError as exc:
            raise exc.located(KellyError, path=path) from exc
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many kinds for a damaged file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise KellyError(f"cannot read checkpoint: {first}", path=path) from exc
        if not isinstance(state, dict) or "module" not in state:
            raise KellyError("not a Kelly checkpoint (no 'module' key)", path=path)
        return state

    def load_latest(self) -> tuple[Path, dict[str, object]] | None:
        """Return the newest good checkpoint, skipping each other one with a warning.

        Passed over, each with its reason: links and other non-regular files, damaged
        files, and checkpoints holding non-finite weights.

        :returns: ``(path, state)``, or None when there is no good checkpoint.
        """
        for path in self._step_names():
            kind = _kind(path)
            if kind is not None:
                _warn(f"skipping {path}: {kind}")
        for path in reversed(self.checkpoints()):
            try:
                state = self.load(path)
            except KellyError as exc:
                _warn(f"skipping damaged checkpoint, resuming from an older one: {exc}")
                continue
            bad = non_finite(state)
            if bad is not None:
                _warn(
                    f"skipping checkpoint {path}: non-finite weights ({bad} holds NaN or "
                    "inf), resuming from an older one"
                )
                continue
            self.latest_good = path
            return path, state
        return None

    def best_weights(self) -> dict[str, torch.Tensor] | None:
        """The module weights in ``best.pt``, or None when there is none or, with a warning
        saying why, when it cannot be used (a link, damaged, non-finite weights)."""
        path = self.best_path
        if not os.path.lexists(path):
            return None
        try:
            best = self.load(path)
        except KellyError as exc:
            _warn(f"not using the best checkpoint: {exc}")
            return None
        bad = non_finite(best)
        module = best["module"]
        if bad is not None or not isinstance(module, Mapping):
            what = f"non-finite weights ({bad} holds NaN or inf)" if bad else "no weights"
            _warn(f"not using the best checkpoint {path}: {what}; the resumed weights stand in")
            return None
        return {k: v for k, v in module.items() if isinstance(v, torch.Tensor)}

    # ---------------------------------------------------------------- private
    def _step_names(self) -> list[Path]:
        try:
            names = [e.name for e in os.scandir(self.folder) if _STEP_NAME.match(e.name)]
        except OSError:
            return []
        return [self.folder / n for n in sorted(names, key=lambda n: int(n[5:-3]))]

    def _write(self, state: Mapping[str, object], path: Path) -> None:
        bad = non_finite(state)
        if bad is not None:
            raise KellyError(
                f"refusing to write a checkpoint with non-finite weights ({bad} holds NaN or inf)",
                path=path,
            )
        check_no_link(path, root=self.root)
        with atomic_path(path) as tmp:
            try:
                torch.save(dict(state), tmp)
            except (RuntimeError, OSError) as exc:  # a full disk: one line naming path
                raise checkpoint_write_error(exc, path) from exc
        identity = _identity(path)
        if identity is not None:
            self._record[path.name] = identity
            self._save_record()
        logger.debug("checkpoint written: %s", path)

    def _owned(self, path: Path) -> bool:
        """Whether ``path`` is a file this manager (or an earlier run's) wrote, unchanged."""
        identity = _identity(path)
        return identity is not None and self._record.get(path.name) == identity

    def _remove(self, paths: list[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)
            self._record.pop(path.name, None)
        if paths:
            self._save_record()

    def _read_record(self) -> dict[str, list[int]]:
        path = self.folder / RECORD_NAME
        if _kind(path) is not None:  # missing (the usual first run), or refused above
            return {}
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
            files = document["files"]
            return {
                str(name): [int(v) for v in value]
                for name, value in files.items()
                if isinstance(value, list) and len(value) == 3
            }
        except (OSError, ValueError, TypeError, KeyError, AttributeError) as exc:
            _warn(
                f"{path}: cannot read the record of the checkpoints Kelly wrote "
                f"({type(exc).__name__}); the files already here are kept, not pruned"
            )
            return {}

    def _save_record(self) -> None:
        path = self.folder / RECORD_NAME
        check_no_link(path, root=self.root)
        atomic_write_json(path, {"format": _RECORD_FORMAT, "files": self._record}, indent=1)


def _warn(message: str) -> None:
    warnings.warn(message, KellyWarning, stacklevel=3)
