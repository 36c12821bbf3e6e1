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
newest file is passed over, with a warning, for the previous good one.
"""

from __future__ import annotations

import logging
import random
import re
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Final, TypeVar

import numpy as np
import torch

from kelly_core.errors import ExportError, KellyError, KellyWarning, OutputError
from kelly_core.fileio import atomic_path, remove_stale_temp_files
from kelly_models.checkpoint_format import verify_checkpoint_file

__all__ = ["CheckpointManager", "capture_rng", "read_number", "restore_rng"]

logger = logging.getLogger(__name__)

_N = TypeVar("_N", int, float)

_STEP_NAME: Final = re.compile(r"^step-(\d{8,})\.pt$")
BEST_NAME: Final = "best.pt"


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


class CheckpointManager:
    """Saves and finds one model's checkpoints in ``folder``.

    :param folder: Where the files go (created on first save).
    :param keep_last: How many ``step-*.pt`` files to keep; older ones are deleted.
    """

    def __init__(self, folder: Path, *, keep_last: int = 2) -> None:
        if keep_last < 1:
            raise ValueError(f"keep_last must be at least 1, got {keep_last}")
        self.folder = Path(folder)
        self.keep_last = keep_last
        for stale in remove_stale_temp_files(self.folder):
            logger.info("removed a temp file left by an interrupted run: %s", stale)

    def save(self, state: Mapping[str, object], *, step: int) -> Path:
        """Write ``state`` as ``step-<step>.pt`` atomically, then prune older files."""
        path = self.folder / f"step-{step:08d}.pt"
        self._write(state, path)
        for old in self.checkpoints()[: -self.keep_last]:
            old.unlink(missing_ok=True)
        return path

    def save_best(self, state: Mapping[str, object]) -> Path:
        """Write ``state`` as ``best.pt`` atomically (replacing the previous best)."""
        path = self.folder / BEST_NAME
        self._write(state, path)
        return path

    def checkpoints(self) -> list[Path]:
        """Return the ``step-*.pt`` files, oldest first."""
        if not self.folder.is_dir():
            return []
        found = [p for p in self.folder.iterdir() if _STEP_NAME.match(p.name)]
        return sorted(found, key=lambda p: int(p.name[5:-3]))

    @property
    def best_path(self) -> Path:
        """Where the best checkpoint is (it may not exist yet)."""
        return self.folder / BEST_NAME

    def load(self, path: Path) -> dict[str, object]:
        """Read one checkpoint onto the CPU.

        :raises KellyError: If the file cannot be read or is not a checkpoint.
        """
        try:
            verify_checkpoint_file(path)
        except ExportError as exc:
            raise KellyError(exc.reason, path=path) from exc
        try:
            state = torch.load(path, map_location="cpu", weights_only=True)
        except Exception as exc:  # torch raises many kinds for a damaged file
            first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
            raise KellyError(f"cannot read checkpoint: {first}", path=path) from exc
        if not isinstance(state, dict) or "module" not in state:
            raise KellyError("not a Kelly checkpoint (no 'module' key)", path=path)
        return state

    def load_latest(self) -> tuple[Path, dict[str, object]] | None:
        """Return the newest readable checkpoint, skipping damaged ones with a warning.

        :returns: ``(path, state)``, or None when there is no readable checkpoint.
        """
        for path in reversed(self.checkpoints()):
            try:
                return path, self.load(path)
            except KellyError as exc:
                message = f"skipping damaged checkpoint, resuming from an older one: {exc}"
                warnings.warn(message, KellyWarning, stacklevel=2)
        return None

    def _write(self, state: Mapping[str, object], path: Path) -> None:
        with atomic_path(path) as tmp:
            try:
                torch.save(dict(state), tmp)
            except RuntimeError as exc:  # torch's writer reports a full disk this way
                first = (str(exc).strip().splitlines() or ["RuntimeError"])[0]
                raise OutputError(f"cannot write checkpoint: {first}", path=path) from exc
        logger.debug("checkpoint written: %s", path)
