"""``kelly train`` runs torch on one CPU thread unless told otherwise."""

from __future__ import annotations

import argparse

from kelly_models.training.command import TrainCommand


def _parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    TrainCommand().configure(parser)
    return parser.parse_args(["--output", "out", *argv])


def test_default_is_one_thread() -> None:
    """One thread by default (more threads lose badly on busy cores); 0 and N as given."""
    assert _parse([]).threads == 1
    assert _parse(["--threads", "0"]).threads == 0
    assert _parse(["--threads", "2"]).threads == 2
