"""Run untrusted student code in a separate, confined process that speaks a plain-bytes protocol.

The harness never imports student code. A :class:`Sandbox` starts a fresh interpreter
(``python -I -S``) running ``grading/code/runner.py``; the runner imports the student's
files *there* and answers requests over its stdin/stdout pipes. Every value that crosses the
boundary is JSON (small headers) or raw little-endian float64 bytes (arrays): no pickle, no
object of the student's ever reaches the harness, so an object with a rigged ``__eq__`` gains
nothing. The harness checks every reply's framing, sizes and shapes before using it.

Confinement, in layers (each applied when the platform allows it; :attr:`Sandbox.layers` says
which were):

* ``rlimits`` (always): RLIMIT_CPU (SIGXCPU, then SIGKILL), RLIMIT_AS (a memory bomb gets
  MemoryError), RLIMIT_FSIZE (files, including the captured output), RLIMIT_NPROC (fork
  bombs; with the ``user`` layer, as it counts per uid), RLIMIT_NOFILE, no core dumps; torch
  and BLAS get one thread.
* ``session``: a new session and process group; on a wall-clock timeout the harness kills the
  process group (and, with ``namespaces``, everything the student started).
* ``user`` (when the harness runs as root): the runner runs as an unprivileged uid of its own
  (``uid_base`` + a random per-sandbox offset, rather than ``nobody``: RLIMIT_NPROC counts per
  uid, and concurrent sandboxes must not share it or signal each other; no supplementary
  groups, ``no_new_privs``), so it cannot read or write the harness's files (answer key,
  results), which stay root's with mode 0700/0600.
* ``namespaces`` (root and a kernel that permits ``unshare``): new mount, PID, network, IPC
  and UTS namespaces. The runner is chrooted into a fresh tmpfs (size-capped) that holds only
  read-only binds of the system libraries, the Python installation and the site-packages that
  provide numpy/torch, a fresh ``/proc``, ``/dev/{null,zero,random,urandom}``, a writable
  ``/tmp`` and the work directory ``/sandbox`` with copies of the student's files. Nothing else
  of the host file system is visible (not the answer key, not the results directory, not the
  repository), nothing it writes survives, and the network namespace has no interface but a
  down loopback: no network. PID 1 of the namespace is a reaper whose only child is the
  runner: when the runner dies or is killed, PID 1 exits and the kernel kills every process
  left in the namespace (a ``setsid`` does not escape it).

Without root, only ``rlimits`` and ``session`` apply: the code runs as the harness's user,
can read what that user can, and can reach the network. Grade untrusted code as root in a
container (the Gradescope autograder runs as root) to get the full confinement; if the
container forbids ``unshare`` (e.g. Docker's default seccomp profile), the ``user`` layer
still separates the student from the key and the results, but ``/tmp`` and the network stay
reachable (and the interpreter and site-packages must be readable by other users, as a system
Python's are).

The wire format (both directions): ``b"GVF1"``, a 4-byte big-endian header length, a UTF-8
JSON header, an 8-byte big-endian payload length and the payload: the arrays listed in the
header's ``"arrays"`` (``[[name, shape], ...]``), each as C-ordered ``<f8`` bytes, back to back.
A runner's reply may be interleaved with *callback* frames (``{"kind": "callback"}``): the
student's function called a function the harness lent it (a score, an encoder); the harness
evaluates it on the float64 arrays and answers.

This file is also the launcher: ``python -I -S sandbox.py CONFIG`` sets up the confinement as
root and ``exec``s the runner; at that point it imports only the standard library.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "Limits",
    "Reply",
    "Sandbox",
    "SandboxError",
    "SandboxTimeout",
    "SandboxDied",
    "ProtocolError",
    "encode_frame",
    "decode_header",
    "MAGIC",
]

MAGIC = b"GVF1"
_MAX_HEADER = 4 * 2**20
_RUNNER = Path(__file__).with_name("runner.py")
_counter = 0
_counter_lock = threading.Lock()


@dataclass(frozen=True)
class Limits:
    """Resource limits of one sandbox process (the wall-clock ones are enforced by the harness)."""

    cpu_seconds: int = 120  # CPU time over the whole life of the process (RLIMIT_CPU)
    memory_bytes: int = 3 * 2**30  # address space (RLIMIT_AS); importing torch maps ~0.7 GB
    file_size_bytes: int = 16 * 2**20  # largest file it may write (RLIMIT_FSIZE)
    processes: int = 16  # tasks (processes + threads) of the sandbox user (RLIMIT_NPROC)
    open_files: int = 256  # RLIMIT_NOFILE
    tmpfs_bytes: int = 64 * 2**20  # everything it may write, in total (namespaces layer)
    startup_seconds: float = 90.0  # wall clock to start the interpreter and import torch
    call_seconds: float = 30.0  # wall clock of one request, callbacks included
    max_reply_bytes: int = 256 * 2**20  # largest reply the harness accepts
    max_callbacks: int = 100_000  # callbacks per request


class SandboxError(RuntimeError):
    """The sandboxed process failed; ``reason`` is a sentence for the student's feedback."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SandboxTimeout(SandboxError):
    """A request exceeded its wall-clock limit; the process was killed."""


class SandboxDied(SandboxError):
    """The process ended (crash, exit, CPU limit, killed) while a request was pending."""


class ProtocolError(SandboxError):
    """The process sent something that is not a well-formed frame; it was killed."""


@dataclass
class Reply:
    """A runner's answer: the JSON header and the float64 arrays it listed."""

    header: dict[str, Any]
    arrays: dict[str, Any]


# --------------------------------------------------------------------------------------------
# frames


def encode_frame(header: Mapping[str, Any], arrays: Mapping[str, Any] | None = None) -> bytes:
    """A frame: the header (with the array directory added) and the arrays as <f8 bytes."""
    import numpy as np

    directory, chunks = [], []
    for name, value in (arrays or {}).items():
        array = np.ascontiguousarray(np.asarray(value, dtype="<f8"))
        directory.append([str(name), list(array.shape)])
        chunks.append(array.tobytes())
    head = json.dumps({**header, "arrays": directory}, allow_nan=True).encode()
    payload = b"".join(chunks)
    return MAGIC + struct.pack(">I", len(head)) + head + struct.pack(">Q", len(payload)) + payload


def decode_header(raw: bytes) -> dict[str, Any]:
    """Parse and validate a frame header from the untrusted side."""
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as error:
        raise ProtocolError(f"the sandbox sent a malformed header ({error})") from None
    if not isinstance(header, dict):
        raise ProtocolError("the sandbox sent a header that is not a JSON object")
    directory = header.get("arrays", [])
    if not isinstance(directory, list):
        raise ProtocolError("the sandbox sent a malformed array directory")
    for entry in directory:
        if (not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str)
                or not isinstance(entry[1], list) or len(entry[1]) > 8
                or not all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**40
                           for n in entry[1])):
            raise ProtocolError("the sandbox sent a malformed array directory")
    return header


def _split_arrays(header: Mapping[str, Any], payload: bytes) -> dict[str, Any]:
    """The float64 arrays of a payload, shapes checked against its length (no pickle)."""
    import numpy as np

    arrays, offset = {}, 0
    for name, shape in header.get("arrays", []):
        count = 1
        for n in shape:
            count *= n
        end = offset + 8 * count
        if end > len(payload):
            raise ProtocolError("the sandbox's arrays are longer than its payload")
        arrays[name] = np.frombuffer(payload, dtype="<f8", count=count,
                                     offset=offset).astype(np.float64).reshape(shape)
        offset = end
    if offset != len(payload):
        raise ProtocolError("the sandbox's payload is longer than its arrays")
    return arrays


# --------------------------------------------------------------------------------------------
# the harness side


def _next_slot() -> int:
    global _counter
    with _counter_lock:
        _counter += 1
        return _counter


def _site_dirs() -> list[str]:
    """Directories that provide numpy and torch (and their dependencies) to the runner."""
    import importlib.util
    import sysconfig

    dirs: list[str] = []
    for key in ("purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path and os.path.isdir(path) and path not in dirs:
            dirs.append(path)
    for module in ("numpy", "torch"):
        spec = importlib.util.find_spec(module)
        if spec and spec.origin:
            parent = str(Path(spec.origin).resolve().parent.parent)
            if parent not in dirs:
                dirs.append(parent)
    return dirs


def _bind_paths(site_dirs: Sequence[str], runner_python: str) -> list[str]:
    """Read-only binds of the chroot: system libraries, the interpreter, site-packages."""
    candidates = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin",
                  "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                  str(Path(runner_python).resolve().parent.parent), sys.base_prefix,
                  *site_dirs]
    binds: list[str] = []
    for path in candidates:
        if not path or not os.path.lexists(path):
            continue
        if os.path.islink(path) and os.path.dirname(path) == "/":
            binds.append(path)  # /bin -> usr/bin on merged-/usr systems: recreated as a link
            continue
        real = os.path.realpath(path)
        if any(real == b or real.startswith(b.rstrip("/") + "/") for b in binds):
            continue
        binds = [b for b in binds if not b.startswith(real.rstrip("/") + "/")]
        binds.append(real)
    return binds


class Sandbox:
    """One confined worker process running ``grading/code/runner.py``.

    ``files`` are copied into the sandbox's private work directory (the student's ``.py``
    files); ``preload`` is imported before the hello (torch: once per process, outside any
    request's time limit); ``namespaces=False`` keeps a root harness's sandbox to the user and
    rlimits layers. Use as a context manager; :meth:`request` sends a request and returns the
    reply, answering callbacks (``callbacks[name](**arrays) -> dict of arrays``) meanwhile.
    """

    def __init__(self, files: Sequence[str | os.PathLike[str]], *, limits: Limits = Limits(),
                 confine: bool | None = None, uid_base: int = 1_500_000,
                 preload: Sequence[str] = ("torch",), namespaces: bool = True) -> None:
        self.files = [Path(f) for f in files]
        self.preload = list(preload)
        self.namespaces = namespaces
        self.limits = limits
        self.confine = (os.geteuid() == 0) if confine is None else confine
        if self.confine and os.geteuid() != 0:
            raise PermissionError("confinement (a separate user, namespaces) needs root")
        # a uid of its own (not shared with concurrent sandboxes: RLIMIT_NPROC counts per uid)
        self.uid = uid_base + (_next_slot() * 7919 + secrets.randbelow(1_000_000)) % 1_000_000
        self.process: Any = None
        self.layers: tuple[str, ...] = ()
        self.hello: dict[str, Any] = {}
        self._staging: Path | None = None
        self._stderr: Any = None
        self._buffer = b""
        self._lock = threading.Lock()
        self._output_mark = 0  # size of the captured output when the last request began
        self._budget = limits.call_seconds  # the wall clock of the request under way

    # -- life cycle ----------------------------------------------------------------------------

    def __enter__(self) -> Sandbox:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def start(self) -> None:
        """Start the process and wait for the runner's hello (numpy and torch imported)."""
        import subprocess

        self._staging = Path(tempfile.mkdtemp(prefix="genverify-sandbox-"))
        os.chmod(self._staging, 0o700)
        root = self._staging / "root"
        root.mkdir(mode=0o700)
        files = self._staging / "files"
        files.mkdir(mode=0o700)
        names = []
        for source in self.files:
            target = files / source.name
            shutil.copyfile(source, target)
            names.append(source.name)
        runner = self._staging / "student_runner.py"
        shutil.copyfile(_RUNNER, runner)
        python = os.path.realpath(sys.executable)
        site_dirs = _site_dirs()
        config = {
            "confine": self.confine,
            "uid": self.uid,
            "root": str(root),
            "files_dir": str(files),
            "files": names,
            "runner": str(runner),
            "python": python,
            "binds": _bind_paths(site_dirs, python) if self.confine else [],
            "sys_path": site_dirs,
            "limits": asdict(self.limits),
            "preload": self.preload,
            "namespaces": self.namespaces,
        }
        self._stderr = open(self._staging / "stderr.txt", "w+b")  # noqa: SIM115 - kept open
        self.process = subprocess.Popen(
            [python, "-I", "-S", "-B", os.path.abspath(__file__), json.dumps(config)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
            start_new_session=True, close_fds=True, cwd=str(self._staging), env={},
        )
        os.set_blocking(self.process.stdout.fileno(), False)
        os.set_blocking(self.process.stdin.fileno(), False)
        deadline = time.monotonic() + self.limits.startup_seconds
        try:
            header, _ = self._read_frame(deadline, "start")
        except SandboxError:
            self.close()
            raise
        if header.get("kind") != "hello":
            self.close()
            raise ProtocolError("the sandbox did not start properly")
        self.hello = header
        self.layers = tuple(str(x) for x in header.get("layers", ()))[:16]

    def close(self) -> None:
        """Kill the process and everything it started; remove the staging directory."""
        if self.process is not None:
            self._kill()
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def _kill(self) -> None:
        process = self.process
        if process.poll() is None:
            try:  # the runner (PID 1 of its namespace) first: its namespace dies with it
                with open(f"/proc/{process.pid}/task/{process.pid}/children") as f:
                    children = [int(p) for p in f.read().split()]
            except (OSError, ValueError):
                children = []
            for child in children:
                try:
                    os.kill(child, signal.SIGKILL)
                except OSError:
                    pass
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except OSError:
                pass
        try:
            process.wait(timeout=10)
        except Exception:  # noqa: BLE001 - nothing more can be done
            pass

    def output_tail(self, limit: int = 2000, *, since_request: bool = False) -> str:
        """The last ``limit`` characters the student's code printed (stdout and stderr),
        over the process's life or since the last request began."""
        if self._stderr is None:
            return ""
        try:
            size = os.fstat(self._stderr.fileno()).st_size
            start = max(0, size - limit, self._output_mark if since_request else 0)
            self._stderr.seek(start)
            return self._stderr.read(size - start).decode("utf-8", "replace")
        except OSError:
            return ""

    # -- requests ------------------------------------------------------------------------------

    def request(self, header: Mapping[str, Any], arrays: Mapping[str, Any] | None = None, *,
                callbacks: Mapping[str, Callable[..., Mapping[str, Any]]] | None = None,
                timeout: float | None = None) -> Reply:
        """Send a request; answer callbacks until the reply arrives or the deadline passes."""
        with self._lock:
            if not self.alive:
                raise SandboxDied(self._death_reason("before the request"))
            self._budget = self.limits.call_seconds if timeout is None else timeout
            deadline = time.monotonic() + self._budget
            try:
                self._output_mark = os.fstat(self._stderr.fileno()).st_size
            except (OSError, AttributeError):
                self._output_mark = 0
            self._write(encode_frame(header, arrays), deadline)
            served = 0
            while True:
                reply_header, payload = self._read_frame(deadline, "request")
                if reply_header.get("kind") != "callback":
                    return Reply(reply_header, _split_arrays(reply_header, payload))
                served += 1
                if served > self.limits.max_callbacks:
                    self._kill()
                    raise SandboxDied(f"more than {self.limits.max_callbacks} calls of the "
                                      f"functions it was given")
                self._write(self._answer_callback(reply_header, payload, callbacks or {}),
                            deadline)

    def _answer_callback(self, header: Mapping[str, Any], payload: bytes,
                         callbacks: Mapping[str, Callable[..., Mapping[str, Any]]]) -> bytes:
        name = header.get("name")
        function = callbacks.get(name) if isinstance(name, str) else None
        if function is None:
            return encode_frame({"kind": "callback_reply", "ok": False,
                                 "error": f"no function {str(name)[:40]!r} was lent"})
        try:
            arrays = _split_arrays(header, payload)
            result = function(**arrays)
        except Exception as error:  # noqa: BLE001 - the student's input may be malformed
            return encode_frame({"kind": "callback_reply", "ok": False,
                                 "error": f"{type(error).__name__}: {error}"[:500]})
        return encode_frame({"kind": "callback_reply", "ok": True}, result)

    def _write(self, data: bytes, deadline: float) -> None:
        fd = self.process.stdin.fileno()
        view = memoryview(data)
        while view:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                raise SandboxTimeout(self._timeout_reason())
            try:
                _, writable, _ = select.select([], [fd], [], remaining)
            except (OSError, ValueError):
                writable = []
            if not writable:
                continue
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            except (BrokenPipeError, OSError):
                reason = self._death_reason("while receiving its input")
                self._kill()
                raise SandboxDied(reason) from None
            view = view[written:]

    def _read_exact(self, n: int, deadline: float, when: str) -> bytes:
        fd = self.process.stdout.fileno()
        chunks = [self._buffer[:n]]
        have = len(chunks[0])
        self._buffer = self._buffer[n:]
        while have < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                self._kill()
                if when == "start":
                    raise SandboxTimeout(f"the sandbox did not start within "
                                         f"{self.limits.startup_seconds:g} s (importing the "
                                         f"submission's modules may hang)")
                raise SandboxTimeout(self._timeout_reason())
            try:
                readable, _, _ = select.select([fd], [], [], remaining)
            except (OSError, ValueError):
                readable = []
            if not readable:
                continue
            try:
                chunk = os.read(fd, min(1 << 20, n - have + (1 << 16)))
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                reason = self._death_reason(f"during the {when}")
                self._kill()
                raise SandboxDied(reason)
            chunks.append(chunk)
            have += len(chunk)
        data = b"".join(chunks)
        self._buffer = data[n:] + self._buffer
        return data[:n]

    def _read_frame(self, deadline: float, when: str) -> tuple[dict[str, Any], bytes]:
        magic = self._read_exact(4, deadline, when)
        if magic != MAGIC:
            self._kill()
            raise ProtocolError("the sandbox's output is not a protocol frame (did the "
                                "submission write to the protocol's file descriptor?)")
        (head_len,) = struct.unpack(">I", self._read_exact(4, deadline, when))
        if head_len > _MAX_HEADER:
            self._kill()
            raise ProtocolError(f"the sandbox sent a header of {head_len} bytes")
        header = decode_header(self._read_exact(head_len, deadline, when))
        (payload_len,) = struct.unpack(">Q", self._read_exact(8, deadline, when))
        if payload_len > self.limits.max_reply_bytes:
            self._kill()
            raise ProtocolError(f"the sandbox sent {payload_len} bytes; the limit is "
                                f"{self.limits.max_reply_bytes}")
        return header, self._read_exact(payload_len, deadline, when)

    def _timeout_reason(self) -> str:
        return (f"timed out: no answer within the wall-clock limit of {self._budget:g} s (too slow "
                f"for the grading budget, or an infinite loop); the process was killed")

    def _death_reason(self, when: str) -> str:
        process = self.process
        try:
            code = process.wait(timeout=5)
        except Exception:  # noqa: BLE001
            code = None
        if code is None:
            return f"the sandbox stopped answering {when}"
        if code < 0:
            code = 128 - code
        signals = {signal.SIGXCPU: f"exceeded its CPU-time limit of "
                                   f"{self.limits.cpu_seconds} s",
                   signal.SIGKILL: "was killed (CPU-time or memory limit, or a timeout)",
                   signal.SIGSEGV: "crashed with a segmentation fault",
                   signal.SIGABRT: "aborted (SIGABRT)", signal.SIGBUS: "crashed (bus error)",
                   signal.SIGFPE: "crashed (floating-point exception)",
                   signal.SIGXFSZ: "exceeded its file-size limit",
                   signal.SIGILL: "crashed (illegal instruction)"}
        if code > 128:
            number = code - 128
            try:
                what = signals.get(signal.Signals(number), f"was killed by signal {number}")
            except ValueError:
                what = f"was killed by signal {number}"
            return f"the submission's process {what} {when}"
        if code == 3:
            return f"the sandbox could not be set up {when}: {self.output_tail(400).strip()}"
        return (f"the submission's process exited with status {code} {when} (sys.exit or "
                f"os._exit called?)")


# --------------------------------------------------------------------------------------------
# the launcher: runs as ``python -I -S sandbox.py CONFIG`` in the new process, stdlib only

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWPID, _CLONE_NEWNET = 0x20000000, 0x40000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_DEVICES = ("null", "zero", "random", "urandom")


@dataclass
class _Libc:
    lib: Any = field(default=None)

    def __post_init__(self) -> None:
        import ctypes

        self.lib = ctypes.CDLL(None, use_errno=True)
        self.lib.mount.argtypes = [ctypes.c_char_p, ctypes.c_char_p, ctypes.c_char_p,
                                   ctypes.c_ulong, ctypes.c_char_p]
        self.lib.unshare.argtypes = [ctypes.c_int]
        self.lib.prctl.argtypes = [ctypes.c_int, ctypes.c_ulong, ctypes.c_ulong,
                                   ctypes.c_ulong, ctypes.c_ulong]

    def _check(self, result: int, what: str) -> None:
        import ctypes

        if result != 0:
            errno = ctypes.get_errno()
            raise OSError(errno, f"{what}: {os.strerror(errno)}")

    def unshare(self, flags: int) -> None:
        self._check(self.lib.unshare(flags), "unshare")

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None = None) -> None:
        enc = lambda s: None if s is None else s.encode()  # noqa: E731
        self._check(self.lib.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
                    f"mount {target}")

    def prctl(self, option: int, value: int) -> None:
        self._check(self.lib.prctl(option, value, 0, 0, 0), "prctl")


def _set_limits(limits: Mapping[str, Any], confine: bool) -> None:
    import resource

    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if confine:  # per real uid: meaningful only for the sandbox's own uid
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)


def _build_root(libc: _Libc, config: Mapping[str, Any]) -> None:
    """The chroot: a tmpfs with read-only binds, /proc, devices, /tmp and /sandbox."""
    root = config["root"]
    uid = config["uid"]
    libc.mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV,
               f"size={config['limits']['tmpfs_bytes']},mode=755")
    for path in config["binds"]:
        target = root + path
        if os.path.islink(path):
            os.makedirs(os.path.dirname(target), exist_ok=True)
            os.symlink(os.readlink(path), target)
            continue
        if os.path.isdir(path):
            os.makedirs(target, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(target), exist_ok=True)
            open(target, "wb").close()
        libc.mount(path, target, None, _MS_BIND | _MS_REC)
        libc.mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)
    os.makedirs(root + "/dev", exist_ok=True)
    for device in _DEVICES:
        target = f"{root}/dev/{device}"
        open(target, "wb").close()
        libc.mount(f"/dev/{device}", target, None, _MS_BIND)
        libc.mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_NOSUID | _MS_NOEXEC)
    os.makedirs(root + "/proc", exist_ok=True)
    libc.mount("proc", root + "/proc", "proc", _MS_NOSUID | _MS_NODEV | _MS_NOEXEC)
    os.makedirs(root + "/tmp", exist_ok=True)
    os.chmod(root + "/tmp", 0o1777)
    os.makedirs(root + "/etc", exist_ok=True)
    with open(root + "/etc/passwd", "w") as f:
        f.write(f"root:x:0:0:root:/root:/bin/false\nstudent:x:{uid}:{uid}:student:/sandbox:"
                f"/bin/false\n")
    with open(root + "/etc/group", "w") as f:
        f.write(f"root:x:0:\nstudent:x:{uid}:\n")
    os.makedirs(root + "/runner", exist_ok=True)
    shutil.copyfile(config["runner"], root + "/runner/student_runner.py")
    os.makedirs(root + "/sandbox", exist_ok=True)
    for name in config["files"]:
        shutil.copyfile(os.path.join(config["files_dir"], name), f"{root}/sandbox/{name}")
        os.chown(f"{root}/sandbox/{name}", uid, uid)
    os.chown(root + "/sandbox", uid, uid)
    os.chmod(root + "/sandbox", 0o700)


def _exec_runner(config: Mapping[str, Any], runner: str, layers: list[str]) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": os.getcwd(), "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    runner_config = {"sys_path": config["sys_path"], "work": os.getcwd(), "layers": layers,
                     "files": config["files"], "preload": config["preload"]}
    os.execve(config["python"], [config["python"], "-I", "-S", "-B", runner,
                                 json.dumps(runner_config)], env)


def _drop_privileges(libc: _Libc | None, uid: int) -> None:
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop privileges")
    try:
        os.setuid(0)
    except PermissionError:
        pass
    else:
        raise OSError("privileges could be regained")
    if libc is not None:
        libc.prctl(_PR_SET_NO_NEW_PRIVS, 1)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)


def _launch(config: dict[str, Any]) -> None:  # pragma: no cover - runs in the child process
    try:
        layers = ["session"]
        libc = None
        namespaces = False
        if config["confine"] and config.get("namespaces", True):
            try:
                libc = _Libc()
                libc.unshare(_CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC
                             | _CLONE_NEWUTS)
                libc.mount(None, "/", None, _MS_REC | _MS_PRIVATE)
                namespaces = True
            except OSError as error:
                sys.stderr.write(f"genverify sandbox: no namespaces ({error}); continuing "
                                 f"with a separate user and rlimits\n")
        if namespaces:
            child = os.fork()
            if child:  # the parent waits and reports the runner's fate as its exit status
                null = os.open(os.devnull, os.O_RDWR)
                os.dup2(null, 0)
                os.dup2(null, 1)
                signal.signal(signal.SIGTERM, signal.SIG_DFL)
                _, status = os.waitpid(child, 0)
                if os.WIFSIGNALED(status):
                    os._exit(128 + os.WTERMSIG(status))
                os._exit(os.WEXITSTATUS(status))
            _build_root(libc, config)
            os.chroot(config["root"])
            os.chdir("/sandbox")
            layers += ["namespaces", "user", "rlimits"]
            runner = "/runner/student_runner.py"
        else:
            work = os.path.join(config["root"], "sandbox")
            os.makedirs(work, mode=0o700)
            for name in config["files"]:
                shutil.copyfile(os.path.join(config["files_dir"], name), os.path.join(work, name))
            shutil.copyfile(config["runner"], os.path.join(work, ".student_runner.py"))
            runner = "./.student_runner.py"  # relative: the staging directory is root's alone
            if config["confine"]:
                for path in (config["root"], work):
                    os.chown(path, config["uid"], config["uid"])
                for name in [*config["files"], ".student_runner.py"]:
                    os.chown(os.path.join(work, name), config["uid"], config["uid"])
                layers += ["user"]
            os.chdir(work)
            layers += ["rlimits"]
        _set_limits(config["limits"], config["confine"])
        if config["confine"]:
            if not namespaces:
                libc = libc or _Libc()
            _drop_privileges(libc, config["uid"])
        if namespaces:  # PID 1 of the namespace only reaps: the runner gets ordinary signals
            runner_pid = os.fork()
            if runner_pid:
                os.close(0)
                os.close(1)
                while True:
                    pid, status = os.wait()
                    if pid == runner_pid:
                        break
                if os.WIFSIGNALED(status):
                    os._exit(128 + os.WTERMSIG(status))
                os._exit(os.WEXITSTATUS(status))
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        _exec_runner(config, runner, layers)
    except BaseException as error:  # noqa: BLE001 - report and fail with a known status
        sys.stderr.write(f"genverify sandbox: setup failed: {type(error).__name__}: {error}\n")
        sys.stderr.flush()
        os._exit(3)


if __name__ == "__main__":  # pragma: no cover - the launcher
    _launch(json.loads(sys.argv[1]))
