"""Run one check under a wall-clock deadline and a memory cap, from any thread or process.

Why forked workers, not ``signal.alarm`` or a thread: ``signal.alarm`` works only on the main
thread of the main interpreter (not in a thread pool, a web handler or every pytest-xdist
setup), and a thread cannot be stopped: SymPy may sit inside one long C-level big-integer
operation that holds the GIL, and a timed-out thread keeps burning CPU and memory. A forked
process starts with the parent's already-imported SymPy (copy-on-write), works under
``RLIMIT_AS`` (bounded memory), and is killed with SIGKILL at the deadline, which always works.

Modes (``isolation=``):

* ``"worker"`` (default): one long-lived forked worker per process serves the checks in turn
  (its SymPy caches stay warm, and no fork is paid per check — forking a process that has
  imported torch costs ~60 ms). The check polls its deadline between stages
  (:func:`deadline_check`) and answers "timeout" itself; if it overruns anyway it is killed
  and a fresh worker is forked for the next check. Requests go to the worker pickled (trusted
  data from this process); replies come back as plain JSON, never pickle. Concurrent callers
  are served one at a time.
* ``"process"``: a fresh fork per check, killed at the deadline (also with ``RLIMIT_CPU``).
* ``"thread"``: a daemon thread abandoned at the deadline (the cooperative deadline stops it
  soon after in the common case); the fallback where ``os.fork`` is missing (Windows). No
  memory cap, and mpmath's precision is process-global, so run such checks one at a time.
* ``"none"``: in the caller, with only the cooperative deadline (debugging, profiling).

Deadlines in a forked worker or child are CPU time (the check's own process, read by the
check from :func:`time.process_time` and by the parent from ``/proc``): on a loaded machine a
check that waits for a core is not cut short, and a check that computes too long is stopped
after the same work, so a verdict does not depend on the load. A check starved of CPU is
still stopped after :data:`STARVED_FACTOR` times its budget in wall time; in a thread, and
where ``/proc`` is missing, the deadline is wall time.

Children leave with ``os._exit``: no ``atexit`` handler runs and no inherited buffer is flushed.
"""

from __future__ import annotations

import ast
import atexit
import json
import os
import pickle
import select
import sys
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["CpuDeadline", "DeadlineExceeded", "MODES", "Outcome", "deadline_check", "parse_ast",
           "process_tree_cpu", "run_isolated", "serialise_ast_parse"]

MODES = ("worker", "process", "thread", "none")
GRACE = 0.5  # seconds a worker may overrun its own deadline before it is killed
STARVED_FACTOR = 4.0  # a check waiting for a core may take this many times its budget

DEFAULT_MEMORY_BYTES = 1 << 30  # address space a check may add to the parent's


class DeadlineExceeded(Exception):
    """Raised by :func:`deadline_check` inside a check whose time is up."""


_local = threading.local()


def deadline_check() -> None:
    """Raise :class:`DeadlineExceeded` if the current check is past its deadline."""
    deadline = getattr(_local, "deadline", None)
    if deadline is not None and _local.clock() > deadline:
        raise DeadlineExceeded


_AST_LOCK = threading.RLock()
# CPython 3.11 before 3.11.8 (and 3.12.0) keep the AST constructor's recursion count in state
# that threads share (gh-106905): two threads in ``ast.parse`` at once make one of them fail
# with "SystemError: AST constructor recursion depth mismatch".
_AST_RACE = (3, 11) <= sys.version_info[:3] < (3, 11, 8) or sys.version_info[:3] == (3, 12, 0)


_ast_serialised: list[bool] = []  # once per process


def serialise_ast_parse() -> None:
    """Make every ``ast.parse`` of this process take one lock, on the CPython versions with
    gh-106905 (see :data:`_AST_RACE`); a no-op elsewhere and when already done. The
    ``traceback`` module parses source lines to place its carets, so formatting an exception
    in one thread while another parses is enough to hit the bug: the grader's entry points
    (the command line, batch workers, the checks) call this first."""
    if not _AST_RACE or _ast_serialised:
        return
    _ast_serialised.append(True)
    original = ast.parse

    def parse(*args: Any, **kwargs: Any) -> Any:
        with _AST_LOCK:
            return original(*args, **kwargs)

    parse.__wrapped__ = original  # type: ignore[attr-defined]
    parse.__doc__ = original.__doc__
    ast.parse = parse


def parse_ast(source: str | bytes, filename: str = "<unknown>", mode: str = "exec") -> ast.AST:
    """``ast.parse`` under the process-wide lock (see :func:`serialise_ast_parse`)."""
    serialise_ast_parse()
    with _AST_LOCK:
        return ast.parse(source, filename=filename, mode=mode)


def process_tree_cpu(pid: int) -> tuple[float, bool] | None:
    """The CPU time (user + system, with reaped children's) of process ``pid`` and every
    descendant, and whether any of them is runnable (computing or waiting for a core, not
    blocked); from ``/proc``, None where it cannot be read (the process is gone)."""
    ticks, runnable, seen, stack = 0, False, set(), [pid]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        try:
            with open(f"/proc/{current}/stat", "rb") as stat:
                fields = stat.read().rsplit(b")", 1)[1].split()
            ticks += sum(int(value) for value in fields[11:15])
            runnable = runnable or fields[0] == b"R"
            for task in os.listdir(f"/proc/{current}/task"):
                with open(f"/proc/{current}/task/{task}/children", "rb") as children:
                    stack.extend(int(child) for child in children.read().split())
        except FileNotFoundError:
            if current == pid:
                return None  # a descendant that has just exited is only skipped
        except (OSError, ValueError, IndexError):
            return None
    return ticks / os.sysconf("SC_CLK_TCK"), runnable


class CpuDeadline:
    """The end of a budget in CPU time of a process tree, looked at in wall time.

    At ``budget`` seconds of wall time the processes are asked how much CPU time they have used
    since the deadline was set: a tree that is runnable and has used less than its budget was
    waiting for a core (a busy machine) and is given the rest; one that has used its budget, or
    is blocked (sleeping, waiting on a pipe: the wall clock is then the only measure), is out
    of time; and every deadline ends at :data:`STARVED_FACTOR` times its budget in wall time. So
    a verdict does not depend on the machine's load: a slow but correct answer is not cut
    short, and an infinite loop is stopped after the same work. Without a ``pid`` (or where
    ``/proc`` cannot be read) the deadline is wall time. ``cpu`` (default
    :func:`process_tree_cpu`) and ``clock`` are for tests.
    """

    def __init__(self, budget: float, pid: int | None = None, *,
                 cpu: Callable[[int], tuple[float, bool] | None] | None = None,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.budget, self._pid, self._clock = budget, pid, clock
        self._cpu = cpu or process_tree_cpu
        start = clock()
        self._soft, self._hard = start + budget, start + STARVED_FACTOR * budget
        first = self._cpu(pid) if pid is not None else None
        self._start_cpu = None if first is None else first[0]

    def remaining(self) -> float:
        """Wall seconds until the deadline is next looked at."""
        return max(min(self._soft, self._hard) - self._clock(), 0.0)

    def expired(self) -> bool:
        now = self._clock()
        if now >= self._hard:
            return True
        if now < self._soft:
            return False
        if self._start_cpu is None:
            return True
        reading = self._cpu(self._pid)
        if reading is None:
            return True
        used, runnable = reading[0] - self._start_cpu, reading[1]
        if used >= self.budget or not runnable:
            return True
        self._soft = now + max(self.budget - used, 0.05)  # CPU time moves in ticks
        return False


def _await_reply(fd: int, pid: int, budget: float, grace: float) -> bool:
    """Wait until ``fd`` (the reply of process ``pid``) is readable: True; False once the
    check is out of ``budget + grace`` seconds of CPU time (:class:`CpuDeadline`)."""
    deadline = CpuDeadline(budget + grace, pid, cpu=process_tree_cpu)
    while True:
        if select.select([fd], [], [], deadline.remaining())[0]:
            return True
        if deadline.expired():
            return False


Outcome = tuple[str, Any]  # ("ok", value) | ("timeout", seconds) | ("failed", message)


_clock: list[Callable[[], float]] = [time.monotonic]  # CPU time in a forked check process


def _run_guarded(function: Callable[[], Any], timeout: float,
                 clock: Callable[[], float] | None = None) -> Outcome:
    """``function()`` with :func:`deadline_check` stopping it ``timeout`` seconds of ``clock``
    from now: the process's CPU time in a forked worker or child (also for checks it runs
    in-process, ``isolation="none"``), wall time in the grader's own process."""
    clock = clock or _clock[0]
    _local.clock = clock
    _local.deadline = clock() + timeout
    try:
        return "ok", function()
    except DeadlineExceeded:
        return "timeout", None
    except MemoryError:
        return "failed", "the check ran out of memory"
    except RecursionError:
        return "failed", "the check recursed too deeply"
    except Exception as error:  # noqa: BLE001 - reported as a verdict, never swallowed
        return "failed", f"{type(error).__name__}: {error}"
    finally:
        _local.deadline = None


def _limit_memory(extra_bytes: int, seconds: float | None) -> None:
    try:
        import resource

        with open("/proc/self/status", encoding="ascii") as status:
            size = next(int(line.split()[1]) * 1024 for line in status
                        if line.startswith("VmSize:"))
        _, hard = resource.getrlimit(resource.RLIMIT_AS)
        limit = size + extra_bytes
        if hard == resource.RLIM_INFINITY or limit < hard:
            resource.setrlimit(resource.RLIMIT_AS, (limit, hard))
        if seconds is not None:  # a one-shot child: CPU time is a second deadline
            cpu = int(seconds) + 2
            _, cpu_hard = resource.getrlimit(resource.RLIMIT_CPU)
            if cpu_hard == resource.RLIM_INFINITY or cpu < cpu_hard:
                resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu_hard))
    except (OSError, ValueError, ImportError, StopIteration):
        pass  # no /proc or no resource module: the deadline still holds


def _in_child(function: Callable[[], Any], timeout: float, memory_bytes: int,
              write_end: int) -> None:
    status = 1
    _clock[0] = time.process_time  # this process exists for the check: its CPU time
    try:
        _limit_memory(memory_bytes, timeout)
        outcome = _run_guarded(function, timeout, time.process_time)
        try:
            data = json.dumps(outcome).encode()
        except (TypeError, ValueError) as error:
            data = json.dumps(["failed", f"unserialisable result: {error}"]).encode()
        view = memoryview(data)
        while view:
            written = os.write(write_end, view)
            view = view[written:]
        status = 0
    finally:
        os._exit(status)


def _run_forked(function: Callable[[], Any], timeout: float, memory_bytes: int) -> Outcome:
    read_end, write_end = os.pipe()
    try:
        pid = os.fork()
    except OSError:
        os.close(read_end)
        os.close(write_end)
        raise
    if pid == 0:  # pragma: no cover - the child process
        os.close(read_end)
        _in_child(function, timeout, memory_bytes, write_end)
    os.close(write_end)
    chunks: list[bytes] = []
    timed_out = not _await_reply(read_end, pid, timeout, 0.25)  # the child's deadline first
    try:
        deadline = time.monotonic() + timeout + 0.25  # the reply is written at once
        while not timed_out:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                timed_out = True
                break
            ready, _, _ = select.select([read_end], [], [], remaining)
            if not ready:
                continue
            chunk = os.read(read_end, 1 << 16)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(read_end)
        if timed_out:
            try:
                os.kill(pid, 9)
            except ProcessLookupError:
                pass
        _, wait_status = os.waitpid(pid, 0)
    if timed_out:
        return "timeout", None
    if not chunks:
        signal_number = os.WTERMSIG(wait_status) if os.WIFSIGNALED(wait_status) else None
        if signal_number is not None:
            return "failed", f"the worker was stopped by signal {signal_number} " \
                             "(memory or CPU limit)"
        return "failed", "the worker ended without an answer (memory limit?)"
    status, value = json.loads(b"".join(chunks).decode())
    return status, value


def _run_threaded(function: Callable[[], Any], timeout: float) -> Outcome:
    box: list[Outcome] = []
    worker = threading.Thread(target=lambda: box.append(_run_guarded(function, timeout)),
                              name="genverify-check", daemon=True)
    worker.start()
    worker.join(timeout + 0.25)
    if not box:
        return "timeout", None
    return box[0]


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exact(fd: int, size: int, deadline: float | None) -> bytes | None:
    """``size`` bytes from ``fd``; None at end of file or when the deadline passes."""
    chunks, remaining = [], size
    while remaining:
        if deadline is not None:
            left = deadline - time.monotonic()
            if left <= 0 or not select.select([fd], [], [], left)[0]:
                if time.monotonic() >= deadline:
                    return None
                continue
        chunk = os.read(fd, min(remaining, 1 << 16))
        if not chunk:
            return None
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def _serve(requests: int, replies: int, memory_bytes: int) -> None:  # pragma: no cover
    """The worker's loop (in the forked child): run each request, reply with JSON."""
    _clock[0] = time.process_time  # this process exists for the checks: its CPU time
    try:
        _limit_memory(memory_bytes, None)
        while True:
            header = _read_exact(requests, 8, None)
            if header is None:
                break  # the parent has gone
            body = _read_exact(requests, int.from_bytes(header, "big"), None)
            if body is None:
                break
            function, args, timeout = pickle.loads(body)  # noqa: S301 - from our parent
            outcome = _run_guarded(lambda: function(*args), timeout, time.process_time)
            try:
                data = json.dumps(outcome).encode()
            except (TypeError, ValueError) as error:
                data = json.dumps(["failed", f"unserialisable result: {error}"]).encode()
            _write_all(replies, len(data).to_bytes(8, "big") + data)
    finally:
        os._exit(0)


class _Worker:
    """A long-lived forked worker and the two pipes to it."""

    def __init__(self, memory_bytes: int) -> None:
        request_read, request_write = os.pipe()
        reply_read, reply_write = os.pipe()
        try:
            pid = os.fork()
        except OSError:
            for fd in (request_read, request_write, reply_read, reply_write):
                os.close(fd)
            raise
        if pid == 0:  # pragma: no cover - the child process
            os.close(request_write)
            os.close(reply_read)
            _serve(request_read, reply_write, memory_bytes)
        os.close(request_read)
        os.close(reply_write)
        self.pid, self.requests, self.replies = pid, request_write, reply_read
        self.owner = os.getpid()

    def call(self, function: Callable[..., Any], args: tuple, timeout: float) -> Outcome | None:
        """The outcome, or None if the worker died or overran (it is then killed)."""
        body = pickle.dumps((function, args, timeout))
        try:
            _write_all(self.requests, len(body).to_bytes(8, "big") + body)
        except OSError:
            return None
        if not _await_reply(self.replies, self.pid, timeout, GRACE):
            return None
        deadline = time.monotonic() + timeout + GRACE  # the reply is written at once
        header = _read_exact(self.replies, 8, deadline)
        data = None if header is None else \
            _read_exact(self.replies, int.from_bytes(header, "big"), deadline)
        if data is None:
            return None
        status, value = json.loads(data.decode())
        return status, value

    def close(self) -> None:
        for fd in (self.requests, self.replies):
            try:
                os.close(fd)
            except OSError:
                pass
        try:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
        except (ProcessLookupError, ChildProcessError):
            pass


_worker: _Worker | None = None
_worker_lock = threading.Lock()


def _forget_worker_in_child() -> None:  # pragma: no cover - runs in a forked child
    global _worker, _worker_lock
    _worker, _worker_lock = None, threading.Lock()


def _close_worker() -> None:
    global _worker
    if _worker is not None and _worker.owner == os.getpid():
        _worker.close()
    _worker = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_worker_in_child)
atexit.register(_close_worker)


def _run_in_worker(function: Callable[..., Any], args: tuple, timeout: float,
                   memory_bytes: int) -> Outcome:
    global _worker
    with _worker_lock:
        for _attempt in range(2):
            if _worker is None:
                _worker = _Worker(memory_bytes)
            started = time.monotonic()
            outcome = _worker.call(function, args, timeout)
            if outcome is not None:
                return outcome
            _close_worker()  # dead or overrunning: a fresh one next time
            if time.monotonic() - started >= timeout:
                return "timeout", None
        return "failed", "the worker stopped without an answer (memory limit?)"


def run_isolated(function: Callable[..., Any], args: tuple = (), *, timeout: float,
                 isolation: str = "worker", memory_bytes: int = DEFAULT_MEMORY_BYTES) -> Outcome:
    """Run ``function(*args)`` (returning JSON-able data) with a deadline of ``timeout`` s.

    ``isolation`` is one of :data:`MODES` (see the module docstring); in ``"worker"`` mode
    ``function`` must be a module-level function and ``args`` picklable. Returns
    ``("ok", value)``, ``("timeout", None)`` or ``("failed", message)``.
    """
    if isolation not in MODES:
        raise ValueError(f"isolation is one of {MODES}, not {isolation!r}")
    serialise_ast_parse()
    if isolation in ("worker", "process") and hasattr(os, "fork"):
        try:
            if isolation == "worker":
                return _run_in_worker(function, args, timeout, memory_bytes)
            return _run_forked(lambda: function(*args), timeout, memory_bytes)
        except OSError:
            pass  # no fork possible right now (process limit): a thread
    if isolation == "none":
        return _run_guarded(lambda: function(*args), timeout)
    return _run_threaded(lambda: function(*args), timeout)
