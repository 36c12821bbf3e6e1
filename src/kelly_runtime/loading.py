"""Model files to backends: read with the registry's exporter for the suffix, then load."""

from __future__ import annotations

from pathlib import Path

from kelly_core.errors import BackendError, SpecError
from kelly_core.fileio import input_problem
from kelly_core.interfaces import Backend
from kelly_core.records import LoadedModel
from kelly_core.registry import Registry, default_registry
from kelly_runtime.select import create_backend

__all__ = ["load_backend", "read_model"]


def read_model(
    path: str | Path, *, model: str | None = None, registry: Registry | None = None
) -> LoadedModel:
    """Read a model file (``.json`` RTNeural, ``.pt`` checkpoint, or any registered format).

    :param model: If given, the model name the file must hold.
    :raises UnknownNameError: If no exporter owns the suffix.
    :raises ExportError: If the file is invalid (the exporter names the JSON path).
    :raises SpecError: If the file holds another model than ``model``.
    """
    registry = registry if registry is not None else default_registry()
    path = Path(path)
    problem = input_problem(path, kind="file", what="model file")
    if problem is not None:
        raise SpecError(problem, path=path, expected="an existing file")
    loaded = registry.exporter_for(path).read(path)
    if model is not None and loaded.spec.name != model:
        raise SpecError(
            f"expected model {model!r}, got {loaded.spec.name!r}",
            path=path,
            field="model",
            expected=model,
            got=loaded.spec.name,
        )
    return loaded


def load_backend(
    source: str | Path | LoadedModel,
    backend: str | None = None,
    *,
    model: str | None = None,
    registry: Registry | None = None,
    **options: object,
) -> Backend:
    """Return backend ``backend`` loaded with the model in ``source``.

    :param source: A model file path, or a :class:`LoadedModel` already read.
    :param backend: A registered backend name; ``None`` (default) picks the first usable
        of :data:`~kelly_runtime.select.PREFERENCE` (numba, numpy, torch, fallback).
    :param model: If given, the model name ``source`` must hold.
    :param options: Backend options (``device="cpu"`` for torch).
    :raises KellyError: As :func:`read_model` and the backend's ``load`` raise; a
        ``SpecError`` or ``BackendError`` from ``load`` names the file.
    """
    registry = registry if registry is not None else default_registry()
    if isinstance(source, LoadedModel):
        loaded = source
        if model is not None and loaded.spec.name != model:
            raise SpecError(
                f"expected model {model!r}, got {loaded.spec.name!r}",
                path=loaded.path,
                field="model",
                expected=model,
                got=loaded.spec.name,
            )
        where = loaded.path
    else:
        loaded = read_model(source, model=model, registry=registry)
        where = Path(source)
    instance = create_backend(backend, registry=registry, **options)
    try:
        instance.load(loaded.spec, loaded.arrays)
    except (SpecError, BackendError) as exc:
        if exc.path is not None or where is None:
            raise
        raise type(exc)(
            exc.reason, path=where, field=exc.field, expected=exc.expected, got=exc.got
        ) from exc
    return instance
