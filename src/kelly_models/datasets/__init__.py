"""Dataset readers for the official layouts, structured synthetic data, and the labeller.

Readers (one module per layout): :mod:`.deam`, :mod:`.lakh`, :mod:`.maestro`,
:mod:`.groove_midi`, :mod:`.chords`, :mod:`.rntxt`; :mod:`.synthetic`;
:mod:`.labeller`; :mod:`.cache`. Import the modules you need (this package imports none,
so ``import kelly_models.datasets`` stays cheap).
"""

from __future__ import annotations

__all__: list[str] = []
