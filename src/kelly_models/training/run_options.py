"""Where ``kelly train``'s data comes from and where its results go."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import attrs
import torch

__all__ = ["RunOptions"]


@attrs.frozen(kw_only=True)
class RunOptions:
    """Where data comes from and where results go (what does not change the weights)."""

    output: Path
    datasets_dir: Path | None = None
    synthetic: bool = False
    resume: bool = False
    device: torch.device = attrs.field(factory=lambda: torch.device("cpu"))
    export_format: str = "rtneural"
    max_items: int = 0
    """Read at most this many sequences per dataset (0: all)."""
    dataset_options: Mapping[str, str] = attrs.field(factory=dict)
    """``-O KEY=VALUE`` texts; each reader gets the keys its entry declares."""
    progress: bool = True
