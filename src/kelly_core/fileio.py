"""Atomic file writes: a temp file in the same folder, fsync, then ``os.replace``.

A reader never sees a half-written file, and a crash mid-write leaves the old file.
Temp files are named ``.<target name>.<pid>-<random>.kelly-tmp``: hidden, and ending in
:data:`TEMP_SUFFIX`, so no reader's pattern (``*.pt``, ``*.json``, ``*.npz``, ``step-*``)
matches them. One left by a killed process (``kill -9``) is removed by
:func:`remove_stale_temp_files`, which writers call on the folders they own. Every
failure to write raises :class:`~kelly_core.errors.OutputError` naming the path;
:func:`check_output_path` finds most such failures before any work starts.

Reads of untrusted inputs go through :func:`read_regular_bytes`: the path must be a
regular file (a FIFO, a device, a socket or a folder is refused before it is opened, so
nothing waits forever on a pipe), it is opened with ``O_NONBLOCK`` and checked again on
the open descriptor, and at most ``limit`` bytes are read.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import stat
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Final, Literal

from kelly_core.errors import KellyError, OutputError

__all__ = [
    "TEMP_SUFFIX",
    "InputFileError",
    "atomic_path",
    "atomic_write_bytes",
    "atomic_write_json",
    "atomic_write_text",
    "check_output_path",
    "file_kind",
    "format_size",
    "input_problem",
    "is_temp_name",
    "read_regular_bytes",
    "regular_file_problem",
    "remove_stale_temp_files",
]

TEMP_SUFFIX: Final = ".kelly-tmp"
"""How every temp file of :func:`atomic_path` ends."""
_TEMP_NAME: Final = re.compile(r"^\..+\.(\d+)-[^.]+\.kelly-tmp$")
_OLD_TEMP_NAME: Final = re.compile(r"^\..+\.[A-Za-z0-9_]{8}\.tmp(\.[A-Za-z0-9]+)?$")
"""Temp names of Kelly before 0.2 (``.step-1.pt.ab12cd34.tmp.pt``), removed as stale."""
_OLD_TEMP_AGE_S: Final = 60.0


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is a temp file of :func:`atomic_path` (this or an older version)."""
    return bool(_TEMP_NAME.match(name) or _OLD_TEMP_NAME.match(name))


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, owned by someone else
        return True
    return True


def remove_stale_temp_files(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove temp files in ``folder`` left by processes that no longer run; return them.

    A temp file of a live process (this one included) is kept; one of an older Kelly (no
    process id in the name) is removed once it is a minute old.
    """
    removed: list[Path] = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    now = time.time()
    for entry in entries:
        match = _TEMP_NAME.match(entry.name)
        stale = False
        if match is not None:
            stale = not _alive(int(match.group(1)))
        elif _OLD_TEMP_NAME.match(entry.name):
            try:
                stale = now - entry.stat(follow_symlinks=False).st_mtime > _OLD_TEMP_AGE_S
            except OSError:
                stale = False
        if stale and entry.is_file(follow_symlinks=False):
            with contextlib.suppress(OSError):
                os.unlink(entry.path)
                removed.append(Path(entry.path))
    return removed


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)


def check_output_path(
    path: str | os.PathLike[str], *, kind: Literal["file", "folder"] = "file"
) -> Path:
    """Check, before any work starts, that ``path`` can be written as a ``kind``.

    Missing parent folders are fine (writers create them); nothing is created here. A
    probe file is created and removed in the nearest existing folder, which finds a
    read-only file system or missing permissions.

    :raises OutputError: If ``path`` (or the folder it goes into) exists as the other
        kind, a parent is a regular file, or the nearest existing folder is not writable.
    """
    target = Path(path)
    if target.exists():
        if kind == "file" and target.is_dir():
            raise OutputError("is a folder; expected a file name to write", path=target)
        if kind == "folder" and not target.is_dir():
            raise OutputError("is an existing file; expected a folder to write into", path=target)
    existing = target if kind == "folder" and target.is_dir() else target.parent
    while not existing.exists():
        if existing.is_symlink():
            raise OutputError("a parent is a broken symbolic link", path=existing)
        existing = existing.parent
    if not existing.is_dir():
        raise OutputError(f"cannot write {target}: {existing} is a file, not a folder", path=target)
    try:
        fd, probe = tempfile.mkstemp(
            prefix=f".kelly-probe.{os.getpid()}-", suffix=TEMP_SUFFIX, dir=existing
        )
    except OSError as exc:
        raise OutputError(f"cannot write into {existing}: {_reason(exc)}", path=target) from exc
    os.close(fd)
    with contextlib.suppress(OSError):
        os.unlink(probe)
    return target


def _default_mode() -> int:
    """The mode a plain ``open(path, "w")`` would give: 0o666 less the process umask."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def _fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # some file systems cannot open folders
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` atomically.

    For libraries that write by file name (``torch.save``, ``PrettyMIDI.write``,
    ``savefig``; give ``savefig`` a ``format``: the temp name has no image suffix). If
    the body raises, the temp file is removed and ``path`` is untouched. Parent folders
    are created.

    :raises OutputError: If the folder cannot be created, the temp file cannot be
        written (an ``OSError`` in the body, e.g. a full disk) or cannot replace ``path``.
    """
    target = Path(path)
    try:
        if target.is_dir():
            raise OutputError("is a folder; expected a file name to write", path=target)
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(
            prefix=f".{target.name}.{os.getpid()}-", suffix=TEMP_SUFFIX, dir=target.parent
        )
    except FileExistsError as exc:
        raise OutputError(
            f"cannot create the folder: {exc.filename} is a file", path=target
        ) from exc
    except OSError as exc:
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write: {_reason(exc)}", path=target) from exc
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        # mkstemp creates 0600; keep an existing file's mode, else the usual default.
        mode = target.stat().st_mode & 0o7777 if target.exists() else _default_mode()
        os.chmod(tmp, mode)
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OutputError):
            raise
        raise OutputError(f"cannot write: {_reason(exc)}", path=target) from exc
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)


def atomic_write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)
    return Path(path)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> Path:
    """Write UTF-8 ``text`` to ``path`` atomically; return the path."""
    return atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_json(
    path: str | os.PathLike[str], document: object, *, indent: int | None = None
) -> Path:
    """Write ``document`` as strict JSON (NaN and Inf refused) atomically; return the path.

    :raises ValueError: If ``document`` holds NaN or Inf (nothing is written).
    """
    text = json.dumps(document, allow_nan=False, indent=indent)
    return atomic_write_text(path, text + "\n")


def input_problem(
    path: str | os.PathLike[str], *, kind: Literal["file", "folder"], what: str
) -> str | None:
    """Return why ``path`` cannot be read as a ``kind`` (``what`` names it), or ``None``.

    The wording tells the three cases apart: ``"no such folder of model files"``,
    ``"is a file; expected a folder of model files"``, ``"is a folder; expected a model
    file"``.
    """
    target = Path(path)
    try:
        exists = target.exists()
    except (OSError, ValueError) as exc:
        return f"not a usable path: {exc}"
    if not exists:
        return f"no such {what}"
    if kind == "file" and target.is_dir():
        return f"is a folder; expected a {what}"
    if kind == "folder" and not target.is_dir():
        return f"is a file; expected a {what}"
    if kind == "file":
        return regular_file_problem(target, what=what)
    return None


class InputFileError(KellyError, OSError):
    """An input file is of the wrong kind (a FIFO, a device, a folder), too large, or
    cannot be read; ``reason`` is the sentence without the path."""


_KINDS: Final = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISREG, "a regular file"),
)


def file_kind(mode: int) -> str:
    """Name the kind of file of ``st_mode`` ``mode``: ``"a FIFO (named pipe)"``, ..."""
    return next((name for test, name in _KINDS if test(mode)), "not a regular file")


def format_size(size: int) -> str:
    """``16 MiB``, ``128 KiB`` or ``1000 bytes``: the largest unit that divides ``size``."""
    for unit, name in ((2**30, "GiB"), (2**20, "MiB"), (2**10, "KiB")):
        if size >= unit and size % unit == 0:
            return f"{size // unit} {name}"
    return f"{size} bytes"


def _article(what: str) -> str:
    return f"an {what}" if what[:1].lower() in "aeiou" else f"a {what}"


def regular_file_problem(path: str | os.PathLike[str], *, what: str) -> str | None:
    """Return why ``path`` is not a regular file to read as a ``what`` (``"CSV file"``),
    or ``None``. Symbolic links are followed; nothing is opened."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return f"no such file; expected {_article(what)}"
    except (OSError, ValueError) as exc:  # ELOOP, EACCES on a parent, a NUL byte
        detail = exc.strerror if isinstance(exc, OSError) and exc.strerror else "a bad name"
        return f"cannot look at it ({detail.lower()}); expected {_article(what)}"
    if not stat.S_ISREG(mode):
        return f"is {file_kind(mode)}; expected {_article(what)}"
    return None


def _too_large(size: int, limit: int, what: str) -> str:
    return f"is {size} bytes; expected {_article(what)} of at most {format_size(limit)}"


def read_regular_bytes(path: str | os.PathLike[str], *, limit: int, what: str) -> bytes:
    """Read a regular file of at most ``limit`` bytes, never waiting on a special file.

    The kind is checked with ``os.stat`` before the file is opened, and again on the
    descriptor (opened with ``O_NONBLOCK``), so a file swapped for a FIFO in between is
    refused too; a file that grows past ``limit`` while it is read is refused.

    :raises InputFileError: If ``path`` is missing, not a regular file, larger than
        ``limit`` bytes or unreadable; the message names ``what`` (``"MIDI file"``).
    """
    path = Path(path)
    problem = regular_file_problem(path, what=what)
    if problem is not None:
        raise InputFileError(problem, path=path)
    flags = os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise InputFileError(f"cannot open it: {_reason(exc).lower()}", path=path) from exc
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise InputFileError(
                f"is {file_kind(info.st_mode)}; expected {_article(what)}", path=path
            )
        if info.st_size > limit:
            raise InputFileError(_too_large(info.st_size, limit, what), path=path)
        chunks: list[bytes] = []
        total = 0
        while total <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - total))
            if not chunk:
                break
            chunks.append(chunk)
            total += len(chunk)
    except OSError as exc:
        if isinstance(exc, InputFileError):
            raise
        raise InputFileError(f"cannot read it: {_reason(exc).lower()}", path=path) from exc
    finally:
        os.close(fd)
    if total > limit:
        raise InputFileError(f"grew past {format_size(limit)} while it was read", path=path)
    return b"".join(chunks)
