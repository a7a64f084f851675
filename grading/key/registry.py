"""The answer key: a registry of questions, each with its points, its reference and its checker.

A :class:`Question` has an id (``"1.h"``), points, a prompt, a checker kind (:data:`KINDS`), a
reference *taken from* :mod:`derivations` (a :class:`Reference` names an exported closed form
or a derivation and applies it to the question's symbols — the answer is never retyped here),
the symbols' assumptions (σ > 0, probabilities in (0, 1), ...), and the feedback and partial
credit for known mistakes (:class:`KnownMistake`). Grading an answer gives a :class:`Result`.

The registry follows ``torch.distributions.kl.register_kl``: a private dict, a public
:func:`register_question` (a function, or a decorator over a zero-argument builder that runs on
first lookup) and a public lookup :func:`question`. Checkers are registered per kind the same
way (:func:`register_checker`), so staff can add a kind. Staff add their own questions from
Python or from a TOML file (:func:`load_questions`; format in its docstring).

Untrusted text: answers only ever reach the safe parser (:func:`grading.answers.parse.parse_answer`)
and the equivalence engine (:func:`grading.answers.equivalence.check_equivalence`), which runs each
check under a deadline in a forked worker. A TOML reference names a module of
:data:`derivations.MODULES` and a public attribute of it; nothing else is imported.

Source of the design: the homework's contract in ``HOMEWORK.md`` (parts, points, kinds) and
``DESIGN.md`` (Grading).
"""

from __future__ import annotations

import functools
import importlib
import re
import threading
import tomllib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from enum import Enum
from pathlib import Path
from typing import Any

import sympy as sp

from grading.isolation import run_isolated

__all__ = [
    "Answer",
    "KINDS",
    "AnswerKeyError",
    "KnownMistake",
    "Option",
    "Question",
    "Reference",
    "Result",
    "Status",
    "checker",
    "grade",
    "load_questions",
    "question",
    "questions",
    "register_checker",
    "register_question",
    "total_points",
    "unregister_question",
]

KINDS = ("expression", "number", "choice", "yes/no", "structured", "derivation", "manual",
         "code")
TIMEOUT = 4.0  # seconds per equivalence check (the engine's default)

Answer = str | Sequence[str]  # an answer string, or the lines of a derivation


class AnswerKeyError(ValueError):
    """A malformed question, an unknown part id, or a reference that cannot be resolved."""


class Status(str, Enum):
    """The outcome of grading one part."""

    CORRECT = "correct"
    PARTIAL = "partial"
    INCORRECT = "incorrect"
    UNDECIDED = "undecided"
    UNPARSABLE = "unparsable"
    MANUAL = "manual"
    MISSING = "missing"

    @property
    def exit_code(self) -> int:
        """0 correct; 1 not (partial, incorrect, missing); 2 undecided, unreadable or manual."""
        if self is Status.CORRECT:
            return 0
        if self in (Status.PARTIAL, Status.INCORRECT, Status.MISSING):
            return 1
        return 2


@dataclass(frozen=True)
class Result:
    """The grade of one part: points out of ``max_points``, the status and the feedback.

    ``read_as`` shows how the answer was read (normalised LaTeX); ``detail`` holds the
    counterexample, the first invalid line or the reason a check could not decide; ``line`` is
    the 1-based line of a multi-line answer that fails; ``mistake`` names a recognised mistake.
    """

    part: str
    status: Status
    points: float
    max_points: float
    feedback: str
    read_as: str | None = None
    detail: str = ""
    mistake: str | None = None
    line: int | None = None

    @property
    def exit_code(self) -> int:
        return self.status.exit_code

    @property
    def automatic(self) -> bool:
        """False for a part a person grades (a figure): its points are pending."""
        return self.status is not Status.MANUAL

    def to_dict(self) -> dict[str, Any]:
        return {"part": self.part, "status": self.status.value, "points": self.points,
                "max_points": self.max_points, "feedback": self.feedback,
                "read_as": self.read_as, "detail": self.detail, "mistake": self.mistake,
                "line": self.line}


# ----------------------------------------------------------------------------------------------
# references: taken from derivations, applied to the question's symbols

_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(_[A-Za-z0-9]+)*(\^\*)?$")
_SOURCE = re.compile(r"^derivations\.([a-z_][a-z0-9_]*):([A-Za-z][A-Za-z0-9_]*)$")


@dataclass(frozen=True)
class Reference:
    """A reference answer taken from :mod:`derivations`.

    ``source`` is ``"derivations.MODULE:NAME"``: an UPPER_CASE export (a ``sympy.Lambda``),
    applied to ``arguments``; or a ``@derivation`` builder, of which ``pick`` takes the
    ``"result"`` (default) or the ``"start"`` (its first expression). Each argument is a name of
    the question (``"mu_phi"``; an ``IndexedBase`` where the Lambda takes one), LaTeX parsed by
    the safe parser (``"p_{data}(x)"``), a SymPy object, or a callable of the namespace.
    ``transform(expr, namespace)`` rewrites the result (e.g. into a model's tables).
    ``latex`` instead of ``source``: a staff-written reference, parsed by the safe parser;
    ``builder(namespace)`` (Python only): a function that builds the reference from
    derivations (a count read off a derived density, a structured problem).
    """

    source: str | None = None
    arguments: tuple[Any, ...] = ()
    pick: str = "result"
    transform: Callable[[sp.Basic, Any], sp.Basic] | None = None
    latex: str | None = None
    label: str = ""
    builder: Callable[[Any], Any] | None = None

    def __post_init__(self) -> None:
        if sum(x is not None for x in (self.source, self.latex, self.builder)) != 1:
            raise AnswerKeyError("a reference has one of: a source in derivations, a builder, "
                            "a latex text")
        if self.source is not None and not _SOURCE.match(self.source):
            raise AnswerKeyError(f"a reference source is 'derivations.MODULE:NAME', not "
                            f"{self.source!r}")
        if self.pick not in ("result", "start"):
            raise AnswerKeyError(f"pick is 'result' or 'start', not {self.pick!r}")

    def describe(self) -> str:
        return self.label or self.source or getattr(self.builder, "__name__", "") or \
            "the key's LaTeX"

    def build(self, namespace: Any) -> sp.Basic:
        """The reference expression with the question's symbols (see the class docstring)."""
        if self.latex is not None:
            from grading.answers.parse import parse_answer

            value = parse_answer(self.latex, namespace=namespace)
        elif self.builder is not None:
            value = self.builder(namespace)
        else:
            value = self._from_derivations(namespace)
        if self.transform is not None:
            value = self.transform(value, namespace)
        return align(value, namespace) if isinstance(value, sp.Basic) else value

    def _from_derivations(self, namespace: Any) -> sp.Basic:
        target = _resolve_source(self.source)
        if isinstance(target, sp.Lambda):
            variables = target.variables
            if len(variables) != len(self.arguments):
                raise AnswerKeyError(f"{self.source} takes {len(variables)} arguments "
                                f"({', '.join(map(str, variables))}), not {len(self.arguments)}")
            values = [_argument(argument, variable, namespace)
                      for argument, variable in zip(self.arguments, variables)]
            return target(*values)
        from derivations.core import Derivation

        built = target() if callable(target) else target
        if not isinstance(built, Derivation):
            raise AnswerKeyError(f"{self.source} is neither a closed form (Lambda) nor a "
                                 "derivation")
        value = built.result if self.pick == "result" else built.steps[0].expr
        if self.arguments:
            if len(built.args) != len(self.arguments):
                raise AnswerKeyError(f"{self.source} has arguments {built.args}")
            value = value.xreplace({variable: _argument(argument, variable, namespace)
                                    for argument, variable in zip(self.arguments, built.args)})
        return value


def align(expr: sp.Basic, namespace: Any) -> sp.Basic:
    """The question's own objects in a derived expression: every undefined function, and every
    symbol the question declares, rebuilt by the namespace (``D`` in (0, 1), ``p_data`` > 0),
    so the key and a parsed answer use the same objects."""
    from sympy.core.function import AppliedUndef

    functions = {a.func for a in expr.atoms(AppliedUndef)}
    if functions:
        rebuilt = {f: namespace.function(f.__name__) for f in functions}
        expr = expr.replace(lambda e: isinstance(e, AppliedUndef) and e.func in rebuilt,
                            lambda e: rebuilt[e.func](*e.args))
    declared = {s: namespace.symbol(s.name) for s in expr.free_symbols
                if isinstance(s, sp.Symbol) and s.name in namespace.assumptions}
    return expr.xreplace(declared) if declared else expr


def _resolve_source(source: str) -> Any:
    """The object ``derivations.MODULE:NAME`` names; only modules of the package are imported."""
    import derivations

    match = _SOURCE.match(source)
    if match is None:
        raise AnswerKeyError(f"cannot resolve {source!r}")
    module_name, name = match.groups()
    if module_name not in derivations.MODULES and module_name != "core":
        raise AnswerKeyError(f"derivations.{module_name} is not a module of the package "
                        f"({', '.join(derivations.MODULES)})")
    module = importlib.import_module(f"derivations.{module_name}")
    try:
        return getattr(module, name)
    except AttributeError:
        raise AnswerKeyError(f"derivations.{module_name} has no {name}") from None


def _argument(argument: Any, variable: sp.Basic, namespace: Any) -> sp.Basic:
    if callable(argument) and not isinstance(argument, sp.Basic):
        return argument(namespace)
    if isinstance(argument, sp.Basic):
        return argument
    if not isinstance(argument, str):
        raise AnswerKeyError(f"an argument is a name, LaTeX or a SymPy object, not {argument!r}")
    if _IDENTIFIER.match(argument):
        if isinstance(variable, sp.IndexedBase):
            return namespace.indexed_base(argument)
        return namespace.symbol(argument)
    from grading.answers.parse import parse_answer

    return parse_answer(argument, namespace=namespace)


# ----------------------------------------------------------------------------------------------
# questions


@dataclass(frozen=True)
class KnownMistake:
    """Feedback and partial credit for a known mistake.

    ``name`` is a mistake the engine diagnoses (:data:`grading.answers.feedback.MISTAKES`, e.g.
    ``"sign_flipped"``) or one of the key's own; for the key's own, ``wrong(reference)`` builds
    the wrong answer from the reference (never typed). ``credit`` is the fraction of the points.
    """

    name: str
    credit: float = 0.0
    feedback: str = ""
    wrong: Callable[[sp.Basic], sp.Basic] | None = None

    def __post_init__(self) -> None:
        if not 0.0 <= self.credit <= 1.0:
            raise AnswerKeyError(f"credit for {self.name!r} is a fraction in [0, 1]")


@dataclass(frozen=True)
class Option:
    """One option of a choice question: its label (``"3"``), its text, an expression an answer
    may write for it (LaTeX, read by the safe parser with the question's names), words that
    select it, whether it is correct, and the derivation that backs (or refutes) it."""

    label: str
    text: str
    latex: str = ""
    words: tuple[str, ...] = ()
    correct: bool = False
    evidence: str = ""


@dataclass(frozen=True, eq=False)
class Question:
    """One part of the homework (or a staff question): see the module docstring.

    Kind-specific fields: ``accept`` (other accepted forms of the reference), ``options`` and
    ``select`` (choice), ``expected`` (yes/no), ``start``, ``relation`` and ``steps_required``
    (derivation: the expression the first line must equal, the relation the chain must
    establish, whether a bare final answer is enough), ``model`` (a
    :class:`grading.key.steps.Model` giving integrals, expectations and densities a finite
    meaning), ``rubric`` (manual). ``aliases`` maps a name an answer may use to the key's name
    (``yhat`` → ``y``).
    """

    id: str
    points: float
    prompt: str
    kind: str
    reference: Reference | None = None
    accept: tuple[Reference, ...] = ()
    assumptions: Mapping[str, object] = field(default_factory=dict)
    aliases: Mapping[str, str] = field(default_factory=dict)
    functions: tuple[str, ...] | None = None
    mistakes: tuple[KnownMistake, ...] = ()
    options: tuple[Option, ...] = ()
    select: int = 1
    expected: str | None = None
    start: Reference | None = None
    relation: str = "="
    steps_required: bool = False
    bare_answer_credit: float = 0.5
    model: Any = None
    default_upper: str | None = None
    divergence_pair: tuple[str, str] | None = None  # what a bare \mathrm{JSD} compares
    rubric: str = ""
    evidence: tuple[str, ...] = ()
    explanation: str = ""
    # yes/no: the reasons the key accepts with the expected answer (regular expressions, one
    # must match the explanation; none given: any explanation), and for the other answer the
    # explanations that earn partial credit (pattern, credit, feedback)
    reasons: tuple[str, ...] = ()
    hedges: tuple[tuple[str, float, str], ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in _CHECKERS and self.kind not in KINDS:
            raise AnswerKeyError(f"{self.id}: unknown kind {self.kind!r}; expected one of "
                                 f"{KINDS}")
        if not self.points > 0:
            raise AnswerKeyError(f"{self.id}: points must be positive")
        needs_reference = self.kind in ("expression", "number", "structured", "derivation")
        if needs_reference and self.reference is None:
            raise AnswerKeyError(f"{self.id}: a {self.kind} question needs a reference")
        if self.kind == "choice" and not any(option.correct for option in self.options):
            raise AnswerKeyError(f"{self.id}: a choice question needs a correct option")
        if self.kind == "yes/no" and self.expected not in ("yes", "no"):
            raise AnswerKeyError(f"{self.id}: a yes/no question's expected answer is 'yes' or "
                                 "'no'")

    # -- the names of the question ------------------------------------------------------

    @functools.cached_property
    def base_namespace(self) -> Any:
        """The question's names without its aliases (the key's own objects are built here)."""
        from grading.answers.notation import Namespace

        return Namespace(self.assumptions, None, self.functions,
                         divergence_pair=self.divergence_pair)

    @functools.cached_property
    def namespace(self) -> Any:
        """The :class:`grading.answers.notation.Namespace` answers are read with (aliases included)."""
        from grading.answers.notation import Namespace

        if not self.aliases:
            return self.base_namespace
        return Namespace(self.assumptions, self.symbols, self.functions,
                         divergence_pair=self.divergence_pair)

    @functools.cached_property
    def symbols(self) -> dict[str, sp.Basic]:
        """Aliases as ready objects: ``yhat`` → the ``IndexedBase`` ``y`` of the key."""
        base = self.base_namespace
        indexed = {str(b.label) for b in self.reference_expr.atoms(sp.IndexedBase)} \
            if isinstance(self.reference_expr, sp.Basic) else set()
        resolved: dict[str, sp.Basic] = {}
        for alias, name in self.aliases.items():
            if name in indexed:
                resolved[alias] = base.indexed_base(name)
            elif base.is_function(name):
                resolved[alias] = base.function(name)
            else:
                resolved[alias] = base.symbol(name)
        return resolved

    @functools.cached_property
    def reference_expr(self) -> Any:
        """The reference, built on first use (derivations are derived lazily)."""
        return self.reference.build(self.base_namespace) if self.reference is not None else None

    @functools.cached_property
    def _accepted(self) -> tuple[tuple[str, Any], ...]:
        forms = [(self.reference.describe(), self.reference_expr)]
        forms += [(other.describe(), other.build(self.namespace)) for other in self.accept]
        return tuple(forms)

    def accepted(self) -> list[tuple[str, Any]]:
        """Every accepted form: the reference first, then ``accept``; as (label, object)."""
        return list(self._accepted)

    def credit_for(self, mistake: str | None) -> KnownMistake | None:
        return next((m for m in self.mistakes if m.name == mistake), None)

    def grade(self, answer: Answer | None) -> Result:
        return grade(self, answer)


# ----------------------------------------------------------------------------------------------
# the registries

_QUESTIONS: dict[str, Question | Callable[[], Question]] = {}
_CHECKERS: dict[str, Callable[[Question, Answer], Result]] = {}
_LOADERS: list[Callable[[], None]] = []  # register the built-in questions, run once on lookup
_LAZY_CHECKERS: dict[str, Callable[[], None]] = {}  # kind -> registers that kind's checker


def register_question(question_or_builder: Question | Callable[[], Question], *,
                      replace_existing: bool = False) -> Any:
    """Register a question; returns its argument, so it also works as a decorator.

    A :class:`Question` is registered at once; a zero-argument builder (``@register_question``
    over ``def q_1h() -> Question``) is registered under its function name with the
    ``q_`` prefix dropped and dots for underscores unless it sets ``question_id``, and built on
    first lookup.
    """
    if isinstance(question_or_builder, Question):
        part = question_or_builder.id
    elif callable(question_or_builder):
        part = getattr(question_or_builder, "question_id", None) or \
            question_or_builder.__name__.removeprefix("q_").replace("_", ".")
        question_or_builder = functools.cache(question_or_builder)
    else:
        raise AnswerKeyError(f"register a Question or a builder, not {question_or_builder!r}")
    if part in _QUESTIONS and not replace_existing:
        raise AnswerKeyError(f"a question {part!r} is already registered "
                        "(pass replace_existing=True to replace it)")
    _QUESTIONS[part] = question_or_builder
    return question_or_builder


def unregister_question(part: str) -> None:
    """Remove a question (staff replacing a built-in one; tests)."""
    _QUESTIONS.pop(part, None)


def register_loader(loader: Callable[[], None]) -> Callable[[], None]:
    """Register a function that registers questions, run once before the first lookup.

    This is how a key (the built-in homework's, in :mod:`grading.key`) joins the registry
    without the registry importing it: registration is explicit and lazy.
    """
    _LOADERS.append(loader)
    return loader


def register_lazy_checker(kind: str, loader: Callable[[], None]) -> None:
    """Register a function that registers the checker of ``kind``, run on its first use."""
    _LAZY_CHECKERS[kind] = loader


def _load_builtin() -> None:
    while _LOADERS:
        _LOADERS.pop(0)()


def question(part: str) -> Question:
    """The registered question ``part`` (the homework's are registered on first lookup)."""
    _load_builtin()
    entry = _QUESTIONS.get(part)
    if entry is None:
        known = ", ".join(_QUESTIONS) or "none"
        raise AnswerKeyError(f"no question {part!r} in the key (known: {known})")
    built = entry if isinstance(entry, Question) else entry()
    if built.id != part:
        raise AnswerKeyError(f"the builder registered as {part!r} builds question {built.id!r}")
    return built


def questions(prefix: str = "") -> tuple[Question, ...]:
    """Every registered question whose id starts with ``prefix``, in registration order."""
    _load_builtin()
    return tuple(question(part) for part in list(_QUESTIONS) if part.startswith(prefix))


def total_points(prefix: str = "") -> float:
    return sum(q.points for q in questions(prefix))


def register_checker(kind: str) -> Callable[[Callable[[Question, Answer], Result]],
                                            Callable[[Question, Answer], Result]]:
    """Decorator registering the checker of a kind: ``(question, answer) -> Result``."""

    def decorator(function: Callable[[Question, Answer], Result]) -> Callable[..., Result]:
        _CHECKERS[kind] = function
        return function

    return decorator


def checker(kind: str) -> Callable[[Question, Answer], Result]:
    """The checker of ``kind`` (structured and derivation checkers load on first use)."""
    if kind not in _CHECKERS and kind in _LAZY_CHECKERS:
        _LAZY_CHECKERS.pop(kind)()
    try:
        return _CHECKERS[kind]
    except KeyError:
        raise AnswerKeyError(f"no checker for kind {kind!r}") from None


_GRADED: dict[tuple[int, str, Any], tuple[Question, Result]] = {}  # seeded: a repeat is the same


def grade(part: str | Question, answer: Answer | None) -> Result:
    """Grade ``answer`` to ``part``; a missing answer scores 0, a manual part is pending.

    Checks are deterministic (seeded random points), so a repeated (question, answer) is
    answered from a cache.
    """
    q = part if isinstance(part, Question) else question(part)
    key = (id(q), q.id, answer if isinstance(answer, str) or answer is None else
           tuple(str(line) for line in answer))
    if key not in _GRADED:  # the question is kept alive with its result: its id stays unique
        _GRADED[key] = (q, _grade(q, answer))
    return _GRADED[key][1]


def _grade(q: Question, answer: Answer | None) -> Result:
    if q.kind in ("manual",) or (q.kind == "code" and "code" not in _CHECKERS):
        return _manual(q)
    if answer is None or (isinstance(answer, str) and not answer.strip()) or \
            (not isinstance(answer, str) and not any(str(line).strip() for line in answer)):
        return Result(q.id, Status.MISSING, 0.0, q.points, "no answer was given")
    if not isinstance(answer, str):
        if not all(isinstance(line, str) for line in answer):
            return Result(q.id, Status.UNPARSABLE, 0.0, q.points,
                          "an answer is a string or a list of strings (lines)")
    run = checker(q.kind)
    try:
        return run(q, answer)
    except AnswerKeyError:
        raise  # the key itself is broken: the staff must see it
    except Exception as error:  # noqa: BLE001 - one odd answer must not stop a submission
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      "the checker failed on this answer; a person will look at it", None,
                      f"{type(error).__name__}: {error}")


def _manual(q: Question) -> Result:
    rubric = f" Rubric: {q.rubric}" if q.rubric else ""
    return Result(q.id, Status.MANUAL, 0.0, q.points,
                  f"graded by a person (a figure or code); pending.{rubric}")


# ----------------------------------------------------------------------------------------------
# the adapter to the parser and the equivalence engine


def parse(q: Question, text: str) -> sp.Basic:
    """Read an answer with the question's names (raises :class:`grading.answers.parse.ParseError`)."""
    from grading.answers.parse import parse_answer

    return parse_answer(text, namespace=q.namespace, default_upper=q.default_upper)


def equivalence(q: Question, reference: sp.Basic, answer: str | sp.Basic, *,
                feedback: bool = True) -> Any:
    """:func:`grading.answers.equivalence.check_equivalence` with the question's names."""
    from grading.answers.equivalence import check_equivalence

    assumptions = dict(q.assumptions)
    if q.model is not None:
        assumptions.update(q.model.table_assumptions())
    isolation = "none" if contained_here() else "worker"  # no fork inside a contained check
    return check_equivalence(reference, answer, assumptions=assumptions,
                             symbols=q.symbols or None, functions=q.functions,
                             timeout=TIMEOUT, feedback=feedback, isolation=isolation)


def join_text(answer: Answer) -> str:
    return answer if isinstance(answer, str) else "\n".join(answer)


_WHITESPACE = re.compile(r"\s+")


def tidy(text: str) -> str:
    """Untrusted text made safe for this package's regular expressions: at most
    :data:`grading.answers.limits.MAX_LENGTH` characters (else a ``ParseError``), and every run of
    whitespace one character (a newline if it held one), so no pattern can backtrack over a
    long run."""
    from grading.answers.limits import check_length

    check_length(text)
    return _WHITESPACE.sub(lambda m: "\n" if "\n" in m.group(0) else " ", text)


# -- checks that read the answer themselves run in a forked process ---------------------------

_containment = threading.local()


def contained_here() -> bool:
    """Whether this thread runs inside a contained check (see :func:`contained`)."""
    return getattr(_containment, "active", False)


def contained(q: Question, answer: Answer, check: Callable[[Question, Answer], Result], *,
              read: Callable[[Question, Answer], None] | None = None,
              engine_checks: int = 0) -> Result:
    """``check(q, answer)`` in a forked process, under a deadline and a memory cap.

    Checkers that parse the answer themselves (choice, structured, an expression read through
    a model) run here, so a hostile answer (a power tower whose exact value has billions of
    digits) stops its own part, never the grader. With ``read``, the answer is first only read
    there within :data:`TIMEOUT` s; the check then gets :data:`TIMEOUT` s for itself and for
    each of its ``engine_checks`` calls of the equivalence engine, which run in the same process.
    Only plain JSON data comes back (:func:`grading.isolation.run_isolated`).
    """
    if contained_here():
        return check(q, answer)
    _prepare(q)
    if read is not None:
        status, reply = _run_child(_in_child(read, q, answer), TIMEOUT)
        if status != "ok":
            return _unreadable(q, status, reply)
        _raise_key_error(reply)
    budget = TIMEOUT * (1 + engine_checks)
    status, reply = _run_child(_in_child(check, q, answer), budget)
    if status == "timeout" and read is not None:
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      f"the check took longer than {budget:g} s; a person will look at it")
    if status != "ok":
        return _unreadable(q, status, reply)
    _raise_key_error(reply)
    return _result_from(q, reply)


def _run_child(run: Callable[[], dict[str, Any]], seconds: float) -> tuple[str, Any]:
    """``run()`` in a fresh forked process; a reply that is not valid JSON (a child killed
    while it wrote) is a failure like any other."""
    try:
        return run_isolated(run, timeout=seconds, isolation="process")
    except (ValueError, OSError):
        return "failed", None


def _prepare(q: Question) -> None:
    """The key's side, built in this process before a fork, so no child builds it again and
    a broken key fails here, where the staff see it."""
    importlib.import_module("grading.answers.parse")  # the readers, once before any fork
    if q.reference is not None:
        q.accepted()
    q.symbols  # noqa: B018 - a cached property: built here, inherited by every child
    if q.options:
        _option_forms(q)


def _in_child(function: Callable[[Question, Answer], Result | None], q: Question,
              answer: Answer) -> Callable[[], dict[str, Any]]:
    """What the forked child runs: ``function(q, answer)`` as JSON-able data."""

    def run() -> dict[str, Any]:
        _containment.active = True
        try:
            value = function(q, answer)
        except AnswerKeyError as error:  # the key is broken: the parent raises it
            return {"key_error": str(error)}
        finally:
            _containment.active = False
        return {"result": value.to_dict() if isinstance(value, Result) else None}

    return run


def _raise_key_error(reply: Any) -> None:
    if isinstance(reply, dict) and isinstance(reply.get("key_error"), str):
        raise AnswerKeyError(reply["key_error"])


def _unreadable(q: Question, status: str, reason: Any) -> Result:
    """The result of an answer whose reading (or check) ran out of time or memory."""
    if status == "timeout":
        why = f"the answer could not be read within {TIMEOUT:g} s"
    elif isinstance(reason, str) and ("memory" in reason or "signal" in reason):
        why = "the answer could not be read within the memory limit of a check"
    elif isinstance(reason, str) and "recursed" in reason:
        why = "the answer is nested too deeply to read"
    else:
        why = "the checker failed on this answer"
    return Result(q.id, Status.UNDECIDED, 0.0, q.points, f"{why}; a person will look at it")


def _result_from(q: Question, reply: Any) -> Result:
    """The :class:`Result` a child sent as JSON, checked field by field."""
    data = reply.get("result") if isinstance(reply, dict) else None
    try:
        line = data["line"]
        return Result(q.id, Status(data["status"]),
                      min(max(float(data["points"]), 0.0), q.points), q.points,
                      str(data["feedback"]), _optional_text(data["read_as"]),
                      str(data["detail"]), _optional_text(data["mistake"]),
                      line if isinstance(line, int) and not isinstance(line, bool) else None)
    except (TypeError, KeyError, ValueError):
        return _unreadable(q, "failed", None)


def _optional_text(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _points(q: Question, fraction: float) -> float:
    return round(q.points * fraction, 4)


def verdict_result(q: Question, verdicts: Sequence[Any], read_as: str | None = None,
                   wrong_forms: Iterable[tuple[KnownMistake, sp.Basic]] = (),
                   answer: str | sp.Basic | None = None) -> Result:
    """A :class:`Result` from the engine's verdicts on each accepted form (first = reference).

    Equivalent to any accepted form: correct. Otherwise a known mistake of the key (by the
    engine's diagnosis, or by matching a wrong form built from the reference) gives its
    partial credit and feedback; an undecided check or a parse error gives 0 points and says
    why, with exit status 2.
    """
    from grading.answers.equivalence import Kind

    first = verdicts[0]
    read_as = read_as or first.answer_latex
    equivalent = next((v for v in verdicts if v.kind is Kind.EQUIVALENT), None)
    if equivalent is not None:
        return Result(q.id, Status.CORRECT, q.points, q.points, "correct", read_as,
                      equivalent.method)
    if first.kind is Kind.PARSE_ERROR:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points, first.reason, None,
                      f"position {first.position}")
    if any(v.kind is Kind.UNDECIDED for v in verdicts):
        undecided = next(v for v in verdicts if v.kind is Kind.UNDECIDED)
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      "could not decide automatically; a person will look at it", read_as,
                      undecided.reason)
    named = first.mistake.name if first.mistake is not None else None
    message = first.mistake.message if first.mistake is not None else ""
    if answer is not None:
        for known, wrong in wrong_forms:
            check = equivalence(q, wrong, answer, feedback=False)
            if check.kind is Kind.EQUIVALENT:
                named, message = known.name, known.feedback or _SLIP_MESSAGES.get(known.name, "")
                break
    known = q.credit_for(named)
    detail = first.reason
    if known is not None:
        feedback = known.feedback or message
        status = Status.PARTIAL if known.credit > 0 else Status.INCORRECT
        return Result(q.id, status, _points(q, known.credit), q.points, feedback, read_as,
                      detail, named)
    feedback = message or "not equivalent to the reference"
    return Result(q.id, Status.INCORRECT, 0.0, q.points, feedback, read_as, detail, named)


# ----------------------------------------------------------------------------------------------
# the built-in checkers


@register_checker("expression")
def check_expression(q: Question, answer: Answer) -> Result:
    """An expression answer against every accepted form; named mistakes give partial credit.

    The engine reads the text in its worker; where a model gives densities and expectations
    their finite meaning the answer is read here, so that check runs in a forked process
    (:func:`contained`)."""
    if q.model is not None:
        return contained(q, answer, _check_through_model, read=_parse_only,
                         engine_checks=len(q.accepted()) + len(q.mistakes) + _TERM_CHECKS)
    text = join_text(answer)
    forms = q.accepted()
    wrong_forms = [(m, m.wrong(forms[0][1])) for m in q.mistakes if m.wrong is not None]
    verdicts = _verdicts(q, forms, text)
    return verdict_result(q, verdicts, None, wrong_forms, text)


def _parse_only(q: Question, answer: Answer) -> None:
    """Read the answer and drop it (the first, time-limited stage of a contained check)."""
    from grading.answers.parse import ParseError

    try:
        parse(q, join_text(answer))
    except ParseError:
        pass  # the check itself reports it


def _check_through_model(q: Question, answer: Answer) -> Result:
    """An expression answer read with the question's model (see :func:`check_expression`):
    densities and expectations get the model's finite meaning."""
    from grading.answers.parse import ParseError, render_latex

    text = join_text(answer)
    forms = q.accepted()
    wrong_forms = [(m, m.wrong(forms[0][1])) for m in q.mistakes if m.wrong is not None]
    try:
        parsed = parse(q, text)
    except ParseError as error:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points,
                      f"could not read the answer: {error}", None,
                      f"position {error.position}")
    read_as = render_latex(parsed)
    model = q.model.bind(q.namespace)
    try:
        rewritten = model.rewrite(parsed)
    except ValueError as error:
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      f"could not interpret the answer: {error}", read_as)
    meant = [(label, model.rewrite(form)) for label, form in forms]
    changed = rewritten != parsed or any(a[1] != b[1] for a, b in zip(meant, forms))
    if changed:  # the engine's general diagnosis would evaluate the model's sums for
        # every candidate mistake: only the slips this key gives credit for are tried
        wrong_forms += [(m, _SLIP_REWRITES[m.name](forms[0][1])) for m in q.mistakes
                        if m.wrong is None and m.name in _SLIP_REWRITES]
        from grading.answers.feedback import term_mistakes

        wrong_forms += [(_with_message(q.credit_for(name), message) or
                         KnownMistake(name, 0.0, message), form)
                        for name, message, form in term_mistakes(forms[0][1])][:_TERM_CHECKS]
    wrong_forms = [(m, model.rewrite(w)) for m, w in wrong_forms]
    verdicts = _verdicts(q, meant, rewritten, feedback=not changed)
    return verdict_result(q, verdicts, read_as, wrong_forms, rewritten)


_TERM_CHECKS = 8  # mistakes inside one term tried on a model's answer (each an engine check)


def _with_message(known: KnownMistake | None, message: str) -> KnownMistake | None:
    """The key's credit for a mistake, with the engine's words when the key has none."""
    return replace(known, feedback=known.feedback or message) if known is not None else None

_SLIP_MESSAGES = {
    "sign_flipped": "The sign is flipped: the answer is the negative of the correct one.",
    "factor_two": "Off by a factor of 2: the answer is twice the correct one.",
    "factor_half": "Off by a factor of 1/2: the answer is half the correct one.",
}
_SLIP_REWRITES: dict[str, Callable[[sp.Basic], sp.Basic]] = {
    "sign_flipped": lambda r: -r,
    "factor_two": lambda r: 2 * r,
    "factor_half": lambda r: r / 2,
}


def _verdicts(q: Question, forms: Sequence[tuple[str, sp.Basic]],
              answer: str | sp.Basic, *, feedback: bool = True) -> list[Any]:
    from grading.answers.equivalence import Kind

    verdicts = [equivalence(q, forms[0][1], answer, feedback=feedback)]
    if verdicts[0].kind in (Kind.EQUIVALENT, Kind.PARSE_ERROR):
        return verdicts
    for _, form in forms[1:]:
        verdicts.append(equivalence(q, form, answer, feedback=False))
        if verdicts[-1].kind is Kind.EQUIVALENT:
            break
    return verdicts


_LEADING_NUMBER = re.compile(r"^\s*\$?\s*([+-]?\d{1,12}(?:\.\d{1,12})?)(?!\d|\.\d)\s*\$?\s*(.*)$",
                             re.DOTALL)


@register_checker("number")
def check_number(q: Question, answer: Answer) -> Result:
    """A number first (``"2"``, ``"2: only the mean ..."``); the explanation is kept for a
    person to read."""
    from grading.answers.parse import ParseError

    try:
        text = tidy(join_text(answer))
    except ParseError as error:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points, str(error))
    match = _LEADING_NUMBER.match(text)
    if match is None:  # "The output dimension is 2.": the number of the sentence
        from grading.answers.surface import extract_math, normalise

        try:
            math, _, _ = extract_math(normalise(text).text)
        except ParseError as error:
            return Result(q.id, Status.UNPARSABLE, 0.0, q.points, str(error))
        match = _LEADING_NUMBER.match(math) if math != text else None
    number, explanation = (match.group(1), match.group(2)) if match is not None else \
        (None, text)
    if number is None:  # "The encoder outputs 2 numbers, because ... $\mu \in \mathbb{R}^2$"
        numbers = _sentence_numbers(text)
        if len(numbers) > 1:
            return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                          f"the answer gives several numbers ({', '.join(numbers[:4])}): "
                          "which one is meant is for a person to decide")
        number = numbers[0] if numbers else None
    if number is None:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points,
                      "could not read a number at the start of the answer")
    whole, _, fraction = number.lstrip("+-").partition(".")
    value = sp.Rational(int(whole + fraction), 10 ** len(fraction))
    if number.startswith("-"):
        value = -value
    reference = q.reference_expr
    explanation = explanation.strip(" :;,.-—")
    note = f" Explanation (for a person to read): {explanation}" if explanation else ""
    if value == reference:
        return Result(q.id, Status.CORRECT, q.points, q.points, "correct." + note, str(value))
    known = q.credit_for(next((m.name for m in q.mistakes if m.wrong is not None
                               and m.wrong(reference) == value), None))
    if known is not None:
        return Result(q.id, Status.PARTIAL if known.credit else Status.INCORRECT,
                      _points(q, known.credit), q.points, known.feedback + note, str(value),
                      mistake=known.name)
    return Result(q.id, Status.INCORRECT, 0.0, q.points, f"{value} is not the answer.{note}",
                  str(value))


_IN_SENTENCE = re.compile(r"(?<![\w.^_\\])(\d{1,12}(?:\.\d{1,12})?)(?![\w.]*\d)(?!\s*[\^_])")
_NOT_AN_ANSWER = re.compile(r"(?:eq|eqn|equation|fig|figure|question|problem|part|section|"
                            r"step|line|option|page)\.?[~\s]*(?:\(\s*)?$", re.IGNORECASE)


def _sentence_numbers(text: str) -> list[str]:
    """The distinct numbers of the first sentence that has one: outside formulas (not the 2 of
    ``\\mathbb{R}^2``), or a formula that is only a number (``$2$``); not "Eq. 1" or "Figure 2"."""
    for sentence in re.split(r"(?<=[.!?;])\s+", text):
        numbers: list[str] = []
        for piece in re.split(r"(\$[^$]*\$)", sentence):
            if piece.startswith("$") and piece.endswith("$") and len(piece) > 1:
                inner = re.sub(r"\\(?:boxed|fbox)\s*\{([^{}]*)\}", r"\1", piece[1:-1]).strip()
                if re.fullmatch(r"\d{1,12}(?:\.\d{1,12})?", inner):
                    numbers.append(inner)
                continue
            numbers += [m.group(1) for m in _IN_SENTENCE.finditer(piece)
                        if not _NOT_AN_ANSWER.search(piece[:m.start()])]
        if numbers:
            return list(dict.fromkeys(numbers))
    return []


_YES = frozenset({"yes", "y", "true", "same", "equivalent"})
_NO = frozenset({"no", "n", "false", "different", "not"})
_FIRST_WORD = re.compile(r"^\W*([A-Za-z]+)")


@register_checker("yes/no")
def check_yes_no(q: Question, answer: Answer) -> Result:
    """The first word is yes or no; the rest is an explanation kept for a person."""
    from grading.answers.parse import ParseError

    try:
        text = tidy(join_text(answer))
    except ParseError as error:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points, str(error))
    match = _FIRST_WORD.match(text)
    word = match.group(1).lower() if match else ""
    said = "yes" if word in _YES else "no" if word in _NO else None
    if said is None:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points,
                      "the answer should start with yes or no")
    explanation = text[match.end():].strip(" :;,.-—") if match else ""
    note = f" Explanation (for a person to read): {explanation}" if explanation else ""
    accepted = [m.group(0) for r in q.reasons
                if (m := re.search(rf"\w*(?:{r})\w*", explanation, re.IGNORECASE))]
    if said == q.expected:
        if q.reasons and not accepted:
            return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                          f"{said} is the expected answer, but the key needs a reason it can "
                          f"recognise ({q.explanation}); a person will read the explanation."
                          f"{note}", said)
        return Result(q.id, Status.CORRECT, q.points, q.points,
                      f"correct ({said}).{note}", said)
    if accepted:  # the other answer, with the expected answer's reason: a person decides
        return Result(q.id, Status.UNDECIDED, 0.0, q.points,
                      f"the answer says {said}, but its explanation gives a reason for "
                      f"{q.expected} ({accepted[0]}); a person will read it.{note}", said)
    for pattern, credit, feedback in q.hedges:
        if re.search(pattern, explanation, re.IGNORECASE):
            return Result(q.id, Status.PARTIAL, _points(q, credit), q.points,
                          f"the answer is {q.expected}, not {said}: {feedback}.{note}", said)
    known = q.credit_for("wrong_choice")
    credit = known.credit if known is not None else 0.0
    why = q.explanation or (known.feedback if known is not None else "")
    return Result(q.id, Status.PARTIAL if credit else Status.INCORRECT, _points(q, credit),
                  q.points, f"the answer is {q.expected}, not {said}. {why}{note}".strip(), said)


_OPTION_NUMBER = re.compile(r"^\s*(?:option\s*)?[(\[]?\s*(\d{1,3})\s*[)\]]?\s*[:.,\-=]?\s*(.*)$",
                            re.DOTALL | re.IGNORECASE)
_SEPARATORS = re.compile(r"\s*(?:;|,|\band\b|\n)\s*", re.IGNORECASE)


def _normalise_words(text: str) -> str:
    return re.sub(r"[\s\-_$\\{}]+", "", text.lower())


@register_checker("choice")
def check_choice(q: Question, answer: Answer) -> Result:
    """Options by number, by expression or by words; a number paired with another option's
    expression is incorrect. With ``select > 1``, each correct option earns its share and each
    wrong one cancels a share. The answer is read in a forked process (:func:`contained`)."""
    return contained(q, answer, _choose)


def _choose(q: Question, answer: Answer) -> Result:
    """The choice check itself (see :func:`check_choice`)."""
    from grading.answers.parse import ParseError

    try:
        answer = tidy(answer) if isinstance(answer, str) else [tidy(item) for item in answer]
    except ParseError as error:
        return Result(q.id, Status.UNPARSABLE, 0.0, q.points, str(error))
    groups = _numbered_groups(answer) if isinstance(answer, str) else None
    if groups is not None:
        return _choose_numbered(q, groups)
    if isinstance(answer, str):
        items = [answer] if q.select == 1 else \
            [item for item in _CLAUSES.split(answer) if item.strip()]
    else:  # a list: one option per element
        items = [item for item in answer if item.strip()]
    chosen: list[Option] = []
    for item in items:
        options, problem = _read_clause(q, item) if q.select > 1 and isinstance(answer, str) \
            else _read_option(q, item)
        if problem is not None:
            status = Status.UNPARSABLE if options is None else Status.INCORRECT
            return Result(q.id, status, 0.0, q.points, problem, item.strip())
        for option in options if isinstance(options, list) else [options]:
            if option not in chosen:
                chosen.append(option)
    return _score_choice(q, chosen)


_CLAUSES = re.compile(r"\s*(?:;|\n|\.\s+(?=[A-Z$\\]))\s*")


def _read_clause(q: Question, clause: str) -> tuple[list[Option] | None, str | None]:
    """The options one clause of an answer names (``KL ≥ 0, with equality iff p = q``: the
    pieces split at commas and "and"; a piece that names no option explains its neighbour)."""
    options: list[Option] = []
    unread: list[str] = []
    for piece in _SEPARATORS.split(clause):
        if not piece.strip(" .,:$"):
            continue
        option, problem = _read_option(q, piece)
        if problem is not None and option is not None:
            return [option], problem  # a number paired with another option's expression
        if option is None:
            unread.append(piece.strip())
        elif option not in options:
            options.append(option)
    if not options:
        return None, f"could not tell which option {clause.strip()!r} means"
    return options, None


_MARK = re.compile(r"(?:\\boxed\s*\{\s*)?(?<![\w\\])(?:option\s*)?"
                   r"(?:\(\s*(\d{1,3})\s*\)|(?<![(\d])(\d{1,3})\)(?=\s|$))", re.IGNORECASE)
_NEGATED = re.compile(r"(?:\bnot|\brather than|\binstead of|\bunlike)\s*(?:option\s*)?$",
                      re.IGNORECASE)
_FILLER = re.compile(r"^[\s,;:.\-–}$]*(?:and|&|or|both|as well as)?[\s,;:.\-–}$]*$", re.IGNORECASE)


def _numbered_groups(answer: str) -> list[tuple[list[str], str, list[str]]] | None:
    """An answer that starts with an option number, ``(1) and (2): ...`` or ``(1) KL ≥ 0,
    with equality iff p = q; (2) ...``, as groups: the numbers, the words that follow them
    (which describe those numbers and no other), and the numbers written after a negation
    (``(3), not (1)``: named, not chosen). None when the answer does not start with one."""
    marks = [mark for mark in _MARK.finditer(answer)
             if mark.group(1) or _depth(answer[:mark.start()]) == 0]  # not "N(0, 1)"
    if not marks or answer[:marks[0].start()].strip(" \t\n$*:"):
        return None
    groups: list[tuple[list[str], str, list[str]]] = []
    numbers: list[str] = []
    negated: list[str] = []
    for index, mark in enumerate(marks):
        end = marks[index + 1].start() if index + 1 < len(marks) else len(answer)
        words = answer[mark.end():end]
        before = answer[marks[index - 1].end():mark.start()] if index else ""
        label = mark.group(1) or mark.group(2)
        if _NEGATED.search(before.rstrip(" \t$")):
            negated.append(label)
        else:
            numbers.append(label)
        if _FILLER.match(words) and index + 1 < len(marks):
            continue  # "(1) and (2): ...": the words after the last number describe all
        groups.append((numbers, words, negated))
        numbers, negated = [], []
    return groups


def _depth(text: str) -> int:
    """Open parentheses in ``text`` (option marks ``1)`` do not close any)."""
    text = re.sub(r"(?<![(\d])\d{1,3}\)", "", text)
    return text.count("(") - text.count(")")


def _choose_numbered(q: Question, groups: list[tuple[list[str], str, list[str]]]) -> Result:
    """Options chosen by number; the words after the numbers may name only those options."""
    by_label = {o.label: o for o in q.options}
    chosen: list[Option] = []
    for numbers, words, negated in groups:
        for number in numbers + negated:
            if number not in by_label:
                return Result(q.id, Status.UNPARSABLE, 0.0, q.points,
                              f"there is no option ({number})", f"({number})")
        named = []
        for piece in _SEPARATORS.split(words):
            option = (_option_by_expression(q, piece) or _option_by_words(q, piece)) \
                if piece.strip(" .,;:$") else None
            if option is not None and option.label not in negated:
                named.append(option)
        stray = [o for o in named if o.label not in numbers]
        if numbers and stray:
            first = by_label[numbers[0]]
            return Result(q.id, Status.INCORRECT, 0.0, q.points,
                          f"option ({first.label}) is {first.text}, but the answer writes "
                          f"{stray[0].text}, which is option ({stray[0].label}): the two do not "
                          "match", f"({first.label})")
        for number in numbers:
            if by_label[number] not in chosen:
                chosen.append(by_label[number])
    return _score_choice(q, chosen)


def _score_choice(q: Question, chosen: list[Option]) -> Result:
    """The points of the chosen options (see :func:`check_choice`)."""
    labels = ", ".join(f"({o.label})" for o in chosen)
    right = [o for o in chosen if o.correct]
    wrong = [o for o in chosen if not o.correct]
    if q.select == 1:
        if len(chosen) == 1 and right:
            return Result(q.id, Status.CORRECT, q.points, q.points, "correct", labels)
        correct = ", ".join(f"({o.label}) {o.text}" for o in q.options if o.correct)
        extra = "choose one option; " if len(chosen) > 1 else ""
        return Result(q.id, Status.INCORRECT, 0.0, q.points, f"{extra}the answer is {correct}",
                      labels)
    earned = max(0, min(len(right), q.select) - len(wrong))
    fraction = earned / q.select
    status = Status.CORRECT if fraction == 1 else Status.PARTIAL if fraction else \
        Status.INCORRECT
    notes = [f"({o.label}) is not true: {o.text}" for o in wrong]
    if len(right) < q.select:
        notes.append(f"{q.select} true properties were asked, {len(right)} given")
    return Result(q.id, status, _points(q, fraction), q.points,
                  "; ".join(notes) or "correct", labels)


def _read_option(q: Question, item: str) -> tuple[Option | None, str | None]:
    """The option an item names, or (option-or-None, the problem)."""
    by_label = {o.label: o for o in q.options}
    match = _OPTION_NUMBER.match(item)
    number, rest = (match.group(1), match.group(2).strip()) if match else (None, item.strip())
    if number is not None and number not in by_label:
        return None, f"there is no option ({number})"
    if not rest:
        return by_label[number], None
    named = _option_by_expression(q, rest) or _option_by_words(q, rest)
    if named is None:
        if number is not None and not any(o.latex for o in q.options):
            return by_label[number], None  # the rest is an explanation
        return None, f"could not tell which option {item.strip()!r} means"
    if number is not None and named.label != number:
        return by_label[number], (f"option ({number}) is {by_label[number].text}, but the "
                                  f"answer writes {named.text}, which is option "
                                  f"({named.label}): the two do not match")
    return named, None


def _option_by_expression(q: Question, text: str) -> Option | None:
    from grading.answers.parse import ParseError

    forms = _option_forms(q)
    if not forms:
        return None
    try:
        written = _shape(parse(q, text))
    except ParseError:
        return None
    return next((o for o in q.options if o.label in forms and forms[o.label] == written), None)


_OPTION_FORMS: dict[int, tuple[Question, dict[str, sp.Basic]]] = {}


def _option_forms(q: Question) -> dict[str, sp.Basic]:
    """Label → the shape of the option's expression: the key's side, read once per question
    (before any fork, see :func:`_prepare`)."""
    if id(q) not in _OPTION_FORMS:  # the question is kept alive with its forms: ids stay unique
        forms = {o.label: _shape(parse(q, o.latex)) for o in q.options if o.latex}
        _OPTION_FORMS[id(q)] = (q, forms)
    return _OPTION_FORMS[id(q)][1]


def _shape(expr: sp.Basic) -> sp.Basic:
    """An expression with each function named by its letter: p_θ(z|x) and p(z|x) agree."""
    from sympy.core.function import AppliedUndef

    from grading.answers.notation import base_letter

    return expr.replace(lambda e: isinstance(e, AppliedUndef),
                        lambda e: sp.Function(base_letter(e.func.__name__))(*e.args))


def _option_by_words(q: Question, text: str) -> Option | None:
    said = _normalise_words(text)
    best, length = None, 0
    for option in q.options:
        for word in option.words:
            key = _normalise_words(word)
            if key and key in said and len(key) > length:
                best, length = option, len(key)
    return best


# ----------------------------------------------------------------------------------------------
# questions from TOML (staff)

_TOML_FIELDS = {"id", "points", "prompt", "kind", "reference", "arguments", "pick",
                "reference_latex", "accept", "assumptions", "aliases", "functions", "credit",
                "feedback", "option", "select", "expected", "start", "relation",
                "steps_required", "rubric", "evidence", "default_upper", "explanation"}


def load_questions(path: str | Path, *, register: bool = True,
                   replace_existing: bool = False) -> list[Question]:
    """Questions from a TOML file (read with ``tomllib``), registered unless ``register=False``.

    Each ``[[question]]`` table has ``id``, ``points``, ``prompt``, ``kind`` and, by kind:
    ``reference = "derivations.kl:KL_STANDARD_NORMAL"`` with ``arguments = ["mu", "sigma"]``
    (or ``reference_latex = "..."``, parsed by the safe parser), ``accept`` (more references,
    as tables with ``reference``/``arguments`` or ``reference_latex``), ``assumptions =
    {sigma = "positive"}``, ``aliases``, ``credit = {sign_flipped = 0.5}`` and
    ``feedback = {sign_flipped = "..."}`` per mistake name; ``[[question.option]]`` tables with
    ``label``, ``text``, ``latex``, ``words``, ``correct`` (choice) and ``select``; ``expected``
    (yes/no); ``rubric`` (manual).
    """
    try:
        with open(path, "rb") as handle:
            data = tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise AnswerKeyError(f"{path}: not valid TOML: {error}") from None
    entries = data.get("question")
    if not isinstance(entries, list):
        raise AnswerKeyError(f"{path}: expected [[question]] tables")
    built = [_question_from_table(entry, f"{path} [[question]] #{n + 1}")
             for n, entry in enumerate(entries)]
    if register:
        for q in built:
            register_question(q, replace_existing=replace_existing)
    return built


def _reference_from_table(table: Mapping[str, Any], where: str) -> Reference:
    if "reference_latex" in table:
        return Reference(latex=str(table["reference_latex"]))
    if "reference" not in table:
        raise AnswerKeyError(f"{where}: needs reference or reference_latex")
    arguments = table.get("arguments", [])
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        raise AnswerKeyError(f"{where}: arguments is a list of strings")
    return Reference(str(table["reference"]), tuple(arguments), str(table.get("pick", "result")))


def _question_from_table(table: Mapping[str, Any], where: str) -> Question:
    if not isinstance(table, Mapping):
        raise AnswerKeyError(f"{where}: a question is a table")
    unknown = set(table) - _TOML_FIELDS
    if unknown:
        raise AnswerKeyError(f"{where}: unknown fields {sorted(unknown)}")
    for required in ("id", "points", "prompt", "kind"):
        if required not in table:
            raise AnswerKeyError(f"{where}: missing {required!r}")
    kind = str(table["kind"])
    reference = _reference_from_table(table, where) if kind not in (
        "choice", "yes/no", "manual", "code") else None
    credit = dict(table.get("credit", {}))
    messages = dict(table.get("feedback", {}))
    mistakes = tuple(KnownMistake(str(name), float(credit.get(name, 0.0)),
                                  str(messages.get(name, "")))
                     for name in dict.fromkeys([*credit, *messages]))
    options = tuple(Option(str(o["label"]), str(o.get("text", "")), str(o.get("latex", "")),
                           tuple(o.get("words", ())), bool(o.get("correct", False)),
                           str(o.get("evidence", "")))
                    for o in table.get("option", ()))
    accept = tuple(_reference_from_table(t, where) for t in table.get("accept", ()))
    try:
        return Question(
            id=str(table["id"]), points=float(table["points"]), prompt=str(table["prompt"]),
            kind=kind, reference=reference, accept=accept,
            assumptions=dict(table.get("assumptions", {})),
            aliases=dict(table.get("aliases", {})),
            functions=tuple(table["functions"]) if "functions" in table else None,
            mistakes=mistakes, options=options, select=int(table.get("select", 1)),
            expected=table.get("expected"),
            start=Reference(latex=str(table["start"])) if "start" in table else None,
            relation=str(table.get("relation", "=")),
            steps_required=bool(table.get("steps_required", False)),
            rubric=str(table.get("rubric", "")), evidence=tuple(table.get("evidence", ())),
            default_upper=table.get("default_upper"),
            explanation=str(table.get("explanation", "")),
        )
    except (TypeError, ValueError) as error:
        raise AnswerKeyError(f"{where}: {error}") from None


def with_points(q: Question, points: float) -> Question:
    """A copy of ``q`` worth ``points`` (staff reweighting a built-in part)."""
    return replace(q, points=points)
