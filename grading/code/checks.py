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
                                  refused_files, submission_files)
from grading.code.profiles import Profile, detect_profile, load_profile, resolve
from grading.code.spec import FunctionSpec, references

__all__ = [
    "CodeGrade",
    "CodeResult",
    "CheckSettings",
    "Session",
    "StudentCodeFailed",
    "check_function",
    "grade_code",
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
                   settings: CheckSettings | None = None, *, function: str = "",
                   siblings: Sequence[FunctionSpec] = ()) -> list[CodeResult]:
    """Grade one function of the modules loaded in ``session`` (one result per property);
    ``function`` is the name to call (``Class.method``; the spec's location by default) and
    ``siblings`` the other functions of its profile (lent to a stand-in ``self``).

    Never raises for the submission's sake: if its code fails, or the checker cannot use a
    reply it got (any exception of the checker once the submission has answered), every
    property of this function fails with the reason, and the other functions keep their
    grades. An exception before any answer is the grader's own (its settings, say): raised."""
    settings = settings or session.settings
    with _REFERENCES_LOCK:
        references()
    context = Context(session, list(modules), spec, settings, function, tuple(siblings))
    answered = session.replies
    try:
        outcomes = _CHECKERS[spec.check](context)
    except StudentCodeFailed as error:
        outcomes = {p.check: failure(str(error)) for p in spec.properties}
    except Exception as error:  # noqa: BLE001 - a reply the checker could not use
        if session.replies == answered:
            raise
        session.close()  # the next function starts from a fresh sandbox
        why = f"the grader could not use the submission's reply ({_summary(error)})"
        outcomes = {p.check: failure(why) for p in spec.properties}
    return _results(spec, outcomes)


def _summary(error: BaseException) -> str:
    """The exception's type and the first line of its message, short; never a traceback."""
    try:
        lines = str(error).strip().splitlines()
    except Exception:  # noqa: BLE001 - a message that cannot be shown
        lines = []
    text = type(error).__name__ + (f": {lines[0]}" if lines else "")
    return text if len(text) <= 200 else text[:197] + "..."


def _missing(spec: FunctionSpec, why: str) -> list[CodeResult]:
    return _results(spec, {p.check: failure(why) for p in spec.properties})


@dataclass(frozen=True)
class CodeGrade:
    """A graded code submission: one result per property, the profile used and notes (what
    was stubbed, which top-level code was not run, files that do not parse)."""

    results: list[CodeResult]
    profile: str
    notes: tuple[str, ...] = ()

    @property
    def score(self) -> float:
        return sum(r.score for r in self.results)

    @property
    def max_score(self) -> float:
        return sum(r.max_score for r in self.results)


def _grade_group(files: Sequence[Path], specs: Sequence[FunctionSpec],
                 all_specs: Sequence[FunctionSpec], located: Mapping[str, list[str]],
                 notes: Sequence[str], settings: CheckSettings
                 ) -> tuple[list[CodeResult], dict[str, list[str]]]:
    modules = [f.stem for f in files]
    results: list[CodeResult] = []
    with Session(files, settings) as session:
        for spec in specs:
            found = resolve(spec, located)
            if found is None and not notes:
                results += _missing(spec, f"no function {spec.location} is defined in "
                                          f"{', '.join(f.name for f in files)} (expected "
                                          f"{spec.signature})")
                continue
            name, candidates = found or (spec.location, [])
            order = candidates + [m for m in modules if m not in candidates]
            try:
                results += check_function(session, spec, order, settings, function=name,
                                          siblings=all_specs)
            except StudentCodeFailed as error:  # e.g. the sandbox could not start
                results += _missing(spec, str(error))
        load_notes = dict(session.load_notes)
    return results, load_notes


def _warm_up() -> None:
    """Import what the checks need (scipy.stats alone takes seconds on a busy machine)."""
    import hypothesis.extra.numpy  # noqa: F401
    import numerics.tolerance  # noqa: F401
    import numerics.twosample  # noqa: F401


def grade_code(directory: str | Path, *, settings: CheckSettings | None = None,
               profile: Profile | str | Path | None = None, parallel: int = 2,
               specs: Sequence[FunctionSpec] | None = None) -> CodeGrade:
    """Grade the Python files of a submission (a directory, or one ``.py`` file).

    ``profile``: a :class:`Profile`, a built-in profile's name or a TOML file; by default
    the one whose functions the files define (:func:`detect_profile`). Returns one
    :class:`CodeResult` per property of each function of the profile, in order. The
    functions run in ``parallel`` sandboxes (one per question), each started once and
    restarted only after a crash or a timeout. ``specs``: grade these functions only.
    """
    from grading.isolation import serialise_ast_parse

    serialise_ast_parse()  # CPython 3.11's ast.parse race (gh-106905)
    settings = settings or CheckSettings()
    if specs is not None:
        profile = Profile("custom", "the given functions", tuple(specs))
    files = submission_files(directory)
    chosen = load_profile(profile) if isinstance(profile, (str, Path)) else profile
    if not files:
        chosen = chosen or load_profile("genverify")
        return CodeGrade([r for spec in chosen.functions for r in _missing(
            spec, "the submission holds no Python file (*.py with a module name)")],
            chosen.name, ("no Python file",))
    located, notes = locate_functions(files)
    notes = [*refused_files(directory), *notes]
    if chosen is None:
        chosen, why = detect_profile(located)
    else:
        why = f"profile {chosen.name} ({chosen.title}), as asked"
    specs = chosen.functions
    parts = sorted({s.part for s in specs})
    groups = [[s for s in specs if s.part == part] for part in parts]
    if parallel <= 1:
        groups = [list(specs)]
    with ThreadPoolExecutor(max_workers=len(groups)) as pool:
        futures = [pool.submit(_grade_group, files, g, specs, located, notes, settings)
                   for g in groups]
        with _REFERENCES_LOCK:  # derive and import while the sandboxes import torch
            references()
        _warm_up()
        by_name: dict[str, list[CodeResult]] = {}
        load_notes: dict[str, list[str]] = {}
        for future in futures:
            results, loaded = future.result()
            for result in results:
                by_name.setdefault(result.function, []).append(result)
            for module, items in loaded.items():
                load_notes.setdefault(module, list(items))
    ordered = [r for spec in specs for r in by_name.get(spec.name, [])]
    all_notes = [why, *notes, *(n for module in sorted(load_notes) for n in load_notes[module])]
    if notes:
        ordered = [CodeResult(r.name, r.score, r.max_score, r.output + "\nNote: "
                              + "; ".join(notes), r.function, r.part) if r.score < r.max_score
                   else r for r in ordered]
    return CodeGrade(ordered, chosen.name, tuple(all_notes))


def grade_code_submission(directory: str | Path, *, settings: CheckSettings | None = None,
                          specs: Sequence[FunctionSpec] | None = None,
                          profile: Profile | str | Path | None = None,
                          parallel: int = 2) -> list[CodeResult]:
    """The results of :func:`grade_code`."""
    return grade_code(directory, settings=settings, profile=profile, parallel=parallel,
                      specs=specs).results
