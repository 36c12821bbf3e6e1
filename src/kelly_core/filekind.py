"""What kind of file a path is, checked with ``os.stat`` before anything opens it.

Opening a FIFO for reading waits for a writer forever; a character device such as
``/dev/zero`` never ends. Every reader of a model, checkpoint, array or audio file calls
:func:`regular_file_problem` first, so such a path gives one line naming the path and
its kind instead of a hang.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

__all__ = ["describe_mode", "regular_file_problem"]

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def describe_mode(mode: int) -> str:
    """Name the kind of file of an ``st_mode``: ``"a regular file"``, ``"a FIFO ..."``."""
    if stat.S_ISREG(mode):
        return "a regular file"
    return next((name for test, name in _KINDS if test(mode)), "a special file")


def regular_file_problem(path: str | os.PathLike[str], *, what: str) -> str | None:
    """Return why ``path`` is not a regular file to read as ``what``, or ``None``.

    Follows symbolic links (a link to a regular file is fine). Nothing is opened.

    :returns: ``"no such <what>"``, ``"is a FIFO (named pipe); expected a <what>"``
        (``an`` before a vowel), ...
    """
    try:
        info = os.stat(Path(path))
    except FileNotFoundError:
        return f"no such {what}"
    except (OSError, ValueError) as exc:  # permissions, a name too long, a NUL byte
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        return f"cannot read: {reason}"
    if stat.S_ISREG(info.st_mode):
        return None
    article = "an" if what[:1].lower() in tuple("aeiou") else "a"
    return f"is {describe_mode(info.st_mode)}; expected {article} {what}"
