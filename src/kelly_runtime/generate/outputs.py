"""Where one ``kelly generate`` run writes: one distinct path per result, never an input.

With ``--output-dir``, each input writes ``<stem>.mid`` (and its side outputs beside it).
Two inputs with the same stem (``a/same.wav``, ``b/same.wav``) would write the same file,
the second run over the first, so stems are made unique in the order given:
``same.mid``, ``same-2.mid``, ``same-3.mid``; case is ignored when comparing (a
case-insensitive file system holds ``Same.mid`` and ``same.mid`` as one file). The paths
are planned and checked before any audio is read: no output may be an input file or
another output of the same run.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from kelly_runtime.generate.errors import GenerateOptionError

__all__ = ["check_distinct", "unique_stems"]


def unique_stems(inputs: Sequence[Path]) -> list[str]:
    """Return one output stem per input, unique ignoring case: ``same``, ``same-2``, ...

    A stem already taken gets the lowest free ``-N`` suffix (N >= 2); an input named
    like a suffixed stem (``same-2.wav``) is suffixed in turn (``same-2-2``).
    """
    used: set[str] = set()
    stems: list[str] = []
    for path in inputs:
        base = path.stem or "audio"
        stem, number = base, 2
        while stem.casefold() in used:
            stem, number = f"{base}-{number}", number + 1
        used.add(stem.casefold())
        stems.append(stem)
    return stems


def _key(path: Path) -> str:
    return os.path.normcase(os.path.realpath(path)).casefold()


def check_distinct(outputs: Iterable[Path | None], inputs: Iterable[Path]) -> None:
    """Refuse a run in which two outputs share a path or an output is an input.

    Paths are compared after resolving symbolic links and ``..``, ignoring case.

    :raises GenerateOptionError: Naming the path and both roles.
    """
    sources = {_key(path): path for path in inputs}
    seen: dict[str, Path] = {}
    for path in outputs:
        if path is None:
            continue
        key = _key(path)
        if key in sources:
            raise GenerateOptionError(
                f"an output would overwrite the input {str(sources[key])!r}; "
                "expected output paths apart from the inputs",
                path=path,
                field="output",
            )
        if key in seen:
            raise GenerateOptionError(
                f"two outputs of this run would be written to one file (also {str(seen[key])!r}); "
                "expected a distinct path for each output",
                path=path,
                field="output",
            )
        seen[key] = path
