"""Optional imports: check without importing, import with an actionable error.

Every message about missing packages names all of them at once, with the extra of
Kelly's that brings each (:data:`EXTRAS`) and one ``pip install`` line for the lot.
"""

from __future__ import annotations

import importlib
import importlib.util
from collections.abc import Iterable, Mapping
from types import MappingProxyType, ModuleType
from typing import Final

from kelly_core.errors import MissingDependencyError

__all__ = [
    "EXTRAS",
    "install_command",
    "is_available",
    "missing_message",
    "missing_modules",
    "require",
    "require_all",
]

EXTRAS: Final[Mapping[str, tuple[str, ...]]] = MappingProxyType(
    {
        "torch": ("torch",),
        "data": ("pretty_midi", "soundfile", "librosa", "mido", "soxr"),
        "train": ("torch", "matplotlib", "tqdm"),
        "music21": ("music21",),
        "fast": ("numba",),
    }
)
"""Kelly's extras (pyproject.toml's optional dependencies, less the ``all`` and ``dev``
bundles) -> the top-level modules each brings (``soxr`` comes with librosa)."""


def is_available(module: str) -> bool:
    """Return whether ``module``'s top-level package can be imported, importing nothing."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(modules: tuple[str, ...]) -> tuple[str, ...]:
    """Return the names in ``modules`` that are not importable."""
    return tuple(m for m in modules if not is_available(m))


def _extras_for(modules: Iterable[str]) -> tuple[dict[str, list[str]], list[str]]:
    """The fewest extras that bring ``modules`` (extra -> its modules among them), and the
    modules no extra brings."""
    left = list(dict.fromkeys(m.split(".")[0] for m in modules))
    chosen: dict[str, list[str]] = {}
    while True:
        # most of what is left; on a tie the extra that installs less
        best = max(
            EXTRAS,
            key=lambda e: (sum(m in EXTRAS[e] for m in left), -len(EXTRAS[e])),
        )
        brought = [m for m in left if m in EXTRAS[best]]
        if not brought:
            return {e: chosen[e] for e in EXTRAS if e in chosen}, left
        chosen[best] = brought
        left = [m for m in left if m not in brought]


def install_command(modules: Iterable[str]) -> str:
    """``pip install "kelly[a,b]" other``: the extras that bring ``modules``, then any
    module no extra brings by its own name."""
    chosen, others = _extras_for(modules)
    parts = [f'"kelly[{",".join(chosen)}]"'] if chosen else []
    return "pip install " + " ".join([*parts, *others])


def missing_message(purpose: str, modules: Iterable[str]) -> str:
    """One line naming every missing module, the extra that brings each, and the command.

    ``kelly train needs 'torch' and 'matplotlib', which are not installed (extra 'train'
    brings both); install them with: pip install "kelly[train]"``.
    """
    names = list(dict.fromkeys(m.split(".")[0] for m in modules))
    quoted = [repr(m) for m in names]
    listed = quoted[0] if len(quoted) == 1 else f"{', '.join(quoted[:-1])} and {quoted[-1]}"
    chosen, others = _extras_for(names)
    sources = [
        f"extra {extra!r} brings {'it' if len(names) == 1 else ', '.join(brought)}"
        for extra, brought in chosen.items()
    ]
    if len(chosen) == 1 and not others and len(names) > 1:
        sources = [f"extra {next(iter(chosen))!r} brings {'both' if len(names) == 2 else 'all'}"]
    if others:
        sources.append(f"no extra of Kelly's brings {', '.join(others)}")
    one = len(names) == 1
    return (
        f"{purpose} needs {listed}, which {'is' if one else 'are'} not installed "
        f"({'; '.join(sources)}); install {'it' if one else 'them'} with: "
        f"{install_command(names)}"
    )


def require_all(modules: Iterable[str], *, purpose: str) -> None:
    """Check that every module in ``modules`` can be imported, importing none.

    :raises MissingDependencyError: Naming every missing one at once (:func:`missing_message`).
    """
    missing = missing_modules(tuple(modules))
    if missing:
        raise MissingDependencyError(missing_message(purpose, missing), expected=missing)


def require(module: str, *, extra: str | None = None, purpose: str) -> ModuleType:
    """Import ``module`` or raise ``MissingDependencyError`` naming the extra to install.

    :param module: Module to import.
    :param extra: Kelly's extra that installs it (``"torch"``, ``"data"``); the message
        takes it from :data:`EXTRAS` when the module is listed there.
    :param purpose: What needs it, for the message (``"the torch backend"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        top = module.split(".")[0]
        if extra is not None and not any(top in brought for brought in EXTRAS.values()):
            message = (
                f"{purpose} needs {top!r}, which is not installed; "
                f'install it with: pip install "kelly[{extra}]"'
            )
        else:
            message = missing_message(purpose, (module,))
        raise MissingDependencyError(message, expected=module) from exc
