"""Training: sequence training loop, checkpoints, schedules, metrics and export."""

from __future__ import annotations

__all__: list[str] = []
