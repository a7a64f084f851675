"""Tests of models.progress: the bar shows on a terminal, hides otherwise or when asked; lines
written beside it reach their stream at once, without the bar's remains."""

from __future__ import annotations

import io

import pytest

from models import progress
from models.progress import ENV_VAR, progress_bar, progress_enabled, write_line


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


def test_the_bar_shows_exactly_when_stderr_is_a_terminal_wherever_stdout_goes(terminals):
    for stdout, stderr in ((True, True), (False, True), (True, False), (False, False)):
        terminals(stdout, stderr)
        assert progress_enabled() is stderr


def test_twin_a_bar_tied_to_stdout_would_hide_from_a_terminal_when_the_table_is_piped(terminals):
    terminals(False, True)  # genverify report > log: the bar still belongs on the terminal
    assert progress_enabled() != (progress.sys.stderr.isatty() and progress.sys.stdout.isatty())


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


class _Flushes(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.flushed = ""

    def flush(self) -> None:
        self.flushed = self.getvalue()


@pytest.mark.parametrize("shown", [False, True])
def test_a_line_written_beside_the_bar_is_flushed_at_once_and_the_bar_is_not_in_it(terminals, shown):
    terminals(False, shown)
    bar = progress_bar(total=3, desc="checks", mininterval=0)
    bar.update()
    table = _Flushes()
    write_line(bar, "1.h     a row", table)
    assert table.flushed == "1.h     a row\n"
    bar.close()
    assert "checks" in progress.sys.stderr.getvalue() if shown else progress.sys.stderr.getvalue() == ""


def test_twin_a_plain_write_leaves_the_line_in_the_buffer(terminals):
    terminals(False, False)
    table = _Flushes()
    table.write("1.h     a row\n")  # what print() into a pipe does: no flush
    assert table.flushed == ""
