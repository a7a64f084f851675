"""The sandbox contains hostile code: files, key, network, processes, memory, CPU, protocol.

Each containment test has a twin that runs the same probe *unconfined* (``confine=False``) and
shows the probe would have noticed an escape, so a containment check can fail. The probes
preload only numpy (no torch), so a sandbox starts in a fraction of a second. As root (CI
and the Gradescope container) the full confinement applies; the layers test states what
applies otherwise.
"""

from __future__ import annotations

import os
import struct
import time
from pathlib import Path

import numpy as np
import pytest

from grading.code.sandbox import (MAGIC, Limits, ProtocolError, Sandbox, SandboxDied,
                                  SandboxTimeout, _split_arrays, decode_header, encode_frame)

ROOT = os.geteuid() == 0

PROBE = '''
import ctypes
import os
import socket
import time

KEY = {key!r}
RESULTS = {results!r}
MARKER = {marker!r}


def torch_result(values):
    import torch
    return torch.tensor(values, dtype=torch.float64)


def double(x):
    return x * 2


def identity():
    return torch_result([os.getuid(), os.geteuid(), len(os.listdir("/"))])


def write_everywhere():
    outcomes = []
    for path in (RESULTS, MARKER, "/sandbox/inside.txt"):
        try:
            with open(path, "w") as f:
                f.write("pwned")
            outcomes.append(1.0)
        except OSError:
            outcomes.append(0.0)
    outcomes.append(float(os.system("echo pwned > /sandbox/shell.txt") == 0))
    outcomes.append(float(os.system(f"echo pwned > {{MARKER}}.sh") == 0))
    return torch_result(outcomes)


def read_key():
    with open(KEY, "rb") as f:
        return torch_result(list(f.read()))


def interfaces():
    with open("/proc/net/dev") as f:
        names = [line.split(":")[0].strip() for line in f.readlines()[2:]]
    print("interfaces:", names)
    return torch_result([float(len(names))])


def connect():
    socket.create_connection(("1.1.1.1", 53), timeout=2)


def loop_with_escapee():
    if os.fork() == 0:
        os.setsid()
        while True:
            time.sleep(1)
    while True:
        pass


def spin():
    while True:
        pass


def memory_bomb():
    hoard = []
    while True:
        hoard.append(bytearray(64 * 2**20))


def segfault():
    return ctypes.string_at(0)


def fork_bomb():
    children = []
    try:
        while len(children) < 100:
            pid = os.fork()
            if pid == 0:
                time.sleep(30)
                os._exit(0)
            children.append(pid)
    except OSError:
        pass
    for pid in children:
        os.kill(pid, 9)
        os.waitpid(pid, 0)
    return torch_result([float(len(children))])


def scribble():
    for fd in range(3, 32):
        try:
            os.write(fd, b"garbage that is not a frame" * 10)
        except OSError:
            pass
    time.sleep(5)


class Rigged:
    def __eq__(self, other):
        return True


def rigged_object():
    return Rigged()


def rigged_tensor():
    import torch

    class AlwaysEqual(torch.Tensor):
        def __eq__(self, other):
            return True

        __hash__ = torch.Tensor.__hash__

    return torch.zeros(3, dtype=torch.float64).as_subclass(AlwaysEqual)
'''


@pytest.fixture(scope="module")
def paths(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("sandbox")
    key_dir, results_dir, host = base / "key", base / "results", base / "host"
    for directory in (key_dir, results_dir, host):
        directory.mkdir(mode=0o700)
    key = key_dir / "answer_key.toml"
    key.write_text('secret = "KEY-MARKER-7F3A"\n')
    results = results_dir / "results.json"
    results.write_text("{}\n")
    probe = base / "submission" / "probe.py"
    probe.parent.mkdir()
    probe.write_text(PROBE.format(key=str(key), results=str(results),
                                  marker=str(host / "marker")))
    return {"key": key, "results": results, "marker": host / "marker", "probe": probe,
            "host": host}


def _sandbox(paths: dict[str, Path], **options: object) -> Sandbox:
    options.setdefault("preload", ())
    sandbox = Sandbox([paths["probe"]], **options)
    sandbox.start()
    return sandbox


@pytest.fixture(scope="module")
def confined(paths: dict[str, Path]):  # noqa: ANN201
    sandbox = _sandbox(paths)
    yield sandbox
    sandbox.close()


@pytest.fixture(scope="module")
def unconfined(paths: dict[str, Path]):  # noqa: ANN201
    sandbox = _sandbox(paths, confine=False)
    yield sandbox
    sandbox.close()


def _call(sandbox: Sandbox, function: str, *args: dict, arrays: dict | None = None,
          timeout: float | None = None) -> dict:
    reply = sandbox.request({"op": "call", "modules": ["probe"], "function": function,
                             "cases": [{"args": list(args)}]}, arrays, timeout=timeout)
    (case,) = reply.header["cases"]
    case["out"] = reply.arrays.get("0:out")
    return case


def _uid_processes(uid: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as f:
                for line in f:
                    if line.startswith("Uid:") and int(line.split()[1]) == uid:
                        found.append(int(entry))
        except OSError:
            pass
    return found


# --------------------------------------------------------------------------------------------
# the protocol


def test_float64_arrays_cross_the_boundary_and_nothing_else(confined: Sandbox) -> None:
    x = np.array([[1.5, -2.0], [0.0, 3.25]])
    case = _call(confined, "double", {"array": "x"}, arrays={"x": x})
    assert case["ok"] and case["dtype"] == "float64" and case["shape"] == [2, 2]
    assert isinstance(case["out"], np.ndarray) and case["out"].dtype == np.float64
    np.testing.assert_array_equal(case["out"], 2 * x)


def test_frames_whose_lengths_disagree_are_rejected() -> None:
    header = {"kind": "reply", "arrays": [["a", [3]]]}
    assert _split_arrays(header, np.zeros(3).tobytes())["a"].shape == (3,)
    with pytest.raises(ProtocolError):
        _split_arrays(header, np.zeros(2).tobytes())
    with pytest.raises(ProtocolError):
        _split_arrays(header, np.zeros(4).tobytes())
    with pytest.raises(ProtocolError):
        decode_header(b'{"arrays": [["a", [-1]]]}')
    with pytest.raises(ProtocolError):
        decode_header(b"\x80 not json")
    frame = encode_frame({"kind": "x"}, {"a": np.ones(2)})
    assert frame.startswith(MAGIC) and struct.unpack(">I", frame[4:8])[0] > 0


def test_a_rigged_eq_gains_nothing(confined: Sandbox) -> None:
    tensor = _call(confined, "rigged_tensor")
    assert tensor["ok"] and isinstance(tensor["out"], np.ndarray)
    assert tensor["out"].dtype == np.float64 and not np.array_equal(tensor["out"], np.ones(3))
    obj = _call(confined, "rigged_object")
    assert not obj["ok"] and "not a torch.Tensor" in obj["error"] and obj["out"] is None


def test_garbage_on_the_protocol_pipe_is_a_protocol_error(paths: dict[str, Path]) -> None:
    sandbox = _sandbox(paths)
    try:
        with pytest.raises((ProtocolError, SandboxDied)):
            _call(sandbox, "scribble", timeout=20)
        assert not sandbox.alive
    finally:
        sandbox.close()


# --------------------------------------------------------------------------------------------
# files, key, network


def test_the_student_runs_as_another_user_in_a_private_root(confined: Sandbox) -> None:
    case = _call(confined, "identity")
    uid, euid, entries = case["out"]
    if ROOT:
        assert confined.layers[:4] == ("session", "namespaces", "user", "rlimits")
        assert confined.layers[4:] in (("cgroup",), ("one-process",))
        assert uid == euid == confined.uid and uid != 0
        assert entries <= 16  # the chroot: a handful of binds, not the host's root
    else:
        assert confined.layers == ("session", "rlimits") and uid == os.getuid()


def test_a_submission_cannot_write_outside_its_sandbox(confined: Sandbox,
                                                       paths: dict[str, Path]) -> None:
    case = _call(confined, "write_everywhere")
    results, marker, inside, shell_inside, shell_outside = case["out"]
    assert inside == 1.0 and shell_inside == 1.0  # it writes its own files, even from a shell
    assert results == marker == shell_outside == 0.0
    assert paths["results"].read_text() == "{}\n"
    assert not paths["marker"].exists() and not Path(f"{paths['marker']}.sh").exists()
    assert not any(paths["host"].iterdir())


def test_the_write_check_sees_an_unconfined_write(unconfined: Sandbox,
                                                  paths: dict[str, Path]) -> None:
    case = _call(unconfined, "write_everywhere")
    assert case["out"][1] == 1.0 and paths["marker"].read_text() == "pwned"
    paths["marker"].unlink()
    Path(f"{paths['marker']}.sh").unlink()
    paths["results"].write_text("{}\n")


def test_the_answer_key_is_never_read(confined: Sandbox, paths: dict[str, Path]) -> None:
    case = _call(confined, "read_key")
    assert not case["ok"] and case["out"] is None
    assert "KEY-MARKER" not in case["error"] and "KEY-MARKER" not in confined.output_tail()


def test_the_key_check_sees_an_unconfined_read(unconfined: Sandbox,
                                               paths: dict[str, Path]) -> None:
    case = _call(unconfined, "read_key")
    assert bytes(case["out"].astype(np.uint8)) == paths["key"].read_bytes()


def test_the_network_has_only_a_loopback(confined: Sandbox, unconfined: Sandbox) -> None:
    with open("/proc/net/dev") as f:
        host = len(f.readlines()[2:])
    assert _call(unconfined, "interfaces")["out"][0] == host  # the probe reads the real list
    inside = _call(confined, "interfaces")["out"][0]
    assert inside == (1 if ROOT else host)
    if ROOT:
        connect = _call(confined, "connect")
        assert not connect["ok"] and "OSError" in connect["exception"] + connect["error"]


# --------------------------------------------------------------------------------------------
# processes, memory, CPU


def test_an_infinite_loop_is_killed_with_everything_it_started(paths: dict[str, Path]) -> None:
    sandbox = _sandbox(paths, limits=Limits(call_seconds=1.5))
    try:
        with pytest.raises(SandboxTimeout, match="infinite loop"):
            _call(sandbox, "loop_with_escapee")
    finally:
        sandbox.close()
    deadline = time.monotonic() + 5
    while ROOT and _uid_processes(sandbox.uid) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not ROOT or not _uid_processes(sandbox.uid)


def test_the_process_scan_finds_a_live_sandbox(confined: Sandbox) -> None:
    # the twin of the test above: a running sandbox's processes are found by the scan
    assert not ROOT or len(_uid_processes(confined.uid)) >= 1


def test_a_memory_bomb_ends_in_memory_error_and_the_sandbox_survives(
        paths: dict[str, Path]) -> None:
    sandbox = _sandbox(paths, limits=Limits(memory_bytes=768 * 2**20))
    try:
        case = _call(sandbox, "memory_bomb")
        assert not case["ok"] and case["exception"] == "MemoryError"
        assert _call(sandbox, "double", {"float": 2.0})["error"].endswith("not a torch.Tensor")
    finally:
        sandbox.close()


def test_a_segfault_is_reported_as_a_crash(paths: dict[str, Path]) -> None:
    sandbox = _sandbox(paths)
    try:
        with pytest.raises(SandboxDied, match="segmentation fault"):
            _call(sandbox, "segfault")
    finally:
        sandbox.close()


def test_a_fork_bomb_stops_at_the_process_limit(paths: dict[str, Path]) -> None:
    sandbox = _sandbox(paths, limits=Limits(processes=8))
    try:
        children = _call(sandbox, "fork_bomb")["out"][0]
        assert children < 8 if ROOT else children == 100
    finally:
        sandbox.close()


@pytest.mark.slow
def test_the_cpu_limit_kills_a_busy_process(paths: dict[str, Path]) -> None:
    sandbox = _sandbox(paths, limits=Limits(cpu_seconds=1, call_seconds=30))
    start = time.monotonic()
    try:
        with pytest.raises(SandboxDied, match="CPU-time limit|killed"):
            _call(sandbox, "spin")
    finally:
        sandbox.close()
    assert time.monotonic() - start < 20  # the CPU limit, not the 30 s wall clock, ended it

