"""Path containment for dataset readers: nothing outside a dataset's root is opened.

Every path a reader opens goes through one of these functions:

- :func:`index_path` for a file name read from an index row (MAESTRO's and Groove
  MIDI's ``midi_filename``): refused when empty, with a NUL byte, absolute, when it
  resolves (``..``, symbolic links) to a place outside the root, or when it names a
  FIFO, a device, a socket or a folder;
- :func:`inside_root` for files found by walking the root (``rglob``): a symbolic link,
  or a file under a linked folder, that resolves outside the root is dropped, and so is
  a special file and a second name (symbolic or hard link) of a file already listed;
- :func:`require_inside` for an index file itself: outside the root is an error.

Refused paths become :class:`~kelly_core.records.SkippedFile` records with the reason,
so ``kelly data inspect`` lists and counts them; they are never read.
"""

from __future__ import annotations

import errno
import os
from collections.abc import Iterable
from pathlib import Path

from kelly_core.errors import DatasetError
from kelly_core.fileio import regular_file_problem
from kelly_core.records import SkippedFile

__all__ = [
    "file_identity",
    "index_path",
    "inside_root",
    "relative_name",
    "require_inside",
    "resolved_root",
]


def resolved_root(root: Path) -> Path:
    """The root with every symbolic link resolved (the reference for containment)."""
    return Path(root).resolve()


def _outside(path: Path, real_root: Path) -> str | None:
    """``None`` if ``path`` resolves inside ``real_root``, else what is wrong with it
    (a phrase without its subject: ``"resolves to ..., outside the dataset root ..."``)."""
    try:
        real = path.resolve()
    except RuntimeError:  # Python 3.11 raises it on a symbolic link loop
        return _LOOP
    except ValueError:
        return "has a NUL byte in its name; the path cannot be resolved"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return _LOOP
        return f"cannot be resolved ({(exc.strerror or 'unreadable').lower()})"
    if real != real_root and not real.is_relative_to(real_root):
        return f"resolves to {real}, outside the dataset root {real_root}; not read"
    return None


_LOOP = "is a symbolic link loop; the path cannot be resolved"


def _special(path: Path, what: str) -> str | None:
    """Why ``path`` is an existing non-regular file (a FIFO, ...), else ``None``."""
    if not os.path.lexists(path):
        return None
    problem = regular_file_problem(path, what=what)
    if problem is None or problem.startswith("no such file"):
        return None  # a broken link: the worker says "no such file"
    return problem


def file_identity(path: Path) -> tuple[object, ...]:
    """What makes two names one file: device and inode, else the normalised path."""
    try:
        info = os.stat(path)
    except (OSError, ValueError):
        return ("path", os.path.normpath(os.path.abspath(path)))
    return ("inode", info.st_dev, info.st_ino)


def relative_name(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it lies below it (for messages)."""
    try:
        return str(Path(path).relative_to(root))
    except ValueError:
        return str(path)


def index_path(
    root: Path, name: str, *, where: str = "", what: str = "file"
) -> tuple[Path | None, str]:
    """Return ``(root / name, "")`` if ``name`` is a file name inside ``root``, else
    ``(None, reason)``; ``where`` (``"line 7: "``) prefixes the reason, ``what``
    (``"MIDI file"``) names what a special file was expected to be."""
    if name == "":
        return None, f"{where}empty file name"
    if "\x00" in name:
        return None, f"{where}file name {name!r} contains a NUL byte"
    relative = Path(name)
    if relative.is_absolute():
        return None, (
            f"{where}absolute path {name!r}; expected a path relative to the dataset root"
        )
    path = Path(root) / relative
    reason = _outside(path, resolved_root(root))
    if reason is not None:
        return None, f"{where}{name!r} {reason}"
    special = _special(path, what)
    if special is not None:
        return None, f"{where}{name!r} {special}"
    return path, ""


def inside_root(
    root: Path, files: Iterable[Path], *, what: str | None = "file"
) -> tuple[list[Path], list[SkippedFile]]:
    """Split ``files`` found below ``root`` into those to read and skipped ones.

    Skipped: links that resolve outside the root or loop; when ``what`` is given, FIFOs,
    devices, sockets and folders; and a second name of a file already kept.
    """
    real_root = resolved_root(root)
    kept: list[Path] = []
    skipped: list[SkippedFile] = []
    seen: dict[tuple[object, ...], Path] = {}
    for path in files:
        reason = _outside(path, real_root)
        if reason is None and what is not None:
            reason = _special(path, what)
        elif reason is not None:
            reason = reason.replace("is a symbolic link loop", "symbolic link loop")
            reason = f"symbolic link that {reason}" if reason.startswith("res") else reason
        if reason is None:
            identity = file_identity(path)
            first = seen.setdefault(identity, path)
            if first != path:
                reason = f"same file as {relative_name(first, root)}; read once"
        if reason is None:
            kept.append(path)
        else:
            skipped.append(SkippedFile(path=path, reason=reason))
    return kept, skipped


def require_inside(root: Path, path: Path) -> Path:
    """Return ``path`` (an index file) if it lies inside ``root``.

    :raises DatasetError: If it resolves outside the root (a symbolic link elsewhere).
    """
    reason = _outside(path, resolved_root(root))
    if reason is not None:
        raise DatasetError(reason, path=path)
    return path
