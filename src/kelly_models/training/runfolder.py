"""The run folder's two guards: no symbolic link inside it is followed, one run at a time.

**Links.** ``kelly train -o RUN`` writes and deletes only inside ``RUN``. The folder
given may itself be a link (a run folder on another disk), but nothing inside it may be:
:func:`check_no_link` refuses a path when it, or any folder between ``RUN`` and it, is a
symbolic link, with one :class:`~kelly_core.errors.OutputError` line naming the link.
:func:`planned_paths` lists every path a run will write, so the run is refused before
any work; each writer checks its path again just before writing.

**Lock.** :class:`RunLock` holds ``RUN/.kelly-lock`` with ``fcntl.flock`` while a run
writes the folder; the file names the holder (pid, host, start time). A second run is
refused at once, naming the holder. The lock belongs to the open file, so it ends with
the process however it ends (``kill -9`` included): a lock file left by a dead process is
simply taken over. Inside one process the lock is re-entrant (``kelly train`` holds it
around training and the summary; :func:`~.run.train_models` takes it too, for callers
of the API).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import stat
import time
from collections.abc import Iterable
from pathlib import Path
from types import TracebackType
from typing import Final

from kelly_core.errors import OutputError

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: runs are not locked
    fcntl = None  # type: ignore[assignment]  # checked before use

__all__ = ["LOCK_NAME", "RunLock", "check_no_link", "checked", "planned_paths", "refuse_links"]

LOCK_NAME: Final = ".kelly-lock"

_HELD: dict[str, list[int]] = {}
"""Locks this process holds: real path of the lock file -> [fd, depth]."""

_LINK_REASON: Final = (
    "is a symbolic link inside the run folder; kelly train writes and deletes only inside "
    "the run folder and follows no link there (remove the link, or train into another "
    "--output)"
)


def check_no_link(path: Path, *, root: Path) -> None:
    """Refuse ``path`` if it or a folder between ``root`` and it is a symbolic link.

    ``root`` itself may be a link. Missing parts are fine (writers create real folders).

    :raises OutputError: Naming the first link found, or a ``path`` outside ``root``.
    """
    try:
        parts = Path(path).relative_to(root).parts
    except ValueError:
        raise OutputError(f"is outside the run folder {root}", path=path) from None
    current = Path(root)
    for part in parts:
        current = current / part
        try:
            mode = os.lstat(current).st_mode
        except FileNotFoundError:
            return
        except OSError as exc:
            raise OutputError(f"cannot inspect: {exc.strerror or exc}", path=current) from exc
        if stat.S_ISLNK(mode):
            raise OutputError(_LINK_REASON, path=current)


def checked(path: Path, root: Path | None) -> Path:
    """Return ``path`` after :func:`check_no_link` (no check when ``root`` is None)."""
    if root is not None:
        check_no_link(path, root=root)
    return path


def refuse_links(root: Path, paths: Iterable[Path]) -> None:
    """Check every path of ``paths`` with :func:`check_no_link` (the first link raises)."""
    for path in paths:
        check_no_link(path, root=root)


def planned_paths(
    root: Path,
    stems: Iterable[str],
    *,
    suffix: str,
    folds: int,
    checkpoint_files: Iterable[str],
) -> list[Path]:
    """Every path a run training the models ``stems`` writes into ``root``.

    An exporter may write files beside the model (``<stem>.parity.json``): every entry of
    ``root`` whose name starts with ``<stem>.`` is listed too.
    """
    root = Path(root)
    paths = [root / LOCK_NAME, root / "summary.json", root / "summary.md"]
    try:
        present = [entry.name for entry in os.scandir(root)]
    except OSError:
        present = []
    checkpoint_files = tuple(checkpoint_files)
    for stem in stems:
        paths.append(root / f"{stem}{suffix}")
        paths += [root / name for name in sorted(present) if name.startswith(f"{stem}.")]
        metrics = root / "metrics"
        paths += [metrics / f"{stem}_{kind}" for kind in ("baseline.json", "metrics.json")]
        paths.append(metrics / f"{stem}_metrics.png")
        folders = [root / "checkpoints" / stem]
        if folds > 1:
            paths += [metrics / f"{stem}_fold{k}_history.json" for k in range(1, folds + 1)]
            folders += [folders[0] / f"fold-{k}" for k in range(1, folds + 1)]
        else:
            paths.append(metrics / f"{stem}_history.json")
        paths += [folder / name for folder in folders for name in checkpoint_files]
    return paths


class RunLock:
    """An exclusive lock on a run folder, held from :meth:`acquire` to :meth:`release`.

    :param root: The run folder (created if missing).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.path = self.root / LOCK_NAME
        self._key: str | None = None

    def acquire(self) -> None:
        """Take the lock, or refuse at once naming the process that holds it.

        :raises OutputError: If another process holds the lock, or the lock file is a link
            or not a regular file, or cannot be created.
        """
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            check_no_link(self.path, root=self.root)
            if self.path.exists() and not self.path.is_file():
                raise OutputError("is not a regular file; expected the run's lock", path=self.path)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o644)
        except OutputError:
            raise
        except OSError as exc:
            reason = exc.strerror or str(exc)
            raise OutputError(f"cannot create the run's lock: {reason}", path=self.path) from exc
        key = os.path.realpath(self.path)
        if key in _HELD:  # this process holds it already
            os.close(fd)
            _HELD[key][1] += 1
            self._key = key
            return
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                holder = _holder(fd)
                os.close(fd)
                raise OutputError(
                    f"is in use by another kelly train ({holder}); wait for it to finish, "
                    "or train into another --output",
                    path=self.root,
                ) from None
        note = {
            "pid": os.getpid(),
            "host": socket.gethostname(),
            "started": time.strftime("%Y-%m-%d %H:%M:%S"),
        }
        os.ftruncate(fd, 0)
        os.pwrite(fd, json.dumps(note).encode() + b"\n", 0)
        _HELD[key] = [fd, 1]
        self._key = key

    def release(self) -> None:
        """Let the lock go (the file stays, emptied: removing it would race a newcomer)."""
        if self._key is None:
            return
        key, self._key = self._key, None
        held = _HELD[key]
        held[1] -= 1
        if held[1] > 0:
            return
        fd = _HELD.pop(key)[0]
        with contextlib.suppress(OSError):
            os.ftruncate(fd, 0)
        os.close(fd)  # closing the file ends the flock

    def __enter__(self) -> RunLock:
        self.acquire()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()


def _holder(fd: int) -> str:
    """Describe the process named in the lock file: ``pid 123 on host, since ...``."""
    try:
        note = json.loads(os.pread(fd, 4096, 0).decode("utf-8", "replace") or "{}")
    except ValueError:
        note = None
    if not isinstance(note, dict) or "pid" not in note:
        return "holder unknown"
    text = f"pid {note.get('pid')} on {note.get('host', 'an unknown host')}"
    return f"{text}, since {note['started']}" if "started" in note else text
