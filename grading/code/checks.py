"""Grade students' code: the checks of ``grading.code.spec``, run against a sandboxed submission.

The harness draws the inputs, derives the references and decides; the student's functions run
only in a :class:`grading.code.sandbox.Sandbox` (see ``grading/code/runner.py``), and their
results come back as plain float64 arrays, compared with NumPy. The checks themselves live by
question: :mod:`grading.code.vae_checks` (Question 2) and :mod:`grading.code.diffusion_checks`
(Question 4); each graded property spends a stated false-failure probability
(``CheckSettings.failure_prob``, default 1e-6: ≤ 8e-6 over a whole correct submission), and
every draw is seeded from ``CheckSettings.seed``, so a grade is reproducible.

Entry points: :func:`grade_code_submission` (a directory or file) and :func:`check_function`
(one function of modules already loaded in a :class:`Session`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from grading.code import diffusion_checks, vae_checks
from grading.code.context import Context, Outcome, failure
from grading.code.session import (CheckSettings, Session, StudentCodeFailed, locate_functions,
                                  submission_files)
from grading.code.spec import CODE_SPECS, FunctionSpec, references

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

_REFERENCES_LOCK = threading.Lock()
_CHECKERS: dict[str, Callable[[Context], dict[str, Outcome]]] = {
    **vae_checks.CHECKERS, **diffusion_checks.CHECKERS}


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




def _results(spec: FunctionSpec, outcomes: Mapping[str, Outcome]) -> list[CodeResult]:
    results = []
    for prop in spec.properties:
        outcome = outcomes.get(prop.check, failure("not checked"))
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
    context = Context(session, list(modules), spec, settings)
    try:
        outcomes = _CHECKERS[spec.name](context)
    except StudentCodeFailed as error:
        outcomes = {p.check: failure(str(error)) for p in spec.properties}
    return _results(spec, outcomes)


def _missing(spec: FunctionSpec, why: str) -> list[CodeResult]:
    return _results(spec, {p.check: failure(why) for p in spec.properties})


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
