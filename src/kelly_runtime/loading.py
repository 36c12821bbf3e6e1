"""Model files to backends: read with the registry's exporter for the suffix, then load.

The tonal reference (whether a model's note, chord and pitch-class vectors are relative
to the key's tonic) belongs to the file, in ``metadata.tonal_reference``: a backend only
runs arrays, so :func:`load_stage_file` returns the reference beside the loaded backend
and :class:`kelly_runtime.pipeline.Pipeline` applies it.
"""

from __future__ import annotations

from pathlib import Path

from kelly_core.catalog import MODEL_SPECS
from kelly_core.encodings.tonal import TonalReference, tonal_reference
from kelly_core.errors import BackendError, KellyError, SpecError
from kelly_core.fileio import input_problem, regular_file_problem
from kelly_core.interfaces import Backend
from kelly_core.records import LoadedModel
from kelly_core.registry import Registry, default_registry
from kelly_runtime.model_files import find_model_file, model_file_candidates
from kelly_runtime.select import create_backend

__all__ = ["load_backend", "load_stage_file", "read_model"]


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
    # a FIFO or a device would block or never end: refused unopened (input_problem)
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
    :param backend: A registered backend name; ``None`` (default) picks the usable one of
        highest priority (:func:`~kelly_runtime.select.select_backend_name`).
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
        raise exc.located(path=where) from exc
    return instance


def load_stage_file(
    name: str,
    folder: Path,
    backend: str | None,
    *,
    registry: Registry,
    **options: object,
) -> tuple[Backend | None, TonalReference, str | None]:
    """Load model ``name`` from ``<folder>/<file stem><suffix>`` into a new backend, the
    suffix being the first registered format's with a file (:mod:`.model_files`).

    :returns: ``(backend, tonal reference, None)``, or ``(None, "absolute", why)`` when the
        file is missing, unreadable, holds another model or does not load.
    :raises UnknownNameError: If ``backend`` is not registered (not a file problem).
    :raises MissingDependencyError: If the backend needs a missing module.
    """
    instance = create_backend(backend, registry=registry, **options)
    stem = MODEL_SPECS[name].file_stem
    path = find_model_file(folder, stem, registry)
    if path is None:
        names = " or ".join(p.name for p in model_file_candidates(folder, stem, registry))
        return None, "absolute", f"no model file ({names}) in {str(folder)!r}"
    problem = regular_file_problem(path, what="model file")
    if problem is not None:  # a FIFO, a device or a folder: never opened
        return None, "absolute", f"{str(path)!r} {problem}"
    try:
        loaded = registry.exporter_for(path).read(path)
    except KellyError as exc:
        return None, "absolute", f"cannot read {str(path)!r}: {exc}"
    want = MODEL_SPECS[name]
    got = loaded.spec
    if got.name != name or (got.input_size, got.output_size) != (want.input_size, want.output_size):
        return (
            None,
            "absolute",
            (
                f"{str(path)!r} holds {got.name!r} ({got.input_size} -> {got.output_size}), "
                f"expected {name!r} ({want.input_size} -> {want.output_size})"
            ),
        )
    try:
        reference = tonal_reference(loaded.metadata)
    except ValueError as exc:
        return None, "absolute", f"{str(path)!r}: {exc}"
    try:
        instance.load(loaded.spec, loaded.arrays)
    except (SpecError, BackendError) as exc:
        return None, "absolute", f"cannot load {str(path)!r}: {exc}"
    return instance, reference, None
