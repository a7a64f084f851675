"""A submission can neither forge its grade nor crash the run (issue 12, items 6 and 7).

The student's code shares the runner's process. Item 6: patching the runner (its class, its
instance found through ``gc``), ``torch.Tensor.backward``/``.grad``, torch's autograd engine or
``torch.autograd``'s helpers does not make a sample that is not reparameterized pass (each of
the first three forged a pass with the runner before this fix), because the runner's sealed
core captured everything it uses before the submission loaded; and a reply frame the
submission writes to the protocol pipe itself does not carry the request's nonce. Item 7:
forged reply frames with malformed fields fail the function that sent them, with a clear
message, and a correct function graded afterwards in the same session still passes; a checker
that cannot use a reply fails its function only.

Every hostile submission is written to ``tmp_path`` and graded through a real sandbox; each
attack has a twin (a correct function next to the same patches, or the forged reply with its
nonce) showing that the legitimate case works and that the check could fail. False-failure
budget: correct samplers that draw are graded 13 times here, 2 statistical properties each at
failure_prob = 1e-8: < 3e-7 (seeds fixed: CheckSettings.seed = 446).
"""

from __future__ import annotations

import dis
import textwrap
import types
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from grading.code import runner
from grading.code.checks import CheckSettings, Session, check_function
from grading.code.session import CaseResult, StudentCodeFailed, submission_files
from grading.code.spec import spec

SETTINGS = CheckSettings(failure_prob=1e-8, examples=10, shrink_seconds=1.0)

# --------------------------------------------------------------------------------------------
# the hostile submissions

# what every forging module shares: fakes that would have made the old runner report a
# reparameterized sample (∂z/∂μ = 1, ∂z/∂logvar = (z − μ)/2) for one that is not
FAKES = '''
import functools
import gc
import sys

import torch
import torch.autograd
import torch.autograd.graph

_STASH = {}


def _fake_gradients(self, output, args, positions, index, out_arrays):
    mu, z = args[positions[0]].detach(), output.detach()
    out_arrays[f"{index}:grad:{positions[0]}"] = torch.ones_like(mu).double().numpy()
    out_arrays[f"{index}:grad:{positions[1]}"] = (0.5 * (z - mu)).double().numpy()
    return {str(p): "ok" for p in positions}


def _fake_convert(self, value):
    info = {"type": "torch.Tensor", "dtype": str(value.dtype).replace("torch.", ""),
            "shape": list(value.shape), "requires_grad": True}
    return info, value.detach().double().contiguous().numpy()


def _fake_grad(tensor):
    if tensor is _STASH.get("mu"):
        return torch.ones_like(tensor)
    if tensor is _STASH.get("logvar"):
        return (0.5 * (_STASH["z"] - _STASH["mu"])).detach()
    return None


def _fake_engine(*args, **kwargs):
    return torch.ones_like(_STASH["mu"]), (0.5 * (_STASH["z"] - _STASH["mu"])).detach()
'''

ATTACKS = {
    # the attack: the runner's class, patched when the file loads
    "runner_class": '''
_RUNNER = sys.modules["__main__"].Runner
_RUNNER.gradients = _fake_gradients
_RUNNER.convert = _fake_convert


def _attack():
    pass
''',
    # the runner's instance, found through gc and patched when the function runs
    "runner_instance": '''
def _attack():
    if _STASH.setdefault("patched", False):
        return
    _STASH["patched"] = True
    for obj in gc.get_objects():
        if type(obj).__name__ == "Runner":
            obj.gradients = functools.partial(_fake_gradients, obj)
            obj.convert = functools.partial(_fake_convert, obj)
''',
    # what the old runner used to back-propagate: Tensor.backward and Tensor.grad
    "tensor_backward_and_grad": '''
def _attack():
    torch.Tensor.backward = lambda self, *args, **kwargs: None
    torch.Tensor.grad = property(_fake_grad)
''',
    # torch's autograd engine, replaced when the file loads
    "autograd_engine": '''
class _FakeEngine:
    def run_backward(self, *args, **kwargs):
        return _fake_engine()


torch.autograd.Variable._execution_engine = _FakeEngine()


def _attack():
    pass
''',
    # what torch.autograd.grad calls in Python: a runner that captured only grad is fooled
    "autograd_helpers": '''
def _attack():
    torch.autograd.grad = lambda *args, **kwargs: _fake_engine()
    torch.autograd._engine_run_backward = _fake_engine
    torch.autograd.graph._engine_run_backward = _fake_engine
''',
}

# not reparameterized: torch.normal on detached parameters, returned as a leaf that requires
# a gradient (so that a runner fooled by the fakes above would report one)
NOT_REPARAMETERIZED = '''

def sample_normal(mu, logvar, generator=None):
    _attack()
    std = torch.exp(0.5 * logvar.detach())
    z = torch.normal(mu.detach(), std, generator=generator)
    _STASH.update(mu=mu, logvar=logvar, z=z)
    return z.requires_grad_()
'''

REPARAMETERIZED = '''

def sample_normal(mu, logvar, generator=None):
    _attack()
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype)
    return mu + torch.exp(0.5 * logvar) * eps
'''

# writing frames to the runner's protocol pipe (its private copy of fd 1), and reading the
# request under way from the runner's frames (the introspection the runner cannot prevent)
PIPE = '''
import fcntl
import json
import os
import struct
import sys

import numpy as np
import torch


def _request():
    frame = sys._getframe(1)
    while frame is not None:
        for value in list(frame.f_locals.values()):
            if isinstance(value, dict) and "nonce" in value and "cases" in value:
                return value, frame.f_locals.get("arrays", {})
        frame = frame.f_back
    raise RuntimeError("no request found")


def _protocol_fd():
    for name in sorted(os.listdir("/proc/self/fd"), key=int):
        fd = int(name)
        try:
            pipe = os.readlink(f"/proc/self/fd/{fd}").startswith("pipe:")
            mode = fcntl.fcntl(fd, fcntl.F_GETFL) & os.O_ACCMODE
        except OSError:
            continue
        if fd > 2 and pipe and mode == os.O_WRONLY:
            return fd
    raise RuntimeError("no protocol pipe found")


def _write(head, payload=b""):
    frame = (b"GVF1" + struct.pack(">I", len(head)) + head + struct.pack(">Q", len(payload))
             + payload)
    fd, view = _protocol_fd(), memoryview(frame)
    while view:
        view = view[os.write(fd, view):]


def _reply(request, cases, arrays=(), with_nonce=True):
    header = {"kind": "reply", "found": True, "cases": cases, "arrays": list(arrays)}
    if with_nonce:
        header["nonce"] = request["nonce"]
    return json.dumps(header).encode()


def sample_normal(mu, logvar, generator=None):
    _write(*_forged(*_request()))
    os._exit(0)  # (no reply of the runner's own left in the pipe)
'''

# a complete, well-formed reply that passes every check of sample_normal: normal samples
# z = μ + exp(logvar/2)·ε (the same ε for the generator twins) and the gradients 1, (z − μ)/2
FULL_REPLY = '''

def _full_reply(request, arrays, with_nonce):
    cases, directory, chunks = [], [], []
    for index, case in enumerate(request["cases"]):
        mu, logvar = (np.asarray(arrays[spec["array"]]) for spec in case["args"][:2])
        z = mu + np.exp(logvar / 2) * np.random.RandomState(7).standard_normal(mu.shape)
        named = {f"{index}:out": z}
        report = {"ok": True, "type": "torch.Tensor", "dtype": "float64",
                  "shape": list(z.shape), "requires_grad": True, "seconds": 0.0}
        if case.get("grad"):
            report["grads"] = {"0": "ok", "1": "ok"}
            named.update({f"{index}:grad:0": np.ones_like(mu),
                          f"{index}:grad:1": (z - mu) / 2})
        cases.append(report)
        for name, value in named.items():
            directory.append([name, list(value.shape)])
            chunks.append(np.ascontiguousarray(value, dtype="<f8").tobytes())
    return _reply(request, cases, directory, with_nonce), b"".join(chunks)
'''

FORGERIES = {
    # int('²') used to raise: '²'.isdigit() is True
    "grads_key_superscript": 'lambda request, arrays: (_reply(request, [{"ok": False, "error": '
                             '"x", **({"grads": {"²": "ok"}} if case.get("grad") else {})} '
                             'for case in request["cases"]]),)',
    "cases_not_a_list": 'lambda request, arrays: (_reply(request, "all passed"),)',
    "case_a_string": 'lambda request, arrays: (_reply(request, ["ok" for _ in '
                     'request["cases"]]),)',
    "shape_of_strings": 'lambda request, arrays: (_reply(request, [{"ok": False, "shape": '
                        '["a"]} for _ in request["cases"]]),)',
    "absurd_types": 'lambda request, arrays: (_reply(request, [{"ok": 1, "error": {"a": [1]}, '
                    '"seconds": "soon"} for _ in request["cases"]]),)',
    "dtype_of_ten_megabytes": 'lambda request, arrays: (_reply(request, [{"ok": False, '
                              '"dtype": "f" * 10_000_000} for _ in request["cases"]]),)',
    "header_too_deep": 'lambda request, arrays: (b"[" * 100_000 + b"]" * 100_000,)',
    "no_nonce": 'lambda request, arrays: _full_reply(request, arrays, with_nonce=False)',
}


def _write_module(folder: Path, name: str, *parts: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text("".join(textwrap.dedent(p) for p in parts))


def _by_check(results: list) -> dict[str, object]:
    function = spec(results[0].function)
    return {p.check: r for p, r in zip(function.properties, results)}


def _assert_full_points(results: list) -> None:
    for result in results:
        assert result.score == result.max_score, (result.name, result.output)


# --------------------------------------------------------------------------------------------
# item 6: patching the runner, torch or the protocol does not forge a grade


@pytest.fixture(scope="module", params=sorted(ATTACKS))
def patched(request: pytest.FixtureRequest,
            tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A submission of two files under the same attack: a sample that is not reparameterized
    (``forged``) and a correct one (``honest``)."""
    folder = tmp_path_factory.mktemp(request.param)
    _write_module(folder, "forged", FAKES, ATTACKS[request.param], NOT_REPARAMETERIZED)
    _write_module(folder, "honest", FAKES, ATTACKS[request.param], REPARAMETERIZED)
    with Session(submission_files(folder), SETTINGS) as session:
        yield session


@pytest.mark.slow
def test_patching_the_runner_or_torch_does_not_make_an_unreparameterized_sample_pass(
        patched: Session) -> None:
    results = _by_check(check_function(patched, spec("sample_normal"), ["forged"]))
    reparameterized = results["reparameterized"]
    assert reparameterized.score == 0, reparameterized.output
    assert reparameterized.output.startswith("✗") and "reparameteriz" in reparameterized.output


@pytest.mark.slow
def test_a_reparameterized_sample_still_passes_next_to_the_same_patches(
        patched: Session) -> None:
    _assert_full_points(check_function(patched, spec("sample_normal"), ["honest"]))


@pytest.fixture(scope="module")
def forging(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Session]:
    """A submission whose every ``forge_*`` file writes one forged reply frame to the
    protocol pipe, and a correct ``honest`` file."""
    folder = tmp_path_factory.mktemp("forging")
    for name, forged in FORGERIES.items():
        _write_module(folder, f"forge_{name}", PIPE, FULL_REPLY, f"\n_forged = {forged}\n")
    _write_module(folder, "forge_with_nonce", PIPE, FULL_REPLY,
                  "\n_forged = lambda request, arrays: _full_reply(request, arrays, True)\n")
    _write_module(folder, "honest", "import torch\n\n_STASH = {}\n\n\ndef _attack():\n"
                                    "    pass\n", REPARAMETERIZED)
    with Session(submission_files(folder), SETTINGS) as session:
        yield session


@pytest.mark.slow
def test_a_complete_reply_written_to_the_pipe_without_the_nonce_is_rejected(
        forging: Session) -> None:
    for result in check_function(forging, spec("sample_normal"), ["forge_no_nonce"]):
        assert result.score == 0 and "does not answer this request" in result.output, \
            result.output
    _assert_full_points(check_function(forging, spec("sample_normal"), ["honest"]))


@pytest.mark.slow
def test_the_same_reply_with_the_nonce_read_by_frame_introspection_would_pass(
        forging: Session) -> None:
    # the limit the runner documents (code in its process can read its frames); and the
    # proof that the forged reply above is complete: only its missing nonce stopped it
    _assert_full_points(check_function(forging, spec("sample_normal"), ["forge_with_nonce"]))
    _assert_full_points(check_function(forging, spec("sample_normal"), ["honest"]))


# --------------------------------------------------------------------------------------------
# item 7: a malformed reply fails its function only


@pytest.mark.slow
@pytest.mark.parametrize("forgery", sorted(set(FORGERIES) - {"no_nonce"}))
def test_a_malformed_reply_fails_its_function_clearly_and_the_next_function_still_passes(
        forging: Session, forgery: str) -> None:
    results = check_function(forging, spec("sample_normal"), [f"forge_{forgery}"])
    for result in results:
        assert result.score == 0, result.output
        assert result.output.startswith("✗ the sandbox's reply was malformed: "), result.output
        assert "Traceback" not in result.output and len(result.output) < 800
    _assert_full_points(check_function(forging, spec("sample_normal"), ["honest"]))


class _Replies(Session):
    """A session whose calls return the given results instead of running anything."""

    def __init__(self, make: object) -> None:
        super().__init__([], SETTINGS)
        self.make = make

    def call(self, modules, function, cases, arrays, **options):  # noqa: ANN001, ANN201
        results = [self.make(case, arrays) for case in cases]
        self.replies += 1
        return results


def _unusable(case: dict, arrays: dict) -> CaseResult:
    """A successful case whose output holds no numbers (objects), of the right shape."""
    mu = np.asarray(arrays[case["args"][0]["array"]])
    return CaseResult(True, "", {"ok": True, "shape": list(mu.shape), "dtype": "float64",
                                 "requires_grad": True}, np.full(mu.shape, None), {})


def _reference(case: dict, arrays: dict) -> CaseResult:
    """What a correct sample_normal returns for the case."""
    mu, logvar = (np.asarray(arrays[s["array"]]) for s in case["args"][:2])
    z = mu + np.exp(logvar / 2) * np.random.RandomState(7).standard_normal(mu.shape)
    grads = {0: np.ones_like(mu), 1: (z - mu) / 2} if case.get("grad") else {}
    return CaseResult(True, "", {"ok": True, "shape": list(z.shape), "dtype": "float64",
                                 "requires_grad": True}, z, grads)


def test_a_checker_that_cannot_use_a_reply_fails_that_function_without_a_traceback() -> None:
    results = check_function(_Replies(_unusable), spec("sample_normal"), ["any"])
    for result in results:
        assert result.score == 0
        assert result.output.startswith("✗ the grader could not use the submission's reply (")
        assert "Traceback" not in result.output and len(result.output) < 300


def test_the_same_checker_grades_a_usable_reply_as_usual() -> None:
    _assert_full_points(check_function(_Replies(_reference), spec("sample_normal"), ["any"]))


def test_an_error_of_the_grader_itself_before_any_reply_is_still_raised() -> None:
    broken = CheckSettings(seed="446")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        check_function(_Replies(_unusable), spec("sample_normal"), ["any"], broken)


# --------------------------------------------------------------------------------------------
# the reply's fields, one by one (no sandbox)

CASES = [{"args": [{"array": "mu"}, {"array": "logvar"}], "grad": [0, 1]}]
ARRAYS = {"mu": np.zeros((2, 3)), "logvar": np.zeros((2, 3))}
GOOD_CASE = {"ok": True, "type": "torch.Tensor", "dtype": "float64", "shape": [2, 3],
             "requires_grad": True, "seconds": 0.01, "grads": {"0": "ok", "1": "none"}}
GOOD_ARRAYS = {"0:out": np.zeros((2, 3)), "0:grad:0": np.ones((2, 3))}

MALFORMED = {
    "no nonce": ({"nonce": None}, {}),
    "found not a boolean": ({"found": "yes"}, {}),
    "cases not a list": ({"cases": {"0": GOOD_CASE}}, {}),
    "too many cases": ({"cases": [GOOD_CASE, GOOD_CASE]}, {}),
    "a case that is a string": ({"cases": ["ok"]}, {}),
    "ok not a boolean": ({"cases": [{**GOOD_CASE, "ok": 1}]}, {}),
    "an unknown field": ({"cases": [{**GOOD_CASE, "verdict": "pass"}]}, {}),
    "shape of strings": ({"cases": [{**GOOD_CASE, "shape": ["a"]}]}, {}),
    "shape of booleans": ({"cases": [{**GOOD_CASE, "shape": [True, 3]}]}, {}),
    "a negative size": ({"cases": [{**GOOD_CASE, "shape": [-2, 3]}]}, {}),
    "a shape the output lacks": ({"cases": [{**GOOD_CASE, "shape": [3, 2]}]}, {}),
    "a dtype of a megabyte": ({"cases": [{**GOOD_CASE, "dtype": "f" * 2**20}]}, {}),
    "an error that is an object": ({"cases": [{**GOOD_CASE, "error": {"a": 1}}]}, {}),
    "seconds that are text": ({"cases": [{**GOOD_CASE, "seconds": "1"}]}, {}),
    "infinite seconds": ({"cases": [{**GOOD_CASE, "seconds": float("inf")}]}, {}),
    "requires_grad not a boolean": ({"cases": [{**GOOD_CASE, "requires_grad": "yes"}]}, {}),
    "a superscript gradient position": ({"cases": [{**GOOD_CASE, "grads": {"²": "ok"}}]}, {}),
    "an Arabic-Indic gradient position": ({"cases": [{**GOOD_CASE, "grads": {"٠": "ok"}}]}, {}),
    "a gradient position not asked": ({"cases": [{**GOOD_CASE, "grads": {"7": "none"}}]}, {}),
    "an unknown gradient state": ({"cases": [{**GOOD_CASE, "grads": {"0": ["ok"]}}]}, {}),
    "an ok gradient without array": ({"cases": [{**GOOD_CASE, "grads": {"1": "ok"}}]}, {}),
    "a gradient of another shape": ({}, {"0:grad:0": np.ones(6)}),
    "an array nobody asked for": ({}, {"5:out": np.ones(1)}),
    "a successful case without output": ({}, {"0:out": None}),
}


def _reply(header_changes: dict, array_changes: dict) -> tuple[dict, dict]:
    header = {"kind": "reply", "found": True, "nonce": "n0", "cases": [GOOD_CASE],
              **header_changes}
    arrays = {k: v for k, v in {**GOOD_ARRAYS, **array_changes}.items() if v is not None}
    return header, arrays


@pytest.mark.parametrize("what", sorted(MALFORMED))
def test_each_malformed_field_of_a_reply_is_refused_with_a_reason(what: str) -> None:
    header, arrays = _reply(*MALFORMED[what])
    with pytest.raises(Exception) as raised:
        Session([], SETTINGS)._results(header, arrays, "n0", CASES, ARRAYS)
    assert isinstance(raised.value, (ValueError, StudentCodeFailed))
    assert str(raised.value) and len(str(raised.value)) < 600


def test_a_well_formed_reply_is_read_field_by_field() -> None:
    header, arrays = _reply({}, {})
    (case,) = Session([], SETTINGS)._results(header, arrays, "n0", CASES, ARRAYS)
    assert case.ok and case.shape == (2, 3) and case.dtype == "float64"
    assert case.info["requires_grad"] is True and case.info["seconds"] == 0.01
    assert isinstance(case.grads[0], np.ndarray) and case.grads[1] == "none"


# --------------------------------------------------------------------------------------------
# the sealed core reads no global name at call time


def _global_reads(function: types.FunctionType) -> set[str]:
    """The global (or builtin) names read by the functions nested in ``function``."""
    found: set[str] = set()
    stack = [c for c in function.__code__.co_consts if isinstance(c, types.CodeType)]
    while stack:
        code = stack.pop()
        found |= {i.argval for i in dis.get_instructions(code)
                  if i.opname in ("LOAD_GLOBAL", "LOAD_NAME")}
        stack += [c for c in code.co_consts if isinstance(c, types.CodeType)]
    return found


@pytest.mark.parametrize("factory", ["_seal_json", "_seal_channel", "_seal_type_name",
                                     "_seal_tensors", "_seal_requests"])
def test_the_sealed_core_reads_no_global_name_at_call_time(factory: str) -> None:
    assert _global_reads(getattr(runner, factory)) == set()


def test_the_global_read_check_notices_a_nested_global_read() -> None:
    def factory():  # noqa: ANN202
        def inner():  # noqa: ANN202
            return len(runner.MAGIC)

        return inner

    assert _global_reads(factory) == {"len", "runner"}


# --------------------------------------------------------------------------------------------
# a process that ends after its reply (as the forging files above do) must not fail the next,
# honest call: the race between the exit and the next request, made certain


@pytest.fixture()
def honest_session(tmp_path: Path) -> Iterator[Session]:
    folder = tmp_path / "honest_only"
    _write_module(folder, "honest", "import torch\n\ndef _attack():\n    pass\n",
                  REPARAMETERIZED)
    with Session(submission_files(folder), SETTINGS) as session:
        yield session


def _ended_but_seen_alive(session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    """End the session's process and make it look alive (the moment between its exit and the
    reaping that a busy machine stretches): the next request meets a closed pipe."""
    from grading.code.sandbox import Sandbox

    session.start()
    session.sandbox._kill()  # the runner, its namespace and its cgroup
    monkeypatch.setattr(Sandbox, "alive", property(lambda self: True))


@pytest.mark.slow
def test_a_process_that_ended_after_its_last_reply_does_not_fail_the_next_call(
        honest_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    _ended_but_seen_alive(honest_session, monkeypatch)
    _assert_full_points(check_function(honest_session, spec("sample_normal"), ["honest"]))
    assert honest_session.restarts >= 1


@pytest.mark.slow
def test_a_process_that_keeps_dying_before_reading_a_request_fails_the_call_once(
        honest_session: Session, monkeypatch: pytest.MonkeyPatch) -> None:
    from grading.code.sandbox import Sandbox

    _ended_but_seen_alive(honest_session, monkeypatch)
    started = Sandbox.start

    def start_and_end(self: Sandbox) -> None:  # every fresh process ends before the request
        started(self)
        self._kill()

    monkeypatch.setattr(Sandbox, "start", start_and_end)
    with pytest.raises(StudentCodeFailed):
        honest_session.call(["honest"], "sample_normal", [], {})
