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

The comparison domain is where *both* sides are real and finite: a point where either side has
a pole, a logarithm of a negative number or a complex value is redrawn, so a counterexample is
always a point where both sides are real and defined. A point where only the answer is undefined
is remembered: an answer that agrees wherever it is defined but is undefined on part of the
reference's domain is undecided, never equivalent.

Derivatives, integrals and distributions:

* ``Derivative`` is carried out (``doit``); what remains is the derivative of an unknown function,
  itself a random function of its arguments (``p'(a)`` is independent of ``p(a)``: any finite set
  of values and slopes at distinct points is realised by some smooth density, so this is sound
  both ways);
* an ``Integral`` with an explicit integrand is computed: exactly by SymPy for a polynomial,
  otherwise by mpmath quadrature whose error estimate must be below 10^-20; an integral of an
  unknown function (``\\int p(x)\\log D(x)\\,dx``) is a *stand-in*: an arbitrary number per
  distinct integrand (after linearity), except ``\\int p(x)\\,dx = 1`` for a density;
* an expectation is a stand-in per distinct body, except over ``z \\sim \\mathcal{N}(m, v)``
  with an explicit body, which is computed by quadrature; ``KL``/``JSD`` of two ``Normal``
  arguments are computed by quadrature of their definitions.

A stand-in may hide an identity (``\\int p = 1``, ``E_q[\\log q - \\log p] = KL(q\\|p)``), so
a disagreement that depends on a stand-in is not reported as a counterexample: the stand-ins
are redrawn one at a time, and unless the difference does not depend on them (or depends on a
single expectation of a log-density, whose value is free) the outcome is undecided.

Decimals: a ``Float`` is a number written with finitely many digits. Two sides with decimals are
first compared with the decimals read exactly; failing that, they agree when the difference is
within what half a unit in the last written digit of each decimal moves the value
(``0.6931`` is ``\\log 2`` to the 4 digits given; ``0.6932`` is not). Exact sides (no decimals)
that agree to 10^-15 at 30 digits but not to 10^-24 are re-compared at 60 digits: a tiny but
exact difference is a counterexample.
"""

from __future__ import annotations

import contextvars
import random
from decimal import Decimal
from functools import lru_cache
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef

from grading.answers.notation import (Expectation, Given, Namespace, Normal, Sampled,
                                     base_letter)

__all__ = ["DIGITS", "NotEvaluable", "Point", "Comparison", "compare", "evaluate", "symbol_kind",
           "written_digits"]

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
    """The caller's or the field's conventional domain of a name (ᾱ_t in (0, 1)), else the
    one its SymPy flags say; a name given as a ready object keeps its flags."""
    domain = None if name in namespace.symbols else \
        namespace.domain(name, entry=isinstance(obj, sp.Indexed))
    kind = domain if domain is not None else _kind_from_assumptions(obj)
    if obj.is_integer and kind not in _INTEGER_KINDS:  # a bound: G pixels
        kind = "positive_integer" if obj.is_positive else "integer"
    return kind


symbol_kind = _symbol_kind  # the domain a symbol is drawn from (public for the verdict)


def _draw(kind: str | tuple[float, float], rng: random.Random) -> Any:
    if isinstance(kind, tuple):
        return mpmath.mpf(rng.uniform(*kind))
    return mpmath.mpf(_SAMPLERS[kind](rng))


@dataclass
class Point:
    """One random point of the domain; values are drawn on first use and then kept.

    ``stand_ins`` are the keys of values that stand in for an integral or an expectation of an
    unknown function (arbitrary numbers, see the module docstring)."""

    namespace: Namespace
    rng: random.Random
    values: dict[Any, Any] = field(default_factory=dict)
    labels: dict[Any, str] = field(default_factory=dict)
    stand_ins: dict[Any, sp.Basic] = field(default_factory=dict)
    tag: str = ""
    # the pmf reading (see compare): densities summed over their states, and the free symbols
    # that are states of them (z in p(z)), each with the range of the states
    distributions: dict[str, tuple[sp.Basic, sp.Basic]] = field(default_factory=dict)
    states: dict[sp.Symbol, tuple[sp.Basic, sp.Basic]] = field(default_factory=dict)

    @classmethod
    def numbered(cls, namespace: Namespace, seed: int, number: int) -> Point:
        tag = f"genverify:{seed}:{number}"
        return cls(namespace, random.Random(tag), tag=tag)

    def value(self, key: Any, kind: str | tuple[float, float], label: str) -> Any:
        if key not in self.values:
            self.values[key] = _draw(kind, self.rng)
            self.labels[key] = label
        return self.values[key]

    def stand_in(self, key: Any, body: sp.Basic, label: str) -> Any:
        """An arbitrary real number standing for an integral or expectation ``body``."""
        self.stand_ins.setdefault(key, body)
        return self.value(key, "real", label)

    def redrawn(self, keys: Collection[Any], salt: str) -> Point:
        """The same point with the values of ``keys`` drawn again (a seeded, separate stream)."""
        kept = {k: v for k, v in self.values.items() if k not in keys}
        return Point(self.namespace, random.Random(f"{self.tag}:redraw:{salt}"), kept,
                     dict(self.labels), dict(self.stand_ins), self.tag, self.distributions,
                     self.states)

    def describe(self) -> dict[str, str]:
        """The drawn values, by readable name (``sigma``, ``x[2]``, ``p_data(0.71)``, ``G``)."""
        return {self.labels[key]: _show(value) for key, value in self.values.items()}


_FUNCTIONS: Mapping[type, Callable[..., Any]] = {
    sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin, sp.cos: mpmath.cos,
    sp.tan: mpmath.tan, sp.tanh: mpmath.tanh, sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh,
    sp.Abs: abs, sp.factorial: mpmath.factorial, sp.gamma: mpmath.gamma, sp.atan: mpmath.atan,
    sp.asin: mpmath.asin, sp.acos: mpmath.acos, sp.erf: mpmath.erf, sp.sign: mpmath.sign,
    sp.loggamma: mpmath.loggamma, sp.csc: mpmath.csc, sp.sec: mpmath.sec, sp.cot: mpmath.cot,
}


def _show(value: Any, digits: int = 12) -> str:
    if isinstance(value, mpmath.mpf) and value == mpmath.nint(value) and abs(value) < 10**6:
        return str(int(value))
    return mpmath.nstr(value, digits)


def _label(value: Any) -> str:
    if isinstance(value, tuple):
        if value[0] == "Normal":
            return f"N({_label(value[1])}, {_label(value[2])})"
        return "|".join(_label(part) for part in value[1:])
    return mpmath.nstr(value, 6)


_T = sp.Symbol("t", real=True)  # the canonical variable of an integral of unknown functions
# whether a disagreement through unknown densities is settled by concrete instances (off while
# naming a mistake, which only needs the stand-ins' verdict and must stay fast)
WITNESSES: contextvars.ContextVar[bool] = contextvars.ContextVar("genverify_witnesses",
                                                                  default=True)
# whether a density summed over its states is read as normalised there (see compare)
_PMF: contextvars.ContextVar[bool] = contextvars.ContextVar("genverify_pmf", default=False)


def _explicit(expr: sp.Basic) -> bool:
    """No unknown function and no expectation: the value is computable."""
    return not expr.atoms(AppliedUndef) and not expr.has(Expectation)


@lru_cache(maxsize=1)
def _kl_gaussian() -> Callable[..., Any]:
    """``KL_GAUSSIAN(mu_1, sigma_1, mu_2, sigma_2)`` of :mod:`derivations.kl`, compiled."""
    from derivations.kl import KL_GAUSSIAN
    from grading.answers.instances import compile_numeric

    variables = KL_GAUSSIAN.variables
    compiled = compile_numeric(KL_GAUSSIAN.expr, mpmath.mpf(10) ** -20)
    return lambda *values: compiled(dict(zip(variables, values)))


@lru_cache(maxsize=256)
def _compiled(body: sp.Basic) -> Callable[[dict], Any] | None:
    """An explicit integrand compiled to closures, or None when a node is not supported."""
    from grading.answers.instances import Unsupported, compile_numeric

    if body.atoms(sp.Indexed, sp.Sum, sp.Product, sp.Integral):
        return None
    try:
        return compile_numeric(body, mpmath.mpf(10) ** -20)
    except Unsupported:
        return None


@lru_cache(maxsize=512)
def _carried_out(derivative: sp.Derivative) -> sp.Basic:
    return derivative.doit(deep=False)


def _positions(args: tuple[sp.Basic, ...], variable: sp.Basic) -> list[tuple[int, ...]]:
    found = []
    for i, arg in enumerate(args):
        if arg == variable:
            found.append((i,))
        elif isinstance(arg, (Given, Sampled)):
            found.extend((i, *rest) for rest in _positions(arg.args, variable))
        elif arg.has(variable):
            found.append((i, -1))  # inside an expression: not a plain argument
    return found


def _log_normal(t: Any, mean: Any, variance: Any) -> Any:
    return -(t - mean) ** 2 / (2 * variance) - mpmath.log(2 * mpmath.pi * variance) / 2


def _is_density(expr: sp.Basic, namespace: Namespace) -> bool:
    return isinstance(expr, AppliedUndef) and base_letter(expr.func.__name__) in "pqPQ" and \
        namespace.function_kind(expr.func.__name__) == "positive"


def _normalised(term: sp.Basic, namespace: Namespace) -> bool:
    """``p(t)`` or ``p(t | ...)``, a density of the integration variable alone."""
    if not _is_density(term, namespace) or len(term.args) != 1:
        return False
    (arg,) = term.args
    if arg == _T:
        return True
    return isinstance(arg, Given) and arg.args[0] == _T and not arg.args[1].has(_T)


class _Evaluator:
    def __init__(self, point: Point) -> None:
        self.point = point
        self.ns = point.namespace
        self.bound: dict[sp.Symbol, Any] = {}
        self.states: dict[str, tuple[int, int]] = {}  # densities summed over their states

    def __call__(self, expr: sp.Basic) -> Any:  # noqa: C901 - one dispatch table
        if isinstance(expr, sp.Rational):
            return mpmath.mpf(int(expr.p)) / int(expr.q)
        if isinstance(expr, sp.Float):
            return expr._to_mpmath(mpmath.mp.prec)
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
            if expr in self.point.states:  # z in p(z) where p is summed over its states
                lower, upper = self.point.states[expr]
                key = ("state", expr)
                if key not in self.point.values:
                    lo, hi = self.integer(lower), self.integer(upper)
                    self.point.values[key] = mpmath.mpf(self.point.rng.randint(lo, max(lo, hi)))
                    self.point.labels[key] = expr.name
                return self.point.values[key]
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
        if isinstance(expr, sp.Integral):
            return self.integral(expr)
        if isinstance(expr, sp.Derivative):
            done = _carried_out(expr)
            if done != expr:
                return self(done)
            return self.unknown_derivative(expr)
        if isinstance(expr, sp.Subs):
            return self.substituted(expr)
        if isinstance(expr, Expectation):
            return self.expectation(expr)
        if isinstance(expr, AppliedUndef):
            return self.application(expr)
        if isinstance(expr, sp.log) and len(expr.args) == 1:
            return mpmath.log(self(expr.args[0]))
        function = _FUNCTIONS.get(type(expr))
        if function is not None and isinstance(expr, sp.Function):
            return function(*(self(arg) for arg in expr.args))
        raise NotEvaluable(f"cannot evaluate {sp.latex(expr)} numerically")

    # -- unknown functions, derivatives, distributions -----------------------------------

    def application(self, expr: sp.Basic) -> Any:
        name = expr.func.__name__
        if name in ("KL", "JSD") and len(expr.args) == 2 and \
                all(isinstance(arg, Normal) for arg in expr.args):
            return self.gaussian_divergence(name, *expr.args)
        args = tuple(self.argument(arg) for arg in expr.args)
        label = f"{name}({', '.join(_label(a) for a in args)})"
        if name in ("KL", "JSD"):  # a divergence: an integral in disguise, a stand-in
            return self.point.stand_in(("function", name, args), expr, label)
        states = self.states.get(name)
        if states is None and name in self.point.distributions:
            lower, upper = self.point.distributions[name]
            states = (self.integer(lower), self.integer(upper))
        if states is not None:  # a distribution over the states of a sum: a pmf
            return self.probability(name, args, states)
        return self.point.value(("function", name, args), self.ns.function_kind(name), label)

    def probability(self, name: str, args: tuple[Any, ...], states: tuple[int, int]) -> Any:
        """p(k) (or p(k | ...)) as raw random values normalised over the states lo..hi."""
        conditional = isinstance(args[0], tuple) and args[0][0] == "Given"
        state = args[0][1] if conditional else args[0]

        def raw(k: int) -> Any:
            key_args = (("Given", mpmath.mpf(k), *args[0][2:]), *args[1:]) if conditional \
                else (mpmath.mpf(k), *args[1:])
            return self.point.value(("function", name, key_args), "positive",
                                    f"{name}({', '.join(_label(a) for a in key_args)})")

        if not (isinstance(state, mpmath.mpf) and state == mpmath.nint(state)
                and states[0] <= int(state) <= states[1]):  # p(x|k): x is not one of the states
            return self.point.value(("function", name, args), "positive",
                                    f"{name}({', '.join(_label(a) for a in args)})")
        total = mpmath.fsum(raw(k) for k in range(states[0], states[1] + 1))
        return raw(int(state)) / total

    def unknown_derivative(self, expr: sp.Derivative) -> Any:
        inner = expr.expr
        if not isinstance(inner, AppliedUndef):
            raise NotEvaluable("a derivative the engine cannot carry out")
        orders = []
        for variable, count in expr.variable_count:
            places = _positions(inner.args, variable)
            if len(places) != 1 or places[0][-1] == -1:
                raise NotEvaluable("a derivative the engine cannot carry out")
            orders.append((places[0], int(count)))
        args = tuple(self.argument(arg) for arg in inner.args)
        name = inner.func.__name__
        primes = "'" * sum(count for _, count in orders)
        return self.point.value(("derivative", name, args, tuple(sorted(orders))), "real",
                                f"{name}{primes}({', '.join(_label(a) for a in args)})")

    def substituted(self, expr: sp.Subs) -> Any:
        values = [self(point) for point in expr.point]
        saved = {v: self.bound.get(v) for v in expr.variables}
        try:
            for variable, value in zip(expr.variables, values):
                self.bound[variable] = value
            return self(expr.expr)
        finally:
            self.restore(saved)

    def restore(self, saved: Mapping[sp.Symbol, Any]) -> None:
        for variable, value in saved.items():
            if value is None:
                self.bound.pop(variable, None)
            else:
                self.bound[variable] = value

    def context(self, expr: sp.Basic) -> tuple[Any, ...]:
        """The values of the bound variables (sum indices, integration variables) in ``expr``."""
        return tuple(sorted((s.name, v) for s, v in self.bound.items()
                            if s in expr.free_symbols))

    def expectation(self, expr: Expectation) -> Any:
        if len(expr.args) == 2 and isinstance(expr.args[1], Sampled):
            variable, distribution = expr.args[1].args
            body = expr.args[0]
            if isinstance(distribution, Normal) and isinstance(variable, sp.Symbol) and \
                    _explicit(body) and not distribution.has(variable):
                mean, variance = (self(a) for a in distribution.args)
                if mpmath.im(variance) != 0 or mpmath.re(variance) <= 0:
                    raise ValueError("a normal distribution with a non-positive variance")
                return self.quadrature(
                    lambda t: mpmath.exp(_log_normal(t, mean, variance)) *
                    self.at(variable, t, body), [-mpmath.inf, mean, mpmath.inf])
        key = ("E", expr, self.context(expr))
        return self.point.stand_in(key, expr, sp.latex(expr))

    def gaussian_divergence(self, name: str, first: Normal, second: Normal) -> Any:
        (m1, v1), (m2, v2) = ([self(a) for a in n.args] for n in (first, second))
        for variance in (v1, v2):
            if mpmath.im(variance) != 0 or mpmath.re(variance) <= 0:
                raise ValueError("a normal distribution with a non-positive variance")
        def kl(ma: Any, va: Any, log_other: Callable[[Any], Any]) -> Any:
            return self.quadrature(
                lambda t: mpmath.exp(_log_normal(t, ma, va)) *
                (_log_normal(t, ma, va) - log_other(t)),
                [-mpmath.inf, ma, mpmath.inf])
        if name == "KL":  # the closed form derived in derivations.kl (quadrature is slow)
            return _kl_gaussian()(m1, mpmath.sqrt(v1), m2, mpmath.sqrt(v2))
        def log_mixture(t: Any) -> Any:
            return mpmath.log((mpmath.exp(_log_normal(t, m1, v1)) +
                               mpmath.exp(_log_normal(t, m2, v2))) / 2)
        return (kl(m1, v1, log_mixture) + kl(m2, v2, log_mixture)) / 2

    # -- integrals --------------------------------------------------------------------------

    def at(self, variable: sp.Symbol, value: Any, body: sp.Basic) -> Any:
        saved = {variable: self.bound.get(variable)}
        self.bound[variable] = value
        try:
            return self(body)
        finally:
            self.restore(saved)

    def limit(self, bound: sp.Basic) -> Any:
        if bound is sp.oo:
            return mpmath.inf
        if bound is -sp.oo:
            return -mpmath.inf
        value = self(bound)
        if mpmath.im(value) != 0:
            raise ValueError("a complex bound of integration")
        return mpmath.re(value)

    def quadrature(self, integrand: Callable[[Any], Any], interval: list[Any]) -> Any:
        value, error = mpmath.quad(integrand, interval, error=True)
        if not mpmath.isfinite(value):
            raise ZeroDivisionError("a divergent integral")
        if error > mpmath.mpf(10) ** -20 * max(abs(value), 1):
            raise NotEvaluable("an integral that quadrature could not compute to 20 digits")
        return value

    def integral(self, expr: sp.Integral) -> Any:
        if len(expr.limits) != 1 or len(expr.limits[0]) != 3:
            raise NotEvaluable("an integral over several variables or without bounds")
        variable, lower, upper = expr.limits[0]
        lo, hi = self.limit(lower), self.limit(upper)
        body = expr.function
        if not _explicit(body):
            return self.unknown_integral(body.xreplace({variable: _T}), lo, hi)
        return self.explicit_integral(body, variable, lo, hi)

    def explicit_integral(self, body: sp.Basic, variable: sp.Symbol, lo: Any, hi: Any) -> Any:
        if lo == hi:
            return mpmath.mpf(0)
        if mpmath.isfinite(lo) and mpmath.isfinite(hi) and body.is_polynomial(variable):
            antiderivative = sp.integrate(body, variable)  # exact and fast for a polynomial
            return self.at(variable, hi, antiderivative) - self.at(variable, lo, antiderivative)
        interval = [lo, hi]
        if not mpmath.isfinite(lo) and not mpmath.isfinite(hi):
            interval = [lo, 0, hi]
        compiled = _compiled(body)
        if compiled is not None:  # the integrand as closures: the tree is walked once
            env = {s: self(s) for s in body.free_symbols if s != variable}

            def integrand(t: Any) -> Any:
                env[variable] = t
                return compiled(env)

            return self.quadrature(integrand, interval)
        return self.quadrature(lambda t: self.at(variable, t, body), interval)

    def unknown_integral(self, body: sp.Basic, lo: Any, hi: Any) -> Any:
        """Linear in the integrand; each term with an unknown function is a stand-in."""
        total = mpmath.mpf(0)
        for term in sp.Add.make_args(sp.expand(sp.expand_log(body))):
            factor, rest = term.as_independent(_T, as_Add=False)
            if rest == 1:
                if not (mpmath.isfinite(lo) and mpmath.isfinite(hi)):
                    raise ZeroDivisionError("an integral of a constant over the real line")
                total += self(factor) * (hi - lo)
            elif _explicit(rest):
                total += self(factor) * self.explicit_integral(rest, _T, lo, hi)
            elif _normalised(rest, self.ns) and lo == -mpmath.inf and hi == mpmath.inf:
                total += self(factor)  # a density integrates to 1
            else:
                key = ("integral", rest, lo, hi, self.context(rest))
                label = sp.latex(sp.Integral(rest, (_T, sp.Float(lo) if mpmath.isfinite(lo)
                                                    else sp.sign(lo) * sp.oo,
                                                    sp.Float(hi) if mpmath.isfinite(hi)
                                                    else sp.sign(hi) * sp.oo)))
                total += self(factor) * self.point.stand_in(key, rest, label)
        return total

    # -- arguments, indices, sums -------------------------------------------------------------

    def argument(self, arg: sp.Basic) -> Any:
        if isinstance(arg, (Given, Sampled, Normal)):
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
        saved = {index: self.bound.get(index)}
        values = []
        distributions = _distributions_over(expr) if isinstance(expr, sp.Sum) and _PMF.get() \
            else set()
        saved_states = {name: self.states.get(name) for name in distributions}
        try:
            for name in distributions:  # \sum_z p(z): p is a distribution over these states
                self.states[name] = (lo, hi)
            for k in range(lo, hi + 1):
                self.bound[index] = k
                values.append(self(expr.function))
        finally:
            self.restore(saved)
            for name, before in saved_states.items():
                if before is None:
                    self.states.pop(name, None)
                else:
                    self.states[name] = before
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


def _relative(a: Any, b: Any) -> Any:
    return abs(a - b) / max(abs(a), abs(b), mpmath.mpf(10) ** -10)


@dataclass(frozen=True)
class Comparison:
    """The outcome of a random-point comparison. ``agree`` is None when it could not decide.

    ``precision`` says what agreement means (``"30 digits"``, ``"the 4 digits given"``);
    ``note`` adds what the reader must know (decimals, points outside the domain)."""

    agree: bool | None
    points: int
    reason: str = ""
    counterexample: Mapping[str, str] | None = None
    reference_value: str | None = None
    answer_value: str | None = None
    precision: str = f"{DIGITS} digits"
    note: str = ""


_DOMAIN_ERRORS = (ZeroDivisionError, ValueError, OverflowError, ArithmeticError, TypeError)
_EXACT_CHECK = mpmath.mpf(10) ** -24  # exact sides agreeing less closely are re-checked at 60
_CONFIRMED = mpmath.mpf(10) ** -40


def _try(expr: sp.Basic, point: Point, digits: int = DIGITS) -> Any:
    """The value, or None outside the domain (a pole, a complex or infinite value)."""
    try:
        value = evaluate(expr, point, digits)
    except _DOMAIN_ERRORS:
        return None
    if not _finite(value) or not _real(value):
        return None
    return mpmath.re(value)


# -- decimals ---------------------------------------------------------------------------------


def written_digits(number: sp.Float) -> int:
    """Significant digits of a decimal as written (``0.6931`` → 4, ``2.0`` → 2)."""
    if number._prec <= 53:
        text = repr(float(number))
    else:
        text = mpmath.nstr(number._to_mpmath(number._prec), int(number._prec / 3.33))
    digits = Decimal(text).as_tuple().digits
    stripped = "".join(map(str, digits)).lstrip("0")
    return max(len(stripped), 1)


def _exact_decimal(number: sp.Float) -> tuple[sp.Rational, sp.Rational]:
    """The decimal as an exact rational, and one unit in its last written digit."""
    digits = written_digits(number)
    text = repr(float(number)) if number._prec <= 53 else \
        mpmath.nstr(number._to_mpmath(number._prec), digits)
    exact = sp.Rational(Decimal(text).normalize().to_eng_string()) if Decimal(text) != 0 \
        else sp.Integer(0)
    exponent = Decimal(text).adjusted() if Decimal(text) != 0 else 0
    return exact, sp.Rational(10) ** (exponent - digits + 1)


def _decimal_answer(reference: sp.Basic, answer: sp.Basic) -> sp.Basic:
    """A rational with a power-of-10 denominator against an irrational constant is a decimal
    (the parser reads ``0.6931`` exactly); otherwise the answer as it is."""
    if not isinstance(answer, sp.Rational) or answer.is_Integer or reference.free_symbols or \
            reference.atoms(AppliedUndef) or reference.is_Rational or \
            not reference.is_number:
        return answer
    q, k = int(answer.q), 0
    while 10**k % q and k < 30:  # the shortest decimal: q must divide a power of 10
        k += 1
    if 10**k % q:
        return answer
    digits = int(answer.p) * (10**k // q)
    return sp.Float(str(Decimal(digits).scaleb(-k)), max(15, len(str(abs(digits)))))


def _spread(expr: sp.Basic, decimals: Mapping[sp.Float, tuple[sp.Rational, sp.Rational]],
            point: Point) -> tuple[Any, Any]:
    """The value with the decimals read exactly, and half the change one unit in the last
    written digit of each decimal makes (the uncertainty its written digits leave)."""
    own = {f: exact for f, (exact, _) in decimals.items() if expr.has(f)}
    centre = evaluate(expr.xreplace(own), point) if own else evaluate(expr, point)
    spread = mpmath.mpf(0)
    for number in own:
        exact, unit = decimals[number]
        bumped = evaluate(expr.xreplace({**own, number: exact + unit}), point)
        spread += abs(bumped - centre) / 2
    return centre, spread


# -- stand-ins --------------------------------------------------------------------------------


def _distributions_over(operator: sp.Sum) -> set[str]:
    """The densities a sum runs over the states of (``\\sum_z p(z)``, ``p(z|x)``)."""
    index = operator.limits[0][0]
    found = set()
    for application in operator.function.atoms(AppliedUndef):
        first = application.args[0] if application.args else None
        if isinstance(first, Given):
            first = first.args[0]
        if first == index and base_letter(application.func.__name__) in "pqPQ":
            found.add(application.func.__name__)
    return found


def _pmf_reading(expr: sp.Basic) -> tuple[dict[str, tuple[sp.Basic, sp.Basic]],
                                           dict[sp.Symbol, tuple[sp.Basic, sp.Basic]]]:
    """The densities summed over their states (name → the range of the states) and the free
    symbols that are states of them outside the sums (``z`` of ``p(z)``)."""
    distributions: dict[str, tuple[sp.Basic, sp.Basic]] = {}
    for operator in expr.atoms(sp.Sum):
        _, lower, upper = operator.limits[0]
        for name in _distributions_over(operator):
            distributions.setdefault(name, (lower, upper))
    states: dict[sp.Symbol, tuple[sp.Basic, sp.Basic]] = {}
    for application in expr.atoms(AppliedUndef):
        if application.func.__name__ in distributions and application.args:
            first = application.args[0]
            first = first.args[0] if isinstance(first, Given) else first
            if isinstance(first, sp.Symbol) and not first.is_integer:
                states[first] = distributions[application.func.__name__]
    return distributions, states


def _tied_marginal(expr: sp.Basic) -> bool:
    """A density used as a marginal ``p(x)`` and as a conditional ``p(x|z)`` of the same
    variable: its marginal is a sum over the states the random values cannot respect."""
    conditional = {(a.func.__name__, a.args[0].args[0]) for a in expr.atoms(AppliedUndef)
                   if len(a.args) == 1 and isinstance(a.args[0], Given)}
    return any((a.func.__name__, a.args[0]) in conditional for a in expr.atoms(AppliedUndef)
               if len(a.args) == 1 and not isinstance(a.args[0], Given))


def _inside_unknowns(expr: sp.Basic) -> bool:
    """The integration variable occurs only as an argument of unknown functions."""
    if expr == _T:
        return False
    if isinstance(expr, AppliedUndef) or not expr.has(_T):
        return True
    return all(_inside_unknowns(arg) for arg in expr.args)


def _family(key: Any, body: sp.Basic) -> str | None:
    """The family of a *free* stand-in (its value is not pinned by an identity), or None.

    Free: a divergence ``KL``/``JSD`` of two distributions; an integral of a density of the
    variable times the log of unknown functions of it (a cross-entropy: no equality ties such
    integrals together, only inequalities, which an analytic difference cannot hide behind);
    an expectation of the log of one unknown function. ``\\int p = 1`` is already applied."""
    if key[0] == "function":
        return "divergence"
    if key[0] == "integral":
        factors = sp.Mul.make_args(body)
        densities = [f for f in factors if _normalised_shape(f)]
        logs = [f for f in factors if isinstance(f, sp.log) and _inside_unknowns(f)]
        if len(densities) == 1 and len(logs) == 1 and len(factors) == 2:
            return "integral"
        return None
    if isinstance(body, Expectation) and isinstance(body.args[0], sp.log) and \
            isinstance(body.args[0].args[0], AppliedUndef):
        return "expectation"
    return None


def _variable_of(distribution: sp.Basic) -> sp.Basic | None:
    if isinstance(distribution, AppliedUndef) and len(distribution.args) == 1:
        (arg,) = distribution.args
        return arg.args[0] if isinstance(arg, Given) else arg
    return None


def _well_typed(divergence: sp.Basic) -> bool:
    """Both arguments are distributions over the same variable (or it cannot be told)."""
    variables = [_variable_of(arg) for arg in divergence.args]
    return None in variables or len(set(variables)) == 1


def _normalised_shape(term: sp.Basic) -> bool:
    if not isinstance(term, AppliedUndef) or base_letter(term.func.__name__) not in "pqPQ" \
            or len(term.args) != 1:
        return False
    (arg,) = term.args
    return arg == _T or (isinstance(arg, Given) and arg.args[0] == _T
                         and not arg.args[1].has(_T))


def _stand_in_artefact(reference: sp.Basic, answer: sp.Basic, point: Point,
                       difference: Any) -> str | None:
    """Why a disagreement may come from treating an integral or expectation as an arbitrary
    number, or None when the difference does not hinge on such a stand-in."""
    keys = [key for key in point.stand_ins if key in point.values]
    dependent = []
    for number, key in enumerate(keys):
        other = point.redrawn({key}, str(number))
        ref, ans = _try(reference, other), _try(answer, other)
        if ref is None or ans is None or not _close(ref - ans, difference,
                                                    mpmath.mpf(10) ** -12):
            dependent.append(key)
    if not dependent:
        return None
    from grading.answers.instances import pushforward

    families = {_family(key, point.stand_ins[key]) for key in dependent}
    if pushforward(reference, answer):
        families.add(None)  # E_{z~p}[f(G(z))] may equal E_{x~p_G}[f(x)]: not free
    if families == {"divergence", "integral"} and not any(
            _well_typed(point.stand_ins[key]) for key in dependent if key[0] == "function"):
        families = {"integral"}  # KL(q(x|z) || p(z)) is no integral of the others
    if len(families) == 1 and None not in families and \
            (families != {"expectation"} or len(dependent) == 1):
        return None  # free stand-ins of one kind: the difference is genuine
    shown = "; ".join(sorted({point.labels[key] for key in dependent}))
    return ("the two sides differ only through " + shown + ", which the engine treats as an "
            "unknown number (an integral or expectation of an unknown function), so it cannot "
            "tell whether they differ for actual densities")


# -- the comparison ---------------------------------------------------------------------------


def compare(reference: sp.Basic, answer: sp.Basic, namespace: Namespace, *, seed: int = 0,
            points: int = 12, attempts: int = 80,
            deadline_check: Callable[[], None] | None = None) -> Comparison:
    """Compare at ``points`` random points where both sides are defined and real.

    A point where either side has a pole or a complex value is outside the comparison domain
    and is redrawn; a disagreement there is a counterexample, confirmed at 60 digits before it
    is reported. Decimals are compared to the digits written (see the module docstring).

    A density summed over the states of its variable (``\\sum_z q(z)``) is read two ways: as
    a distribution (normalised over the states: ``\\sum_z q(z) = 1``) and as any positive
    function (inside a Lagrangian q is not yet normalised); the verdict stands only if both
    readings give it.
    """
    if not any(_distributions_over(s) for side in (reference, answer)
               for s in side.atoms(sp.Sum)):
        return _compare_decimals(reference, answer, namespace, seed, points, attempts,
                                 deadline_check)
    def reading(as_distribution: bool) -> Comparison:
        token = _PMF.set(as_distribution)
        try:
            return _compare_decimals(reference, answer, namespace, seed, points, attempts,
                                     deadline_check)
        finally:
            _PMF.reset(token)

    free, normalised = reading(False), reading(True)
    if free.agree is normalised.agree:
        return normalised
    return Comparison(None, min(free.points, normalised.points),
                      "the verdict depends on whether the density summed over its states is a "
                      "normalised distribution (\\sum_z q(z) = 1) or any positive function: "
                      f"{_said(normalised.agree)} if it is, {_said(free.agree)} if not")


def _said(agree: bool | None) -> str:
    return {True: "equal", False: "not equal", None: "undecided"}[agree]


def _compare_decimals(reference: sp.Basic, answer: sp.Basic, namespace: Namespace, seed: int,
                      points: int, attempts: int,
                      deadline_check: Callable[[], None] | None) -> Comparison:
    answer = _decimal_answer(reference, answer)
    floats = reference.atoms(sp.Float) | answer.atoms(sp.Float)
    if not floats:
        return _compare(reference, answer, namespace, seed, points, attempts, deadline_check)
    decimals = {f: _exact_decimal(f) for f in floats}
    exact = {f: value for f, (value, _) in decimals.items()}
    exactly = _compare(reference.xreplace(exact), answer.xreplace(exact), namespace, seed,
                       points, attempts, deadline_check)
    side = "the answer" if answer.atoms(sp.Float) else "the reference"
    digits = min(written_digits(f) for f in floats)
    given = f"the {digits} digit{'s' if digits > 1 else ''} given"
    if exactly.agree:
        return Comparison(True, exactly.points, precision=f"{DIGITS} digits",
                          note=f"{side} has decimals, equal when read exactly")
    result = _compare(reference, answer, namespace, seed, points, attempts, deadline_check,
                      decimals)
    note = f"{side} is a decimal" if not answer.free_symbols and side == "the answer" \
        else f"{side} has decimals"
    if result.agree is False:
        return Comparison(False, result.points, f"the values differ beyond {given}",
                          result.counterexample, result.reference_value, result.answer_value,
                          given, note)
    return Comparison(result.agree, result.points, result.reason, precision=given, note=note)


def _compare(reference: sp.Basic, answer: sp.Basic, namespace: Namespace, seed: int,
             points: int, attempts: int, deadline_check: Callable[[], None] | None,
             decimals: Mapping[sp.Float, tuple[sp.Rational, sp.Rational]] | None = None
             ) -> Comparison:
    exact = not decimals
    agreed = defined = 0
    answer_undefined: Point | None = None
    for number in range(attempts):
        if deadline_check is not None:
            deadline_check()
        point = Point.numbered(namespace, seed, number)
        if _PMF.get():
            point.distributions, point.states = _pmf_reading(reference + answer)
        try:
            if decimals:
                ref_value, ref_spread = _spread(reference, decimals, point)
            else:
                ref_value, ref_spread = evaluate(reference, point), 0
        except NotEvaluable as reason:
            return Comparison(None, agreed, f"the reference: {reason}")
        except _DOMAIN_ERRORS:
            continue
        if not _finite(ref_value) or not _real(ref_value):
            continue
        defined += 1
        try:
            if decimals:
                ans_value, ans_spread = _spread(answer, decimals, point)
            else:
                ans_value, ans_spread = evaluate(answer, point), 0
        except NotEvaluable as reason:
            return Comparison(None, agreed, f"the answer: {reason}")
        except _DOMAIN_ERRORS:
            ans_value = None
        if ans_value is None or not _finite(ans_value) or not _real(ans_value):
            answer_undefined = answer_undefined or point  # outside the comparison domain
            continue
        ref_value, ans_value = mpmath.re(ref_value), mpmath.re(ans_value)
        if decimals:
            tolerance = (ref_spread + ans_spread) * (1 + mpmath.mpf(10) ** -9) + \
                TOLERANCE * max(abs(ref_value), abs(ans_value), mpmath.mpf(10) ** -10)
            same = abs(ref_value - ans_value) <= tolerance or \
                _truncated(reference, answer, decimals, ref_value, ans_value)
        else:
            same = _close(ref_value, ans_value, TOLERANCE)
        shown_digits = 15
        if same and exact and _relative(ref_value, ans_value) > _EXACT_CHECK:
            ref_precise = _try(reference, point, CONFIRM_DIGITS)  # exact sides: 60 digits
            ans_precise = _try(answer, point, CONFIRM_DIGITS)
            if ref_precise is not None and ans_precise is not None and \
                    not _close(ref_precise, ans_precise, _CONFIRMED):
                same = False
                shown_digits = 30
        elif not same and exact:
            ref_precise = _try(reference, point, CONFIRM_DIGITS)  # confirm a disagreement
            ans_precise = _try(answer, point, CONFIRM_DIGITS)
            if ref_precise is None or ans_precise is None:
                continue
            if _close(ref_precise, ans_precise, _CONFIRMED):
                continue  # a precision artefact, not a counterexample
        if same:
            agreed += 1
            if agreed >= points:
                break
            continue
        if _PMF.get() and _tied_marginal(reference + answer):
            return Comparison(None, agreed, "a sum of a distribution over its states "
                                            "(\\sum_z p(z) = 1) is involved, which random "
                                            "values of p cannot respect")
        if point.stand_ins:
            artefact = _stand_in_artefact(reference, answer, point, ref_value - ans_value)
            if artefact is not None:
                witness = _with_instances(reference, answer, namespace, seed, deadline_check) \
                    if WITNESSES.get() else None
                return witness if witness is not None else Comparison(None, agreed, artefact)
        return Comparison(False, agreed, "the values differ", point.describe(),
                          mpmath.nstr(ref_value, shown_digits),
                          mpmath.nstr(ans_value, shown_digits))
    if answer_undefined is not None:
        where = ", ".join(f"{k} = {v}" for k, v in answer_undefined.describe().items())
        if agreed == 0:
            return Comparison(None, 0, "the answer is not real anywhere the reference is "
                                       f"(e.g. at {where})")
        return Comparison(None, agreed, f"the two sides agree wherever both are real, but the "
                                        f"answer is undefined or not real at {where}, where the "
                                        f"reference is defined: equal only on part of the "
                                        f"domain")
    if agreed >= points or (agreed >= points // 2 and agreed > 0):
        return Comparison(True, agreed)
    if defined == 0:
        return Comparison(None, agreed, f"no point among {attempts} random points is inside "
                                        "the domain where the reference is real and finite")
    return Comparison(None, agreed, f"only {agreed} of {attempts} random points were inside "
                                    "the domain where both sides are real and finite")


INSTANCES = 4  # independent concrete instances of the unknown functions
INSTANCE_POINTS = 2  # random points per instance
INSTANCE_DIGITS = 20  # working precision of an instance; quadrature closer than 10^-12
INSTANCE_AGREEMENT = mpmath.mpf(10) ** -9  # relative: equal; beyond 10^-6: a counterexample


def _with_instances(reference: sp.Basic, answer: sp.Basic, namespace: Namespace, seed: int,
                    deadline_check: Callable[[], None] | None) -> Comparison | None:
    """Both sides with their unknown functions replaced by concrete random functions
    (:mod:`grading.answers.instances`): a difference is a counterexample with those functions;
    agreement for every instance is equality. None when no faithful instance exists or the
    numbers cannot tell (a difference between 10^-9 and 10^-6 of the value)."""
    from grading.answers.instances import WINDOW, Unsupported, compile_numeric, instantiate

    agreed = 0
    with mpmath.workdps(INSTANCE_DIGITS):
        for number in range(INSTANCES):
            rng = random.Random(f"genverify:{seed}:instance:{number}")
            instance = instantiate(reference, answer, namespace, rng)
            if instance is None:
                return None
            try:
                sides = [compile_numeric(side, mpmath.mpf(10) ** -12, window=WINDOW)
                         for side in (instance.reference, instance.answer)]
            except Unsupported:
                return None
            symbols = sorted(instance.reference.free_symbols | instance.answer.free_symbols,
                             key=str)
            for draw in range(INSTANCE_POINTS):
                if deadline_check is not None:
                    deadline_check()
                point = Point.numbered(namespace, seed, 10_000 + number * 100 + draw)
                values = {s: point.value(s, _symbol_kind(namespace, s.name, s), s.name)
                          for s in symbols}
                try:
                    ref_value, ans_value = (side(values) for side in sides)
                except Unsupported:
                    return None
                except _DOMAIN_ERRORS:
                    continue
                if not all(_finite(v) and _real(v) for v in (ref_value, ans_value)):
                    continue
                ref_value, ans_value = mpmath.re(ref_value), mpmath.re(ans_value)
                gap = _relative(ref_value, ans_value)
                if gap <= INSTANCE_AGREEMENT:
                    agreed += 1
                    continue
                if gap < mpmath.mpf(10) ** -6:
                    return None
                shown = {**instance.description, **point.describe()}
                return Comparison(False, agreed, "the values differ for concrete functions",
                                  shown, mpmath.nstr(ref_value, 12), mpmath.nstr(ans_value, 12),
                                  precision="9 digits",
                                  note="with the unknown functions made concrete")
    if agreed < INSTANCES:
        return None
    return Comparison(True, agreed, precision="9 digits",
                      note=f"equal for {INSTANCES} random concrete instances of the unknown "
                           "functions (densities as Gaussian mixtures)")


def _truncated(reference: sp.Basic, answer: sp.Basic,
               decimals: Mapping[sp.Float, tuple[sp.Rational, sp.Rational]],
               ref_value: Any, ans_value: Any) -> bool:
    """A bare decimal answer that is the reference cut off after its last written digit."""
    if not isinstance(answer, sp.Float) or reference.atoms(sp.Float):
        return False
    _, unit = decimals[answer]
    unit = mpmath.mpf(int(unit.p)) / int(unit.q)
    return mpmath.sign(ref_value) == mpmath.sign(ans_value) and \
        abs(ans_value) <= abs(ref_value) < abs(ans_value) + unit
