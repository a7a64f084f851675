"""Run untrusted student code in a separate, confined process that speaks a plain-bytes protocol.

The harness never imports student code. A :class:`Sandbox` starts a fresh interpreter
(``python -I -S``) running ``grading/code/runner.py``; the runner imports the student's
files *there* and answers requests over its stdin/stdout pipes. Every value that crosses the
boundary is JSON (small headers) or raw little-endian float64 bytes (arrays): no pickle, no
object of the student's ever reaches the harness, so an object with a rigged ``__eq__`` gains
nothing. The harness checks every reply's framing, sizes, shapes and nesting before using it;
anything malformed is a :class:`ProtocolError` (the process is killed, the request fails),
never another exception.

The student's files are read without following links (``O_NOFOLLOW``): a link, a device, a
FIFO or a socket is refused, a regular file is read up to :data:`MAX_SOURCE_BYTES`, and the
copy is written by the harness, so a link swapped in after the files were listed is still
refused.

Confinement, in layers (each applied when the platform allows it; :attr:`Sandbox.layers` says
which were):

* ``session``: a new session and process group; on a timeout (CPU time of the process tree,
  :class:`grading.isolation.CpuDeadline`) the harness kills the process group (and, with
  ``namespaces``, everything the student started). Every process of
  the sandbox dies with the harness: the launcher and the namespace's PID 1 have a parent-death
  signal (SIGKILL), armed from one long-lived thread of the harness (the kernel sends it when
  the *thread* that forked dies), and :func:`install_termination_handler` makes SIGTERM and
  SIGINT close every live sandbox (:func:`terminate_all`) before the harness exits.
* ``rlimits``: RLIMIT_CPU (SIGXCPU, then SIGKILL), RLIMIT_AS per process (a memory bomb gets
  MemoryError), RLIMIT_FSIZE (files, including the captured output), RLIMIT_NOFILE, no core
  dumps, and (with ``user``, as it counts per uid) RLIMIT_NPROC; torch and BLAS get one thread.
* ``user`` (when the harness runs as root): the runner runs as an unprivileged uid of its own
  (``uid_base`` + a random per-sandbox offset, rather than ``nobody``: RLIMIT_NPROC counts per
  uid, and concurrent sandboxes must not share it or signal each other; no supplementary
  groups, ``no_new_privs``), so it cannot read or write the harness's files (answer key,
  results), which stay root's with mode 0700/0600.
* ``cgroup`` (root, and a writable cgroup: v2 with the memory controller, or the v1 ``memory``
  hierarchy, with ``pids`` when present): one cgroup per sandbox caps the memory of all its
  processes together at ``memory_bytes`` plus an allowance for the tmpfs and the two small
  supervising interpreters (``tmpfs_bytes`` + 64 MiB; so one process still meets its
  RLIMIT_AS, a MemoryError, before the cgroup's OOM killer), without swap, and the number of
  its tasks at ``processes`` + 1 (the launcher); it is removed on close. On cgroup v2, when
  the harness's own cgroup holds processes (a container's does), they are first moved into a
  leaf ``genverify-grader``, as v2 requires to delegate a controller. Where no cgroup is
  usable the layer is ``one-process`` instead: RLIMIT_NPROC admits the runner alone (and the
  namespace's PID 1), so the student cannot fork or start threads and the single address-space
  limit bounds the sandbox's memory.
* ``namespaces`` (root and a kernel that permits ``unshare``): new mount, PID, network, IPC and
  UTS namespaces (and cgroup, where the kernel has it). The runner is chrooted into a fresh
  tmpfs (size-capped) that holds only read-only binds of the system libraries (``/usr``,
  ``/lib*``, ``/bin``, ``/sbin``, the loader's cache) and the Python installation, with every
  ``site-packages``/``dist-packages`` directory inside them hidden under an empty read-only
  tmpfs; ``/site``, holding read-only binds of exactly the top-level packages of numpy, torch
  and the distributions they require (recursively, through their metadata; never the grader's
  own packages, its ``.pth`` and ``__editable__`` files or its ``dist-info``), the runner's only
  library directory; a fresh ``/proc``; ``/dev/{null,zero,random,urandom}``; a writable
  ``/tmp``; and the work directory ``/sandbox`` with copies of the student's files. Nothing else
  of the host file system is visible (not the answer key, not the results directory, not the
  repository, not the grader's installed packages), nothing it writes survives, and the network
  namespace has no interface but a down loopback: no network. PID 1 of the namespace is a reaper
  whose only child is the runner: when the runner dies or is killed, PID 1 exits and the kernel
  kills every process left in the namespace (a ``setsid`` does not escape it). No process of the
  sandbox has a path or its configuration in its command line: the launcher reads its code and
  configuration from its stdin, the runner its configuration from an inherited pipe. What is
  left: ``/proc/self/mountinfo`` names the host directories the binds come from (paths, not
  contents).

Without root, only ``session`` and ``rlimits`` apply (nothing is mounted: the runner imports
numpy and torch from the harness's own site directories, grader included): the code runs as the
harness's user, can read what that user can, can reach the network, and the memory limit is
per process with no cap on their number. Grade untrusted code as root in a container (the
Gradescope autograder runs as root) to get the full confinement; if the container forbids
``unshare`` (e.g. Docker's default seccomp profile), the ``user`` layer still separates the
student from the key and the results, but ``/tmp``, the network and whatever is readable by
other users (the interpreter, site-packages, an installed grader's packages) stay reachable.

The wire format (both directions): ``b"GVF1"``, a 4-byte big-endian header length, a UTF-8
JSON header, an 8-byte big-endian payload length and the payload: the arrays listed in the
header's ``"arrays"`` (``[[name, shape], ...]``), each as C-ordered ``<f8`` bytes, back to back.
A runner's reply may be interleaved with *callback* frames (``{"kind": "callback"}``): the
student's function called a function the harness lent it (a score, an encoder); the harness
evaluates it on the float64 arrays and answers.

This file is also the launcher: the harness starts ``python -I -S -B -c LAUNCHER_BOOT`` and
writes this file's source and the configuration to its stdin, 8-byte lengths first; it sets up
the confinement as root and ``exec``s the runner; it imports only the standard library.
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import select
import shutil
import signal
import stat
import struct
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from grading.isolation import CpuDeadline

__all__ = [
    "Limits",
    "MAX_SOURCE_BYTES",
    "Reply",
    "Sandbox",
    "SandboxError",
    "SandboxTimeout",
    "RequestNotDelivered",
    "SandboxDied",
    "ProtocolError",
    "encode_frame",
    "decode_header",
    "install_termination_handler",
    "read_source_file",
    "terminate_all",
    "MAGIC",
]

MAGIC = b"GVF1"
MAX_SOURCE_BYTES = 1_000_000  # one student file, as grading.code.session._MAX_FILE_BYTES
_MAX_HEADER = 4 * 2**20
_MAX_NESTING = 32  # of a header's JSON: the runner's replies need 4
_SUPERVISOR_BYTES = 64 * 2**20  # the launcher's and PID 1's interpreters, in the cgroup
_GRADER_PACKAGES = frozenset({"derivations", "numerics", "models", "grading", "report",
                              "genverify"})
_GRADER_DISTRIBUTION = "genverify"
_SANDBOX_MODULES = ("numpy", "torch")  # what the runner and the students' code import
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
    call_seconds: float = 30.0  # one request, callbacks included: CPU time (CpuDeadline)
    max_reply_bytes: int = 256 * 2**20  # largest reply the harness accepts
    max_callbacks: int = 100_000  # callbacks per request


class SandboxError(RuntimeError):
    """The sandboxed process failed; ``reason`` is a sentence for the student's feedback."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SandboxTimeout(SandboxError):
    """A request exceeded its time limit; the process was killed."""


class SandboxDied(SandboxError):
    """The process ended (crash, exit, CPU limit, killed) while a request was pending."""


class RequestNotDelivered(SandboxDied):
    """The process was gone before it had read the whole request: nothing of the request ran
    (the runner reads a whole frame before it acts), so the request may be sent again to a
    fresh process."""


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
    """Parse and validate a frame header from the untrusted side: a JSON object nested at most
    ``_MAX_NESTING`` deep with a well-formed array directory, else :class:`ProtocolError`."""
    try:
        header = json.loads(bytes(raw).decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError, MemoryError, TypeError) as error:
        reason = str(error)[:120] if not isinstance(error, RecursionError) else "nested too deep"
        raise ProtocolError(f"the sandbox sent a malformed header ({reason})") from None
    if not isinstance(header, dict):
        raise ProtocolError("the sandbox sent a header that is not a JSON object")
    if _nesting(header) > _MAX_NESTING:
        raise ProtocolError(f"the sandbox sent a header nested more than {_MAX_NESTING} deep")
    directory = header.get("arrays", [])
    if not isinstance(directory, list) or not all(_directory_entry(e) for e in directory):
        raise ProtocolError("the sandbox sent a malformed array directory")
    return header


def _nesting(value: Any) -> int:
    """How deep lists and dicts nest in a parsed JSON value (iteratively: no recursion)."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (list, dict)):
            deepest = max(deepest, depth)
            if deepest > _MAX_NESTING:
                break
            stack.extend((child, depth + 1)
                         for child in (item.values() if isinstance(item, dict) else item))
    return deepest


def _directory_entry(entry: Any) -> bool:
    """``[name, shape]``: a string and at most 8 non-negative integer extents below 2**40."""
    return (isinstance(entry, list) and len(entry) == 2 and isinstance(entry[0], str)
            and isinstance(entry[1], list) and len(entry[1]) <= 8
            and all(isinstance(n, int) and not isinstance(n, bool) and 0 <= n < 2**40
                    for n in entry[1]))


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
# the student's files: regular files only, read without following links


def _file_kind(mode: int) -> str:
    """What a file that is not a regular file is, for a refusal."""
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a FIFO"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device file"
    return "not a regular file"


def read_source_file(path: str | os.PathLike[str], limit: int = MAX_SOURCE_BYTES) -> bytes:
    """The bytes of a student's file, or :class:`SandboxError` saying why it is refused.

    The file is opened without following a link (``O_NOFOLLOW``) or blocking on a FIFO
    (``O_NONBLOCK``) and checked on the open descriptor (``fstat``): only a regular file of at
    most ``limit`` bytes is read, so a link swapped in after the files were listed is refused.
    """
    name = os.path.basename(os.fspath(path))
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | os.O_NOCTTY
    try:
        fd = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise SandboxError(f"{name} is a symbolic link: not read") from None
        raise SandboxError(f"{name} could not be read ({error.strerror})") from None
    try:
        status = os.fstat(fd)
        if not stat.S_ISREG(status.st_mode):
            raise SandboxError(f"{name} is {_file_kind(status.st_mode)}: not read")
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    finally:
        os.close(fd)
    if size > limit:
        raise SandboxError(f"{name} is larger than {limit} bytes: not read")
    return b"".join(chunks)


def _write_new_file(path: str, data: bytes, mode: int = 0o600) -> None:
    """Write ``data`` to a file that must not exist yet (never through a link)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC,
                 mode)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)


def _copy_source(source: str, target: str, owner: int | None = None) -> None:
    """Copy a student's file (refused unless a regular file, see :func:`read_source_file`)."""
    _write_new_file(target, read_source_file(source))
    if owner is not None:
        os.chown(target, owner, owner)


def _stage_files(files: Sequence[Path], directory: Path) -> list[str]:
    """Copy the student's files into the (root-only) staging directory; their names."""
    names: list[str] = []
    for source in files:
        if source.name in names:
            continue  # two files of one name (from different folders): the first one counts
        _copy_source(str(source), str(directory / source.name))
        names.append(source.name)
    return names


# --------------------------------------------------------------------------------------------
# the runner's libraries: numpy, torch and what they require, never the grader's packages


def _normalised(name: str) -> str:
    """A distribution's name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _marker_applies(marker: str) -> bool:
    """Whether a requirement's environment marker holds here (no extra is requested). Without
    ``packaging``, a marker applies unless it names an extra (more is mounted, never less)."""
    try:
        from packaging.markers import Marker
    except ImportError:
        return "extra" not in marker
    try:
        return bool(Marker(marker).evaluate({"extra": ""}))
    except Exception:  # noqa: BLE001 - an unreadable marker: err on mounting it
        return "extra" not in marker


def _required_names(distribution: Any) -> list[str]:
    """The normalised names of the distributions ``distribution`` requires here."""
    names = []
    for requirement in distribution.requires or []:
        spec, _, marker = requirement.partition(";")
        match = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if match and (not marker.strip() or _marker_applies(marker.strip())):
            names.append(_normalised(match.group(1)))
    return names


def _top_levels(distribution: Any) -> list[str]:
    """The entries a distribution installs at the top of its site directory: packages,
    modules, data directories and its own ``dist-info`` (from RECORD and top_level.txt)."""
    names: list[str] = []
    for file in distribution.files or []:
        parts = Path(str(file)).parts
        if parts and not Path(str(file)).is_absolute() and parts[0] != "..":
            names.append(parts[0])
    for name in (distribution.read_text("top_level.txt") or "").split():
        names += [name, f"{name}.py"]
    return list(dict.fromkeys(names))


def _mountable(entry: str) -> bool:
    """Whether a top-level entry may be shown to the student (never the grader's packages,
    a ``.pth`` file, an editable-install finder, a shared ``__pycache__``)."""
    stem = entry.split(".")[0]
    return not (stem in _GRADER_PACKAGES or entry.endswith((".pth", ".egg-link"))
                or entry.startswith("__editable__") or entry == "__pycache__"
                or entry.lower().startswith(_GRADER_DISTRIBUTION))


def _installed(path: Sequence[str] | None) -> dict[str, Any]:
    """The installed distributions by normalised name, the first on the path winning."""
    import importlib.metadata

    found: dict[str, Any] = {}
    options = {} if path is None else {"path": list(path)}
    for distribution in importlib.metadata.distributions(**options):
        name = distribution.metadata["Name"] if distribution.metadata else None
        if name:
            found.setdefault(_normalised(name), distribution)
    return found


def _needed(modules: Sequence[str], installed: Mapping[str, Any]) -> list[Any]:
    """The distributions that provide ``modules``, then those they require, recursively
    (extras and markers that do not apply here are left out), the grader's excluded."""
    providers: dict[str, str] = {}
    for name, distribution in installed.items():
        for entry in _top_levels(distribution):
            providers.setdefault(entry, name)
    tops = [module.split(".")[0] for module in modules]
    queue = [providers[top] for top in tops if top in providers]
    chosen: list[str] = []
    while queue:
        name = queue.pop(0)
        if name in chosen or name == _GRADER_DISTRIBUTION or name not in installed:
            continue
        chosen.append(name)
        queue += _required_names(installed[name])
    return [installed[name] for name in chosen]


_site_cache: dict[tuple[tuple[str, ...], tuple[str, ...] | None], list[tuple[str, str]]] = {}


def site_entries(modules: Sequence[str] = _SANDBOX_MODULES,
                 path: Sequence[str] | None = None) -> list[tuple[str, str]]:
    """``(name, source)`` of every top-level entry the runner's library directory holds: the
    packages, modules and ``dist-info`` of the distributions that provide ``modules`` and of
    those they require, each bound read-only at ``/site/name`` (``path``: where to look for
    distributions, by default ``sys.path``). Never the grader's packages or its install files."""
    key = (tuple(modules), None if path is None else tuple(path))
    if key not in _site_cache:
        entries: dict[str, str] = {}
        for distribution in _needed(modules, _installed(path)):
            for entry in _top_levels(distribution):
                source = str(distribution.locate_file(entry))
                if _mountable(entry) and entry not in entries and os.path.lexists(source):
                    entries[entry] = os.path.realpath(source)
        _site_cache[key] = sorted(entries.items())
    return list(_site_cache[key])


def _site_dirs() -> list[str]:
    """The harness's own site directories: the runner's library path where nothing is mounted
    (no ``namespaces`` layer), so there it sees the grader's packages too."""
    import importlib.util
    import sysconfig

    dirs: list[str] = []
    for key in ("purelib", "platlib"):
        path = sysconfig.get_paths().get(key)
        if path and os.path.isdir(path) and path not in dirs:
            dirs.append(path)
    for module in _SANDBOX_MODULES:
        spec = importlib.util.find_spec(module)
        if spec and spec.origin:
            parent = str(Path(spec.origin).resolve().parent.parent)
            if parent not in dirs:
                dirs.append(parent)
    return dirs


def _bind_paths(runner_python: str) -> list[str]:
    """Read-only binds of the chroot: the system libraries and the Python installation."""
    candidates = ["/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin",
                  "/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime",
                  str(Path(runner_python).resolve().parent.parent), sys.base_prefix]
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


def _hidden_paths(binds: Sequence[str]) -> list[str]:
    """Directories inside the binds that the student must not see: every ``site-packages`` or
    ``dist-packages`` of a Python there, and the folder holding the grader's own packages."""
    import glob
    import importlib.util
    import site
    import sysconfig

    patterns = ["lib*/python3*/site-packages", "lib*/python3*/dist-packages",
                "lib/python3/dist-packages", "local/lib*/python3*/site-packages",
                "local/lib*/python3*/dist-packages", "local/lib/python3/dist-packages"]
    found = [hit for bind in binds if os.path.isdir(bind) and not os.path.islink(bind)
             for pattern in patterns for hit in glob.glob(os.path.join(bind, pattern))]
    found += [*site.getsitepackages(), site.getusersitepackages() or "",
              *(sysconfig.get_paths().get(k, "") for k in ("purelib", "platlib"))]
    for package in sorted(_GRADER_PACKAGES):
        spec = importlib.util.find_spec(package) if package not in sys.modules else None
        origin = spec.origin if spec else getattr(sys.modules.get(package), "__file__", None)
        if origin:
            found.append(str(Path(origin).resolve().parent.parent))
    inside = [b.rstrip("/") for b in binds if not os.path.islink(b)]
    hidden = []
    for path in found:
        real = os.path.realpath(path) if path else ""
        if (real and os.path.isdir(real) and real not in hidden
                and any(real.startswith(b + "/") for b in inside)):
            hidden.append(real)
    return sorted(hidden)


# --------------------------------------------------------------------------------------------
# cgroups: one per sandbox, a memory cap over all its processes and a cap on their number


def _unescape(text: str) -> str:
    """A path of /proc/self/mountinfo, its octal escapes (``\\040``) decoded."""
    return re.sub(r"\\([0-7]{3})", lambda match: chr(int(match.group(1), 8)), text)


def _mounts() -> list[tuple[str, str, str, list[str]]]:
    """(file-system type, mount point, root inside the file system, super options) of every
    mount this process sees."""
    mounts = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, rest = left.split(), right.split()
            if len(fields) >= 5 and len(rest) >= 3:
                mounts.append((rest[0], _unescape(fields[4]), _unescape(fields[3]),
                               rest[2].split(",")))
    return mounts


def _own_cgroups() -> dict[str, str]:
    """This process's cgroup per v1 controller, and under ``""`` its v2 cgroup."""
    paths: dict[str, str] = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            parts = line.rstrip("\n").split(":", 2)
            if len(parts) == 3:
                for controller in parts[1].split(",") if parts[1] else [""]:
                    paths[controller] = parts[2]
    return paths


def _cgroup_dir(mount_point: str, mount_root: str, path: str) -> Path | None:
    """The directory of cgroup ``path`` under a mount of its hierarchy, if it is visible."""
    root = mount_root.rstrip("/")
    if root and path != root and not path.startswith(root + "/"):
        return None
    directory = Path(mount_point + path[len(root):])
    return directory if directory.is_dir() else None


def _v1_parents() -> dict[str, Path] | None:
    """This process's cgroups of the v1 ``memory`` (required) and ``pids`` hierarchies."""
    own, found = _own_cgroups(), {}
    for fstype, point, root, options in _mounts():
        for controller in ("memory", "pids"):
            if (fstype == "cgroup" and controller in options and controller in own
                    and controller not in found):
                directory = _cgroup_dir(point, root, own[controller])
                if directory is not None and os.access(directory, os.W_OK):
                    found[controller] = directory
    return found if "memory" in found else None


def _v2_delegate(directory: Path, controllers: Sequence[str]) -> bool:
    """Enable ``controllers`` for the children of ``directory``; when it holds processes
    (cgroup v2 forbids both), move them first into a leaf ``genverify-grader``."""
    control = directory / "cgroup.subtree_control"
    if all(c in control.read_text().split() for c in controllers):
        return True
    request = " ".join(f"+{c}" for c in controllers)
    try:
        control.write_text(request)
        return True
    except OSError as error:
        if error.errno != errno.EBUSY:
            return False
    leaf = directory / "genverify-grader"
    leaf.mkdir(exist_ok=True)
    for pid in (directory / "cgroup.procs").read_text().split():
        try:
            (leaf / "cgroup.procs").write_text(pid)
        except OSError:
            pass  # it ended meanwhile
    try:
        control.write_text(request)
        return True
    except OSError:
        return False


def _v2_parent() -> Path | None:
    """A cgroup v2 directory with the memory controller, under which sandboxes' cgroups go."""
    own = _own_cgroups().get("")
    for fstype, point, root, _ in _mounts() if own is not None else []:
        directory = _cgroup_dir(point, root, own) if fstype == "cgroup2" else None
        if directory is None or not os.access(directory, os.W_OK):
            continue
        if directory.name == "genverify-grader":  # moved there by an earlier delegation
            directory = directory.parent
        available = (directory / "cgroup.controllers").read_text().split()
        wanted = [c for c in ("memory", "pids") if c in available]
        if "memory" in wanted and _v2_delegate(directory, wanted):
            return directory
    return None


_parents_lock = threading.Lock()
_parents: list[tuple[int, dict[str, Path]] | None] = []


def _cgroup_parents() -> tuple[int, dict[str, Path]] | None:
    """``(version, {controller: directory})`` under which this process makes its sandboxes'
    cgroups (v2: one directory under ``""``), found once; None where none is usable."""
    with _parents_lock:
        if not _parents:
            found: tuple[int, dict[str, Path]] | None = None
            if os.geteuid() == 0:
                try:
                    v2 = _v2_parent()
                    v1 = None if v2 else _v1_parents()
                    found = (2, {"": v2}) if v2 else (1, v1) if v1 else None
                except OSError:
                    found = None
            if found:
                _sweep_stale(found[1].values())
            _parents.append(found)
        return _parents[0]


def _sweep_stale(parents: Any) -> None:
    """Remove the empty cgroups left by harnesses that died without cleaning up."""
    for parent in parents:
        for child in parent.glob("genverify-[0-9]*-[0-9]*"):
            pid = child.name.split("-")[1]
            if not os.path.exists(f"/proc/{pid}"):
                try:
                    child.rmdir()
                except OSError:
                    pass


class _Cgroup:
    """The cgroup of one sandbox (v2, or one directory per v1 hierarchy)."""

    def __init__(self, version: int, dirs: dict[str, Path]) -> None:
        self.version = version
        self.dirs = dirs
        self.limit = 0

    @classmethod
    def create(cls, name: str, memory_bytes: int, tasks: int) -> _Cgroup | None:
        """A new cgroup capping memory (no swap) and tasks, or None where none is usable."""
        parents = _cgroup_parents()
        if parents is None:
            return None
        group = cls(parents[0], {})
        try:
            for controller, parent in parents[1].items():
                (parent / name).mkdir(mode=0o755)
                group.dirs[controller] = parent / name
            group._configure(memory_bytes, tasks)
        except OSError:
            group.remove()
            return None
        return group

    def _configure(self, memory_bytes: int, tasks: int) -> None:
        if self.version == 2:
            self._write("", "memory.max", memory_bytes)
            self._write("", "memory.swap.max", 0, optional=True)
            self._write("", "pids.max", tasks, optional=True)
        else:
            self._write("memory", "memory.limit_in_bytes", memory_bytes)
            self._write("memory", "memory.memsw.limit_in_bytes", memory_bytes, optional=True)
            if "pids" in self.dirs:
                self._write("pids", "pids.max", tasks)
        self.limit = memory_bytes

    def _write(self, controller: str, name: str, value: int, *, optional: bool = False) -> None:
        try:
            (self.dirs[controller] / name).write_text(str(value))
        except OSError:
            if not optional:
                raise

    def add(self, pid: int) -> None:
        """Move a process (before it forks) into every hierarchy of the cgroup."""
        for directory in self.dirs.values():
            (directory / "cgroup.procs").write_text(str(pid))

    def pids(self) -> set[int]:
        """The processes in the cgroup now."""
        found: set[int] = set()
        for directory in self.dirs.values():
            try:
                found.update(int(p) for p in (directory / "cgroup.procs").read_text().split())
            except (OSError, ValueError):
                pass
        return found

    def peak(self) -> int | None:
        """The most memory the cgroup has used, if the kernel says."""
        name = "memory.peak" if self.version == 2 else "memory.max_usage_in_bytes"
        try:
            return int((self.dirs["" if self.version == 2 else "memory"] / name).read_text())
        except (OSError, ValueError, KeyError):
            return None

    def kill(self) -> None:
        """SIGKILL every process in the cgroup."""
        if self.version == 2:
            self._write("", "cgroup.kill", 1, optional=True)
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def remove(self, wait: float = 5.0) -> None:
        """Kill what is left and remove the cgroup (its processes take a moment to exit)."""
        deadline = time.monotonic() + wait
        for directory in self.dirs.values():
            while directory.exists():
                self.kill()
                try:
                    directory.rmdir()
                except OSError:
                    if time.monotonic() > deadline:
                        break
                    time.sleep(0.02)
        self.dirs = {}


# --------------------------------------------------------------------------------------------
# live sandboxes, the spawning thread and termination


_live: set[Sandbox] = set()
_live_lock = threading.RLock()
_terminating = False
_spawner: list[Any] = []


def _forget_after_fork() -> None:
    """In a forked child of the harness: the live sandboxes and the spawning thread are the
    parent's, not the child's (its :func:`terminate_all` must not close them)."""
    global _live_lock
    _live_lock = threading.RLock()
    _live.clear()
    _spawner.clear()


os.register_at_fork(after_in_child=_forget_after_fork)


def _spawn(start: Callable[[], Any]) -> Any:
    """Run ``start`` (which forks the launcher) in one long-lived thread of the harness: the
    launcher's parent-death signal fires when the thread that forked it ends, and the threads
    that ask for sandboxes (a pool's workers) may end while their sandboxes live on."""
    from concurrent.futures import ThreadPoolExecutor

    with _live_lock:
        if not _spawner:
            _spawner.append(ThreadPoolExecutor(1, thread_name_prefix="genverify-sandboxes"))
        pool = _spawner[0]
    return pool.submit(start).result()


def terminate_all() -> int:
    """Close every live sandbox of this process (its process group, namespace and cgroup are
    killed, its staging directory removed) and refuse new ones from now on; the number closed.
    Callable from any thread and from a signal handler."""
    global _terminating
    with _live_lock:
        _terminating = True
        live = list(_live)
    for sandbox in live:
        sandbox._kill(wait=False)
    for sandbox in live:
        sandbox.close()
    return len(live)


def _terminate_and_exit(signum: int, frame: Any) -> None:
    """The handler of :func:`install_termination_handler`."""
    try:
        terminate_all()
    finally:
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except Exception:  # noqa: BLE001 - exiting anyway
                pass
        os._exit(128 + signum)


def install_termination_handler(signals: Sequence[int] = (signal.SIGTERM, signal.SIGINT)
                                ) -> None:
    """From the main thread: on each of ``signals`` (SIGTERM, as Gradescope's timeout sends,
    and SIGINT), close every live sandbox (:func:`terminate_all`), flush stdout and stderr and
    exit at once with status 128 + the signal's number. Replaces earlier handlers."""
    for signum in signals:
        signal.signal(signum, _terminate_and_exit)


# --------------------------------------------------------------------------------------------
# the harness side


def _next_slot() -> int:
    global _counter
    with _counter_lock:
        _counter += 1
        return _counter


def _runner_source() -> Path:
    """``runner.py``, beside this file (read by the harness only)."""
    return Path(__file__).with_name("runner.py")


def _length_prefixed(data: bytes) -> bytes:
    return struct.pack(">Q", len(data)) + data


def _bootstrap(config: Mapping[str, Any]) -> bytes:
    """What the harness writes to the launcher's stdin: this file's source, its configuration."""
    source = Path(__file__).read_bytes()
    return _length_prefixed(source) + _length_prefixed(json.dumps(config).encode())


def _deadline(budget: float, pid: int | None = None) -> CpuDeadline:
    """A request's deadline: ``budget`` seconds of CPU time of the sandbox's process tree (wall
    time without ``pid``). Imported here, not at the top: the launcher runs this file with the
    standard library alone."""
    from grading.isolation import CpuDeadline

    return CpuDeadline(budget, pid)


class Sandbox:
    """One confined worker process running ``grading/code/runner.py``.

    ``files`` are copied into the sandbox's private work directory (the student's ``.py``
    files; each must be a regular file, see :func:`read_source_file`); ``preload`` is imported
    before the hello (torch: once per process, outside any request's time limit);
    ``namespaces=False`` keeps a root harness's sandbox to the user and rlimits layers;
    ``cgroup=False`` never uses a cgroup (the ``one-process`` fallback). Use as a context
    manager; :meth:`request` sends a request and returns the reply, answering callbacks
    (``callbacks[name](**arrays) -> dict of arrays``) meanwhile.
    """

    def __init__(self, files: Sequence[str | os.PathLike[str]], *, limits: Limits = Limits(),
                 confine: bool | None = None, uid_base: int = 1_500_000,
                 preload: Sequence[str] = ("torch",), namespaces: bool = True,
                 cgroup: bool = True) -> None:
        self.files = [Path(f) for f in files]
        self.preload = list(preload)
        self.namespaces = namespaces
        self.cgroup = cgroup
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
        self._cgroup: _Cgroup | None = None
        self._buffer = b""
        self._lock = threading.Lock()
        self._output_mark = 0  # size of the captured output when the last request began
        self._budget = limits.call_seconds  # the time budget of the request under way

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
        """Start the process and wait for the runner's hello (numpy and torch imported); on
        any failure everything started is closed again. A sandbox starts once."""
        if self.process is not None or self._staging is not None:
            raise RuntimeError("this sandbox was started already")
        try:
            self._start()
        except BaseException:
            self.close()
            raise

    def _start(self) -> None:
        if _terminating:
            raise SandboxError("the grader is shutting down")
        self._staging = Path(tempfile.mkdtemp(prefix="genverify-sandbox-"))
        os.chmod(self._staging, 0o700)
        (self._staging / "root").mkdir(mode=0o700)
        (self._staging / "files").mkdir(mode=0o700)
        names = _stage_files(self.files, self._staging / "files")
        shutil.copyfile(_runner_source(), self._staging / "student_runner.py")
        self._stderr = open(self._staging / "stderr.txt", "w+b")  # noqa: SIM115 - kept open
        python = os.path.realpath(sys.executable)
        if self.confine and self.cgroup:
            memory = self.limits.memory_bytes + self.limits.tmpfs_bytes + _SUPERVISOR_BYTES
            self._cgroup = _Cgroup.create(f"genverify-{os.getpid()}-{self.uid}", memory,
                                          self.limits.processes + 1)
        _spawn(lambda: self._popen(python))
        if self._cgroup is not None:
            try:
                self._cgroup.add(self.process.pid)  # it waits for its configuration: no fork yet
            except OSError:
                self._cgroup.remove()
                self._cgroup = None
        deadline = _deadline(self.limits.startup_seconds)  # wall time: imports wait on disks
        self._write(_bootstrap(self._config(names, python)), deadline)
        header, _ = self._read_frame(deadline, "start")
        if header.get("kind") != "hello":
            raise ProtocolError("the sandbox did not start properly")
        self.hello = header
        self.layers = tuple(str(x) for x in header.get("layers", ()))[:16]

    def _popen(self, python: str) -> None:
        """Start the launcher (in the spawning thread) and register the sandbox as live."""
        import subprocess

        with _live_lock:
            if _terminating:
                raise SandboxError("the grader is shutting down")
            self.process = subprocess.Popen(
                [python, "-I", "-S", "-B", "-c", _LAUNCHER_BOOT],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr,
                start_new_session=True, close_fds=True, cwd=str(self._staging), env={})
            _live.add(self)
        os.set_blocking(self.process.stdout.fileno(), False)
        os.set_blocking(self.process.stdin.fileno(), False)

    def _config(self, names: list[str], python: str) -> dict[str, Any]:
        """The launcher's configuration (sent on its stdin, never on a command line)."""
        binds = _bind_paths(python) if self.confine and self.namespaces else []
        return {
            "parent": os.getpid(),
            "confine": self.confine,
            "cgroup": self._cgroup is not None,
            "uid": self.uid,
            "root": str(self._staging / "root"),
            "files_dir": str(self._staging / "files"),
            "files": names,
            "runner": str(self._staging / "student_runner.py"),
            "python": python,
            "binds": binds,
            "hidden": _hidden_paths(binds) if binds else [],
            "site": site_entries(tuple(dict.fromkeys((*_SANDBOX_MODULES, *self.preload))))
            if binds else [],
            "sys_path": _site_dirs(),
            "limits": asdict(self.limits),
            "preload": self.preload,
            "namespaces": self.namespaces,
        }

    def close(self) -> None:
        """Kill the process and everything it started; remove its cgroup and staging directory."""
        with _live_lock:
            _live.discard(self)
        if self.process is not None:
            self._kill()
            for stream in (self.process.stdin, self.process.stdout):
                try:
                    stream.close()
                except OSError:
                    pass
        group, self._cgroup = self._cgroup, None
        if group is not None:
            group.remove()
        if self._stderr is not None:
            self._stderr.close()
            self._stderr = None
        if self._staging is not None:
            shutil.rmtree(self._staging, ignore_errors=True)
            self._staging = None

    def _kill(self, wait: bool = True) -> None:
        """SIGKILL the runner (PID 1 of its namespace first: the namespace dies with it), the
        process group and every process of the cgroup; then reap the launcher."""
        process = self.process
        if process is None:
            return
        if process.poll() is None:
            try:
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
        group = self._cgroup
        if group is not None:
            group.kill()
        if wait:
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
        except (OSError, ValueError):
            return ""

    # -- requests ------------------------------------------------------------------------------

    def request(self, header: Mapping[str, Any], arrays: Mapping[str, Any] | None = None, *,
                callbacks: Mapping[str, Callable[..., Mapping[str, Any]]] | None = None,
                timeout: float | None = None) -> Reply:
        """Send a request; answer callbacks until the reply arrives or the deadline passes."""
        with self._lock:
            if not self.alive:
                raise RequestNotDelivered(self._death_reason("before the request"))
            self._budget = self.limits.call_seconds if timeout is None else timeout
            deadline = _deadline(self._budget, self.process.pid)
            try:
                self._output_mark = os.fstat(self._stderr.fileno()).st_size
            except (OSError, AttributeError, ValueError):
                self._output_mark = 0
            try:
                self._write(encode_frame(header, arrays), deadline)
            except SandboxDied as died:
                raise RequestNotDelivered(died.reason) from None
            served = 0
            while True:
                reply_header, payload = self._read_frame(deadline, "request")
                if reply_header.get("kind") != "callback":
                    return Reply(reply_header, self._arrays(reply_header, payload))
                served += 1
                if served > self.limits.max_callbacks:
                    self._kill()
                    raise SandboxDied(f"more than {self.limits.max_callbacks} calls of the "
                                      f"functions it was given")
                self._write(self._answer_callback(reply_header, payload, callbacks or {}),
                            deadline)

    def _arrays(self, header: Mapping[str, Any], payload: bytes) -> dict[str, Any]:
        """The reply's arrays; a payload that disagrees with its directory kills the process."""
        try:
            return _split_arrays(header, payload)
        except ProtocolError:
            self._kill()
            raise

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

    def _gone(self, when: str) -> SandboxDied:
        """The process is gone or its pipes were closed (by :meth:`close`): kill, explain."""
        reason = self._death_reason(when)
        self._kill()
        return SandboxDied(reason)

    def _write(self, data: bytes, deadline: CpuDeadline) -> None:
        view = memoryview(data)
        while view:
            if deadline.expired():
                self._kill()
                raise SandboxTimeout(self._timeout_reason())
            try:
                fd = self.process.stdin.fileno()
                _, writable, _ = select.select([], [fd], [], deadline.remaining())
            except (OSError, ValueError):
                raise self._gone("while receiving its input") from None
            if not writable:
                continue
            try:
                written = os.write(fd, view)
            except BlockingIOError:
                continue
            except OSError:
                raise self._gone("while receiving its input") from None
            view = view[written:]

    def _read_exact(self, n: int, deadline: CpuDeadline, when: str) -> bytes:
        chunks = [self._buffer[:n]]
        have = len(chunks[0])
        self._buffer = self._buffer[n:]
        while have < n:
            if deadline.expired():
                self._kill()
                if when == "start":
                    raise SandboxTimeout(f"the sandbox did not start within "
                                         f"{self.limits.startup_seconds:g} s (importing the "
                                         f"submission's modules may hang)")
                raise SandboxTimeout(self._timeout_reason())
            try:
                fd = self.process.stdout.fileno()
                readable, _, _ = select.select([fd], [], [], deadline.remaining())
            except (OSError, ValueError):
                raise self._gone(f"during the {when}") from None
            if not readable:
                continue
            try:
                chunk = os.read(fd, min(1 << 20, n - have + (1 << 16)))
            except BlockingIOError:
                continue
            except OSError:
                chunk = b""
            if not chunk:
                raise self._gone(f"during the {when}")
            chunks.append(chunk)
            have += len(chunk)
        data = b"".join(chunks)
        self._buffer = data[n:] + self._buffer
        return data[:n]

    def _read_frame(self, deadline: CpuDeadline, when: str) -> tuple[dict[str, Any], bytes]:
        """One frame from the runner; anything malformed kills it (:class:`ProtocolError`)."""
        try:
            if self._read_exact(4, deadline, when) != MAGIC:
                raise ProtocolError("the sandbox's output is not a protocol frame (did the "
                                    "submission write to the protocol's file descriptor?)")
            (head_len,) = struct.unpack(">I", self._read_exact(4, deadline, when))
            if head_len > _MAX_HEADER:
                raise ProtocolError(f"the sandbox sent a header of {head_len} bytes")
            header = decode_header(self._read_exact(head_len, deadline, when))
            (payload_len,) = struct.unpack(">Q", self._read_exact(8, deadline, when))
            if payload_len > self.limits.max_reply_bytes:
                raise ProtocolError(f"the sandbox sent {payload_len} bytes; the limit is "
                                    f"{self.limits.max_reply_bytes}")
            return header, self._read_exact(payload_len, deadline, when)
        except ProtocolError:
            self._kill()
            raise

    def _timeout_reason(self) -> str:
        from grading.isolation import STARVED_FACTOR

        return (f"timed out: no answer within the time limit of {self._budget:g} s of CPU time "
                f"(too slow for the grading budget, or an infinite loop; a process that waits "
                f"rather than computes gets {self._budget:g} s of wall time, and no request more "
                f"than {STARVED_FACTOR * self._budget:g} s); the process was killed")

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
# the launcher: ``python -I -S -B -c _LAUNCHER_BOOT`` reads this file's source and then its
# configuration from stdin (8-byte lengths first) and runs it as ``__main__``, stdlib only

_LAUNCHER_BOOT = """\
import os
def _take(n):
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            os._exit(3)
        data += chunk
    return data
exec(compile(_take(int.from_bytes(_take(8), "big")), "<launcher>", "exec"))
"""

# the runner: ``python -I -S -B -c _RUNNER_BOOT`` reads its path and configuration from the
# pipe on file descriptor 3 and runs it as ``__main__`` with ``sys.argv == [path, CONFIG]``
_RUNNER_BOOT = """\
import json, os, sys
def _boot():
    with os.fdopen(3, "rb") as pipe:
        config = json.loads(pipe.read())
    sys.argv = [config["runner"], config["config"]]
    with open(config["runner"], "rb") as source:
        return config["runner"], compile(source.read(), config["runner"], "exec")
__file__, _code = _boot()
del _boot
exec(_code)
"""

_CLONE_NEWNS, _CLONE_NEWUTS, _CLONE_NEWIPC = 0x00020000, 0x04000000, 0x08000000
_CLONE_NEWPID, _CLONE_NEWNET, _CLONE_NEWCGROUP = 0x20000000, 0x40000000, 0x02000000
_MS_RDONLY, _MS_NOSUID, _MS_NODEV, _MS_NOEXEC = 1, 2, 4, 8
_MS_REMOUNT, _MS_BIND, _MS_REC, _MS_PRIVATE = 32, 4096, 16384, 1 << 18
_PR_SET_PDEATHSIG, _PR_SET_NO_NEW_PRIVS = 1, 38
_DEVICES = ("null", "zero", "random", "urandom")
_CONFIG_FD = 3


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
            number = ctypes.get_errno()
            raise OSError(number, f"{what}: {os.strerror(number)}")

    def unshare(self, flags: int) -> None:
        self._check(self.lib.unshare(flags), "unshare")

    def mount(self, source: str | None, target: str, fstype: str | None, flags: int,
              data: str | None = None) -> None:
        enc = lambda s: None if s is None else s.encode()  # noqa: E731
        self._check(self.lib.mount(enc(source), enc(target), enc(fstype), flags, enc(data)),
                    f"mount {target}")

    def prctl(self, option: int, value: int) -> None:
        self._check(self.lib.prctl(option, value, 0, 0, 0), "prctl")


def _stdin_exactly(n: int) -> bytes:
    """``n`` bytes from the launcher's stdin (the harness's pipe), or exit 3 at its end."""
    data = b""
    while len(data) < n:
        chunk = os.read(0, n - len(data))
        if not chunk:
            os._exit(3)
        data += chunk
    return data


def _arm_parent_death(libc: _Libc, parent_alive: Callable[[], bool]) -> None:
    """SIGKILL this process when its parent dies (cleared by a change of uid: arm it again
    after one); exit now if the parent already died before it was armed."""
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    if not parent_alive():
        os._exit(3)


def _pipe_open(fd: int) -> bool:
    """Whether the write end of a pipe is still held (by the launcher, outside the namespace)."""
    readable, _, _ = select.select([fd], [], [], 0)
    return not readable


def _set_limits(limits: Mapping[str, Any], tasks: int | None) -> None:
    """The rlimits; RLIMIT_NPROC (``tasks``, per uid) only for a uid of the sandbox's own."""
    import resource

    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 2))
    resource.setrlimit(resource.RLIMIT_AS, (limits["memory_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size_bytes"],) * 2)
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    if tasks is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (tasks, tasks))


def _bind_readonly(libc: _Libc, source: str, target: str) -> None:
    """Bind ``source`` (a directory or a file) read-only at ``target``; a link at the top of
    the host's root (``/bin -> usr/bin``) is recreated as a link instead."""
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if os.path.islink(source):
        os.symlink(os.readlink(source), target)
        return
    if os.path.isdir(source):
        os.makedirs(target, exist_ok=True)
    else:
        open(target, "wb").close()
    libc.mount(source, target, None, _MS_BIND | _MS_REC)
    libc.mount(None, target, None, _MS_REMOUNT | _MS_BIND | _MS_RDONLY | _MS_NOSUID | _MS_NODEV)


def _hide(libc: _Libc, target: str) -> None:
    """Cover a directory of a read-only bind with an empty read-only tmpfs."""
    if os.path.isdir(target):
        libc.mount("tmpfs", target, "tmpfs", _MS_RDONLY | _MS_NOSUID | _MS_NODEV | _MS_NOEXEC,
                   "size=4k,mode=555")


def _make_devices(libc: _Libc, root: str) -> None:
    """``/dev/{null,zero,random,urandom}``, ``/proc`` and a world-writable ``/tmp``."""
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


def _write_identity(root: str, uid: int) -> None:
    """A minimal ``/etc/passwd`` and ``/etc/group`` naming the student's uid."""
    os.makedirs(root + "/etc", exist_ok=True)
    with open(root + "/etc/passwd", "w") as f:
        f.write(f"root:x:0:0:root:/root:/bin/false\nstudent:x:{uid}:{uid}:student:/sandbox:"
                f"/bin/false\n")
    with open(root + "/etc/group", "w") as f:
        f.write(f"root:x:0:\nstudent:x:{uid}:\n")


def _build_root(libc: _Libc, config: Mapping[str, Any]) -> None:
    """The chroot: a tmpfs with read-only binds (site directories hidden), ``/site`` with the
    runner's libraries, /proc, devices, /tmp, the runner and ``/sandbox``."""
    root, uid = config["root"], config["uid"]
    libc.mount("tmpfs", root, "tmpfs", _MS_NOSUID | _MS_NODEV,
               f"size={config['limits']['tmpfs_bytes']},mode=755")
    for path in config["binds"]:
        _bind_readonly(libc, path, root + path)
    for path in config["hidden"]:
        _hide(libc, root + path)
    os.makedirs(root + "/site", exist_ok=True)
    for name, source in config["site"]:
        _bind_readonly(libc, source, f"{root}/site/{name}")
    _make_devices(libc, root)
    _write_identity(root, uid)
    os.makedirs(root + "/runner", exist_ok=True)
    shutil.copyfile(config["runner"], root + "/runner/student_runner.py")
    os.makedirs(root + "/sandbox", exist_ok=True)
    for name in config["files"]:
        _copy_source(os.path.join(config["files_dir"], name), f"{root}/sandbox/{name}", uid)
    os.chown(root + "/sandbox", uid, uid)
    os.chmod(root + "/sandbox", 0o700)


def _prepare_work(config: Mapping[str, Any]) -> str:
    """Without namespaces: the work directory in the staging directory, the student's copies
    (theirs when confined) and the runner; enter it and return the runner's (relative) path."""
    work = os.path.join(config["root"], "sandbox")
    os.makedirs(work, mode=0o700)
    owner = config["uid"] if config["confine"] else None
    for name in config["files"]:
        _copy_source(os.path.join(config["files_dir"], name), os.path.join(work, name), owner)
    shutil.copyfile(config["runner"], os.path.join(work, ".student_runner.py"))
    if owner is not None:
        for path in (config["root"], work, os.path.join(work, ".student_runner.py")):
            os.chown(path, owner, owner)
    os.chdir(work)
    return "./.student_runner.py"  # relative: the staging directory is root's alone


def _pass_on_fd(data: bytes, number: int = _CONFIG_FD) -> None:
    """Leave ``data`` in a pipe whose read end is file descriptor ``number``, inherited."""
    if len(data) > 60_000:
        raise OSError(errno.E2BIG, "the runner's configuration is too long for a pipe")
    read_end, write_end = os.pipe()
    os.write(write_end, data)
    os.close(write_end)
    if read_end == number:
        os.set_inheritable(number, True)
    else:
        os.dup2(read_end, number)
        os.close(read_end)


def _exec_runner(config: Mapping[str, Any], runner: str, layers: list[str],
                 sys_path: Sequence[str]) -> None:
    """Replace this process with the runner; its configuration goes through a pipe."""
    env = {"PATH": "/usr/bin:/bin", "HOME": os.getcwd(), "TMPDIR": "/tmp", "LANG": "C.UTF-8",
           "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1",
           "PYTHONHASHSEED": "0", "PYTHONDONTWRITEBYTECODE": "1"}
    runner_config = {"sys_path": list(sys_path), "work": os.getcwd(), "layers": layers,
                     "files": config["files"], "preload": config["preload"]}
    _pass_on_fd(json.dumps({"runner": runner, "config": json.dumps(runner_config)}).encode())
    os.execve(config["python"], [config["python"], "-I", "-S", "-B", "-c", _RUNNER_BOOT], env)


def _drop_privileges(libc: _Libc, uid: int, parent_alive: Callable[[], bool]) -> None:
    """Become the sandbox's uid for good (no groups, no new privileges) and arm the
    parent-death signal again (the change of uid cleared it)."""
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
    libc.prctl(_PR_SET_NO_NEW_PRIVS, 1)
    _arm_parent_death(libc, parent_alive)


def _unshare(libc: _Libc) -> bool:
    """New mount, PID, network, IPC and UTS namespaces, if the kernel permits them, and a
    cgroup namespace where it can (the sandbox's cgroup is then its ``/``)."""
    flags = _CLONE_NEWNS | _CLONE_NEWPID | _CLONE_NEWNET | _CLONE_NEWIPC | _CLONE_NEWUTS
    try:
        try:
            libc.unshare(flags | _CLONE_NEWCGROUP)
        except OSError:
            libc.unshare(flags)
        libc.mount(None, "/", None, _MS_REC | _MS_PRIVATE)
    except OSError as error:
        sys.stderr.write(f"genverify sandbox: no namespaces ({error}); continuing with a "
                         f"separate user and rlimits\n")
        return False
    return True


def _fork_namespace_init() -> int:
    """Fork PID 1 of the new PID namespace and return, in it, the read end of a pipe that
    reaches its end when the launcher dies. The launcher itself stays outside, waits for PID 1
    and exits with its status (never returns)."""
    read_end, write_end = os.pipe()
    child = os.fork()
    if child == 0:
        os.close(write_end)
        return read_end
    os.close(read_end)
    null = os.open(os.devnull, os.O_RDWR)
    os.dup2(null, 0)
    os.dup2(null, 1)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _, status = os.waitpid(child, 0)
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def _become_reaper(libc: _Libc) -> None:
    """In PID 1: fork the runner and return in it (it dies with PID 1); PID 1 only reaps, and
    exits with the runner's status (the kernel then kills the rest of the namespace)."""
    runner_pid = os.fork()
    if runner_pid == 0:
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
        return
    os.close(0)
    os.close(1)
    while True:
        pid, status = os.wait()
        if pid == runner_pid:
            break
    os._exit(128 + os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status))


def _tasks(config: Mapping[str, Any], namespaces: bool) -> int | None:
    """RLIMIT_NPROC of the sandbox's uid: the cgroup's number with a cgroup, else the runner
    alone (and PID 1, which has the uid too): no fork, no thread. None when not confined."""
    if not config["confine"]:
        return None
    if config["cgroup"]:
        return int(config["limits"]["processes"])
    return 2 if namespaces else 1


def _launch(config: dict[str, Any]) -> None:  # pragma: no cover - runs in the child process
    """Set up the confinement the configuration asks for and exec the runner."""
    try:
        libc = _Libc()
        parent_alive: Callable[[], bool] = lambda: os.getppid() == config["parent"]  # noqa: E731
        _arm_parent_death(libc, parent_alive)
        layers = ["session"]
        namespaces = bool(config["confine"] and config.get("namespaces", True)
                          and _unshare(libc))
        if namespaces:
            launcher = _fork_namespace_init()
            parent_alive = lambda: _pipe_open(launcher)  # noqa: E731
            _arm_parent_death(libc, parent_alive)
            _build_root(libc, config)
            os.chroot(config["root"])
            os.chdir("/sandbox")
            layers += ["namespaces", "user", "rlimits"]
            runner, sys_path = "/runner/student_runner.py", ["/site"]
        else:
            runner, sys_path = _prepare_work(config), config["sys_path"]
            layers += ["user", "rlimits"] if config["confine"] else ["rlimits"]
        if config["confine"]:
            layers.append("cgroup" if config["cgroup"] else "one-process")
        _set_limits(config["limits"], _tasks(config, namespaces))
        if config["confine"]:
            _drop_privileges(libc, config["uid"], parent_alive)
        if namespaces:
            os.close(launcher)
            _become_reaper(libc)
        _exec_runner(config, runner, layers, sys_path)
    except BaseException as error:  # noqa: BLE001 - report and fail with a known status
        sys.stderr.write(f"genverify sandbox: setup failed: {type(error).__name__}: {error}\n")
        sys.stderr.flush()
        os._exit(3)


if __name__ == "__main__":  # pragma: no cover - the launcher
    _launch(json.loads(_stdin_exactly(int.from_bytes(_stdin_exactly(8), "big"))))
