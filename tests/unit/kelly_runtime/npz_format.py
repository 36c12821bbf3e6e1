"""A third-party model file format for the tests: ``.npzmodel`` (numpy ``savez`` of the
state arrays and the spec as JSON), registered by :data:`PLUGIN` as exporter ``npz``."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from kelly_core.arrays import FloatArray
from kelly_core.entries import ExporterEntry
from kelly_core.hookspecs import hookimpl
from kelly_core.records import LoadedModel
from kelly_core.specs import ModelSpec

__all__ = ["PLUGIN", "NpzExporter"]

SUFFIX = ".npzmodel"


class NpzExporter:
    """Writes and reads ``.npzmodel`` files."""

    def export(
        self,
        spec: ModelSpec,
        arrays: Mapping[str, FloatArray],
        path: Path,
        *,
        metadata: Mapping[str, object] | None = None,
    ) -> Path:
        """Write the arrays and ``__spec__`` (JSON) to ``path``."""
        contents: dict[str, np.ndarray] = {"__spec__": np.array(json.dumps(spec.to_dict()))}
        contents.update(arrays)
        with Path(path).open("wb") as handle:
            np.savez(handle, **contents)  # type: ignore[arg-type]  # the stub types allow_pickle
        return Path(path)

    def read(self, path: Path) -> LoadedModel:
        """Read a file :meth:`export` wrote."""
        with np.load(path) as data:
            spec = ModelSpec.from_dict(json.loads(str(data["__spec__"])), source=path)
            arrays = {k: data[k].astype(np.float32) for k in data.files if k != "__spec__"}
        return LoadedModel(spec=spec, arrays=arrays, path=Path(path))

    def check(self, path: Path) -> list[str]:
        """No problems if it reads."""
        self.read(path)
        return []


class _Plugin:
    @hookimpl
    def kelly_exporters(self) -> list[ExporterEntry]:
        return [
            ExporterEntry(
                name="npz", factory="tests.unit.kelly_runtime.npz_format:NpzExporter", suffix=SUFFIX
            )
        ]


PLUGIN = _Plugin()
