"""Inference backends: numpy, torch and rule-based fallback."""

from __future__ import annotations

__all__: list[str] = []
