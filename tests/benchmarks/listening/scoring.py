"""Scores of one analysis against a reference, with mir_eval.

Beats and downbeats are trimmed as ``mir_eval.beat.trim_beats`` does (the first 5 s
dropped) before F-measure (±70 ms), CMLt and AMLt (``mir_eval.beat.continuity``) and the
downbeat F-measure. Tempo: within 4 % of the reference (``tempo``), and within 4 % of
1, 2, 1/2, 3 or 1/3 times it (``tempo_any``: octave errors counted as right). Meter:
beats per bar equal. Key: ``mir_eval.key.weighted_score`` (1 same key, 0.5 a fifth,
0.3 relative, 0.2 parallel); None for a system that gives no key (madmom).
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np

__all__ = ["score", "tempo_within"]

_FACTORS = (1.0, 2.0, 0.5, 3.0, 1.0 / 3.0)


def _trim(times: Any) -> Any:
    import mir_eval  # type: ignore[import-untyped]  # no stubs

    return mir_eval.beat.trim_beats(np.asarray(times if times is not None else [], dtype=float))


def tempo_within(estimate: float, reference: float, factors: tuple[float, ...]) -> bool:
    """Whether ``estimate`` BPM is within 4 % of ``reference`` times one of ``factors``."""
    if not reference or not estimate:
        return False
    return any(abs(estimate / (reference * f) - 1.0) <= 0.04 for f in factors)


def _key(reference: str | None, estimate: str | None) -> float | None:
    import mir_eval

    if reference is None or estimate is None:  # no key to score, or none estimated
        return None
    return float(
        mir_eval.key.weighted_score(reference.replace(":", " "), estimate.replace(":", " "))
    )


def score(reference: dict[str, Any], estimate: dict[str, Any]) -> dict[str, Any]:
    """Every measure of ``estimate`` against ``reference`` (None where it does not apply)."""
    import mir_eval

    out: dict[str, Any] = {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref_beats = _trim(reference["beats"])
        est_beats = _trim(estimate["beats"])
        out["beat_f"] = float(mir_eval.beat.f_measure(ref_beats, est_beats))
        _, cmlt, _, amlt = mir_eval.beat.continuity(ref_beats, est_beats)
        out["cmlt"] = float(cmlt)
        out["amlt"] = float(amlt)
        if reference.get("downbeats") is not None and estimate.get("downbeats") is not None:
            out["downbeat_f"] = float(
                mir_eval.beat.f_measure(_trim(reference["downbeats"]), _trim(estimate["downbeats"]))
            )
        else:
            out["downbeat_f"] = None
    ref_tempo = float(reference.get("tempo") or 0.0)
    est_tempo = float(estimate.get("tempo") or 0.0)
    out["tempo"] = tempo_within(est_tempo, ref_tempo, (1.0,))
    out["tempo_any"] = tempo_within(est_tempo, ref_tempo, _FACTORS)
    if reference.get("beats_per_bar") and estimate.get("beats_per_bar"):
        out["meter"] = int(estimate["beats_per_bar"]) == int(reference["beats_per_bar"])
    else:
        out["meter"] = None
    out["key"] = _key(reference.get("key"), estimate.get("key"))
    out["keys"] = {
        profile: _key(reference.get("key"), found)
        for profile, found in (estimate.get("keys") or {}).items()
    }
    return out
