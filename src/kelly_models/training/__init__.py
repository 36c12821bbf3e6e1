"""Training: sequence training loop, checkpoints, schedules, metrics and export.

Import the submodules directly (``kelly_models.training.loop``); this package imports
nothing, so the plugin module stays cheap to import.
"""

from __future__ import annotations

__all__: list[str] = []
