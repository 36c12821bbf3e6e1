"""Kelly's torch side: the five models, dataset readers, synthetic data and training.

The only package that imports torch at module level (in the modules that need it).
"""

from __future__ import annotations

__all__: list[str] = []
