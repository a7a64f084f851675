"""The wall-clock deadline holds in every mode, off the main thread too, and a killed worker is
replaced."""

from __future__ import annotations

import threading
from pathlib import Path
import time
from concurrent.futures import ThreadPoolExecutor

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
    monkeypatch.setattr(isolation, "_cpu_seconds", lambda pid: next(calls))
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
