"""Turning a DynamicsEngine expression vector into how a beat is played (:class:`BeatStyle`).

The expression fields and their units are documented in
:mod:`kelly_core.encodings.expression`; this module inverts those units:

==================  =====================================================================
field               used as
==================  =====================================================================
accent_1..4         velocity of a note on that sixteenth: ``accent × 127``, plus the
                    velocity trend (crescendo/diminuendo) across the beat
velocity_spread     humanisation: velocity ± ``spread × 64`` × a seeded normal draw / 2
articulation        duration / inter-onset interval = ``2 × articulation``, within 0.1..1
timing_offset       onset shift = ``(timing_offset − 0.5)`` sixteenths
sustain_pedal       pedal down for the beat when ``>= 0.5`` (more than half the beat)
soft_pedal          soft pedal (CC67) down for the beat when ``>= 0.5``
density             ``16 × density`` onsets per beat; eighths when ``> 2.5``, else quarters
register            melody centre pitch = ``21 + 87 × register`` (the piano's A0..C8)
==================  =====================================================================

``velocity_mean`` is reflected in the accents (each is a mean velocity); register span,
polyphony and timing spread are not rendered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np

from kelly_runtime.generate.arrange import BeatStyle

if TYPE_CHECKING:
    from kelly_core.encodings.expression import Expression

__all__ = ["EIGHTHS_ABOVE", "beat_style"]

EIGHTHS_ABOVE: Final = 2.5
"""Onsets per beat above which the melody plays eighths instead of quarters."""


def beat_style(expression: Expression, *, beat_s: float) -> BeatStyle:
    """Return how to play a beat of ``beat_s`` seconds with ``expression``.

    :param expression: One beat of the DynamicsEngine's output, decoded.
    :param beat_s: Length of a beat in seconds (> 0).
    """
    trend = (expression.velocity_trend - 0.5) * 128.0  # velocity units per beat
    raw = (expression.accent_1, expression.accent_2, expression.accent_3, expression.accent_4)
    accents = tuple(
        float(np.clip(a * 127.0 + trend * (k / 4.0), 1.0, 127.0)) for k, a in enumerate(raw)
    )
    return BeatStyle(
        accents=(accents[0], accents[1], accents[2], accents[3]),
        spread=expression.velocity_spread * 64.0 / 2.0,
        articulation=float(np.clip(2.0 * expression.articulation, 0.1, 1.0)),
        timing=(expression.timing_offset - 0.5) * beat_s / 4.0,
        sustain=expression.sustain_pedal >= 0.5,
        soft=expression.soft_pedal >= 0.5,
        notes_per_beat=2 if expression.density * 16.0 > EIGHTHS_ABOVE else 1,
        register=float(np.clip(21.0 + 87.0 * expression.register, 0.0, 127.0)),
    )
