"""Random-point comparison of two SymPy expressions in high precision (mpmath, 30 digits).

This is the engine's fallback where SymPy cannot decide an identity symbolically, and its way
to find a counterexample when the answer is wrong (Schwartz–Zippel carried to analytic
expressions: two different expressions agree at random points of the domain with probability
near zero).

Every atom is drawn from the domain of the question, lazily, by a seeded ``random.Random`` per
point (deterministic for a seed): symbols by their assumption kind (see
:mod:`grading.answers.notation`), entries ``x[j]`` of an ``IndexedBase`` per index, the bound ``G`` of
a sum or product as a small integer (1–4) so sums and products are written out term by term, and
an applied unknown function — ``p_data(x)``, ``KL(p, q)``, ``D(x)`` — as a *random function*: its
value is drawn once per distinct tuple of argument values, so ``KL(p, q)`` and ``KL(q, p)`` differ
while ``p(x)`` is the same wherever ``x`` has the same value. An expectation is a random value
per distinct integrand. The evaluator walks the tree itself (no ``lambdify``, which would
``exec`` generated code).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from grading.answers.notation import Expectation, Given, Namespace, Sampled

__all__ = ["DIGITS", "NotEvaluable", "Point", "Comparison", "compare", "evaluate"]

DIGITS = 30  # working precision
CONFIRM_DIGITS = 60  # a disagreement is confirmed at this precision before it is reported
TOLERANCE = mpmath.mpf(10) ** -15  # relative agreement demanded at 30 digits
MAX_TERMS = 200  # longest sum or product written out term by term

_SAMPLERS: Mapping[str, Callable[[random.Random], Any]] = {
    "real": lambda rng: rng.uniform(-2.0, 2.0),
    "positive": lambda rng: mpmath.exp(rng.uniform(-1.2, 1.2)),
    "nonnegative": lambda rng: rng.uniform(0.0, 3.0),
    "negative": lambda rng: -mpmath.exp(rng.uniform(-1.2, 1.2)),
    "nonzero": lambda rng: rng.choice((-1, 1)) * mpmath.exp(rng.uniform(-1.2, 1.2)),
    "unit_interval": lambda rng: rng.uniform(0.05, 0.95),
    "integer": lambda rng: rng.randint(-3, 3),
    "positive_integer": lambda rng: rng.randint(1, 4),
    "binary": lambda rng: rng.randint(0, 1),
}
_INTEGER_KINDS = frozenset({"integer", "positive_integer", "binary"})


class NotEvaluable(Exception):
    """The expression has a part the evaluator cannot compute (an integral, an infinite sum)."""


def _kind_from_assumptions(obj: sp.Basic) -> str:
    if obj.is_integer:
        return "positive_integer" if obj.is_positive else "integer"
    if obj.is_positive:
        return "positive"
    if obj.is_nonnegative:
        return "nonnegative"
    if obj.is_negative:
        return "negative"
    return "real"


def _symbol_kind(namespace: Namespace, name: str, obj: sp.Basic) -> str | tuple[float, float]:
    declared = name in namespace.assumptions or (
        "_" in name and name.rsplit("_", 1)[0] in namespace.assumptions)
    kind = namespace.kind(name) if declared else _kind_from_assumptions(obj)
    if obj.is_integer and kind not in _INTEGER_KINDS:  # a bound: G pixels
        kind = "positive_integer" if obj.is_positive else "integer"
    return kind


def _draw(kind: str | tuple[float, float], rng: random.Random) -> Any:
    if isinstance(kind, tuple):
        return mpmath.mpf(rng.uniform(*kind))
    return mpmath.mpf(_SAMPLERS[kind](rng))


@dataclass
class Point:
    """One random point of the domain; values are drawn on first use and then kept."""

    namespace: Namespace
    rng: random.Random
    values: dict[Any, Any] = field(default_factory=dict)
    labels: dict[Any, str] = field(default_factory=dict)

    @classmethod
    def numbered(cls, namespace: Namespace, seed: int, number: int) -> Point:
        return cls(namespace, random.Random(f"genverify:{seed}:{number}"))

    def value(self, key: Any, kind: str | tuple[float, float], label: str) -> Any:
        if key not in self.values:
            self.values[key] = _draw(kind, self.rng)
            self.labels[key] = label
        return self.values[key]

    def describe(self) -> dict[str, str]:
        """The drawn values, by readable name (``sigma``, ``x[2]``, ``p_data(0.71)``, ``G``)."""
        return {self.labels[key]: _show(value) for key, value in self.values.items()}


_FUNCTIONS: Mapping[type, Callable[..., Any]] = {
    sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos,
    sp.tan: mpmath.tan, sp.tanh: mpmath.tanh, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh,
    sp.Abs: abs, sp.factorial: mpmath.factorial, sp.gamma: mpmath.gamma, sp.atan: mpmath.atan,
    sp.asin: mpmath.asin, sp.acos: mpmath.acos, sp.erf: mpmath.erf, sp.sign: mpmath.sign,
    sp.loggamma: mpmath.loggamma,
}


def _show(value: Any) -> str:
    if isinstance(value, mpmath.mpf) and value == mpmath.nint(value) and abs(value) < 10**6:
        return str(int(value))
    return mpmath.nstr(value, 12)


def _label(value: Any) -> str:
    if isinstance(value, tuple):
        return "|".join(_label(part) for part in value[1:])
    return mpmath.nstr(value, 6)


class _Evaluator:
    def __init__(self, point: Point) -> None:
        self.point = point
        self.ns = point.namespace
        self.bound: dict[sp.Symbol, int] = {}

    def __call__(self, expr: sp.Basic) -> Any:  # noqa: C901 - one dispatch table
        if isinstance(expr, sp.Rational):
            return mpmath.mpf(int(expr.p)) / int(expr.q)
        if isinstance(expr, sp.Float):
            return mpmath.mpf(str(expr))
        if expr is sp.pi:
            return +mpmath.pi
        if expr is sp.E:
            return +mpmath.e
        if expr is sp.EulerGamma:
            return +mpmath.euler
        if expr is sp.I:
            return mpmath.mpc(0, 1)
        if expr in (sp.oo, -sp.oo, sp.zoo, sp.nan):
            raise ZeroDivisionError("an infinite value")
        if isinstance(expr, sp.Symbol):
            if expr in self.bound:
                return mpmath.mpf(self.bound[expr])
            kind = _symbol_kind(self.ns, expr.name, expr)
            return self.point.value(expr, kind, expr.name)
        if isinstance(expr, sp.Indexed):
            indices = tuple(self.integer(i) for i in expr.indices)
            label = str(expr.base.label)
            kind = _symbol_kind(self.ns, label, expr)
            return self.point.value(("indexed", label, indices), kind,
                                    f"{label}[{', '.join(map(str, indices))}]")
        if isinstance(expr, sp.Add):
            return mpmath.fsum(self(arg) for arg in expr.args)
        if isinstance(expr, sp.Mul):
            result = mpmath.mpf(1)
            for arg in expr.args:
                result *= self(arg)
            return result
        if isinstance(expr, sp.Pow):
            base, exponent = self(expr.base), self(expr.exp)
            if base == 0 and mpmath.re(exponent) < 0:
                raise ZeroDivisionError("0 to a negative power")
            return mpmath.power(base, exponent)
        if isinstance(expr, (sp.Sum, sp.Product)):
            return self.big_operator(expr)
        if isinstance(expr, Expectation):
            key = ("E", expr, tuple(sorted((s.name, v) for s, v in self.bound.items()
                                           if s in expr.free_symbols)))
            return self.point.value(key, "real", sp.sstr(expr))
        if isinstance(expr, AppliedUndef):
            args = tuple(self.argument(arg) for arg in expr.args)
            name = expr.func.__name__
            kind = self.ns.function_kind(name)
            return self.point.value(("function", name, args), kind,
                                    f"{name}({', '.join(_label(a) for a in args)})")
        if isinstance(expr, sp.log) and len(expr.args) == 1:
            return mpmath.log(self(expr.args[0]))
        function = _FUNCTIONS.get(type(expr))
        if function is not None and isinstance(expr, sp.Function):
            return function(*(self(arg) for arg in expr.args))
        raise NotEvaluable(f"cannot evaluate {type(expr).__name__} numerically")

    def argument(self, arg: sp.Basic) -> Any:
        if isinstance(arg, (Given, Sampled)):
            return (type(arg).__name__, *(self.argument(a) for a in arg.args))
        return self(arg)

    def integer(self, expr: sp.Basic) -> int:
        value = self(expr)
        if mpmath.im(value) != 0 or value != mpmath.nint(value):
            raise ValueError("an index that is not an integer")
        return int(mpmath.nint(value))

    def big_operator(self, expr: sp.Basic) -> Any:
        if len(expr.limits) != 1 or len(expr.limits[0]) != 3:
            raise NotEvaluable("a sum or product without bounds")
        index, lower, upper = expr.limits[0]
        if any(bound in (sp.oo, -sp.oo) for bound in (lower, upper)):
            raise NotEvaluable("an infinite sum or product")
        lo, hi = self.integer(lower), self.integer(upper)
        if hi - lo + 1 > MAX_TERMS:
            raise NotEvaluable(f"a sum or product of more than {MAX_TERMS} terms")
        saved = self.bound.get(index)
        values = []
        try:
            for k in range(lo, hi + 1):
                self.bound[index] = k
                values.append(self(expr.function))
        finally:
            if saved is None:
                self.bound.pop(index, None)
            else:
                self.bound[index] = saved
        if isinstance(expr, sp.Sum):
            return mpmath.fsum(values)
        result = mpmath.mpf(1)
        for value in values:
            result *= value
        return result


def evaluate(expr: sp.Basic, point: Point, digits: int = DIGITS) -> Any:
    """The value of ``expr`` at ``point`` (an ``mpf`` or ``mpc``); raises on a pole."""
    with mpmath.workdps(digits):
        return _Evaluator(point)(expr)


def _finite(value: Any) -> bool:
    return isinstance(value, (mpmath.mpf, mpmath.mpc)) and mpmath.isfinite(value)


def _real(value: Any) -> bool:
    return abs(mpmath.im(value)) <= TOLERANCE * max(abs(value), 1)


def _close(a: Any, b: Any, tolerance: Any) -> bool:
    return abs(a - b) <= tolerance * max(abs(a), abs(b)) + tolerance * mpmath.mpf(10) ** -10


@dataclass(frozen=True)
class Comparison:
    """The outcome of a random-point comparison. ``agree`` is None when it could not decide."""

    agree: bool | None
    points: int
    reason: str = ""
    counterexample: Mapping[str, str] | None = None
    reference_value: str | None = None
    answer_value: str | None = None


_DOMAIN_ERRORS = (ZeroDivisionError, ValueError, OverflowError, ArithmeticError, TypeError)


def compare(reference: sp.Basic, answer: sp.Basic, namespace: Namespace, *, seed: int = 0,
            points: int = 12, attempts: int = 80,
            deadline_check: Callable[[], None] | None = None) -> Comparison:
    """Compare at ``points`` random points where the reference is defined and real.

    A point where the reference has a pole or a complex value is outside the domain and is
    redrawn; one where the reference is defined but the answer is not (or differs) is a
    counterexample, confirmed at 60 digits before it is reported.
    """
    agreed = 0
    for number in range(attempts):
        if deadline_check is not None:
            deadline_check()
        point = Point.numbered(namespace, seed, number)
        try:
            ref_value = evaluate(reference, point)
        except NotEvaluable as reason:
            return Comparison(None, agreed, f"the reference: {reason}")
        except _DOMAIN_ERRORS:
            continue
        if not _finite(ref_value) or not _real(ref_value):
            continue
        try:
            ans_value = evaluate(answer, point)
        except NotEvaluable as reason:
            return Comparison(None, agreed, f"the answer: {reason}")
        except _DOMAIN_ERRORS:
            ans_value = None
        if ans_value is not None and _finite(ans_value) and \
                _close(ref_value, ans_value, TOLERANCE):
            agreed += 1
            if agreed >= points:
                return Comparison(True, agreed)
            continue
        if ans_value is not None and _finite(ans_value):
            try:  # confirm at higher precision (same point values)
                ref_precise = evaluate(reference, point, CONFIRM_DIGITS)
                ans_precise = evaluate(answer, point, CONFIRM_DIGITS)
            except _DOMAIN_ERRORS:
                continue
            if _close(ref_precise, ans_precise, mpmath.mpf(10) ** -40):
                continue  # a precision artefact, not a counterexample
        shown = "undefined" if ans_value is None or not _finite(ans_value) \
            else mpmath.nstr(ans_value, 15)
        return Comparison(False, agreed, "the values differ", point.describe(),
                          mpmath.nstr(ref_value, 15), shown)
    if agreed >= points // 2:
        return Comparison(True, agreed)
    return Comparison(None, agreed, f"only {agreed} of {attempts} random points were inside "
                                    "the domain where the reference is real and finite")
