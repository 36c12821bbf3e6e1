"""The ``checkpoint`` model-file format: one model's weights as a torch ``.pt`` file.

A checkpoint is a plain dict that ``torch.load(path, weights_only=True)`` reads::

    {"model": "EmotionRecognizer",          # the spec's name
     "spec": {...},                         # ModelSpec.to_dict(): rebuilds the architecture
     "state_dict": {"layers.0.weight": tensor, ...},   # torch names, float32, CPU
     "kelly_version": "0.1.0",
     "metadata": {...}}                     # optional JSON-like extras (seed, training)

Files are written atomically (:func:`kelly_core.fileio.atomic_path`). This is the format
``kelly init`` writes and ``kelly export`` reads; training may write the same files.

Integrity: ``torch.save`` writes a zip archive whose members carry CRC-32 checksums, but
``torch.load`` does not verify them, so a file with flipped bytes loads with changed
weights. :func:`verify_checkpoint_file` reads every member and checks its CRC (and the
file size limit) before ``torch.load`` sees the file.
"""

from __future__ import annotations

import errno
import os
import re
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Final

import numpy as np
import torch

from kelly_core import __version__
from kelly_core.arrays import FloatArray
from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import ExportError, OutputError, SpecError
from kelly_core.fileio import atomic_path, regular_file_problem
from kelly_core.records import LoadedModel
from kelly_core.specs import ModelSpec
from kelly_models import weights
from kelly_models.build import build_network
from kelly_models.network import SpecNetwork

__all__ = [
    "CHECKPOINT_KEYS",
    "MAX_CHECKPOINT_BYTES",
    "CheckpointExporter",
    "checkpoint_write_error",
    "load_checkpoint",
    "read_checkpoint",
    "save_checkpoint",
    "verify_checkpoint_file",
]

CHECKPOINT_KEYS: Final = ("model", "spec", "state_dict", "kelly_version")
"""Keys every checkpoint has; ``metadata`` is optional."""
MAX_CHECKPOINT_BYTES: Final = 1024 * 1024 * 1024
"""Largest checkpoint read (1 GiB; a training checkpoint of the largest model is ~8 MB)."""
_CHUNK: Final = 1 << 20
_TORCH_WRITE_FAILED: Final = ("enforce fail", "file write failed", "unexpected pos")
"""What torch's stream writer says when a ``write()`` to the file failed."""
_FULL_BELOW: Final = 1 << 20
"""Free bytes under which a failed checkpoint write is reported as a full disk (1 MiB)."""


def verify_checkpoint_file(path: Path, *, max_bytes: int = MAX_CHECKPOINT_BYTES) -> None:
    """Check that ``path`` is an intact torch zip archive: size, structure, every CRC-32.

    :raises ExportError: Missing, a folder, too large, not a zip archive, truncated, or
        a member whose bytes do not match its checksum (the member is named).
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError as exc:
        raise ExportError("no such file", path=path) from exc
    except (OSError, ValueError) as exc:
        raise ExportError(f"cannot read: {exc}", path=path) from exc
    kind = regular_file_problem(path, what=".pt checkpoint file")
    if kind is not None:  # a folder, or a FIFO (zipfile would wait on it forever), a device
        raise ExportError(kind, path=path)
    if size > max_bytes:
        raise ExportError(
            f"file is {size:,} bytes, over the {max_bytes:,}-byte limit for a checkpoint",
            path=path,
        )
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                crc = 0
                with archive.open(info) as member:
                    while chunk := member.read(_CHUNK):
                        crc = zlib.crc32(chunk, crc)
                if crc != info.CRC:
                    raise ExportError(
                        f"damaged checkpoint: member {info.filename!r} fails its CRC-32 check "
                        "(bytes changed on disk or in transfer)",
                        path=path,
                        field=info.filename,
                    )
    except zipfile.BadZipFile as exc:
        reason = str(exc)
        hint = "damaged checkpoint" if "CRC" in reason else "not a torch checkpoint (zip)"
        raise ExportError(f"{hint}: {reason}", path=path) from exc
    except (OSError, EOFError, ValueError, NotImplementedError, zlib.error) as exc:
        raise ExportError(
            f"damaged or truncated checkpoint: {type(exc).__name__}: {exc}", path=path
        ) from exc


def _write(
    spec: ModelSpec,
    state_dict: Mapping[str, torch.Tensor],
    path: Path,
    metadata: Mapping[str, object] | None,
) -> Path:
    document: dict[str, object] = {
        "model": spec.name,
        "spec": spec.to_dict(),
        "state_dict": {
            k: v.detach().to("cpu", torch.float32).clone() for k, v in state_dict.items()
        },
        "kelly_version": __version__,
        "metadata": dict(metadata or {}),
    }
    with atomic_path(path) as tmp:
        try:
            torch.save(document, tmp)
        except (RuntimeError, OSError) as exc:
            raise checkpoint_write_error(exc, path) from exc
    return Path(path)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _free_bytes(folder: Path) -> int | None:
    """Bytes an unprivileged writer may still use in ``folder``'s file system, or None."""
    try:
        info = os.statvfs(folder)
    except (OSError, AttributeError):  # AttributeError: no statvfs on this platform
        return None
    return info.f_bavail * info.f_frsize


def checkpoint_write_error(exc: RuntimeError | OSError, path: Path) -> OutputError:
    """The one-line :class:`OutputError` for ``torch.save`` failing to write ``path``.

    torch's C++ writer reports a failed ``write()`` as ``RuntimeError("[enforce fail at
    inline_container.cc:672] . PytorchStreamWriter failed writing file data/0: file write
    failed")`` (or ``"... unexpected pos 704 vs 598"``), without the OS error. It is
    reported as ``no space left on device`` when the folder's file system has less than
    :data:`_FULL_BELOW` bytes free, else with torch's reason less its source location.
    An ``OSError`` (the Python writer torch uses for non-ASCII names) gives the OS reason.
    """
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return OutputError("cannot write checkpoint: no space left on device", path=path)
        reason = (exc.strerror or str(exc) or type(exc).__name__).lower()
        return OutputError(f"cannot write checkpoint: {reason}", path=path)
    text = _first_line(exc)
    if not any(marker in text for marker in _TORCH_WRITE_FAILED):
        return OutputError(f"cannot write checkpoint: {text}", path=path)
    free = _free_bytes(Path(path).parent)
    if free is not None and free < _FULL_BELOW:
        return OutputError(
            f"cannot write checkpoint: no space left on device ({free:,} bytes free)", path=path
        )
    detail = re.sub(r"^\[enforce fail at [^\]]*\]\s*\.?\s*", "", text) or text
    return OutputError(
        f"cannot write checkpoint: the write failed (torch: {detail}); "
        "check free space, quota and the device",
        path=path,
    )


def save_checkpoint(
    model: SpecNetwork, path: str | Path, *, metadata: Mapping[str, object] | None = None
) -> Path:
    """Write ``model`` (any :class:`SpecNetwork`) to ``path`` atomically; return the path.

    :param metadata: JSON-like extras (str, int, float, bool, None, lists, dicts) kept in
        the file under ``"metadata"``.
    """
    return _write(model.spec, model.state_dict(), Path(path), metadata)


def _load_raw(path: Path) -> dict[str, object]:
    verify_checkpoint_file(path)
    try:
        raw = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError as exc:
        raise ExportError("no such file", path=path) from exc
    except Exception as exc:  # torch raises many types for a corrupt or foreign file
        raise ExportError(
            f"not a torch checkpoint: {type(exc).__name__}: {_first_line(exc)}", path=path
        ) from exc
    if not isinstance(raw, dict):
        raise ExportError(
            f"expected a dict, got {type(raw).__name__}",
            path=path,
            expected="dict",
            got=type(raw).__name__,
        )
    if "module" in raw and "state_dict" not in raw:
        raise ExportError(_training_checkpoint_message(path), path=path, field="module")
    missing = [key for key in CHECKPOINT_KEYS if key not in raw]
    if missing:
        raise ExportError(
            f"missing keys {missing}",
            path=path,
            field=missing[0],
            expected=CHECKPOINT_KEYS,
            got=tuple(raw),
        )
    return raw


def _training_checkpoint_message(path: Path) -> str:
    """What to use instead of a training checkpoint (``checkpoints/<stem>/*.pt``)."""
    message = (
        "a training checkpoint (the state kelly train resumes from), not a model file; "
        "use the model file kelly train exported"
    )
    run = path.parent.parent.parent
    if path.parent.parent.name == "checkpoints":
        exported = sorted(
            p for p in run.glob(f"{path.parent.name}.*") if not p.name.endswith(".parity.json")
        )
        if exported:
            return f"{message}: {exported[0]}"
        return f"{message} into {run}"
    return message


def read_checkpoint(path: str | Path) -> LoadedModel:
    """Read a checkpoint into a spec and state arrays (PyTorch layout, float32).

    :raises ExportError: If the file is not a valid checkpoint (the message names the key).
    """
    path = Path(path)
    raw = _load_raw(path)
    spec_data = raw["spec"]
    if not isinstance(spec_data, Mapping):
        raise ExportError("expected a dict", path=path, field="spec", got=type(spec_data).__name__)
    try:
        spec = ModelSpec.from_dict(spec_data, source=path)
    except SpecError as exc:
        raise exc.located(ExportError, path=path, prefix="spec") from exc
    if raw["model"] != spec.name:
        raise ExportError(
            "model name differs from the spec's name",
            path=path,
            field="model",
            expected=spec.name,
            got=raw["model"],
        )
    state_dict = raw["state_dict"]
    if not isinstance(state_dict, Mapping) or not all(
        isinstance(v, torch.Tensor) for v in state_dict.values()
    ):
        raise ExportError("expected a dict of tensors", path=path, field="state_dict")
    try:
        arrays = weights.state_dict_to_arrays(state_dict, spec)
    except SpecError as exc:
        raise exc.located(ExportError, path=path, prefix="state_dict") from exc
    metadata = raw.get("metadata") or {}
    if not isinstance(metadata, Mapping):
        raise ExportError("expected a dict", path=path, field="metadata")
    return LoadedModel(
        spec=spec,
        arrays=arrays,
        metadata={**metadata, "kelly_version": raw["kelly_version"]},
        path=path,
    )


def load_checkpoint(path: str | Path) -> SpecNetwork:
    """Read a checkpoint and return the network with its weights loaded (CPU, eval mode)."""
    loaded = read_checkpoint(path)
    network = build_network(loaded.spec)
    network.load_state_arrays(loaded.arrays)
    return network.eval()


def _problems(path: Path) -> list[str]:
    try:
        loaded = read_checkpoint(path)
    except ExportError as exc:
        return [str(exc)]
    problems: list[str] = []
    known = MODEL_SPECS.get(loaded.spec.name)
    if known is not None and known != loaded.spec:
        problems.append(
            f"{path}: spec: differs from the catalog spec of {known.name!r}; "
            f"expected hash {known.spec_hash}, got {loaded.spec.spec_hash}"
        )
    for name, array in loaded.arrays.items():
        if not np.isfinite(array).all():
            problems.append(
                f"{path}: state_dict.{weights.torch_name(name)}: expected finite values"
            )
    return problems


class CheckpointExporter:
    """The ``checkpoint`` format (``.pt``): implements ``kelly_core.Exporter``."""

    def export(
        self,
        spec: ModelSpec,
        arrays: Mapping[str, FloatArray],
        path: Path,
        *,
        metadata: Mapping[str, object] | None = None,
    ) -> Path:
        """Write state arrays fitting ``spec`` to ``path`` atomically; return the path.

        :raises ExportError: If the arrays do not fit ``spec`` or are not finite.
        """
        try:
            state_dict = weights.arrays_to_state_dict(arrays, spec)
        except SpecError as exc:
            raise exc.located(ExportError, path=path) from exc
        for name, tensor in state_dict.items():
            if not bool(torch.isfinite(tensor).all()):
                raise ExportError("expected finite values", path=path, field=name)
        return _write(spec, state_dict, Path(path), metadata)

    def read(self, path: Path) -> LoadedModel:
        """Read a checkpoint into spec, state arrays and metadata; raises ``ExportError``."""
        return read_checkpoint(path)

    def check(self, path: Path) -> list[str]:
        """Return every problem found in the checkpoint; empty if valid."""
        return _problems(Path(path))
