"""Hostile submissions against the sandbox (issue 12): each test performs the attack and asserts
it is contained; its twin shows the legitimate case still works.

Covered: files smuggled in through links, FIFOs and devices (1); the grader's own packages and
install files seen from inside (2); memory summed over several processes (3); forged frames
(7); processes outliving the grader (8); paths and configuration on command lines (9). As
root (CI, Gradescope) the full confinement applies; the tests that need it are skipped
otherwise. The probes preload no torch, so a sandbox starts in about a second.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

from grading.code import sandbox as sandbox_module
from grading.code.sandbox import (Limits, ProtocolError, Sandbox, SandboxDied,
                                  SandboxError, decode_header, encode_frame, read_source_file,
                                  site_entries)
from grading.code.session import refused_files, submission_files

ROOT = os.geteuid() == 0
REPOSITORY = Path(__file__).resolve().parents[3]
needs_root = pytest.mark.skipif(not ROOT, reason="the confinement needs root")

PROBE = r'''
import fcntl
import json
import os
import struct
import sys
import time

MAGIC = b"GVF1"
FORGERIES = @FORGERIES@


def as_tensor(values):
    import torch
    return torch.tensor([float(v) for v in values], dtype=torch.float64)


def as_text(text):
    return as_tensor(text.encode("utf-8"))


GRADER_FILES = ("grading/key/registry.py", "grading/key/homework.py", "derivations/elbo.py",
                "grading/code/sandbox.py")


def hunt(everywhere):
    """Everything of the grader this process can import or find on its file system (all of
    it, or only its library path)."""
    import importlib.machinery

    found = []
    for name in ("grading", "derivations", "numerics", "models", "report", "genverify"):
        if importlib.machinery.PathFinder.find_spec(name, sys.path) is not None:
            found.append(f"finds {name}")
        try:
            module = __import__(name)
            if getattr(module, "__file__", None) or list(getattr(module, "__path__", [])):
                found.append(f"imports {name}")
        except ImportError:
            pass
    for top in ["/"] if everywhere else sys.path:
        for directory, folders, files in os.walk(top if os.path.isdir(top) else "/nonexistent"):
            if directory in ("/proc", "/sys", "/dev") or "/__pycache__" in directory:
                folders[:] = []
                continue
            for name in files + folders:
                path = os.path.join(directory, name)
                if (name.startswith("__editable__") or name.lower().startswith("genverify")
                        or any(path.endswith("/" + f) for f in GRADER_FILES)):
                    found.append(path)
    return as_text(json.dumps(sorted(set(found))))


def libraries():
    import numpy
    import torch
    return torch.from_numpy(numpy.arange(3.0)) * 2


def command_lines():
    """The command line of every process of the sandbox, and this one's sys.argv."""
    lines = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    lines[pid] = f.read().decode("utf-8", "replace").split("\0")
            except OSError:
                pass
    return as_text(json.dumps({"lines": lines, "argv": sys.argv}))


def hog(megabytes, children):
    """Fork children that each fill ``megabytes`` (touching every page) and hold it for 2 s:
    how many held it to the end, were killed, or met MemoryError."""
    pids = []
    for _ in range(children):
        pid = os.fork()
        if pid == 0:
            try:
                hoard = [b"\x01" * (64 << 20) for _ in range(megabytes // 64)]
            except MemoryError:
                os._exit(3)
            time.sleep(2)
            os._exit(0 if hoard else 4)
        pids.append(pid)
    statuses = [os.waitpid(pid, 0)[1] for pid in pids]
    held = sum(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 0 for s in statuses)
    killed = sum(os.WIFSIGNALED(s) for s in statuses)
    errors = sum(os.WIFEXITED(s) and os.WEXITSTATUS(s) == 3 for s in statuses)
    return as_tensor([held, killed, errors])


def fork_once():
    pid = os.fork()
    if pid == 0:
        os._exit(0)
    os.waitpid(pid, 0)
    return as_tensor([1])


def protocol_fd():
    """The runner's private copy of the protocol's output pipe."""
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
            mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        except OSError:
            continue
        if target.startswith("pipe:") and mode == os.O_WRONLY and fd > 2:
            return fd
    raise RuntimeError("no protocol pipe found")


def forge(index):
    """Write a forged frame where the harness reads the runner's replies."""
    deep = b"[" * 200_000 + b"]" * 200_000
    frames = {
        "deep": MAGIC + struct.pack(">I", len(deep)) + deep,
        "huge header": MAGIC + struct.pack(">I", 2**31),
        "huge payload": MAGIC + struct.pack(">I", 2) + b"{}" + struct.pack(">Q", 2**62),
        "not utf-8": MAGIC + struct.pack(">I", 4) + b"\xff\xfe{}",
        "not an object": MAGIC + struct.pack(">I", 2) + b"[]",
        "bad magic": b"GVF2" + struct.pack(">I", 2) + b"{}",
    }
    os.write(protocol_fd(), frames[FORGERIES[index]])
    time.sleep(5)


def spin():
    if os.fork() == 0:
        os.setsid()
        while True:
            time.sleep(1)
    while True:
        pass

'''
FORGERIES = ["deep", "huge header", "huge payload", "not utf-8", "not an object", "bad magic"]


@pytest.fixture(scope="module")
def probe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("containment") / "probe.py"
    path.write_text(PROBE.replace("@FORGERIES@", repr(FORGERIES)))
    return path


def _box(files: list[Path], **options: object) -> Sandbox:
    """A sandbox (started by ``with``) that preloads no torch."""
    options.setdefault("preload", ())
    return Sandbox(files, **options)


def _call(sandbox: Sandbox, function: str, *args: dict, timeout: float | None = None) -> dict:
    reply = sandbox.request({"op": "call", "modules": ["probe"], "function": function,
                             "cases": [{"args": list(args)}]}, timeout=timeout)
    (case,) = reply.header["cases"]
    case["out"] = reply.arrays.get("0:out")
    return case


def _text(case: dict) -> object:
    assert case["ok"], case
    return json.loads(bytes(case["out"].astype(np.uint8)).decode("utf-8"))


def _processes(uid: int | None = None, group: int | None = None) -> list[int]:
    """Processes of a real uid, or of a process group."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
            fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        real_uid = int(status.split("\nUid:")[1].split()[0])
        if (uid is not None and real_uid == uid) or (group is not None and int(fields[2]) == group):
            found.append(int(entry))
    return found


def _gone(uid: int, group: int, seconds: float = 5.0) -> bool:
    deadline = time.monotonic() + seconds
    while _processes(uid, group) and time.monotonic() < deadline:
        time.sleep(0.1)
    return not _processes(uid, group)


# --------------------------------------------------------------------------------------------
# 1. files: only regular files inside the submission, read without following links


@pytest.fixture()
def hostile_folder(tmp_path: Path) -> Path:
    secret = tmp_path / "secret"
    secret.mkdir(mode=0o700)
    (secret / "answer_key.toml").write_text('key = "KEY-MARKER-5150"\n')
    (secret / "leak.py").write_text("KEY = 'KEY-MARKER-5150'\n")
    folder = tmp_path / "submission"
    folder.mkdir()
    (folder / "real.py").write_text("def f(x):\n    return x\n")
    (folder / "key.py").symlink_to(secret / "answer_key.toml")
    (folder / "shadow.py").symlink_to("/etc/shadow")
    (folder / "environ.py").symlink_to("/proc/self/environ")
    os.mkfifo(folder / "fifo.py")
    if ROOT:
        os.mknod(folder / "device.py", stat.S_IFCHR | 0o600, os.makedev(1, 5))  # /dev/zero
    return folder


def test_links_fifos_and_devices_in_a_submission_are_refused_with_a_note(
        hostile_folder: Path) -> None:
    assert submission_files(hostile_folder) == [hostile_folder / "real.py"]
    notes = refused_files(hostile_folder)
    for name in ("key.py", "shadow.py", "environ.py"):
        assert f"{name} is a symbolic link: not read" in notes
    assert "fifo.py is a FIFO: not read" in notes
    assert not ROOT or "device.py is a device file: not read" in notes


def test_a_regular_submission_is_taken_whole_with_no_note(tmp_path: Path) -> None:
    for name in ("a.py", "b.py"):
        (tmp_path / name).write_text("x = 1\n")
    assert submission_files(tmp_path) == [tmp_path / "a.py", tmp_path / "b.py"]
    assert refused_files(tmp_path) == []


def test_a_folder_reached_through_a_link_is_not_searched(hostile_folder: Path) -> None:
    nested = hostile_folder.parent / "nested"
    (nested / "part").mkdir(parents=True)
    (nested / "part" / "ok.py").write_text("x = 1\n")
    (nested / "linked").symlink_to(hostile_folder.parent / "secret")
    assert submission_files(nested) == [nested / "part" / "ok.py"]  # the twin: a real folder
    assert refused_files(nested) == ["linked/ is a symbolic link to a folder: not searched"]


def test_the_sandbox_refuses_a_link_swapped_in_after_the_listing(hostile_folder: Path,
                                                                probe: Path) -> None:
    files = submission_files(hostile_folder)
    real = files[0]
    real.unlink()
    real.symlink_to(hostile_folder.parent / "secret" / "answer_key.toml")
    sandbox = Sandbox(files, preload=())
    with pytest.raises(SandboxError, match="real.py is a symbolic link: not read"):
        sandbox.start()
    assert sandbox.process is None and sandbox._staging is None  # nothing started or left
    with Sandbox([probe], preload=()) as twin:  # a regular file starts as ever
        assert twin.alive


def test_reading_a_students_file_refuses_fifos_devices_and_oversized_files(
        hostile_folder: Path) -> None:
    started = time.monotonic()
    with pytest.raises(SandboxError, match="fifo.py is a FIFO: not read"):
        read_source_file(hostile_folder / "fifo.py")  # and does not block on it
    assert time.monotonic() - started < 5
    with pytest.raises(SandboxError, match="zero is a device file: not read"):
        read_source_file("/dev/zero")
    big = hostile_folder / "big.py"
    big.write_bytes(b"#" * (sandbox_module.MAX_SOURCE_BYTES + 1))
    with pytest.raises(SandboxError, match="larger than 1000000 bytes"):
        read_source_file(big)
    big.write_bytes(b"#" * sandbox_module.MAX_SOURCE_BYTES)  # the twin: at the limit
    assert len(read_source_file(big)) == sandbox_module.MAX_SOURCE_BYTES


# --------------------------------------------------------------------------------------------
# 2. the runner's libraries: numpy, torch and what they require, never the grader's packages


def _distribution(site: Path, name: str, version: str, files: list[str],
                  requires: tuple[str, ...] = (), top_level: str = "") -> None:
    info = site / f"{name}-{version}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
                                   + "".join(f"Requires-Dist: {r}\n" for r in requires))
    if top_level:
        (info / "top_level.txt").write_text(top_level)
    record = [*files, f"{info.name}/METADATA", f"{info.name}/RECORD"]
    (info / "RECORD").write_text("".join(f"{f},,\n" for f in record))
    for file in files:
        if not file.startswith(".."):
            (site / file).parent.mkdir(parents=True, exist_ok=True)
            (site / file).write_text("")


def test_the_runners_libraries_are_numpy_torch_and_their_requirements_only(
        tmp_path: Path) -> None:
    site = tmp_path / "site-packages"  # a non-editable install of the grader beside torch
    site.mkdir()
    _distribution(site, "numpy", "9.0", ["numpy/__init__.py", "numpy.libs/libblas.so",
                                         "../../../bin/f2py"])
    _distribution(site, "torch", "9.0", ["torch/__init__.py", "functorch/__init__.py"],
                  ("filelock", 'PyYAML; extra == "yaml"', "genverify",
                   'missing-on-purpose; python_version < "3"'))
    _distribution(site, "filelock", "3.0", ["filelock/__init__.py"])
    _distribution(site, "PyYAML", "6.0", ["yaml/__init__.py"])
    _distribution(site, "genverify", "0.1.0",
                  ["grading/key/registry.py", "derivations/elbo.py", "genverify/cli.py",
                   "__editable__.genverify-0.1.0.pth", "__editable___genverify_finder.py"],
                  top_level="derivations\ngenverify\ngrading\n")
    _distribution(site, "scipy", "1.0", ["scipy/__init__.py"])
    names = [name for name, _ in site_entries(("numpy", "torch"), path=[str(site)])]
    assert names == ["filelock", "filelock-3.0.dist-info", "functorch", "numpy",
                     "numpy-9.0.dist-info", "numpy.libs", "torch", "torch-9.0.dist-info"]
    sources = dict(site_entries(("numpy", "torch"), path=[str(site)]))
    assert sources["numpy.libs"] == str((site / "numpy.libs").resolve())


@needs_root
def test_the_graders_packages_and_install_files_are_invisible_inside_the_sandbox(
        probe: Path) -> None:
    with _box([probe]) as sandbox:
        assert "namespaces" in sandbox.layers
        assert _text(_call(sandbox, "hunt", {"int": 1}, timeout=120)) == []
        np.testing.assert_array_equal(_call(sandbox, "libraries")["out"], [0.0, 2.0, 4.0])


def test_the_hunt_finds_the_grader_where_nothing_is_mounted(probe: Path) -> None:
    # the twin of the test above: unconfined, the same probe sees the grader's packages
    with _box([probe], confine=False) as sandbox:
        found = _text(_call(sandbox, "hunt", {"int": 0}, timeout=120))
    assert any("__editable__" in item or item.endswith("grading/key/registry.py")
               for item in found), found[:10]


# --------------------------------------------------------------------------------------------
# 9. command lines: no paths, no configuration


@needs_root
def test_no_process_of_the_sandbox_shows_paths_or_configuration_on_its_command_line(
        probe: Path) -> None:
    with _box([probe]) as sandbox:
        seen = _text(_call(sandbox, "command_lines"))
        staging = str(sandbox._staging)
    assert set(seen["lines"]) >= {"1"}  # PID 1 and the runner, alone in their namespace
    for pid, words in seen["lines"].items():
        line = " ".join(words)
        for leak in (staging, "genverify-sandbox", "student_runner", "sandbox.py", "{", "/tmp"):
            assert leak not in line, (pid, line)
        assert words[1:5] == ["-I", "-S", "-B", "-c"], (pid, line)
    argv = seen["argv"]  # the twin: the runner did get its configuration, through a pipe
    assert argv[0] == "/runner/student_runner.py" and json.loads(argv[1])["work"] == "/sandbox"


# --------------------------------------------------------------------------------------------
# 3. memory: one cap over all the sandbox's processes


@needs_root
def test_three_children_of_one_and_a_half_gigabytes_stay_under_the_sandboxs_cap(
        probe: Path) -> None:
    with _box([probe], limits=Limits(memory_bytes=2 * 2**30)) as sandbox:
        if "cgroup" not in sandbox.layers:
            assert "one-process" in sandbox.layers
            assert not _call(sandbox, "fork_once")["ok"]  # no child at all, so one AS limit
            return
        try:
            outcome = _call(sandbox, "hog", {"int": 1536}, {"int": 3}, timeout=60)
        except SandboxDied:  # the OOM killer chose the runner: only this request fails
            outcome = None
        peak, cap = sandbox._cgroup.peak(), sandbox._cgroup.limit
        assert cap < 3 * 1536 * 2**20 and (peak is None or peak <= cap)
        if outcome is not None:
            held, killed, errors = outcome["out"]
            assert held < 3 and killed + errors >= 1 and held + killed + errors == 3
    with _box([probe]) as after:  # the grader is fine: the next function runs
        np.testing.assert_array_equal(_call(after, "libraries")["out"], [0.0, 2.0, 4.0])


@needs_root
def test_children_within_the_cap_run_to_the_end(probe: Path) -> None:
    with _box([probe], limits=Limits(memory_bytes=2 * 2**30)) as sandbox:
        if "cgroup" not in sandbox.layers:
            pytest.skip("no usable cgroup on this machine (the one-process fallback applies)")
        outcome = _call(sandbox, "hog", {"int": 256}, {"int": 3}, timeout=60)
    assert outcome["out"].tolist() == [3.0, 0.0, 0.0]


@needs_root
def test_without_a_cgroup_the_student_cannot_fork_and_one_limit_bounds_the_memory(
        probe: Path) -> None:
    with _box([probe], cgroup=False) as sandbox:
        assert sandbox.layers[-1] == "one-process" and sandbox._cgroup is None
        case = _call(sandbox, "fork_once")
        assert not case["ok"] and case["exception"] in ("BlockingIOError", "OSError")
        np.testing.assert_array_equal(_call(sandbox, "libraries")["out"], [0.0, 2.0, 4.0])


@needs_root
def test_the_cgroup_of_a_closed_sandbox_is_removed(probe: Path) -> None:
    sandbox = _box([probe])
    sandbox.start()
    group = sandbox._cgroup
    if group is None:
        sandbox.close()
        pytest.skip("no usable cgroup on this machine")
    directories = list(group.dirs.values())
    assert all(d.is_dir() for d in directories)  # the twin: it exists while the sandbox lives
    sandbox.close()
    assert not any(d.exists() for d in directories)


def test_a_cgroup_v2_gets_memory_pids_and_the_launcher(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    parent = tmp_path / "cgroup2"  # stands in for a cgroup2 directory
    parent.mkdir()
    (parent / "cgroup.controllers").write_text("cpu memory pids\n")
    (parent / "cgroup.subtree_control").write_text("memory pids\n")
    monkeypatch.setattr(sandbox_module, "_cgroup_parents", lambda: (2, {"": parent}))
    group = sandbox_module._Cgroup.create("genverify-1-2", 5 * 2**20, 17)
    assert group is not None and group.dirs == {"": parent / "genverify-1-2"}
    assert (parent / "genverify-1-2" / "memory.max").read_text() == str(5 * 2**20)
    assert (parent / "genverify-1-2" / "memory.swap.max").read_text() == "0"
    assert (parent / "genverify-1-2" / "pids.max").read_text() == "17"
    group.add(4242)
    assert (parent / "genverify-1-2" / "cgroup.procs").read_text() == "4242"
    (parent / "genverify-1-2" / "cgroup.procs").write_text("")
    group.kill()
    assert (parent / "genverify-1-2" / "cgroup.kill").read_text() == "1"
    for name in ("memory.max", "memory.swap.max", "pids.max", "cgroup.procs", "cgroup.kill"):
        (parent / "genverify-1-2" / name).unlink()  # the kernel's part of removing it
    monkeypatch.setattr(group, "kill", lambda: None)
    group.remove()
    assert not (parent / "genverify-1-2").exists()


def test_a_machine_without_a_usable_cgroup_gets_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sandbox_module, "_cgroup_parents", lambda: None)
    assert sandbox_module._Cgroup.create("genverify-1-2", 2**20, 4) is None


# --------------------------------------------------------------------------------------------
# 7. forged frames: a ProtocolError for that request, never another exception


@pytest.mark.parametrize("raw", [
    b"[" * 200_000 + b"]" * 200_000,
    b'{"a": ' + b"[" * 100 + b"]" * 100 + b"}",
    b"\xff\xfe{}",
    b"{not json",
    b"[]",
    b'"a string"',
    b'{"n": ' + b"9" * 10_000 + b"}",
    b'{"arrays": [["a", [-1]]]}',
    b'{"arrays": [["a", [1, 2, 3, 4, 5, 6, 7, 8, 9]]]}',
    b'{"arrays": {"a": 1}}',
    b'{"arrays": [["a", [true]]]}',
], ids=["200k deep", "100 deep", "not utf-8", "not json", "a list", "a string",
        "10k digits", "negative extent", "9 dimensions", "directory not a list", "bool extent"])
def test_a_malformed_header_is_a_protocol_error(raw: bytes) -> None:
    with pytest.raises(ProtocolError):
        decode_header(raw)


def test_a_well_formed_header_decodes() -> None:
    frame = encode_frame({"kind": "reply", "cases": [{"grads": {"0": "ok"}}]}, {"a": np.ones(2)})
    length = int.from_bytes(frame[4:8], "big")
    header = decode_header(frame[8:8 + length])
    assert header["cases"] == [{"grads": {"0": "ok"}}] and header["arrays"] == [["a", [2]]]


@needs_root
@pytest.mark.parametrize("kind", FORGERIES)
def test_a_frame_forged_by_the_students_code_fails_only_its_request(probe: Path,
                                                                    kind: str) -> None:
    with _box([probe]) as sandbox:
        with pytest.raises(ProtocolError):
            _call(sandbox, "forge", {"int": FORGERIES.index(kind)}, timeout=20)
        assert not sandbox.alive  # killed, and only this request failed:
    with _box([probe]) as after:
        np.testing.assert_array_equal(_call(after, "libraries")["out"], [0.0, 2.0, 4.0])


# --------------------------------------------------------------------------------------------
# 8. no process outlives the grader


GRADER = """
import sys
from grading.code.sandbox import Limits, Sandbox, install_termination_handler

sandbox = Sandbox([sys.argv[1]], preload=(), limits=Limits(call_seconds=600))
sandbox.start()
if sys.argv[2] == "handler":
    install_termination_handler()
print(sandbox.uid, sandbox.process.pid, sandbox._staging, flush=True)
print("ready", flush=True)
sandbox.request({"op": "call", "modules": ["probe"], "function": "spin",
                 "cases": [{"args": []}]}, timeout=600)
"""


def _grader(probe: Path, mode: str) -> tuple[subprocess.Popen, int, int, Path]:
    """A grader process running a sandbox whose student spins (and left a child that called
    setsid); its sandbox's uid, process group and staging directory, once the child runs."""
    env = {**os.environ, "PYTHONPATH": str(REPOSITORY)}
    grader = subprocess.Popen([sys.executable, "-c", GRADER, str(probe), mode], cwd=REPOSITORY,
                              env=env, stdout=subprocess.PIPE, text=True)
    uid, group, staging = grader.stdout.readline().split()
    assert grader.stdout.readline().strip() == "ready"
    deadline = time.monotonic() + 30
    while len(_processes(uid=int(uid))) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)  # PID 1, the runner, the escaped child
    assert len(_processes(uid=int(uid))) >= 3
    return grader, int(uid), int(group), Path(staging)


@needs_root
def test_sigterm_to_the_grader_closes_every_sandbox_it_started(probe: Path) -> None:
    grader, uid, group, staging = _grader(probe, "handler")
    cgroups = [d / f"genverify-{grader.pid}-{uid}" for d in _cgroup_parents()]
    grader.send_signal(signal.SIGTERM)
    assert grader.wait(timeout=20) == 128 + signal.SIGTERM
    assert _gone(uid, group)
    assert not staging.exists() and not any(d.exists() for d in cgroups)


@needs_root
def test_sigkill_to_the_grader_still_leaves_no_process_of_its_sandboxes(probe: Path) -> None:
    grader, uid, group, staging = _grader(probe, "no handler")
    assert _processes(group=group)  # the twin: they are alive while the grader is
    grader.kill()
    grader.wait(timeout=20)
    try:
        assert _gone(uid, group)  # the parent-death signals
    finally:
        shutil.rmtree(staging, ignore_errors=True)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and any(
                (d / f"genverify-{grader.pid}-{uid}").exists() for d in _cgroup_parents()):
            sandbox_module._sweep_stale(_cgroup_parents())
            time.sleep(0.1)


def _cgroup_parents() -> list[Path]:
    parents = sandbox_module._cgroup_parents()
    return list(parents[1].values()) if parents else []


def test_a_sandbox_outlives_the_thread_that_started_it(probe: Path) -> None:
    sandbox = _box([probe])
    worker = threading.Thread(target=sandbox.start)
    worker.start()
    worker.join()
    try:
        time.sleep(0.5)  # a parent-death signal tied to the worker thread would have fired
        assert sandbox.alive
        np.testing.assert_array_equal(_call(sandbox, "libraries")["out"], [0.0, 2.0, 4.0])
    finally:
        sandbox.close()


def test_a_forked_child_of_the_grader_cannot_close_the_graders_sandboxes(probe: Path) -> None:
    with _box([probe]) as sandbox:
        assert sandbox in sandbox_module._live  # the twin: the grader itself would close it
        child = os.fork()
        if child == 0:  # e.g. a worker of grading.isolation, with the handler inherited
            os._exit(sandbox_module.terminate_all())
        assert os.waitpid(child, 0)[1] == 0  # it closed none
        assert sandbox.alive and _call(sandbox, "libraries")["ok"]
