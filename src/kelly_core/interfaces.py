"""The typed interfaces plugins implement: Model, Dataset, Exporter, Backend, Command.

They are ``typing.Protocol`` classes (structural typing), not ABCs: a third party's class
fits by having the methods, without importing or inheriting anything from Kelly, and
``mypy`` checks the fit where the object is used. Each has at most five members.
Metadata (name, description, required modules, options, priority) lives on the entry
records in :mod:`kelly_core.entries`, so listing plugins imports no implementation.

Optional members are declared here too, each as its own small protocol with the default
Kelly assumes when an object lacks it, and read only through the accessor below it:

==========================  =====================  =====================================
member                      protocol               without it
==========================  =====================  =====================================
``Backend.spec``            :class:`SpecBackend`   the pipeline cannot check the model's
                                                   sizes against its stage (it trusts it)
``Backend.step_unchecked``  :class:`FastBackend`   ``step`` (the frame is checked again)
``Dataset.tonal_reference`` :class:`TonalDataset`  ``None``: the data says nothing, the
                                                   model's own convention is assumed
==========================  =====================  =====================================
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

from kelly_core.arrays import FloatArray
from kelly_core.errors import DatasetError
from kelly_core.records import Example, LoadedModel, SkippedFile
from kelly_core.specs import ModelSpec

__all__ = [
    "Backend",
    "Command",
    "Dataset",
    "Exporter",
    "FastBackend",
    "Model",
    "SpecBackend",
    "TonalDataset",
    "backend_spec",
    "dataset_tonal_reference",
    "unchecked_step",
]


@runtime_checkable
class Model(Protocol):
    """A trainable model whose weights can leave it as state arrays (see :mod:`.specs`)."""

    @property
    def spec(self) -> ModelSpec:
        """The architecture this model was built from."""
        ...

    def state_arrays(self) -> dict[str, FloatArray]:
        """Return the weights as float32 numpy arrays named as in :meth:`ModelSpec.array_shapes`."""
        ...

    def load_state_arrays(self, arrays: Mapping[str, FloatArray]) -> None:
        """Replace the weights with ``arrays`` (same names and shapes); raises ``SpecError``."""
        ...

    def reset(self) -> None:
        """Zero the recurrent state carried between steps."""
        ...


@runtime_checkable
class Backend(Protocol):
    """Runs one model a frame at a time, carrying recurrent state between steps.

    These four methods are all Kelly ever uses: commands and pipelines take the spec from
    the model file they read, never from the backend, so a class with only these methods
    works everywhere a built-in backend does (``kelly infer`` included).
    """

    def load(self, spec: ModelSpec, arrays: Mapping[str, FloatArray]) -> None:
        """Load weights given as state arrays; resets the state.

        :raises SpecError: If names or shapes do not match ``spec``.
        """
        ...

    def step(self, frame: FloatArray) -> FloatArray:
        """Map one frame ``(in_size,)`` to one output ``(out_size,)``, advancing the state.

        :raises BackendError: On a wrong shape, dtype or a non-finite value; the state is
            then unchanged.
        """
        ...

    def run(self, frames: FloatArray) -> FloatArray:
        """Step through ``frames`` ``(T, in_size)``; return ``(T, out_size)``.

        Equal to calling :meth:`step` on each frame in turn (state carried and kept).
        """
        ...

    def reset(self) -> None:
        """Zero the recurrent state."""
        ...


@runtime_checkable
class SpecBackend(Protocol):
    """Optional: a backend that says which model it holds (after :meth:`Backend.load`)."""

    @property
    def spec(self) -> ModelSpec:
        """The spec last loaded."""
        ...


def backend_spec(backend: Backend) -> ModelSpec | None:
    """``backend.spec`` if the backend has one (:class:`SpecBackend`), else None."""
    if isinstance(backend, SpecBackend):
        return backend.spec
    return None


@runtime_checkable
class FastBackend(Protocol):
    """Optional: :meth:`Backend.step` without the frame check, for frames the caller made.

    The frame is float32, C-contiguous, ``(in_size,)`` and finite; the backend may skip
    its type, dtype, shape and finite tests and any conversion.
    """

    def step_unchecked(self, frame: FloatArray) -> FloatArray:
        """Map one frame the caller guarantees to one output, advancing the state."""
        ...


def unchecked_step(backend: Backend) -> Callable[[FloatArray], FloatArray]:
    """``backend.step_unchecked`` if the backend has it (:class:`FastBackend`), else
    ``backend.step``; look it up once, then call it per frame."""
    if isinstance(backend, FastBackend):
        return backend.step_unchecked
    return backend.step


@runtime_checkable
class Exporter(Protocol):
    """Writes, reads back and checks one model file format."""

    def export(
        self,
        spec: ModelSpec,
        arrays: Mapping[str, FloatArray],
        path: Path,
        *,
        metadata: Mapping[str, object] | None = None,
    ) -> Path:
        """Write the model to ``path`` atomically and return the path written.

        :raises ExportError: If the arrays do not fit ``spec`` or are not finite.
        """
        ...

    def read(self, path: Path) -> LoadedModel:
        """Read a file written by :meth:`export` back into a spec and state arrays.

        :raises ExportError: If the file is invalid (the message names the JSON path).
        """
        ...

    def check(self, path: Path) -> list[str]:
        """Return every problem found in the file, one message each; empty if valid."""
        ...


@runtime_checkable
class Dataset(Protocol):
    """Training examples for one model, read from one dataset layout."""

    @property
    def model_name(self) -> str:
        """Name of the model these examples train."""
        ...

    @property
    def skipped(self) -> Sequence[SkippedFile]:
        """Files that could not be read, with reasons (never fatal)."""
        ...

    def __len__(self) -> int:
        """Number of examples."""
        ...

    def __getitem__(self, index: int) -> Example:
        """Return example ``index``: input ``(T, in)`` and target ``(T, out)`` float32."""
        ...


@runtime_checkable
class TonalDataset(Protocol):
    """Optional: a dataset that says whether its pitch, chord or pitch-class vectors are
    relative to the key's tonic (``"tonic"``) or absolute (``"absolute"``)."""

    @property
    def tonal_reference(self) -> str | None:
        """``"tonic"``, ``"absolute"``, or None when the data does not say."""
        ...


def dataset_tonal_reference(dataset: Dataset) -> str | None:
    """``dataset.tonal_reference`` (:class:`TonalDataset`), else None.

    :raises DatasetError: If the dataset gives a value other than ``"tonic"``,
        ``"absolute"`` or None.
    """
    if not isinstance(dataset, TonalDataset):
        return None
    value = dataset.tonal_reference
    if value not in (None, "tonic", "absolute"):
        raise DatasetError(
            f"{type(dataset).__name__}.tonal_reference must be 'tonic', 'absolute' or None",
            field="tonal_reference",
            expected=("tonic", "absolute", None),
            got=value,
        )
    return value


@runtime_checkable
class Command(Protocol):
    """One ``kelly`` subcommand."""

    def configure(self, parser: argparse.ArgumentParser) -> None:
        """Add this command's arguments to its subparser."""
        ...

    def run(self, args: argparse.Namespace) -> int:
        """Run with parsed arguments; return the process exit status."""
        ...
