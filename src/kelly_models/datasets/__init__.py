"""Dataset readers for the official layouts, and structured synthetic data."""

from __future__ import annotations

__all__: list[str] = []
