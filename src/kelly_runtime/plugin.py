"""Registers the built-in backends (numba, numpy, torch, fallback) and ``kelly infer``/``bench``.

Importing this module imports no backend: factories are ``"module:attribute"`` strings.
"""

from __future__ import annotations

from kelly_core.entries import BackendEntry, CommandEntry
from kelly_core.hookspecs import hookimpl

__all__ = ["kelly_backends", "kelly_commands"]


@hookimpl
def kelly_backends() -> list[BackendEntry]:
    """Return the built-in backends; unnamed, the usable one of highest ``priority`` runs.

    Fastest first (``kelly bench``, docs/benchmarks.md): the compiled numba backend, then
    numpy (no dependency beyond NumPy), then torch (the reference, slower per step on
    CPU), then the rule-based fallback, which needs nothing.
    """
    return [
        BackendEntry(
            name="numba",
            factory="kelly_runtime.backends.numba_backend:NumbaBackend",
            requires=("numba",),
            description="compiled: one native call per step (numba, the 'fast' extra)",
            priority=30,
        ),
        BackendEntry(
            name="torch",
            factory="kelly_runtime.backends.torch_backend:TorchBackend",
            requires=("torch",),
            description="reference: the model's torch module (CPU, or CUDA if present)",
            priority=10,
            options={"device": str, "threads": int, "fast": bool, "registry": object},
        ),
        BackendEntry(
            name="numpy",
            factory="kelly_runtime.backends.numpy_backend:NumpyBackend",
            requires=("numpy",),
            description="float32 numpy, preallocated buffers; no torch",
            priority=20,
            options={"check_finite": bool},
        ),
        BackendEntry(
            name="fallback",
            factory="kelly_runtime.backends.fallback:FallbackBackend",
            description="rule-based neutral outputs, no weights (docs/runtime.md)",
            priority=0,
        ),
    ]


@hookimpl
def kelly_commands() -> list[CommandEntry]:
    """Return ``kelly infer`` and ``kelly bench``."""
    return [
        CommandEntry(
            name="infer",
            factory="kelly_runtime.commands:InferCommand",
            help="run frames (T, in) from a .npy file through one model, one step at a time",
        ),
        CommandEntry(
            name="bench",
            factory="kelly_runtime.commands:BenchCommand",
            help="measure per-model and five-model step latency for each backend",
        ),
    ]
