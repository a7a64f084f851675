"""Grade students' code: the checks of ``grading.code.spec``, run against a sandboxed submission.

The harness (this module) draws the inputs, derives the references and decides; the student's
functions run only in a :class:`grading.code.sandbox.Sandbox` (see ``grading/code/runner.py``),
and their results come back as plain float64 arrays, compared here with NumPy.

* Deterministic functions: Hypothesis draws a batch of inputs (ordinary, then extreme but
  valid), shipped to the sandbox in one request; on a disagreement Hypothesis shrinks the
  failing input through further requests, and the feedback quotes the minimal failing input,
  the expected and the returned values and, when the outputs match a known mistake (a mutant
  of ``code_spec``), its name. Tolerance: rtol·(|value| + magnitude), the magnitude being the
  size of the closed form's largest intermediate sum (``code_spec._magnitude``).
* Random functions: each graded property spends a false-failure probability
  ``CheckSettings.failure_prob`` (default 1e-6: a correct submission loses a property by bad
  luck with probability ≤ 1e-6, ≤ 8e-6 over the whole submission), split by Bonferroni over
  its assertions. The generators are seeded from ``CheckSettings.seed`` (stated, fixed: every
  student is graded on the same draws), so a grade is reproducible.

  - ``sample_normal``: n = 2000 rows; per coordinate the standardised sample (z − μ)/σ must
    pass the exact KS test against Φ, and the 15 pairwise correlations must be within the
    z-bound of 0 (|r|√n). Power (``numerics.tolerance.detectable_cdf_distance``): a scale off
    by a factor outside [0.63, 1.58] in a coordinate fails with probability ≥ 0.999, so the
    variance-for-σ mistake is caught on every coordinate with |logvar| ≥ 1. The gradients of
    Σz must be ∂z/∂μ = 1 and ∂z/∂logvar ∝ z − μ (the sample is μ + (a function of logvar)·ε;
    the factor ½ is the law's business, so one mistake costs one property).
  - ``sample_bernoulli``: n = 4000 rows; each pixel's count of ones must lie in the exact
    binomial acceptance interval of Binomial(n, y_j), and three pairs' joint counts in that of
    Binomial(n, y_a y_b) (independence). Power: |ΔP| ≥ 0.07 at y = ½ is detected with
    probability ≥ 0.999 (and P = 1 − y or a thresholded y always).
  - ``elbo_loss`` and ``dsm_loss``: R repeated calls with fresh noise give a mean ± standard
    error, z-tested against the exact expectation (Gauss–Hermite quadrature, 40 and 30 nodes
    per dimension, error far below the standard error); the feedback states the smallest
    error the test detects with probability ½.
  - ``langevin_step``: with s = the derived noised-mixture score, the residuals
    r = (x′ − LANGEVIN_STEP(x, s, α, 0))/LANGEVIN_STEP(0, 0, α, 1) of n = 4000 points must pass
    the KS test against Φ (8000 values), Σ r·s/‖s‖ must be a plausible N(0, 1) draw (a wrong
    drift) and the coordinates uncorrelated. Power: a noise scale off by a factor outside
    [0.80, 1.25] fails the KS test with probability ≥ 0.999 (√α for √(2α) is 0.71).
  - ``annealed_langevin``: 1000 chains from the student, 1000 from the homework's algorithm
    run here with the derived ``LANGEVIN_STEP``, different starting points drawn from one
    uniform law: a sliced KS two-sample test, a KS test of the squared distances to the
    nearest mode, and a two-sample test of each mode's share (normal approximation of the
    difference of proportions).

Entry points: :func:`grade_code_submission` (a directory or file) and :func:`check_function`
(one function of modules already loaded in a :class:`Session`).
"""

from __future__ import annotations

import ast
import functools
import math
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from grading.code.spec import CODE_SPECS, FunctionSpec, input_strategy, mistakes, references
from grading.code.sandbox import Limits, Sandbox, SandboxError

__all__ = [
    "CodeResult",
    "CheckSettings",
    "Session",
    "StudentCodeFailed",
    "check_function",
    "grade_code_submission",
    "locate_functions",
    "submission_files",
]

_MAX_FILE_BYTES = 1_000_000
_MAX_FILES = 50
_REFERENCES_LOCK = threading.Lock()


@dataclass(frozen=True)
class CodeResult:
    """One graded property of one function (a Gradescope "test")."""

    name: str
    score: float
    max_score: float
    output: str
    function: str = ""
    part: str = ""

    def to_gradescope(self) -> dict[str, Any]:
        return {"name": self.name, "score": round(self.score, 6), "max_score": self.max_score,
                "output": self.output, "visibility": "visible"}


@dataclass(frozen=True)
class CheckSettings:
    """How hard the checks look, and the seed of every random draw (stated, fixed)."""

    seed: int = 446
    failure_prob: float = 1e-6  # per statistical property
    examples: int = 50  # Hypothesis examples per input class (ordinary, extreme)
    shrink_seconds: float = 5.0
    limits: Limits = field(default_factory=Limits)
    confine: bool | None = None  # None: confine when running as root


class StudentCodeFailed(Exception):
    """The student's code could not be run to the end of a request (crash, timeout...)."""


# --------------------------------------------------------------------------------------------
# the submission's files


def submission_files(path: str | Path) -> list[Path]:
    """The Python files of a submission (a directory's top level, or one file)."""
    path = Path(path)
    if path.is_file():
        candidates = [path] if path.suffix == ".py" else []
    else:
        candidates = sorted(p for p in path.glob("*.py") if p.is_file())
        if not candidates:
            candidates = sorted(p for p in path.rglob("*.py") if p.is_file())[:_MAX_FILES]
    files = []
    for candidate in candidates[:_MAX_FILES]:
        if candidate.stat().st_size <= _MAX_FILE_BYTES and re.fullmatch(
                r"[A-Za-z_][A-Za-z0-9_]*\.py", candidate.name):
            files.append(candidate)
    return files


def top_level_names(path: Path) -> list[str]:
    """The names a student's file defines at top level (functions, classes, assignments,
    imports), from its syntax tree; the file is parsed, never run."""
    names: list[str] = []
    for node in _parse_python(path).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.append(node.name)
        elif isinstance(node, ast.Assign):
            names.extend(t.id for t in node.targets if isinstance(t, ast.Name))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names.extend((a.asname or a.name).split(".")[0] for a in node.names)
    return names


def _parse_python(path: Path) -> ast.Module:
    return ast.parse(path.read_bytes(), filename=path.name)


def _names_in_fresh_interpreter(path: Path) -> list[str]:
    """CPython 3.11 before 3.11.8 can leave a process whose ``ast.parse`` fails with
    "SystemError: AST constructor recursion depth mismatch" (gh-106905); a fresh interpreter
    parses the file instead and returns the names as JSON."""
    import json
    import subprocess
    import sys

    script = ("import json, sys; from pathlib import Path; "
              "from grading.code.checks import top_level_names; "
              "print(json.dumps(top_level_names(Path(sys.argv[1]))))")
    done = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True,
                          text=True, timeout=60, check=False)
    if done.returncode != 0:
        last = done.stderr.strip().splitlines()[-1] if done.stderr.strip() else "it does not parse"
        raise SyntaxError(last)
    return [str(name) for name in json.loads(done.stdout)]


def locate_functions(files: Sequence[Path]) -> tuple[dict[str, list[str]], list[str]]:
    """For each top-level name, the modules that define it (parsed, never run), and notes."""
    defined: dict[str, list[str]] = {}
    notes: list[str] = []
    for path in files:
        module = path.stem
        try:
            try:
                names = top_level_names(path)
            except SystemError:
                names = _names_in_fresh_interpreter(path)
        except (SyntaxError, ValueError, RecursionError, MemoryError) as error:
            line = getattr(error, "lineno", None)
            notes.append(f"{path.name} does not parse ({type(error).__name__}"
                         f"{f' at line {line}' if line else ''})")
            continue
        for name in names:
            defined.setdefault(name, [])
            if module not in defined[name]:
                defined[name].append(module)
    return defined, notes


# --------------------------------------------------------------------------------------------
# the session: a sandbox that is restarted after a crash or a timeout


@dataclass
class CaseResult:
    ok: bool
    error: str
    info: dict[str, Any]
    out: np.ndarray | None
    grads: dict[int, np.ndarray | str]

    @property
    def shape(self) -> tuple[int, ...] | None:
        shape = self.info.get("shape")
        return tuple(shape) if isinstance(shape, list) else None

    @property
    def dtype(self) -> str:
        return str(self.info.get("dtype", "?"))[:40]


class Session:
    """A sandbox holding a submission's files; restarted on the next call after it dies."""

    def __init__(self, files: Sequence[Path], settings: CheckSettings = CheckSettings()) -> None:
        self.files = [Path(f) for f in files]
        self.settings = settings
        self.sandbox: Sandbox | None = None
        self.restarts = 0
        self.layers: tuple[str, ...] = ()
        self.import_errors: dict[str, str] = {}
        self.broken: str | None = None  # why the submission cannot be run at all

    def __enter__(self) -> Session:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self.sandbox is not None:
            self.sandbox.close()
            self.sandbox = None

    def start(self) -> None:
        """Start the sandbox (again, after a failure) and import the submission's files."""
        if self.broken:
            raise StudentCodeFailed(self.broken)
        if self.sandbox is not None and self.sandbox.alive:
            return
        if self.sandbox is not None:
            self.sandbox.close()
            self.restarts += 1
        self.sandbox = Sandbox(self.files, limits=self.settings.limits,
                               confine=self.settings.confine)
        try:
            self.sandbox.start()
        except SandboxError as error:
            self.sandbox.close()
            self.sandbox = None
            self.broken = f"the sandbox did not start: {error.reason}"
            raise StudentCodeFailed(self.broken) from None
        self.layers = self.sandbox.layers
        try:
            reply = self.sandbox.request({"op": "load", "modules": [f.stem for f in self.files]})
        except SandboxError as error:
            tail = self.sandbox.output_tail(600, since_request=True).strip()
            self.sandbox.close()
            self.sandbox = None
            self.broken = (f"importing the submission's files failed: {error.reason}"
                           + (f"\nIts last output:\n{tail}" if tail else ""))
            raise StudentCodeFailed(self.broken) from None
        errors = reply.header.get("errors")
        if isinstance(errors, dict):
            self.import_errors = {str(k)[:80]: str(v)[:1500] for k, v in errors.items()}

    def call(self, modules: Sequence[str], function: str, cases: Sequence[Mapping[str, Any]],
             arrays: Mapping[str, Any], *,
             callbacks: Mapping[str, Callable[..., Any]] | None = None,
             timeout: float | None = None) -> list[CaseResult]:
        """Run ``function`` on each case; :class:`StudentCodeFailed` if the process fails."""
        self.start()
        try:
            reply = self.sandbox.request(
                {"op": "call", "modules": list(modules), "function": function,
                 "cases": list(cases)}, arrays, callbacks=callbacks, timeout=timeout)
        except SandboxError as error:
            tail = self.sandbox.output_tail(600, since_request=True).strip()
            self.sandbox.close()
            self.sandbox = None
            raise StudentCodeFailed(error.reason + (f"\nIts last output:\n{tail}" if tail else "")
                                    ) from None
        header = reply.header
        if not header.get("found", False):
            raise StudentCodeFailed(str(header.get("error", "function not found"))[:2000])
        reported = header.get("cases")
        if not isinstance(reported, list) or len(reported) != len(cases):
            raise StudentCodeFailed("the sandbox's reply does not describe every case "
                                    f"({str(header.get('error', ''))[:1500]})")
        results = []
        for index, info in enumerate(reported):
            if not isinstance(info, dict):
                info = {}
            grads: dict[int, np.ndarray | str] = {}
            for key, state in (info.get("grads") or {}).items():
                position = int(key) if str(key).isdigit() else -1
                grads[position] = reply.arrays.get(f"{index}:grad:{position}", str(state)[:40])
            results.append(CaseResult(bool(info.get("ok")), str(info.get("error", ""))[:2000],
                                      info, reply.arrays.get(f"{index}:out"), grads))
        return results


# --------------------------------------------------------------------------------------------
# formatting


def _show(value: Any) -> str:
    array = np.asarray(value, dtype=np.float64)
    return np.array2string(array, precision=6, threshold=24, edgeitems=3,
                           max_line_width=100)


def _show_inputs(inputs: Mapping[str, np.ndarray]) -> str:
    return "\n".join(f"  {name} = {_show(value)}" for name, value in inputs.items())


@dataclass
class Outcome:
    """The fraction of a property's points earned and the feedback."""

    fraction: float
    message: str


def _passed(message: str) -> Outcome:
    return Outcome(1.0, "✓ " + message)


def _failed(message: str) -> Outcome:
    return Outcome(0.0, "✗ " + message)


# --------------------------------------------------------------------------------------------
# deterministic functions


_RTOL = {"log_normal_diag": 1e-6, "log_bernoulli": 1e-3}
_RTOL_FLOAT32 = 1e-4
_REFERENCE_NAMES = {"log_normal_diag": "DIAGONAL_GAUSSIAN_LOG_DENSITY",
                    "log_bernoulli": "BERNOULLI_LOG_LIKELIHOOD"}


def _draw_examples(strategy: Any, count: int) -> list[dict[str, np.ndarray]]:
    """``count`` examples of a strategy, generated by Hypothesis deterministically."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    examples: list[dict[str, np.ndarray]] = []

    def collect(example: dict[str, np.ndarray]) -> bool:
        examples.append({k: np.array(v, dtype=np.float64) for k, v in example.items()})
        return False

    try:
        find(strategy, collect, settings=settings(
            max_examples=count, database=None, derandomize=True, deadline=None,
            phases=[Phase.generate], suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        pass
    return examples[:count]


def _arguments(name: str) -> tuple[str, ...]:
    return {"log_normal_diag": ("x", "mu", "logvar"), "log_bernoulli": ("x", "y")}[name]


def _cases(name: str, examples: Sequence[Mapping[str, np.ndarray]], start: int = 0,
           dtype: str = "float64") -> tuple[list[dict], dict[str, np.ndarray]]:
    cases, arrays = [], {}
    for offset, example in enumerate(examples):
        index = start + offset
        args = []
        for argument in _arguments(name):
            key = f"{index}:{argument}"
            arrays[key] = example[argument]
            args.append({"array": key, "dtype": dtype})
        cases.append({"args": args, "seed": index})
    return cases, arrays


def _shape_feedback(got: tuple[int, ...] | None, batch: int, width: int) -> str:
    if got is None:
        return "did not return a tensor"
    if got == ():
        return ("returned a single number: it reduces over the batch too (one value per row "
                "is expected, shape (batch,))")
    if got == (batch, width) and width != 1:
        return "returned shape (batch, d): it does not sum over the last axis"
    if got == (batch, 1):
        return "kept a trailing axis of length 1 (shape (batch, 1); expected (batch,))"
    if got == (width,) and width != batch:
        return "reduced over the batch axis (axis 0) instead of the last axis"
    return f"returned shape {got}; expected ({batch},)"


@dataclass
class _Verdict:
    kind: str  # "ok", "error", "shape", "values", "dtype"
    text: str
    expected: np.ndarray | None = None
    got: np.ndarray | None = None
    tolerance: np.ndarray | None = None


def _judge(name: str, example: Mapping[str, np.ndarray], case: CaseResult,
           dtype: str = "float64") -> _Verdict:
    r = references()
    args = [example[a] for a in _arguments(name)]
    expected = getattr(r, name)(*args)
    batch, width = args[0].shape
    if not case.ok:
        return _Verdict("error", f"raised an error:\n{case.error}")
    if case.shape != (batch,):
        return _Verdict("shape", _shape_feedback(case.shape, batch, width))
    got = np.asarray(case.out, dtype=np.float64)
    magnitude = getattr(r, name + "_magnitude")(*args)
    rtol = _RTOL[name] if dtype == "float64" else max(_RTOL[name], _RTOL_FLOAT32)
    tolerance = rtol * (np.abs(expected) + magnitude) + 1e-300
    with np.errstate(invalid="ignore"):
        good = np.abs(got - expected) <= tolerance
    if not np.all(good):
        bad = int(np.sum(~good))
        finite = "" if np.all(np.isfinite(got)) else " (non-finite: overflow or underflow?)"
        return _Verdict("values", f"{bad} of {batch} rows disagree{finite}", expected, got,
                        tolerance)
    if case.dtype != dtype:
        return _Verdict("dtype", f"returned dtype {case.dtype} for {dtype} inputs", expected,
                        got, tolerance)
    return _Verdict("ok", "", expected, got, tolerance)


def _diagnose_values(name: str, examples: Sequence[Mapping[str, np.ndarray]],
                     results: Sequence[CaseResult]) -> str | None:
    """The known mistake whose outputs match the student's on every comparable case."""
    r = references()
    usable = [(e, c) for e, c in zip(examples, results)
              if c.ok and c.shape == (e[_arguments(name)[0]].shape[0],)]
    if len(usable) < max(3, len(examples) // 2):
        return None
    for mistake in mistakes(name):
        matches, compared = True, 0
        for example, case in usable:
            args = [example[a] for a in _arguments(name)]
            with np.errstate(all="ignore"):
                wrong = np.asarray(mistake.returns(*args), dtype=np.float64)
            got = np.asarray(case.out, dtype=np.float64)
            tolerance = _RTOL[name] * (np.abs(wrong) + getattr(r, name + "_magnitude")(*args))
            finite = np.isfinite(wrong)
            if not np.any(finite):
                continue
            compared += 1
            with np.errstate(invalid="ignore"):
                if not np.all(np.abs(got[finite] - wrong[finite]) <= tolerance[finite]):
                    matches = False
                    break
        if matches and compared >= 3:
            return mistake.feedback
    return None


def _shrink(ctx: _Context, strategy: Any, dtype: str) -> tuple[dict, _Verdict] | None:
    """A minimal failing input, shrunk by Hypothesis through single-case sandbox requests."""
    from hypothesis import HealthCheck, Phase, find, settings
    from hypothesis.errors import NoSuchExample

    name = ctx.spec.name
    deadline = time.monotonic() + ctx.settings.shrink_seconds
    state: dict[str, Any] = {"stop": False, "best": None}
    seen: dict[tuple, bool] = {}  # the same input always gets the same answer

    def fails(example: dict[str, np.ndarray]) -> bool:
        example = {k: np.array(v, dtype=np.float64) for k, v in example.items()}
        key = tuple((k, v.shape, v.tobytes()) for k, v in sorted(example.items()))
        if key in seen:
            return seen[key]
        if state["stop"] or time.monotonic() > deadline:
            return False  # out of time: unseen inputs count as passing, shrinking stops
        cases, arrays = _cases(name, [example], dtype=dtype)
        try:
            (case,) = ctx.session.call(ctx.modules, name, cases, arrays)
        except StudentCodeFailed as error:
            state["stop"] = True
            state["best"] = (example, _Verdict("error", str(error)))
            seen[key] = True
            return True
        verdict = _judge(name, example, case, dtype)
        seen[key] = verdict.kind not in ("ok", "dtype")  # dtype is the dtype property's business
        if seen[key]:
            state["best"] = (example, verdict)
        return seen[key]

    try:
        found = find(strategy, fails, settings=settings(
            max_examples=ctx.settings.examples, database=None, derandomize=True, deadline=None,
            phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck)))
    except NoSuchExample:
        return None
    except Exception:  # noqa: BLE001 - e.g. Hypothesis giving up: keep the last failure found
        return state["best"]
    example = {k: np.array(v, dtype=np.float64) for k, v in found.items()}
    if state["stop"]:
        return state["best"]
    cases, arrays = _cases(name, [example], dtype=dtype)
    try:
        (case,) = ctx.session.call(ctx.modules, name, cases, arrays)
    except StudentCodeFailed as error:
        return example, _Verdict("error", str(error))
    return example, _judge(name, example, case, dtype)


def _failure_text(ctx: _Context, example: Mapping[str, np.ndarray], verdict: _Verdict,
                  shrunk: bool) -> str:
    how = "minimal failing input (shrunk by Hypothesis)" if shrunk else "a failing input"
    text = f"{verdict.text}\n{how}:\n{_show_inputs(example)}"
    if verdict.expected is not None and verdict.kind in ("values", "dtype"):
        text += (f"\nexpected {_show(verdict.expected)} ({_REFERENCE_NAMES[ctx.spec.name]}),"
                 f"\ngot      {_show(verdict.got)};\ntolerance {_show(verdict.tolerance)}")
    return text


def _check_deterministic(ctx: _Context) -> dict[str, Outcome]:
    name = ctx.spec.name
    ordinary = _draw_examples(input_strategy(name), ctx.settings.examples)
    extreme = _draw_examples(input_strategy(name, extreme=True), ctx.settings.examples)
    probe = ordinary[0]
    cases, arrays = _cases(name, ordinary + extreme)
    more, more_arrays = _cases(name, [probe], start=len(cases), dtype="float32")
    cases += more
    arrays.update(more_arrays)
    try:
        results = ctx.session.call(ctx.modules, name, cases, arrays)
    except StudentCodeFailed as error:
        failed = _failed(str(error))
        return {"agreement": failed, "agreement_extreme": failed, "dtype": failed}
    n_ordinary, n_extreme = len(ordinary), len(extreme)
    outcomes: dict[str, Outcome] = {}
    ordinary_ok = True
    for key, group, offset, strategy in (
            ("agreement", ordinary, 0, input_strategy(name)),
            ("agreement_extreme", extreme, n_ordinary, input_strategy(name, extreme=True))):
        verdicts = [_judge(name, e, results[offset + i]) for i, e in enumerate(group)]
        agreeing = [v.kind in ("ok", "dtype") for v in verdicts]
        if all(agreeing):
            outcomes[key] = _passed(f"agrees with {_REFERENCE_NAMES[name]} on all {len(group)} "
                                    f"drawn inputs")
            continue
        count = len(group) - sum(agreeing)
        first = agreeing.index(False)
        if key == "agreement" or ordinary_ok:
            shrunk = _shrink(ctx, strategy, "float64")
        else:
            shrunk = None  # already explained on the ordinary inputs
        example, verdict = shrunk if shrunk else (group[first], verdicts[first])
        hint = _diagnose_values(name, group, results[offset:offset + len(group)])
        message = f"disagrees on {count} of {len(group)} drawn inputs."
        if hint:
            message += f" Likely mistake: {hint}."
        message += "\n" + _failure_text(ctx, example, verdict, shrunk is not None)
        outcomes[key] = _failed(message)
        if key == "agreement":
            ordinary_ok = False
    case64, case32 = results[0], results[n_ordinary + n_extreme]
    problems = []
    batch = probe[_arguments(name)[0]].shape[0]
    for case, dtype in ((case64, "float64"), (case32, "float32")):
        if not case.ok:
            problems.append(f"with {dtype} inputs it raised an error:\n{case.error}")
        elif case.out is None:
            problems.append(f"with {dtype} inputs it returned {case.info.get('type')}, not a "
                            f"torch.Tensor")
        elif case.dtype != dtype:
            problems.append(f"returns dtype {case.dtype} for {dtype} inputs (a cast such as "
                            f".float()/.double(), or a tensor created with a fixed dtype?)")
        elif case.shape != (batch,):
            width = probe[_arguments(name)[0]].shape[1]
            problems.append(_shape_feedback(case.shape, batch, width))
        elif dtype == "float32" and _judge(name, probe, case, "float32").kind != "ok":
            problems.append("with float32 inputs the values disagree beyond float32 accuracy")
    outcomes["dtype"] = (_failed("; ".join(problems)) if problems else
                         _passed("returns shape (batch,) and keeps float32 and float64"))
    return outcomes


# --------------------------------------------------------------------------------------------
# statistical helpers


def _ks_normal(values: np.ndarray, failure_prob: float, n_assertions: int = 1) -> Any:
    from scipy import stats

    from numerics.tolerance import check_distribution

    return check_distribution(values, stats.norm.cdf, failure_prob=failure_prob,
                              n_assertions=n_assertions)


def _binomial_interval(n: int, p: float, tail: float) -> tuple[float, float]:
    """[lo, hi] with P(C < lo) ≤ tail and P(C > hi) ≤ tail for C ~ Binomial(n, p)."""
    from scipy import stats

    if p <= 0.0:
        return 0.0, 0.0
    if p >= 1.0:
        return float(n), float(n)
    return float(stats.binom.ppf(tail, n, p)), float(stats.binom.isf(tail, n, p))


def _z(failure_prob: float, n_assertions: int = 1) -> float:
    from numerics.tolerance import z_quantile

    return z_quantile(failure_prob, n_assertions)


def _output(case: CaseResult,
            shape: tuple[int, ...] | None = None) -> tuple[np.ndarray | None, str]:
    """The case's output, or why there is none; checks the shape when given."""
    if not case.ok:
        return None, f"raised an error:\n{case.error}"
    if case.out is None:
        return None, f"returned {case.info.get('type')}, not a torch.Tensor"
    if shape is not None and case.shape != shape:
        return None, f"returned shape {case.shape}; expected {shape}"
    if not np.all(np.isfinite(case.out)):
        return None, "returned NaN or infinite values"
    return np.asarray(case.out, dtype=np.float64), ""


# --------------------------------------------------------------------------------------------
# sample_normal


_NORMAL_MU = np.array([0.0, 1.5, -3.0, 10.0, 0.2, -0.7])
_NORMAL_LOGVAR = np.array([0.0, -2.0, 2.0, 1.0, -6.0, 3.0])
_NORMAL_ROWS = 2000


def _check_sample_normal(ctx: _Context) -> dict[str, Outcome]:
    n = _NORMAL_ROWS
    mu, logvar = np.tile(_NORMAL_MU, (n, 1)), np.tile(_NORMAL_LOGVAR, (n, 1))
    small_mu, small_logvar = mu[:8], logvar[:8]
    cases = [
        {"args": [{"array": "mu"}, {"array": "logvar"}, {"generator": ctx.seed(1)}],
         "seed": ctx.seed(2)},
        {"args": [{"array": "small_mu", "grad": True}, {"array": "small_logvar", "grad": True},
                  {"generator": ctx.seed(3)}], "seed": ctx.seed(4), "grad": [0, 1]},
    ]
    try:
        law, grad = ctx.session.call(ctx.modules, "sample_normal", cases,
                                     {"mu": mu, "logvar": logvar, "small_mu": small_mu,
                                      "small_logvar": small_logvar})
    except StudentCodeFailed as error:
        return {"normal_law": _failed(str(error)), "reparameterized": _failed(str(error))}
    return {"normal_law": _normal_law(ctx, law, mu, logvar),
            "reparameterized": _reparameterized(grad, small_mu)}


def _normal_law(ctx: _Context, case: CaseResult, mu: np.ndarray, logvar: np.ndarray) -> Outcome:
    n, d = mu.shape
    z, why = _output(case, (n, d))
    if z is None:
        return _failed(why)
    alpha = ctx.settings.failure_prob
    scale = np.exp(logvar / 2)  # the definition of the parameter: σ² = exp(logvar)
    u = (z - mu) / scale
    columns = [_ks_normal(u[:, j], alpha / 2, n_assertions=d) for j in range(d)]
    pairs = [(a, b) for a in range(d) for b in range(a + 1, d)]
    with np.errstate(all="ignore"):
        correlation = np.nan_to_num(np.corrcoef(u.T))
    bound = _z(alpha / 2, len(pairs)) / math.sqrt(n)
    worst = max(pairs, key=lambda p: abs(correlation[p]))
    if all(columns) and abs(correlation[worst]) <= bound:
        return _passed(f"(z − μ)/exp(logvar/2) passes the KS test against N(0, 1) in each of "
                       f"{d} coordinates (n = {n}) and the coordinates are uncorrelated "
                       f"(|r| ≤ {bound:.3f}); false-failure probability {alpha:g}")
    if all(columns):
        return _failed(f"the coordinates are correlated (r = {correlation[worst]:.3f} between "
                       f"coordinates {worst}, bound {bound:.3f}): one ε shared by all "
                       f"coordinates of a row (ε of shape (batch, 1))? Each coordinate needs "
                       f"its own ε.")
    bad = [j for j, c in enumerate(columns) if not c]
    detail = "; ".join(f"coordinate {j} (μ = {mu[0, j]:g}, logvar = {logvar[0, j]:g}): "
                       f"{columns[j].message()}" for j in bad[:2])
    alternatives = (
        ("scales ε by exp(logvar), the variance; the standard deviation is exp(logvar/2)",
         mu, np.exp(logvar)),
        ("scales ε by logvar itself; the standard deviation is exp(logvar/2)", mu, logvar),
        ("ignores logvar (unit variance)", mu, np.ones_like(logvar)),
        ("divides ε by the standard deviation instead of multiplying", mu, np.exp(-logvar / 2)),
        ("ignores μ (the sample is centred at 0)", np.zeros_like(mu), scale),
    )
    hint = ""
    for feedback, location, spread in alternatives:
        with np.errstate(all="ignore"):
            v = (z - location) / spread
        if np.all(np.isfinite(v)) and all(_ks_normal(v[:, j], alpha / 2, d) for j in range(d)):
            hint = f" Likely mistake: it {feedback}."
            break
    sample_sd = np.std(z, axis=0, ddof=1)
    return _failed(f"the sample does not have the law N(μ, exp(logvar)).{hint}\nsample standard "
                   f"deviations {_show(sample_sd)} vs exp(logvar/2) = {_show(scale[0])}; sample "
                   f"means {_show(z.mean(axis=0))} vs μ = {_show(mu[0])}.\n{detail}")


def _reparameterized(case: CaseResult, mu: np.ndarray) -> Outcome:
    z, why = _output(case, mu.shape)
    if z is None:
        return _failed(why)
    if not case.info.get("requires_grad"):
        return _failed("the sample does not depend differentiably on μ and logvar (no "
                       "gradient: torch.normal, Normal(...).sample() or .detach() break the "
                       "reparameterization trick; use mu + exp(logvar/2)·ε)")
    problems = []
    grad_mu, grad_logvar = case.grads.get(0), case.grads.get(1)
    # z = μ + σ(logvar)·ε: ∂z/∂μ = 1 and ∂z/∂logvar = σ′ ε = (σ′/σ)(z − μ), a constant
    # multiple of z − μ in each coordinate (½ for σ = exp(logvar/2); the law checks the ½)
    if not isinstance(grad_mu, np.ndarray):
        problems.append("no gradient reaches μ")
    elif grad_mu.shape != mu.shape or not np.allclose(grad_mu, 1.0, rtol=1e-6, atol=1e-9):
        problems.append(f"∂Σz/∂μ = {_show(grad_mu)}, expected 1 everywhere")
    factor = None
    if not isinstance(grad_logvar, np.ndarray):
        problems.append("no gradient reaches logvar")
    elif grad_logvar.shape != mu.shape:
        problems.append(f"∂Σz/∂logvar has shape {grad_logvar.shape}")
    else:
        with np.errstate(all="ignore"):
            ratio = grad_logvar / (z - mu)
        factor = np.nanmedian(ratio, axis=0)
        if not np.allclose(grad_logvar, factor * (z - mu), rtol=1e-6, atol=1e-9) or \
                np.any(factor == 0):
            problems.append(f"∂Σz/∂logvar = {_show(grad_logvar)} is not proportional to "
                            f"z − μ = {_show(z - mu)}: the sample is not μ + (a function of "
                            f"logvar)·ε")
    if problems:
        return _failed("the sample is not reparameterized: " + "; ".join(problems))
    note = "" if np.allclose(factor, 0.5, rtol=1e-6) else (
        f" (∂z/∂logvar = {_show(factor)}·(z − μ), not ½(z − μ): the scale of ε is not "
        f"exp(logvar/2); see the law)")
    return _passed(f"gradients reach μ and logvar: ∂z/∂μ = 1 and ∂z/∂logvar ∝ z − μ{note}")


# --------------------------------------------------------------------------------------------
# sample_bernoulli


_BERNOULLI_Y = np.array([0.5, 0.1, 0.9, 0.01, 0.99, 0.3, 0.0, 1.0, 0.7])
_BERNOULLI_PAIRS = ((0, 5), (1, 2), (5, 8))
_BERNOULLI_ROWS = 4000


def _check_sample_bernoulli(ctx: _Context) -> dict[str, Outcome]:
    n, G = _BERNOULLI_ROWS, len(_BERNOULLI_Y)
    y = np.tile(_BERNOULLI_Y, (n, 1))
    cases = [{"args": [{"array": "y"}, {"generator": ctx.seed(5)}], "seed": ctx.seed(6)}]
    try:
        (case,) = ctx.session.call(ctx.modules, "sample_bernoulli", cases, {"y": y})
    except StudentCodeFailed as error:
        return {"binary": _failed(str(error)), "bernoulli_law": _failed(str(error))}
    x, why = _output(case, (n, G))
    if x is None:
        return {"binary": _failed(why), "bernoulli_law": _failed(why)}
    binary = np.isin(x, (0.0, 1.0))
    if not np.all(binary):
        hint = (" It returns the probabilities y themselves, not a sample."
                if np.allclose(x, y) else "")
        failed = _failed(f"returns values other than 0 and 1 (e.g. {x[~binary][:3]}).{hint}")
        return {"binary": failed, "bernoulli_law": failed}
    outcomes = {"binary": _passed("returns 0/1 values of shape (batch, G) in y's dtype")
                if case.dtype == "float64" else
                _failed(f"returns dtype {case.dtype} for float64 probabilities (convert the "
                        f"sample to y's dtype)")}
    alpha = ctx.settings.failure_prob
    tests = G + len(_BERNOULLI_PAIRS)
    tail = alpha / (2 * tests)

    def consistent(probabilities: np.ndarray) -> tuple[bool, str]:
        counts = x.sum(axis=0)
        for j, p in enumerate(probabilities):
            lo, hi = _binomial_interval(n, float(p), tail)
            if not lo <= counts[j] <= hi:
                return False, (f"pixel {j} (y = {_BERNOULLI_Y[j]:g}) is 1 in {int(counts[j])} "
                               f"of {n} rows; a Bernoulli(y) sampler gives [{lo:g}, {hi:g}] "
                               f"except with probability {2 * tail:.2g}")
        return True, ""

    ok, why = consistent(_BERNOULLI_Y)
    if ok:
        for a, b in _BERNOULLI_PAIRS:
            both = float(np.sum(x[:, a] * x[:, b]))
            p = float(_BERNOULLI_Y[a] * _BERNOULLI_Y[b])
            lo, hi = _binomial_interval(n, p, tail)
            if not lo <= both <= hi:
                ok, why = False, (f"pixels {a} and {b} are both 1 in {int(both)} rows; "
                                  f"independent pixels give [{lo:g}, {hi:g}]: the pixels are "
                                  f"not independent (one uniform shared by a row?)")
                break
    if ok:
        outcomes["bernoulli_law"] = _passed(
            f"each pixel's frequency of ones is in its exact binomial interval and pairs are "
            f"independent (n = {n}; false-failure probability {alpha:g})")
        return outcomes
    hint = ""
    if consistent(1 - _BERNOULLI_Y)[0]:
        hint = " Likely mistake: it compares u > y, so P(x = 1) = 1 − y (use u < y)."
    elif np.array_equal(x, np.tile((_BERNOULLI_Y > 0.5).astype(float), (n, 1))) or \
            np.array_equal(x, np.tile(np.round(_BERNOULLI_Y), (n, 1))):
        hint = " Likely mistake: it thresholds y at ½ instead of sampling."
    outcomes["bernoulli_law"] = _failed(f"the frequencies do not match y.{hint} {why}")
    return outcomes


# --------------------------------------------------------------------------------------------
# elbo_loss


@dataclass(frozen=True)
class _VaeFixture:
    x: np.ndarray  # (B, G) binary images
    enc_mean: tuple[np.ndarray, np.ndarray]
    enc_logvar: tuple[np.ndarray, np.ndarray]
    dec: tuple[np.ndarray, np.ndarray]

    def encoder(self, *args: Any, **arrays: Any) -> dict[str, np.ndarray]:
        (x,) = args or _lent_arguments(arrays, ("x",))
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.x.shape[1] or x.shape[0] > 10**6:
            raise ValueError(f"the encoder takes images of shape (batch, {self.x.shape[1]}), "
                             f"got {x.shape}")
        return {"r0": x @ self.enc_mean[0] + self.enc_mean[1],
                "r1": x @ self.enc_logvar[0] + self.enc_logvar[1]}

    def logits(self, z: np.ndarray) -> np.ndarray:
        return z @ self.dec[0] + self.dec[1]

    def decoder(self, *args: Any, **arrays: Any) -> dict[str, np.ndarray]:
        (z,) = args or _lent_arguments(arrays, ("z",))
        z = np.asarray(z, dtype=np.float64)
        if z.ndim != 2 or z.shape[1] != 2 or z.shape[0] > 10**6:
            raise ValueError(f"the decoder takes latents of shape (batch, 2), got {z.shape}")
        with np.errstate(over="ignore"):
            return {"r0": 1 / (1 + np.exp(-self.logits(z)))}


def _vae_fixture(seed: int) -> _VaeFixture:
    rng = np.random.default_rng(seed)
    B, G, k = 16, 12, 2
    return _VaeFixture(
        x=(rng.random((B, G)) < 0.4).astype(np.float64),
        enc_mean=(rng.normal(0, 0.5, (G, k)), rng.uniform(-1.0, 1.0, k)),
        enc_logvar=(rng.normal(0, 0.15, (G, k)), rng.uniform(-1.2, 0.3, k)),
        dec=(rng.normal(0, 1.0, (k, G)), rng.normal(0, 0.5, G)),
    )


def _hermite_grid(nodes: int, dims: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss–Hermite nodes and weights for E over N(0, I_dims) (probabilists' form)."""
    t, w = np.polynomial.hermite_e.hermegauss(nodes)
    w = w / math.sqrt(2 * math.pi)
    grids = np.meshgrid(*([t] * dims), indexing="ij")
    weights = np.prod(np.meshgrid(*([w] * dims), indexing="ij"), axis=0)
    return np.stack([g.ravel() for g in grids], axis=-1), weights.ravel()


def _elbo_terms(fixture: _VaeFixture) -> tuple[np.ndarray, np.ndarray]:
    """Per example: E_q[log p(x|z)] (quadrature) and KL(q‖N(0, I)) (derived)."""
    r = references()
    mu, logvar = fixture.encoder(fixture.x).values()
    t, w = _hermite_grid(40, 2)
    reconstruction = np.empty(len(fixture.x))
    for b, image in enumerate(fixture.x):
        z = mu[b] + np.exp(logvar[b] / 2) * t
        logits = fixture.logits(z)  # log p(x|z) in the logits: no log(0) far in the tails
        pixels = r.log_bernoulli_pixel_logits(np.broadcast_to(image, logits.shape), logits)
        reconstruction[b] = np.dot(w, pixels.sum(axis=-1))
    kl = r.kl_standard_normal_logvar(mu, logvar).sum(axis=-1)
    return reconstruction, kl


_ELBO_REPEATS = 300


def _z_test(values: np.ndarray, target: float, failure_prob: float) -> Any:
    from numerics.estimates import Estimate
    from numerics.tolerance import check_close

    return check_close(Estimate.from_samples(values), target, failure_prob=failure_prob)


def _detectable(values: np.ndarray, failure_prob: float) -> float:
    from numerics.tolerance import detectable_error

    return float(detectable_error(np.std(values, ddof=1) / math.sqrt(len(values)), failure_prob))


def _expectation_outcome(ctx: _Context, values: np.ndarray, target: float, what: str,
                         wrong: Sequence[tuple[str, float]]) -> Outcome:
    alpha = ctx.settings.failure_prob
    if np.std(values) <= 1e-12 * (1 + abs(float(np.mean(values)))):
        return _failed(f"returns the same value {values[0]:.6g} on every call: no noise is "
                       f"drawn (z or ε not sampled?); E[loss] = {target:.6g}")
    result = _z_test(values, target, alpha)
    power = _detectable(values, alpha)
    if result.passed:
        return _passed(f"its mean over {len(values)} calls, {np.mean(values):.5g}, matches "
                       f"{what} = {target:.5g} ({result.detail}; errors ≥ {power:.3g} are "
                       f"detected with probability ≥ ½)")
    hint = ""
    for feedback, value in wrong:
        if _z_test(values, value, alpha).passed:
            hint = f" Likely mistake: it {feedback}."
            break
    return _failed(f"its mean over {len(values)} calls does not match {what}.{hint}\n"
                   f"{result.detail}")


def _check_elbo(ctx: _Context) -> dict[str, Outcome]:
    fixture = _vae_fixture(ctx.seed(7))
    cases = [{"args": [{"array": "x"}, {"callback": "encoder", "outputs": 2},
                       {"callback": "decoder"}, {"generator": ctx.seed(8)}],
              "seed": ctx.seed(9), "repeat": _ELBO_REPEATS}]
    try:
        (case,) = ctx.session.call(ctx.modules, "elbo_loss", cases, {"x": fixture.x},
                                   callbacks={"encoder": fixture.encoder,
                                              "decoder": fixture.decoder})
    except StudentCodeFailed as error:
        return {"elbo_scalar": _failed(str(error)), "elbo_expectation": _failed(str(error))}
    values, why = _output(case)
    if values is None:
        return {"elbo_scalar": _failed(why), "elbo_expectation": _failed(why)}
    B = len(fixture.x)
    if case.shape != ():
        shape_hint = " (one value per example: average over the batch)" \
            if case.shape == (B,) else ""
        failed = _failed(f"returns shape {case.shape}; the loss is a scalar{shape_hint}")
        return {"elbo_scalar": failed, "elbo_expectation": failed}
    reconstruction, kl = _elbo_terms(fixture)
    elbo = reconstruction - kl  # E_q[log p(x|z) + log p(z) − log q(z|x)] per example
    target = -float(np.mean(elbo))
    wrong = (
        ("returns the ELBO itself; the loss to minimise is −ELBO", float(np.mean(elbo))),
        ("sums over the batch instead of averaging", -float(np.sum(elbo))),
        ("drops log p(z) − log q(z|x) (the KL part)", -float(np.mean(reconstruction))),
        ("adds the KL part with the wrong sign", -float(np.mean(reconstruction + kl))),
        ("averages over the pixels as well", -float(np.mean(reconstruction / fixture.x.shape[1]
                                                            - kl))),
    )
    return {"elbo_scalar": _passed("returns a scalar"),
            "elbo_expectation": _expectation_outcome(
                ctx, values, target, "−(E_q[log p(x|z)] − KL(q‖p(z))) averaged over the batch "
                                     "(Gauss–Hermite quadrature and the derived KL)", wrong)}


# --------------------------------------------------------------------------------------------
# the mixture behind Question 4


_MIXTURE_WEIGHTS = np.array([0.5, 0.3, 0.2])
_MIXTURE_MEANS = np.array([[-2.5, 0.0], [2.5, 0.5], [0.0, 3.0]])
_MIXTURE_STDS = np.array([0.5, 0.4, 0.6])


def _lent_arguments(arrays: Mapping[str, Any], names: Sequence[str]) -> list[Any]:
    """The arguments of a lent function, positional (a0, a1, ...) or by keyword (k_name)."""
    values = []
    for i, name in enumerate(names):
        value = arrays.get(f"a{i}", arrays.get(f"k_{name}"))
        if value is None:
            raise TypeError(f"missing argument {name!r}")
        values.append(value)
    if len(arrays) != len(names):
        raise TypeError(f"takes {len(names)} arguments ({', '.join(names)}), got {len(arrays)}")
    return values


def _mixture_score(*args: Any, **arrays: Any) -> dict[str, np.ndarray]:
    """The lent score(x, sigma): the derived score of the noised mixture."""
    if args:  # called directly by the harness
        arrays = {f"a{i}": a for i, a in enumerate(args)}
    x, sigma = _lent_arguments(arrays, ("x", "sigma"))
    x = np.asarray(x, dtype=np.float64)
    sigma = np.asarray(sigma, dtype=np.float64)
    if x.ndim != 2 or x.shape[1] != 2 or x.shape[0] > 10**6:
        raise ValueError(f"score takes points of shape (n, 2), got {x.shape}")
    if sigma.size == 1:
        sigma = sigma.reshape(())
    elif sigma.size == x.shape[0]:
        sigma = sigma.reshape(-1)
    else:
        raise ValueError(f"sigma must be a number or hold one value per point, got shape "
                         f"{sigma.shape} for {x.shape[0]} points")
    if np.any(~(sigma > 0)):
        raise ValueError("sigma must be positive")
    with np.errstate(all="ignore"):
        value = references().mixture_score(x, _MIXTURE_WEIGHTS, _MIXTURE_MEANS, _MIXTURE_STDS,
                                           sigma)
    return {"r0": value}


def _mixture_samples(rng: np.random.Generator, n: int, sigma: float = 0.0) -> np.ndarray:
    component = rng.choice(len(_MIXTURE_WEIGHTS), size=n, p=_MIXTURE_WEIGHTS)
    spread = np.sqrt(_MIXTURE_STDS[component] ** 2 + sigma**2)[:, None]
    return _MIXTURE_MEANS[component] + spread * rng.standard_normal((n, 2))


# --------------------------------------------------------------------------------------------
# dsm_loss


_DSM_LEVELS = np.array([0.1, 0.3, 1.0])
_DSM_BATCH = 24
_DSM_REPEATS = 200


def _dsm_expectations(x: np.ndarray, sigma: np.ndarray) -> dict[str, float]:
    """E over ε of the homework's loss (and of its known mistakes), by Gauss–Hermite."""
    t, w = _hermite_grid(30, 2)
    totals: dict[str, list[float]] = {}
    for point, level in zip(x, sigma):
        noisy = point + level * t
        score = _mixture_score(noisy, np.full(len(t), level))["r0"]
        norms = {  # the definition ½ λ(σ) ‖s(x + σε, σ) + ε/σ‖², λ(σ) = σ², and mutants of it
            "loss": 0.5 * level**2 * np.sum((score + t / level) ** 2, axis=-1),
            "lambda_sigma": 0.5 * level * np.sum((score + t / level) ** 2, axis=-1),
            "lambda_one": 0.5 * np.sum((score + t / level) ** 2, axis=-1),
            "noise_sign": 0.5 * level**2 * np.sum((score - t / level) ** 2, axis=-1),
            "noise_times": 0.5 * level**2 * np.sum((score + t * level) ** 2, axis=-1),
        }
        for key, values in norms.items():
            totals.setdefault(key, []).append(float(np.dot(w, values)))
    return {key: float(np.mean(values)) for key, values in totals.items()}


def _check_dsm(ctx: _Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(10))
    x = _mixture_samples(rng, _DSM_BATCH)
    sigma = np.resize(_DSM_LEVELS, _DSM_BATCH)
    cases = [{"args": [{"callback": "score"}, {"array": "x"}, {"array": "sigma"},
                       {"generator": ctx.seed(11)}], "seed": ctx.seed(12),
              "repeat": _DSM_REPEATS}]
    try:
        (case,) = ctx.session.call(ctx.modules, "dsm_loss", cases, {"x": x, "sigma": sigma},
                                   callbacks={"score": _mixture_score})
    except StudentCodeFailed as error:
        return {"dsm_scalar": _failed(str(error)), "dsm_expectation": _failed(str(error))}
    values, why = _output(case)
    if values is None:
        return {"dsm_scalar": _failed(why), "dsm_expectation": _failed(why)}
    if case.shape != ():
        failed = _failed(f"returns shape {case.shape}; the loss is a scalar"
                         + (" (one value per example: average over the batch)"
                            if case.shape == (_DSM_BATCH,) else ""))
        return {"dsm_scalar": failed, "dsm_expectation": failed}
    e = _dsm_expectations(x, sigma)
    wrong = (
        ("is missing the ½ in ½ λ(σ) ‖s + ε/σ‖²", 2 * e["loss"]),
        ("has the wrong sign of the noise term: ‖s(x̃, σ) − ε/σ‖² (the target is "
         "∇ log N(x̃; x, σ²) = −ε/σ, so the loss has + ε/σ)", e["noise_sign"]),
        ("weights by λ(σ) = σ instead of σ²", e["lambda_sigma"]),
        ("has no weighting λ(σ) = σ²", e["lambda_one"]),
        ("uses σ ε where ε/σ belongs", e["noise_times"]),
        ("sums over the batch instead of averaging", _DSM_BATCH * e["loss"]),
        ("averages over the two coordinates as well (sum them)", e["loss"] / 2),
    )
    return {"dsm_scalar": _passed("returns a scalar"),
            "dsm_expectation": _expectation_outcome(
                ctx, values, e["loss"], "E_ε[½ σ² ‖s(x + σε, σ) + ε/σ‖²] averaged over the "
                                        "batch (Gauss–Hermite quadrature, the derived "
                                        "noised-mixture score)", wrong)}


# --------------------------------------------------------------------------------------------
# langevin_step


_STEP_POINTS = 4000
_STEP_SIGMA = 0.5
_STEP_ALPHA = 0.05


def _check_langevin_step(ctx: _Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(13))
    x = _mixture_samples(rng, _STEP_POINTS, sigma=1.0)
    cases = [{"args": [{"callback": "score"}, {"array": "x"}, {"float": _STEP_SIGMA},
                       {"float": _STEP_ALPHA}, {"generator": ctx.seed(14)}],
              "seed": ctx.seed(15)}]
    try:
        (case,) = ctx.session.call(ctx.modules, "langevin_step", cases, {"x": x},
                                   callbacks={"score": _mixture_score})
    except StudentCodeFailed as error:
        return {"langevin_shape": _failed(str(error)), "langevin_law": _failed(str(error))}
    out, why = _output(case, x.shape)
    if out is None:
        return {"langevin_shape": _failed(why), "langevin_law": _failed(why)}
    shape = (_passed("returns x's shape (n, 2) and dtype") if case.dtype == "float64" else
             _failed(f"returns dtype {case.dtype} for float64 points"))
    r = references()
    score = _mixture_score(x, np.float64(_STEP_SIGMA))["r0"]
    mean = r.langevin_step(x, score, _STEP_ALPHA, 0.0)  # the update with ε = 0
    noise_scale = float(r.langevin_step(0.0, 0.0, _STEP_ALPHA, 1.0))  # ∂ update/∂ε = √(2α)
    residual = (out - mean) / noise_scale
    alpha = ctx.settings.failure_prob
    ks = _ks_normal(residual.ravel(), alpha / 3)
    with np.errstate(all="ignore"):
        correlation = float(np.corrcoef(residual[:, 0], residual[:, 1])[0, 1])
    correlation = correlation if math.isfinite(correlation) else 0.0
    bound = _z(alpha / 3) / math.sqrt(len(x))
    # given x the residuals are i.i.d. N(0, 1), so Σ r·s/‖s‖ ~ N(0, 1): a wrong drift shows
    drift_z = float(np.sum(residual * score) / math.sqrt(np.sum(score * score)))
    drift_bound = _z(alpha / 3)
    if ks.passed and abs(correlation) <= bound and abs(drift_z) <= drift_bound:
        return {"langevin_shape": shape, "langevin_law": _passed(
            f"the residuals (x′ − x − α s)/√(2α) of {len(x)} points pass the KS test against "
            f"N(0, 1), are uncorrelated with the score (z = {drift_z:.2f}) and between the "
            f"coordinates; false-failure probability {alpha:g}")}
    step = out - x
    drift = float(np.sum(step * score) / np.sum(score * score))  # regression on the score
    spread = float(np.std(step - drift * score))
    hints = []
    for value, feedback in ((-_STEP_ALPHA, "the drift has the wrong sign (x − α s)"),
                            (_STEP_ALPHA / 2, "the drift is α/2 · s (another step-size "
                                              "convention; the homework's is x + α s + √(2α) ε)"),
                            (0.0, "there is no drift term α s(x, σ)"),
                            (2 * _STEP_ALPHA, "the drift is 2α · s")):
        if abs(drift - value) < 0.15 * _STEP_ALPHA:
            hints.append(feedback)
    for value, feedback in ((math.sqrt(_STEP_ALPHA), "the noise is scaled by √α instead of "
                                                     "√(2α)"),
                            (_STEP_ALPHA, "the noise is scaled by α (missing square root of 2α)"),
                            (2 * _STEP_ALPHA, "the noise is scaled by 2α (missing square root)"),
                            (0.0, "there is no noise term √(2α) ε"),
                            (1.0, "the noise ε is not scaled by √(2α)"),
                            (math.sqrt(2 * _STEP_ALPHA) * _STEP_SIGMA, "the noise is "
                                                                      "scaled by σ√(2α)")):
        if abs(spread - value) < 0.08 * max(value, 0.02):
            hints.append(feedback)
    if ks.passed and abs(correlation) > bound:
        hints.append("the coordinates share one ε (shape (n, 1)); each needs its own")
    hint = f" Likely mistake: {'; '.join(hints)}." if hints else ""
    return {"langevin_shape": shape, "langevin_law": _failed(
        f"one step does not have the law N(x + α s(x, σ), 2α I).{hint}\nfitted drift "
        f"{drift:.4g}·s (expected α = {_STEP_ALPHA}), noise standard deviation {spread:.4g} "
        f"(expected √(2α) = {noise_scale:.4g}); {ks.message()}; residuals against the score "
        f"z = {drift_z:.2f} (bound {drift_bound:.2f}); correlation of the coordinates "
        f"{correlation:.3f} (bound {bound:.3f})")}


# --------------------------------------------------------------------------------------------
# annealed_langevin


_CHAINS = 1000
_LEVELS = np.geomspace(4.0, 0.1, 8)
_ETA = 0.1 * 0.1**2  # α_L = η: α_i/σ_i² = η/σ_L² = 0.1 at every level
_STEPS = 40
_START_BOX = 8.0


def _reference_sampler(x: np.ndarray, rng: np.random.Generator, *, noise: float = 1.0,
                       scaled: bool = True, order: slice = slice(None),
                       denoise: bool = False) -> np.ndarray:
    """The homework's annealed Langevin dynamics with the derived LANGEVIN_STEP (``noise``,
    ``scaled``, ``order`` and ``denoise`` make the known mistakes)."""
    r = references()
    levels = _LEVELS[order]
    for level in levels:
        step = _ETA * level**2 / _LEVELS[-1] ** 2 if scaled else _ETA
        for _ in range(_STEPS):
            score = _mixture_score(x, np.float64(level))["r0"]
            x = r.langevin_step(x, score, step, noise * rng.standard_normal(x.shape))
    if denoise:
        x = x + levels[-1] ** 2 * _mixture_score(x, np.float64(levels[-1]))["r0"]
    return x


@functools.lru_cache(maxsize=64)
def _ks_threshold(n: int, m: int, failure_prob: float) -> float:
    from numerics.twosample import ks_two_sample_threshold

    return ks_two_sample_threshold(n, m, failure_prob)


def _two_sample(a: np.ndarray, b: np.ndarray, failure_prob: float, seed: int) -> tuple[bool, str]:
    """Three calibrated comparisons, failure_prob split over them (Bonferroni)."""
    from scipy import stats

    from numerics.twosample import nearest_mode_counts, sliced_ks_test

    third = failure_prob / 3
    sliced = sliced_ks_test(a, b, failure_prob=third, rng=np.random.default_rng(seed))
    nearest = lambda p: np.min(  # noqa: E731 - squared distance to the nearest mode
        np.sum((p[:, None, :] - _MIXTURE_MEANS[None]) ** 2, axis=-1), axis=1)
    radial = stats.ks_2samp(nearest(a), nearest(b))
    radial_threshold = _ks_threshold(len(a), len(b), third)
    counts_a = nearest_mode_counts(a, _MIXTURE_MEANS) / len(a)
    counts_b = nearest_mode_counts(b, _MIXTURE_MEANS) / len(b)
    pooled = (counts_a * len(a) + counts_b * len(b)) / (len(a) + len(b))
    se = np.sqrt(pooled * (1 - pooled) * (1 / len(a) + 1 / len(b))) + 1e-12
    share_bound = _z(third, len(_MIXTURE_WEIGHTS))
    share_z = np.abs(counts_a - counts_b) / se
    passed = sliced.passed and radial.statistic <= radial_threshold and \
        bool(np.all(share_z <= share_bound))
    detail = (f"{sliced.message()}; squared distance to the nearest mode: KS {radial.statistic:.3g}"
              f" (threshold {radial_threshold:.3g}); mode shares {np.round(counts_a, 3)} vs "
              f"reference {np.round(counts_b, 3)} (largest |z| {share_z.max():.2f}, bound "
              f"{share_bound:.2f})")
    return passed, detail


def _check_annealed(ctx: _Context) -> dict[str, Outcome]:
    rng = np.random.default_rng(ctx.seed(16))
    start = rng.uniform(-_START_BOX, _START_BOX, (_CHAINS, 2))
    reference_start = rng.uniform(-_START_BOX, _START_BOX, (_CHAINS, 2))
    cases = [{"args": [{"callback": "score"}, {"array": "x"}, {"array": "sigmas"},
                       {"float": _ETA}, {"int": _STEPS}, {"generator": ctx.seed(17)}],
              "seed": ctx.seed(18)}]
    try:
        (case,) = ctx.session.call(ctx.modules, "annealed_langevin", cases,
                                   {"x": start, "sigmas": _LEVELS},
                                   callbacks={"score": _mixture_score})
    except StudentCodeFailed as error:
        return {"annealed_shape": _failed(str(error)), "annealed_law": _failed(str(error))}
    out, why = _output(case, start.shape)
    if out is None:
        return {"annealed_shape": _failed(why), "annealed_law": _failed(why)}
    shape = (_passed("returns x's shape (n, 2) and dtype") if case.dtype == "float64" else
             _failed(f"returns dtype {case.dtype} for float64 points"))
    alpha = ctx.settings.failure_prob
    reference = _reference_sampler(reference_start, np.random.default_rng(ctx.seed(19)))
    passed, detail = _two_sample(out, reference, alpha, ctx.seed(20))
    if passed:
        return {"annealed_shape": shape, "annealed_law": _passed(
            f"its {_CHAINS} samples are indistinguishable from a reference run of the "
            f"algorithm (false-failure probability {alpha:g}): {detail}")}
    hint = ""
    for feedback, options in (
            ("the noise is scaled by √α_i instead of √(2α_i)", {"noise": math.sqrt(0.5)}),
            ("the step size is η at every level; it is α_i = η σ_i²/σ_L²", {"scaled": False}),
            ("it runs the levels from the smallest σ to the largest", {"order": slice(None, None,
                                                                                      -1)}),
            ("it adds a final denoising step x + σ_L² s(x, σ_L) (not part of the homework's "
             "algorithm)", {"denoise": True})):
        mutant = _reference_sampler(reference_start, np.random.default_rng(ctx.seed(19)),
                                    **options)
        if np.all(np.isfinite(mutant)) and _two_sample(out, mutant, alpha, ctx.seed(20))[0]:
            hint = f" Likely mistake: {feedback}."
            break
    return {"annealed_shape": shape, "annealed_law": _failed(
        f"its samples differ from a reference run of annealed Langevin dynamics.{hint}\n"
        f"{detail}")}


# --------------------------------------------------------------------------------------------
# grading


@dataclass
class _Context:
    session: Session
    modules: list[str]
    spec: FunctionSpec
    settings: CheckSettings

    def seed(self, k: int) -> int:
        return (self.settings.seed * 1000 + k) % 2**63


_CHECKERS: dict[str, Callable[[_Context], dict[str, Outcome]]] = {
    "log_normal_diag": _check_deterministic,
    "log_bernoulli": _check_deterministic,
    "sample_normal": _check_sample_normal,
    "sample_bernoulli": _check_sample_bernoulli,
    "elbo_loss": _check_elbo,
    "dsm_loss": _check_dsm,
    "langevin_step": _check_langevin_step,
    "annealed_langevin": _check_annealed,
}


def _results(spec: FunctionSpec, outcomes: Mapping[str, Outcome]) -> list[CodeResult]:
    results = []
    for prop in spec.properties:
        outcome = outcomes.get(prop.check, _failed("not checked"))
        results.append(CodeResult(f"{spec.name}: {prop.name}",
                                  round(prop.points * outcome.fraction, 6), prop.points,
                                  outcome.message, spec.name, spec.part))
    return results


def check_function(session: Session, spec: FunctionSpec, modules: Sequence[str],
                   settings: CheckSettings | None = None) -> list[CodeResult]:
    """Grade one function of the modules loaded in ``session`` (one result per property)."""
    settings = settings or session.settings
    with _REFERENCES_LOCK:
        references()
    context = _Context(session, list(modules), spec, settings)
    try:
        outcomes = _CHECKERS[spec.name](context)
    except StudentCodeFailed as error:
        outcomes = {p.check: _failed(str(error)) for p in spec.properties}
    return _results(spec, outcomes)


def _missing(spec: FunctionSpec, why: str) -> list[CodeResult]:
    return _results(spec, {p.check: _failed(why) for p in spec.properties})


def _grade_group(files: Sequence[Path], specs: Sequence[FunctionSpec],
                 located: Mapping[str, list[str]], notes: Sequence[str],
                 settings: CheckSettings) -> list[CodeResult]:
    modules = [f.stem for f in files]
    results: list[CodeResult] = []
    with Session(files, settings) as session:
        for spec in specs:
            candidates = located.get(spec.name, [])
            if not candidates and not notes:
                results += _missing(spec, f"no function {spec.name} is defined in "
                                          f"{', '.join(f.name for f in files)} (expected "
                                          f"{spec.signature})")
                continue
            order = candidates + [m for m in modules if m not in candidates]
            try:
                results += check_function(session, spec, order, settings)
            except StudentCodeFailed as error:  # e.g. the sandbox could not start
                results += _missing(spec, str(error))
    return results


def _warm_up() -> None:
    """Import what the checks need (scipy.stats alone takes seconds on a busy machine)."""
    import hypothesis.extra.numpy  # noqa: F401
    import numerics.tolerance  # noqa: F401
    import numerics.twosample  # noqa: F401


def grade_code_submission(directory: str | Path, *, settings: CheckSettings | None = None,
                          specs: Sequence[FunctionSpec] = CODE_SPECS,
                          parallel: int = 2) -> list[CodeResult]:
    """Grade the Python files of a submission (a directory, or one ``.py`` file).

    Returns one :class:`CodeResult` per property of each function of ``specs``, in order.
    The functions run in ``parallel`` sandboxes (one per group: Question 2's and Question 4's
    functions), each started once and restarted only after a crash or a timeout.
    """
    settings = settings or CheckSettings()
    files = submission_files(directory)
    if not files:
        return [r for spec in specs for r in _missing(
            spec, "the submission holds no Python file (*.py with a module name)")]
    located, notes = locate_functions(files)
    groups: list[list[FunctionSpec]] = [[s for s in specs if s.part == "2"],
                                        [s for s in specs if s.part != "2"]]
    groups = [g for g in groups if g]
    if parallel <= 1:
        groups = [[s for g in groups for s in g]]
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        futures = [pool.submit(_grade_group, files, g, located, notes, settings)
                   for g in groups]
        with _REFERENCES_LOCK:  # derive and import while the sandboxes import torch
            references()
        _warm_up()
        by_name: dict[str, list[CodeResult]] = {}
        for future in futures:
            for result in future.result():
                by_name.setdefault(result.function, []).append(result)
    ordered = [r for spec in specs for r in by_name.get(spec.name, [])]
    if notes:
        ordered = [CodeResult(r.name, r.score, r.max_score, r.output + "\nNote: "
                              + "; ".join(notes), r.function, r.part) if r.score < r.max_score
                   else r for r in ordered]
    return ordered
