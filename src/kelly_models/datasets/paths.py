"""Path containment for dataset readers: nothing outside a dataset's root is opened.

Every path a reader opens goes through one of two functions:

- :func:`index_path` for a file name read from an index row (MAESTRO's and Groove
  MIDI's ``midi_filename``): refused when empty, with a NUL byte, absolute, or when it
  resolves (``..``, symbolic links) to a place outside the root;
- :func:`inside_root` for files found by walking the root (``rglob``): a symbolic link,
  or a file under a linked folder, that resolves outside the root is dropped.

Refused paths become :class:`~kelly_core.records.SkippedFile` records with the reason,
so ``kelly data inspect`` lists and counts them; they are never read.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from kelly_core.records import SkippedFile

__all__ = ["index_path", "inside_root", "resolved_root"]


def resolved_root(root: Path) -> Path:
    """The root with every symbolic link resolved (the reference for containment)."""
    return Path(root).resolve()


def _outside(path: Path, real_root: Path) -> str | None:
    try:
        real = path.resolve()
    except (OSError, RuntimeError, ValueError) as exc:  # a link loop, a bad name
        return f"cannot resolve the path: {exc}"
    if real != real_root and not real.is_relative_to(real_root):
        return f"resolves to {real}, outside the dataset root {real_root}; not read"
    return None


def index_path(root: Path, name: str, *, where: str = "") -> tuple[Path | None, str]:
    """Return ``(root / name, "")`` if ``name`` is a file name inside ``root``, else
    ``(None, reason)``; ``where`` (``"line 7: "``) prefixes the reason."""
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
    return path, ""


def inside_root(root: Path, files: Iterable[Path]) -> tuple[list[Path], list[SkippedFile]]:
    """Split ``files`` found below ``root`` into those inside it and skipped ones."""
    real_root = resolved_root(root)
    kept: list[Path] = []
    skipped: list[SkippedFile] = []
    for path in files:
        reason = _outside(path, real_root)
        if reason is None:
            kept.append(path)
        else:
            skipped.append(SkippedFile(path=path, reason=f"symbolic link that {reason}"))
    return kept, skipped
