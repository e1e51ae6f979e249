"""Progress bars: drawn for a person at a terminal, never in CI or into a pipe."""

from __future__ import annotations

import io
import sys

import pytest

from billdrift.cli.progress import TerminalProgress, progress_for_terminal
from billdrift.sources.progress import NO_PROGRESS


class _Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_no_bar_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(sys, "stderr", _Tty())
    assert progress_for_terminal() is NO_PROGRESS


def test_no_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    monkeypatch.setattr(sys, "stderr", io.StringIO())
    assert progress_for_terminal() is NO_PROGRESS


def test_a_terminal_gets_counts_and_requests(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    screen = _Tty()
    monkeypatch.setattr(sys, "stderr", screen)
    progress = progress_for_terminal()
    assert isinstance(progress, TerminalProgress)
    progress.update("subscriptions", 1200, 13)
    progress.update("subscriptions", 2500, 26)
    progress.close()
    drawn = screen.getvalue()
    assert "reading subscriptions" in drawn
    assert "2500" in drawn and "26 requests" in drawn
