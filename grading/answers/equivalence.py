"""Is a student's answer equivalent to the reference? A verdict, never a silent False.

:func:`check_equivalence` reads both sides with the question's assumptions (σ > 0, densities
> 0, probabilities in (0, 1); unknown symbols are real), then decides in this order:

1. *symbolic*: the two parsed objects are identical once the dummy index of every sum and
   product is renamed canonically, or a cheap canonical form of their difference (``expand``,
   ``expand_log`` under the assumptions, ``cancel``) is exactly 0;
2. *numeric*: :func:`grading.answers.numeric.compare` at 12 random points of the domain, 30 digits;
   sums and products with a symbolic bound are written out for small bounds with random
   entries, so ``\\prod_j y_j^{x_j}(1-y_j)^{1-x_j}`` equals
   ``\\exp(\\sum_j x_j\\log y_j + (1-x_j)\\log(1-y_j))``; a disagreement is a counterexample;
3. when not equivalent, :func:`grading.answers.feedback.diagnose` names a known mistake.

The verdict is one of :class:`Kind`: equivalent, not equivalent (with the counterexample point
and both values), undecided (with the reason: a timeout, an integral, no point of the domain),
or a parse error (with the position). Every check runs under a wall-clock deadline in a forked
worker (see :mod:`grading.isolation` for why), so it also works off the main thread and inside
pytest-xdist workers.
"""

from __future__ import annotations

import time
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

import sympy as sp
from sympy.core.function import AppliedUndef

from grading.answers.feedback import Mistake, diagnose
from grading.isolation import deadline_check, run_isolated
from grading.answers.limits import ParseError
from grading.answers.notation import Expectation, Namespace
from grading.answers.numeric import DIGITS, compare
from grading.answers.parse import parse_answer, render_latex

__all__ = ["DEFAULT_TIMEOUT", "Kind", "Verdict", "check_equivalence"]

DEFAULT_TIMEOUT = 4.0  # seconds per check, parsing included
POINTS = 12
_MAX_OPS = 400  # larger differences skip the symbolic forms and go straight to numbers
_MAX_EXPANDED_POWER = 12  # (a + b)^n with larger n is never expanded


class Kind(str, Enum):
    """The four verdicts."""

    EQUIVALENT = "equivalent"
    NOT_EQUIVALENT = "not_equivalent"
    UNDECIDED = "undecided"
    PARSE_ERROR = "parse_error"


@dataclass(frozen=True)
class Verdict:
    """The outcome of one check. Use :attr:`kind` (a Verdict has no truth value on purpose).

    ``answer_latex`` shows how the answer was read; for ``NOT_EQUIVALENT``, ``counterexample``
    maps each drawn quantity to its value and ``reference_value``/``answer_value`` are the two
    values there; ``mistake`` names a recognised mistake; for ``PARSE_ERROR``, ``position`` is
    the character offset and ``parse_error_in`` says which side.
    """

    kind: Kind
    reason: str
    method: str = ""
    answer_latex: str | None = None
    reference_latex: str | None = None
    counterexample: Mapping[str, str] | None = None
    reference_value: str | None = None
    answer_value: str | None = None
    position: int | None = None
    parse_error_in: str | None = None
    mistake: Mistake | None = None
    seconds: float = 0.0

    @property
    def is_equivalent(self) -> bool:
        return self.kind is Kind.EQUIVALENT

    def __bool__(self) -> bool:
        raise TypeError("a Verdict has four outcomes: test verdict.kind or verdict.is_equivalent")

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able data (the form the worker sends back and the CLI prints)."""
        data = {name: getattr(self, name) for name in self.__dataclass_fields__}
        data["kind"] = self.kind.value
        data["counterexample"] = dict(self.counterexample) if self.counterexample else None
        data["mistake"] = self.mistake.to_dict() if self.mistake else None
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Verdict:
        fields = dict(data)
        fields["kind"] = Kind(fields["kind"])
        if fields.get("mistake"):
            fields["mistake"] = Mistake(**fields["mistake"])
        return cls(**fields)

    def __str__(self) -> str:
        text = self.reason
        if self.answer_latex is not None:
            text += f"\n  answer read as: {self.answer_latex}"
        if self.mistake is not None:
            text += f"\n  {self.mistake.message}"
        return text


def check_equivalence(reference: str | sp.Basic, answer: str | sp.Basic, *,
                      assumptions: Mapping[str, object] | None = None,
                      symbols: Mapping[str, sp.Basic] | None = None,
                      functions: Collection[str] | None = None,
                      timeout: float = DEFAULT_TIMEOUT, seed: int = 0,
                      isolation: str = "worker", feedback: bool = True) -> Verdict:
    """Check ``answer`` against ``reference`` (text or SymPy) within ``timeout`` seconds.

    ``assumptions`` maps names to kinds (``{"sigma": "positive", "y": "unit_interval",
    "mu": "real"}``, see :mod:`grading.answers.notation`); ``symbols`` and ``functions`` are passed to
    the parser's :class:`~grading.answers.notation.Namespace`. ``seed`` fixes the random points.
    ``isolation`` is ``"worker"`` (default), ``"process"``, ``"thread"`` or ``"none"``
    (see :mod:`grading.isolation`).
    """
    start = time.perf_counter()
    frozen_assumptions = dict(assumptions or {})
    Namespace(frozen_assumptions)  # reject an unknown kind here, in the caller

    arguments = (reference, answer, frozen_assumptions, symbols, functions, seed, feedback)
    status, value = run_isolated(_checked, arguments, timeout=timeout, isolation=isolation)
    if status == "ok":
        verdict = Verdict.from_dict(value)
    elif status == "timeout":
        verdict = Verdict(Kind.UNDECIDED, f"could not decide: the check took longer than "
                                          f"{timeout:g} s")
    else:
        verdict = Verdict(Kind.UNDECIDED, f"could not decide: {value}")
    return Verdict(**{**verdict.__dict__, "seconds": time.perf_counter() - start})


# -- the check itself (runs in the worker) ----------------------------------------------------


def _reference_namespace(reference: sp.Basic, assumptions: Mapping[str, object],
                         symbols: Mapping[str, sp.Basic] | None,
                         functions: Collection[str] | None) -> tuple[Namespace, sp.Basic]:
    """Names of a SymPy reference keep their objects unless the question declares them."""
    known: dict[str, sp.Basic] = {}
    for symbol in reference.free_symbols:
        if isinstance(symbol, sp.Symbol) and symbol.name not in assumptions:
            known[symbol.name] = symbol
    for base in reference.atoms(sp.IndexedBase):
        if str(base.label) not in assumptions:
            known[str(base.label)] = base
    for application in reference.atoms(AppliedUndef):
        if application.func.__name__ not in assumptions:
            known[application.func.__name__] = application.func
    known.update(symbols or {})
    namespace = Namespace(assumptions, known, functions)
    redeclared = {s: namespace.symbol(s.name) for s in reference.free_symbols
                  if isinstance(s, sp.Symbol) and s.name in assumptions}
    return namespace, reference.xreplace(redeclared) if redeclared else reference


def _default_upper(reference: sp.Basic) -> str | None:
    uppers = {limits[2] for operator in reference.atoms(sp.Sum, sp.Product)
              for limits in operator.limits if len(limits) == 3}
    names = {upper.name for upper in uppers if isinstance(upper, sp.Symbol)}
    return names.pop() if len(names) == 1 else None


def _align(answer: sp.Basic, reference: sp.Basic) -> sp.Basic:
    """A name the reference uses means the reference's symbol (``G`` is its integer bound)."""
    by_name = {s.name: s for s in reference.free_symbols if isinstance(s, sp.Symbol)}
    mapping = {s: by_name[s.name] for s in answer.free_symbols
               if isinstance(s, sp.Symbol) and s.name in by_name and s != by_name[s.name]}
    return answer.xreplace(mapping) if mapping else answer


def _canonical(expr: sp.Basic, depth: int = 0) -> sp.Basic:
    """Rename dummy indices by nesting depth and expand the integrands of expectations."""
    if not expr.args or not expr.has(sp.Sum, sp.Product, Expectation):
        return expr
    if isinstance(expr, (sp.Sum, sp.Product)) and len(expr.limits) == 1:
        variable, *bounds = expr.limits[0]
        index = sp.Symbol(f"_i{depth}", integer=True)
        body = _canonical(expr.function.xreplace({variable: index}), depth + 1)
        return expr.func(body, (index, *(_canonical(b, depth) for b in bounds)))
    if isinstance(expr, Expectation):
        body = sp.expand(sp.expand_log(_canonical(expr.args[0], depth)))
        return Expectation(body, *expr.args[1:])
    return expr.func(*(_canonical(arg, depth) for arg in expr.args))


def _expandable(expr: sp.Basic) -> bool:
    if sp.count_ops(expr) > _MAX_OPS:
        return False
    return not any(isinstance(p.exp, sp.Integer) and abs(p.exp) > _MAX_EXPANDED_POWER
                   and isinstance(p.base, sp.Add) for p in expr.atoms(sp.Pow))


_FORMS = (
    sp.expand,
    lambda e: sp.expand(sp.expand_log(e)),
    lambda e: sp.cancel(sp.together(sp.expand(sp.expand_log(sp.powsimp(e))))),
)


def _symbolically_equal(reference: sp.Basic, answer: sp.Basic) -> bool:
    if reference == answer:
        return True
    difference = reference - answer
    if difference == 0:
        return True
    if difference.has(sp.Sum, sp.Product) or not _expandable(difference):
        return False
    for form in _FORMS:
        deadline_check()
        try:
            if form(difference) == 0:
                return True
        except (sp.PolynomialError, TypeError, ValueError, NotImplementedError):
            continue
    return False


def _read(text: str | sp.Basic, namespace: Namespace, default_upper: str | None) -> sp.Basic:
    if isinstance(text, sp.Lambda):
        return text.expr
    if isinstance(text, sp.Basic):
        return text
    return parse_answer(text, namespace=namespace, default_upper=default_upper)


def _checked(*arguments: Any) -> dict[str, Any]:
    return _check(*arguments).to_dict()


def _check(reference: str | sp.Basic, answer: str | sp.Basic, assumptions: Mapping[str, object],
           symbols: Mapping[str, sp.Basic] | None, functions: Collection[str] | None, seed: int,
           feedback: bool) -> Verdict:
    if isinstance(reference, sp.Basic):
        namespace, ref = _reference_namespace(_read(reference, Namespace(), None), assumptions,
                                              symbols, functions)
    else:
        namespace = Namespace(assumptions, symbols, functions)
        try:
            ref = _read(reference, namespace, None)
        except ParseError as error:
            return Verdict(Kind.PARSE_ERROR, f"could not read the reference: {error}",
                           position=error.position, parse_error_in="reference")
    reference_latex = render_latex(ref)
    try:
        ans = _read(answer, namespace, _default_upper(ref))
    except ParseError as error:
        return Verdict(Kind.PARSE_ERROR, f"could not read the answer: {error}",
                       reference_latex=reference_latex, position=error.position,
                       parse_error_in="answer")
    if not isinstance(ans, sp.Expr):
        return Verdict(Kind.UNDECIDED, "could not decide: the answer is not an expression",
                       reference_latex=reference_latex)
    ans = _align(ans, ref)
    shown = {"answer_latex": render_latex(ans), "reference_latex": reference_latex}
    canonical_ref, canonical_ans = _canonical(ref), _canonical(ans)
    deadline_check()
    if _symbolically_equal(canonical_ref, canonical_ans):
        return Verdict(Kind.EQUIVALENT, "equivalent: the difference simplifies to 0",
                       method="symbolic", **shown)
    result = compare(canonical_ref, canonical_ans, namespace, seed=seed, points=POINTS,
                     deadline_check=deadline_check)
    method = f"numeric ({result.points} random points, {DIGITS} digits)"
    if result.agree is None:
        return Verdict(Kind.UNDECIDED, f"could not decide: {result.reason}", method=method,
                       **shown)
    if result.agree:
        return Verdict(Kind.EQUIVALENT, f"equivalent: equal at {result.points} random points "
                                        f"of the domain ({DIGITS} digits)", method=method,
                       **shown)
    point = ", ".join(f"{name} = {value}" for name, value in result.counterexample.items())
    mistake = diagnose(ref, ans, namespace, seed=seed, deadline_check=deadline_check) \
        if feedback else None
    reason = f"not equivalent: at {point or 'any point'} the reference is " \
             f"{result.reference_value} but the answer is {result.answer_value}"
    return Verdict(Kind.NOT_EQUIVALENT, reason, method=method,
                   counterexample=result.counterexample,
                   reference_value=result.reference_value, answer_value=result.answer_value,
                   mistake=mistake, **shown)
