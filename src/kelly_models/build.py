"""Build models by name or spec, seeded without touching the global torch RNG."""

from __future__ import annotations

import torch

from kelly_core.catalog import MODEL_SPECS
from kelly_core.errors import UnknownNameError
from kelly_core.specs import ModelSpec
from kelly_models.models import MODEL_CLASSES, NamedModel
from kelly_models.network import SpecNetwork

__all__ = ["build_model", "build_network"]


def _seeded(seed: int | None, make: type[NamedModel] | ModelSpec) -> SpecNetwork:
    def create() -> SpecNetwork:
        return SpecNetwork(make) if isinstance(make, ModelSpec) else make()

    if seed is None:
        return create()
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        return create()


def build_model(name: str, *, seed: int | None = None) -> SpecNetwork:
    """Return a fresh model ``name`` (one of the five); the registry's model factory.

    :param seed: Seeds the weight initialisation; the global torch RNG is left as it was.
        ``None`` draws from the global RNG.
    :raises UnknownNameError: If ``name`` is not one of the five models.
    """
    try:
        cls = MODEL_CLASSES[name]
    except KeyError:
        raise UnknownNameError("model", name, tuple(MODEL_SPECS), None) from None
    return _seeded(seed, cls)


def build_network(spec: ModelSpec, *, seed: int | None = None) -> SpecNetwork:
    """Return a fresh :class:`SpecNetwork` for any spec (named class if it is a catalog spec)."""
    cls = MODEL_CLASSES.get(spec.name)
    if cls is not None and spec == cls.SPEC:
        return _seeded(seed, cls)
    return _seeded(seed, spec)
