"""Kelly's runtime: backends, the five-model streaming pipeline, async pipeline, benchmarks.

Imports numpy at module level; torch only inside the torch backend, reached via the registry.
"""

from __future__ import annotations

__all__: list[str] = []
