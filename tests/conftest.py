"""Shared pytest configuration: Hypothesis profiles and a plugin-free environment."""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "ci",
    derandomize=True,
    deadline=None,
    max_examples=30,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "dev", deadline=None, max_examples=30, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")

# Kelly's own suite builds its registries from Kelly's own plugins only: a broken or odd
# third-party plugin installed beside Kelly cannot change what these tests see. Tests of
# third-party loading remove the variable themselves (monkeypatch.delenv).
os.environ["KELLY_DISABLE_PLUGIN_AUTOLOAD"] = "1"
