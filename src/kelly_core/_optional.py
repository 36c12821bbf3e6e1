"""Optional imports: check without importing, import with an actionable error."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from kelly_core.errors import MissingDependencyError

__all__ = ["is_available", "missing_modules", "require"]


def is_available(module: str) -> bool:
    """Return whether ``module``'s top-level package can be imported, importing nothing."""
    try:
        return importlib.util.find_spec(module.split(".")[0]) is not None
    except (ImportError, ValueError):
        return False


def missing_modules(modules: tuple[str, ...]) -> tuple[str, ...]:
    """Return the names in ``modules`` that are not importable."""
    return tuple(m for m in modules if not is_available(m))


def require(module: str, *, extra: str, purpose: str) -> ModuleType:
    """Import ``module`` or raise ``MissingDependencyError`` naming the extra to install.

    :param module: Module to import.
    :param extra: Kelly's extra that installs it (``"torch"``, ``"data"``).
    :param purpose: What needs it, for the message (``"the torch backend"``).
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        raise MissingDependencyError(
            f"{purpose} needs {module!r}, which is not installed; "
            f'install it with: pip install "kelly[{extra}]"',
            expected=module,
        ) from exc
