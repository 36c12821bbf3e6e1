"""Kelly's export side: RTNeural JSON, its schema, validation and legacy conversion.

Imports numpy and jsonschema, never torch.
"""

from __future__ import annotations

__all__: list[str] = []
