"""The deadline holds in every mode, off the main thread too, in CPU time where a process can be
measured (CpuDeadline), and a killed worker is replaced."""

from __future__ import annotations

import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from grading.answers.equivalence import Kind, check_equivalence
from grading.isolation import MODES, run_isolated

PAIR = (r"\frac{(\mu_\phi-\mu_p)^2}{2\sigma^2}", r"\frac{(\mu_p-\mu_\phi)^2}{2\sigma^2}")


@pytest.mark.parametrize("mode", ["worker", "process"])
def test_a_blocking_call_is_stopped_at_the_deadline(mode: str) -> None:
    start = time.perf_counter()
    status, _ = run_isolated(time.sleep, (30,), timeout=0.3, isolation=mode)
    assert status == "timeout"
    assert time.perf_counter() - start < 3.0


def test_the_worker_answers_again_after_being_killed() -> None:
    assert run_isolated(time.sleep, (30,), timeout=0.2)[0] == "timeout"
    assert run_isolated(abs, (-3,), timeout=5.0) == ("ok", 3)


def test_an_exception_in_the_check_is_reported_not_raised() -> None:
    status, message = run_isolated(int, ("not a number",), timeout=5.0)
    assert status == "failed"
    assert "ValueError" in message


@pytest.mark.parametrize("mode", MODES)
def test_every_mode_returns_the_same_verdict(mode: str) -> None:
    verdict = check_equivalence(*PAIR, assumptions={"sigma": "positive"}, isolation=mode)
    assert verdict.kind is Kind.EQUIVALENT


def test_an_unknown_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="isolation"):
        run_isolated(abs, (1,), timeout=1.0, isolation="magic")


def test_checks_run_off_the_main_thread_concurrently() -> None:
    def check(_: int) -> Kind:
        assert threading.current_thread() is not threading.main_thread()
        return check_equivalence(*PAIR, assumptions={"sigma": "positive"}).kind

    with ThreadPoolExecutor(max_workers=3) as pool:
        kinds = list(pool.map(check, range(6)))
    assert kinds == [Kind.EQUIVALENT] * 6


def test_a_check_past_its_deadline_is_undecided_with_the_reason() -> None:
    verdict = check_equivalence(*PAIR, timeout=0.0)
    assert verdict.kind is Kind.UNDECIDED
    assert "longer than" in verdict.reason


def test_memory_in_a_check_is_bounded() -> None:
    status, message = run_isolated(bytearray, (64 * 2**30,), timeout=5.0)
    assert status == "failed"
    assert "memory" in message
    assert run_isolated(abs, (-1,), timeout=5.0) == ("ok", 1)


# -- deadlines in CPU time: the same work under any load ------------------------------------


def _reply_after(seconds: float) -> tuple[int, int]:
    """A pipe whose write end gets a byte after ``seconds`` (a check that answers late)."""
    import os

    read, write = os.pipe()

    def answer() -> None:
        time.sleep(seconds)
        try:
            os.write(write, b"x")
        except OSError:  # the reader stopped waiting first
            pass
        os.close(write)

    threading.Thread(target=answer, daemon=True).start()
    return read, write


def _awaited(monkeypatch: pytest.MonkeyPatch, cpu_used: float, runnable: bool) -> bool:
    """Whether a check that answers 0.6 s late on a budget of 0.2 s (+ 0.1 s grace) is waited
    for, when its process reports ``cpu_used`` seconds of CPU and its state."""
    import os

    from grading import isolation

    calls = iter([(0.0, True)] + [(cpu_used, runnable)] * 1000)
    monkeypatch.setattr(isolation, "process_tree_cpu", lambda pid: next(calls))
    read, _ = _reply_after(0.6)
    try:
        return isolation._await_reply(read, os.getpid(), 0.2, 0.1)
    finally:
        os.close(read)


def test_a_check_waiting_for_a_core_is_not_cut_short(monkeypatch: pytest.MonkeyPatch) -> None:
    assert _awaited(monkeypatch, cpu_used=0.05, runnable=True)  # starved: it gets its budget


def test_a_check_that_used_its_cpu_budget_is_stopped(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _awaited(monkeypatch, cpu_used=0.5, runnable=True)  # the twin: over budget


def test_a_blocked_check_is_stopped_at_its_wall_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    assert not _awaited(monkeypatch, cpu_used=0.0, runnable=False)  # sleeping: not starved


def test_a_starved_check_is_still_stopped_after_a_bounded_wall_time(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from grading import isolation

    monkeypatch.setattr(isolation, "STARVED_FACTOR", 1.5)  # 0.45 s of wall time < 0.6 s
    assert not _awaited(monkeypatch, cpu_used=0.0, runnable=True)


def test_python_is_parsed_one_thread_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    import ast as ast_module

    from grading import isolation
    from grading.answers.notation import Namespace
    from grading.answers.plain import parse_plain_expression
    from grading.code import session

    held = []
    real = ast_module.parse

    def watched(*args, **kwargs):
        held.append(isolation._AST_LOCK._is_owned())  # held by this thread
        return real(*args, **kwargs)

    monkeypatch.setattr(ast_module, "parse", watched)
    parse_plain_expression("sigma**2 / 2", Namespace({}))
    session.top_level_names(Path(__file__))
    assert held == [True, True]
    ast_module.parse("x = 1")  # the twin: a parse outside the lock is seen as one
    assert held[-1] is False


def test_every_ast_parse_of_the_process_takes_the_lock_on_affected_pythons() -> None:
    import ast as ast_module

    from grading import isolation

    isolation.serialise_ast_parse()
    if not isolation._AST_RACE:
        assert getattr(ast_module.parse, "__wrapped__", None) is None  # nothing to fix here
        return
    release = threading.Event()

    def hold() -> None:  # another thread in the middle of a parse
        with isolation._AST_LOCK:
            release.wait(10)

    holder = threading.Thread(target=hold)
    holder.start()
    done: list[str] = []
    parse = threading.Thread(target=lambda: done.append(ast_module.dump(ast_module.parse("x"))))
    bare = threading.Thread(target=lambda: done.append("bare")
                            if ast_module.parse.__wrapped__("x") else None)
    parse.start()
    bare.start()
    bare.join(5)
    assert done == ["bare"]  # the twin: the original parse does not wait for the lock
    release.set()
    parse.join(5)
    holder.join(5)
    assert len(done) == 2  # the patched one waited for the lock, then parsed


# --------------------------------------------------------------------------------------------
# the CPU-time deadline (CpuDeadline): a loaded machine does not change a verdict


class _Machine:
    """A fake clock and a fake CPU meter for a process tree."""

    def __init__(self) -> None:
        self.wall, self.cpu, self.runnable = 0.0, 0.0, True

    def clock(self) -> float:
        return self.wall

    def meter(self, pid: int) -> tuple[float, bool]:
        return self.cpu, self.runnable


def _deadline(machine: _Machine, budget: float = 3.0):
    from grading.isolation import CpuDeadline

    return CpuDeadline(budget, 123, cpu=machine.meter, clock=machine.clock)


def test_a_process_waiting_for_a_core_gets_the_rest_of_its_cpu_budget() -> None:
    machine = _Machine()
    deadline = _deadline(machine)
    machine.wall, machine.cpu = 3.0, 1.0  # three seconds passed, one of them computing
    assert not deadline.expired() and deadline.remaining() == pytest.approx(2.0)
    machine.wall, machine.cpu = 5.0, 2.9
    assert not deadline.expired()
    machine.wall, machine.cpu = 6.0, 3.0  # its budget of CPU time is used: out of time
    assert deadline.expired()


def test_a_process_that_computes_or_blocks_is_out_of_time_at_its_budget() -> None:  # twins
    busy = _Machine()
    deadline = _deadline(busy)
    busy.wall, busy.cpu = 3.0, 3.0  # an infinite loop on an idle machine
    assert deadline.expired()
    blocked = _Machine()
    deadline = _deadline(blocked)
    blocked.wall, blocked.cpu, blocked.runnable = 3.0, 0.1, False  # sleeping, or on a pipe
    assert deadline.expired()
    starved = _Machine()
    deadline = _deadline(starved)
    starved.wall, starved.cpu = 2.9, 0.0
    assert not deadline.expired()
    starved.wall = 11.0  # never given a core: given the rest, which would run past the cap
    assert not deadline.expired() and deadline.remaining() == pytest.approx(1.0)
    starved.wall = 12.0  # the wall-time cap, 4 x the budget, comes first
    assert deadline.expired()


def test_without_a_process_or_its_cpu_time_the_deadline_is_wall_time() -> None:
    from grading.isolation import CpuDeadline

    machine = _Machine()
    wall = CpuDeadline(3.0, None, cpu=machine.meter, clock=machine.clock)
    unreadable = CpuDeadline(3.0, 123, cpu=lambda pid: None, clock=machine.clock)
    machine.wall = 2.9
    assert not wall.expired() and not unreadable.expired()
    machine.wall = 3.0
    assert wall.expired() and unreadable.expired()


def test_the_cpu_time_of_a_process_tree_counts_every_descendant() -> None:
    import subprocess
    import sys

    from grading.isolation import process_tree_cpu as _tree_cpu

    # a parent that waits while its child computes 0.5 s of CPU time, says so and sleeps
    child = ("import sys, time\nend = time.process_time() + 0.5\n"
             "while time.process_time() < end: pass\n"
             "sys.stdout.write('done\\n'); sys.stdout.flush(); time.sleep(60)")
    parent = subprocess.Popen([sys.executable, "-c",
                               f"import subprocess, sys; subprocess.run([sys.executable, '-c', "
                               f"{child!r}])"], stdout=subprocess.PIPE)
    try:
        assert parent.stdout.readline() == b"done\n"
        tree = _tree_cpu(parent.pid)
        with open(f"/proc/{parent.pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        alone = sum(int(v) for v in fields[11:15]) / os.sysconf("SC_CLK_TCK")
        assert tree is not None and tree[0] >= 0.5 - 0.02  # the child's time, to a tick
        assert alone < 0.5 <= tree[0] + 0.02  # the twin: the parent's own time is not that
        settle = time.monotonic() + 10  # the child is between its flush and its sleep
        while tree is not None and tree[1] and time.monotonic() < settle:
            time.sleep(0.01)
            tree = _tree_cpu(parent.pid)
        assert tree is not None and not tree[1]  # both sleep: blocked, not waiting for a core
    finally:
        parent.kill()
        parent.wait()
    assert _tree_cpu(parent.pid) is None  # gone: unreadable, so the deadline is wall time
    own = _tree_cpu(os.getpid())
    assert own is not None and own[1]  # this process is running
