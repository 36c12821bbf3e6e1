"""Tests for kelly_models.training.progress."""

from __future__ import annotations

import io
import logging

import pytest

from kelly_models.training.progress import Progress


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


class TestProgress:
    def test_log_lines_when_not_a_terminal(self, caplog: pytest.LogCaptureFixture) -> None:
        """Without a terminal, about one log line per tenth of the work, nothing on the stream."""
        stream = io.StringIO()
        with (
            caplog.at_level(logging.INFO),
            Progress(100, "epoch 1", stream=stream, min_interval=0.0) as bar,
        ):
            for _ in range(100):
                bar.update(1, loss=0.5)
        assert stream.getvalue() == ""
        lines = [r for r in caplog.records if "epoch 1" in r.getMessage()]
        assert 8 <= len(lines) <= 10
        assert "loss=0.5" in lines[0].getMessage()

    def test_log_lines_are_throttled(self, caplog: pytest.LogCaptureFixture) -> None:
        """Log lines are at least min_interval seconds apart: a quick epoch logs none."""
        now = [0.0]
        stream = io.StringIO()
        with (
            caplog.at_level(logging.INFO),
            Progress(100, "epoch 2", stream=stream, clock=lambda: now[0]) as bar,
        ):
            for _ in range(50):  # the first half takes 1 s in all: no line
                now[0] += 0.02
                bar.update(1)
            for _ in range(50):  # the second half 30 s: a line at most every 10 s
                now[0] += 0.6
                bar.update(1)
        times = [r for r in caplog.records if "epoch 2" in r.getMessage()]
        assert [r.getMessage().split(" ")[2] for r in times] == ["70/100", "90/100"]

    def test_bar_on_terminal(self) -> None:
        """On a terminal a tqdm bar is drawn on the stream."""
        stream = _Terminal()
        with Progress(3, "epoch 1", stream=stream) as bar:
            bar.update(3, loss=0.25)
        assert "epoch 1" in stream.getvalue()

    def test_disabled(self, caplog: pytest.LogCaptureFixture) -> None:
        """enabled=False shows nothing."""
        stream = _Terminal()
        with caplog.at_level(logging.INFO), Progress(10, "x", stream=stream, enabled=False) as bar:
            bar.update(10)
        assert stream.getvalue() == ""
        assert not caplog.records
