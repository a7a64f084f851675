"""Tests of models.progress: the bar shows on a terminal, hides otherwise or when asked."""

from __future__ import annotations

import io

import pytest

from models import progress
from models.progress import ENV_VAR, progress_bar, progress_enabled


class _Stream(io.StringIO):
    def __init__(self, tty: bool) -> None:
        super().__init__()
        self._tty = tty

    def isatty(self) -> bool:
        return self._tty


@pytest.fixture
def terminals(monkeypatch):
    def set_terminals(stdout: bool, stderr: bool) -> None:
        monkeypatch.setattr(progress.sys, "stdout", _Stream(stdout))
        monkeypatch.setattr(progress.sys, "stderr", _Stream(stderr))

    monkeypatch.delenv(ENV_VAR, raising=False)
    return set_terminals


def test_the_bar_shows_only_when_both_streams_are_terminals(terminals):
    terminals(True, True)
    assert progress_enabled()
    for stdout, stderr in ((False, True), (True, False), (False, False)):
        terminals(stdout, stderr)
        assert not progress_enabled()


@pytest.mark.parametrize("value", ["0", "false", "OFF", "no"])
def test_the_environment_variable_turns_the_bar_off_even_on_a_terminal(terminals, monkeypatch, value):
    terminals(True, True)
    monkeypatch.setenv(ENV_VAR, value)
    assert not progress_enabled() and not progress_enabled(True)


def test_the_argument_and_the_environment_can_force_the_bar_on(terminals, monkeypatch):
    terminals(False, False)
    assert progress_enabled(True)
    monkeypatch.setenv(ENV_VAR, "1")
    assert progress_enabled() and not progress_enabled(False)


def test_a_hidden_bar_iterates_silently_and_accepts_the_bar_methods(terminals, capsys):
    terminals(False, False)
    bar = progress_bar(range(4), desc="x")
    assert list(bar) == [0, 1, 2, 3]
    bar.set_postfix(loss=1.0)
    bar.update()
    bar.close()
    assert progress.sys.stderr.getvalue() == "" and progress.sys.stdout.getvalue() == ""


def test_a_shown_bar_writes_to_stderr(terminals):
    terminals(True, True)
    items = list(progress_bar(range(3), desc="training", mininterval=0))
    assert items == [0, 1, 2]
    assert "training" in progress.sys.stderr.getvalue()
