"""Derivations as values, and the checker that proves every step.

A :class:`Derivation` is an ordered tuple of :class:`Step` s. Each step carries an expression
and the relation it claims to the step before it; :func:`Derivation.verify` checks every claim:

* ``"def"``     a starting point (a definition or a model assumption); nothing to check.
* ``"="``       ``previous == expr``; ``"<="``, ``">="``, ``"<"``, ``">"``: ``previous REL expr``.
* ``"holds"``   ``expr`` is a relational (``Eq``, ``Lt``, ...) that must hold on the domain; it
                does not move the chain.
* ``"solves"``  ``expr`` is ``Eq(unknown, value)`` and ``value`` satisfies the previous equation
                (an ``Eq`` or an expression equal to zero); the chain continues from ``value``.
* ``"stationary"`` ``expr`` is ``Eq(g, 0)`` with ``g == d previous / d wrt`` — the first-order
                condition (Euler–Lagrange for a Lagrangian without a derivative term).

Equalities are checked symbolically first by a ladder of cheap canonical forms; where SymPy
cannot decide, by agreement at many random points of the declared domain in 30-digit
arithmetic (``mpmath``; integrals by ``mpmath.quad``). Inequalities are checked at random points.
Symbols are sampled from their assumptions, or from an explicit ``domain``; a symbolic upper
bound of a ``Sum``/``Product`` (``G`` pixels, ``d`` dimensions) is drawn as a small integer and
the indexed entries are sampled per index.

Source of the method: the random-point identity test of Schwartz–Zippel, carried to analytic
expressions (as in computer-algebra zero-equivalence testing).
"""

from __future__ import annotations

import functools
import random
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import mpmath
import sympy as sp
from sympy.core.function import AppliedUndef
from sympy.printing.pycode import MpmathPrinter

__all__ = [
    "Derivation",
    "DerivationError",
    "Step",
    "StepReport",
    "Verification",
    "derivation",
    "lazy_exports",
    "registered",
]

CHAIN_RELATIONS = ("=", "<=", ">=", "<", ">")
RELATIONS = ("def", *CHAIN_RELATIONS, "holds", "solves", "stationary")

DIGITS = 30  # working precision of numeric checks
QUADRATURE_DIGITS = 20  # working precision where an integral is evaluated by quadrature
TOLERANCE = mpmath.mpf(10) ** -12  # relative agreement demanded at a point
POINTS = 8  # random points for an algebraic step
PRECISE_DIGITS = (3 * DIGITS, 9 * DIGITS)  # a tight or violated relation is evaluated again
STABLE = mpmath.mpf(10) ** -6  # relative change between the precisions of a real gap
POINTS_WITH_INTEGRALS = 4  # integrals are evaluated by quadrature: fewer, costlier points
# Undeclared symbols are drawn at a moderate scale (reals in (-2, 2), positives in
# (e^-1.5, e^1.5)). For relations without an integral (inequalities, whose truth can change with
# the scale, unlike identities of analytic functions) every second point is drawn at a wide
# scale instead: magnitudes e^u, u in one of WIDE_STRATA strata of (-WIDE_LOG, WIDE_LOG) in turn
# (the moderate scale again after 10 misses: poles, or points outside `where`). So 8 points
# reach both |x| < 0.23 and |x| > 4.4, and a step true only near 1 (x**2 <= 4; s <= 4,
# tanh(s) <= 0.99 or log(s) >= -1.4 for s > 0) is refused. The cap e^3 keeps 30-digit
# differences of exponentials far below the tolerance.
WIDE_LOG = 3.0
WIDE_STRATA = 4


class DerivationError(AssertionError):
    """A derivation's step does not follow from the one before it."""


@dataclass(frozen=True)
class Step:
    """One line of a derivation: ``previous <rel> expr``, justified by ``reason``."""

    expr: sp.Basic
    reason: str
    rel: str = "="
    wrt: sp.Basic | None = None  # the variable of a "stationary" step
    subs: Mapping[sp.Basic, sp.Basic] | None = None  # "=": previous.subs(subs) == expr
    change: tuple[sp.Symbol, sp.Expr, sp.Symbol] | None = None  # "=": x = f(t) in integrals
    by: Derivation | None = None  # "=": a verified lemma, start -> result, applied inside

    def __post_init__(self) -> None:
        if self.rel not in RELATIONS:
            raise ValueError(f"unknown relation {self.rel!r}; expected one of {RELATIONS}")
        if self.rel == "stationary" and self.wrt is None:
            raise ValueError("a 'stationary' step needs wrt=")
        if self.rel == "solves" and not isinstance(self.expr, sp.Eq):
            raise ValueError("a 'solves' step is Eq(unknown, value)")


@dataclass(frozen=True)
class StepReport:
    """The verdict on one step."""

    index: int
    reason: str
    rel: str
    ok: bool
    method: str  # "definition", "symbolic", "numeric (12 points, 30 digits)", ...
    detail: str = ""


@dataclass(frozen=True)
class Verification:
    """The verdicts on every step of one derivation; falsy when a step fails."""

    name: str
    part: str
    steps: tuple[StepReport, ...]
    seconds: float = 0.0  # wall time of the check

    @property
    def ok(self) -> bool:
        return all(step.ok for step in self.steps)

    def __bool__(self) -> bool:
        return self.ok

    @property
    def first_failure(self) -> StepReport | None:
        return next((step for step in self.steps if not step.ok), None)

    def raise_for_failure(self) -> None:
        failure = self.first_failure
        if failure is not None:
            raise DerivationError(
                f"{self.name} ({self.part}): step {failure.index} "
                f"'{failure.reason}' does not follow: {failure.detail}"
            )


Sampler = Callable[[random.Random], Any]


@dataclass(frozen=True)
class Derivation:
    """A closed form derived step by step.

    ``args`` fixes the argument order of the exported closed form (a ``sympy.Lambda``).
    ``domain`` maps a symbol, an ``IndexedBase`` or an applied function such as ``D(x)`` to an
    interval ``(lo, hi)`` or to a sampler ``rng -> value``; unmapped symbols are drawn from their
    assumptions. ``given`` substitutes constrained symbols (``q3: 1 - q1 - q2``) before a point
    is evaluated, and ``where`` rejects points outside a constrained domain.
    """

    name: str
    part: str
    steps: tuple[Step, ...]
    args: tuple[sp.Basic, ...] = ()
    domain: Mapping[Any, Any] = field(default_factory=dict)
    given: Mapping[sp.Basic, sp.Basic] = field(default_factory=dict)
    where: sp.Basic | None = None
    summary: str = ""

    def __post_init__(self) -> None:
        if not self.steps or self.steps[0].rel != "def":
            raise ValueError(f"{self.name}: a derivation starts from a 'def' step")

    @property
    def symbols(self) -> frozenset[sp.Basic]:
        """Every free symbol of the derivation, with the assumptions it was declared with."""
        return frozenset().union(*(step.expr.free_symbols for step in self.steps))

    @property
    def result(self) -> sp.Basic:
        """The last expression of the chain (the value of a final 'solves' step)."""
        chain = None
        for step in self.steps:
            if step.rel == "solves":
                chain = step.expr.rhs
            elif step.rel not in ("holds", "stationary"):
                chain = step.expr
        return chain

    @property
    def closed_form(self) -> sp.Lambda:
        """The result as a function of ``args`` (``sympy.Lambda``), ready for the bridges.

        Only a chain of equalities has a closed form: a step that is an inequality makes the
        result a bound, and asking for its closed form is an error.
        """
        bounds = [i for i, s in enumerate(self.steps) if s.rel in (">=", "<=", ">", "<")]
        if bounds:
            raise DerivationError(f"{self.name}: step {bounds[0]} is an inequality, so the "
                                  f"result is a bound, not a closed form")
        return sp.Lambda(self.args, self.result)

    def verify(self, *, seed: int = 0) -> Verification:
        """Check every step against the one before; see the module docstring.

        The verdict is kept on the derivation, so a lemma used by several derivations is
        verified once per seed.
        """
        cache = self.__dict__.setdefault("_verifications", {})
        if seed not in cache:
            start = time.perf_counter()
            steps = tuple(_Checker(self, random.Random(seed)).run())
            cache[seed] = Verification(self.name, self.part, steps, time.perf_counter() - start)
        return cache[seed]

    def replace_step(self, index: int, step: Step) -> Derivation:
        """A copy with one step replaced (to show that a corrupted step is caught)."""
        steps = list(self.steps)
        steps[index] = step
        return Derivation(self.name, self.part, tuple(steps), self.args, self.domain,
                          self.given, self.where, self.summary)


# --------------------------------------------------------------------------------------------
# registry and lazy module constants


_REGISTRY: dict[str, Callable[[], Derivation]] = {}


def derivation(builder: Callable[[], Derivation]) -> Callable[[], Derivation]:
    """Register a derivation builder; it runs once, on first use, and is cached."""
    cached = functools.cache(builder)
    _REGISTRY[f"{builder.__module__}.{builder.__name__}"] = cached
    return cached


def registered() -> tuple[Derivation, ...]:
    """Every registered derivation, built (once) in registration order."""
    return tuple(build() for build in _REGISTRY.values())


def lazy_exports(module: str, exports: Mapping[str, Callable[[], Any]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that derives an UPPER_CASE constant on first access.

    ``from derivations.gan import D_STAR`` then derives D* once, and importing the module does
    no work.
    """

    @functools.cache
    def value(name: str) -> Any:
        return exports[name]()

    def __getattr__(name: str) -> Any:
        if name in exports:
            return value(name)
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__


# --------------------------------------------------------------------------------------------
# the checker


_CANONICAL_FORMS: tuple[Callable[[sp.Expr], sp.Expr], ...] = (
    lambda e: e,
    sp.expand,
    lambda e: sp.expand(sp.expand_log(e)),  # log rules only where the assumptions allow them
    lambda e: sp.cancel(sp.together(sp.expand(sp.expand_log(sp.powsimp(e))))),
)


def _symbolically_zero(expr: sp.Expr) -> bool:
    """True when a cheap canonical form of ``expr`` is exactly zero (False = undecided).

    Integrals of constants (moments, normalisers) are evaluated by SymPy first.
    """
    expr = expr.replace(_is_constant_integral, constant_integral)
    if expr.has(sp.Integral, sp.Sum, sp.Product, sp.Derivative):
        return False  # decided numerically: unevaluated operators make simplify slow
    for form in _CANONICAL_FORMS:
        try:
            if form(expr) == 0:
                return True
        except (sp.PolynomialError, TypeError, ValueError):  # pragma: no cover - defensive
            continue
    return False


def _logs_of_products_as_sums(expr: sp.Expr) -> sp.Expr:
    """log ∏_j f_j = Σ_j log f_j where every factor is positive by its assumptions."""

    def is_log_of_positive_product(a: sp.Basic) -> bool:
        return isinstance(a, sp.log) and isinstance(a.args[0], sp.Product) \
            and a.args[0].function.is_positive is True

    def as_sum(a: sp.log) -> sp.Sum:
        product = a.args[0]
        return sp.Sum(sp.expand_log(sp.log(product.function)), *product.limits)

    return expr.replace(is_log_of_positive_product, as_sum) if expr.has(sp.Product) else expr


def _single_integrand(expr: sp.Expr) -> sp.Expr | None:
    """If ``expr`` is a combination of integrals (or of sums) over one range, the integrand
    (summand) of their total.

    Factors free of the variable move inside, variables are renamed to one, and integrals or
    sums over the same range become one (linearity); ``None`` if ``expr`` has terms outside
    them, or ranges that differ.
    """
    for operator in (sp.Integral, sp.Sum):
        if expr.has(operator):
            body = _merged_body(expr, operator)
            if body is not None:
                return body
    return None


def _merged_body(expr: sp.Expr, operator: type) -> sp.Expr | None:
    variable = sp.Dummy("u", real=True) if operator is sp.Integral else \
        sp.Dummy("k", integer=True)
    body, limits = sp.Integer(0), None
    for term in sp.Add.make_args(sp.expand(expr, deep=False)):
        factors = sp.Mul.make_args(term)
        inner = [f for f in factors if isinstance(f, operator)]
        if len(inner) != 1 or len(inner[0].limits) != 1 or len(inner[0].limits[0]) != 3:
            return None
        (single,) = inner
        (v, lo, hi) = single.limits[0]
        if limits is None:
            limits = (lo, hi)
        elif limits != (lo, hi):
            return None
        coefficient = sp.Mul(*(f for f in factors if f is not single))
        if v in coefficient.free_symbols:
            return None
        body += coefficient * single.function.subs(v, variable)
    return body


def _lhs_minus_rhs(expr: sp.Basic) -> sp.Expr:
    return expr.lhs - expr.rhs if isinstance(expr, sp.Equality) else expr


class _Checker:
    def __init__(self, derivation: Derivation, rng: random.Random) -> None:
        self.d = derivation
        self.rng = rng

    def run(self) -> Iterable[StepReport]:
        chain: sp.Basic | None = None
        for index, step in enumerate(self.d.steps):
            ok, method, detail = self._check(step, chain)
            yield StepReport(index, step.reason, step.rel, ok, method, detail)
            if step.rel == "solves":
                chain = step.expr.rhs
            elif step.rel != "holds":  # a stationarity condition is the next step's equation
                chain = step.expr

    def _check(self, step: Step, previous: sp.Basic | None) -> tuple[bool, str, str]:
        try:
            return self._check_relation(step, previous)
        except DerivationError as error:
            return False, "numeric", str(error)

    def _check_relation(self, step: Step, previous: sp.Basic | None) -> tuple[bool, str, str]:
        rel = step.rel
        if rel == "def":
            return True, "definition", ""
        if rel == "holds":
            return self._holds(step.expr)
        if rel == "solves":
            unknown, value = step.expr.lhs, step.expr.rhs
            residual = _lhs_minus_rhs(previous).subs(unknown, value)
            return self._zero(residual, "the value does not solve the previous equation")
        if rel == "stationary":
            gradient = sp.diff(previous, step.wrt)
            return self._zero(_lhs_minus_rhs(step.expr) - gradient,
                              f"not the derivative of the previous line by {step.wrt}")
        if step.by is not None:
            return self._lemma(step, previous)
        if step.subs is not None:
            substituted = previous.subs(step.subs)
            if substituted == previous:
                return False, "symbolic", "the substitution changes nothing in the previous line"
            previous = substituted
        if step.change is not None:
            old, new, variable = step.change
            previous = previous.replace(
                lambda a: isinstance(a, sp.Integral) and list(a.variables) == [old],
                lambda a: a.transform(old, (new, variable)),
            )
        if rel == "=":
            return self._zero(previous - step.expr, "the two lines differ")
        try:
            relation = sp.Rel(previous, step.expr, rel)
        except TypeError as error:  # e.g. a complex expression in an inequality
            return False, "symbolic", f"not a real relation: {error}"
        return self._holds(relation)

    def _lemma(self, step: Step, previous: sp.Basic) -> tuple[bool, str, str]:
        """``previous`` becomes ``expr`` by replacing an instance of a verified lemma's start
        (instantiated by ``subs``) with the same instance of its result."""
        lemma = step.by
        if not lemma.verify().ok:
            return False, "lemma", f"the lemma '{lemma.name}' does not verify"
        mapping = step.subs or {}
        start, result = lemma.steps[0].expr.subs(mapping), lemma.result.subs(mapping)
        if not previous.has(start):
            return False, "lemma", f"the previous line holds no instance of '{lemma.name}'"
        ok, method, detail = self._zero(previous.xreplace({start: result}) - step.expr,
                                        "the lemma does not turn the previous line into this one")
        return ok, f"by '{lemma.name}', then {method}", detail

    # -- equalities -----------------------------------------------------------------------

    def _zero(self, difference: sp.Expr, failure: str) -> tuple[bool, str, str]:
        difference = _logs_of_products_as_sums(difference)
        if _symbolically_zero(difference):
            return True, "symbolic", ""
        integrand = _single_integrand(difference)
        if integrand is not None:  # a zero integrand proves the integrals equal
            if _symbolically_zero(integrand):
                return True, "symbolic (integrands or summands agree)", ""
            if self._numerically_zero(integrand):
                return True, f"numeric on the integrands or summands ({POINTS} points, {DIGITS} digits)", ""
        return self._numerically_zero_report(difference, failure)

    def _numerically_zero(self, expr: sp.Expr) -> bool:
        return self._numerically_zero_report(expr, "")[0]

    def _numerically_zero_report(self, difference: sp.Expr, failure: str) -> tuple[bool, str, str]:
        points = POINTS_WITH_INTEGRALS if difference.has(sp.Integral) else POINTS
        for point, value, _ in self._evaluate(difference, points):
            if isinstance(value, mpmath.mpc):  # one side is not real there, or they differ
                return False, "numeric", f"{failure}: at {_show(point)} the difference is " \
                                         f"not real ({mpmath.nstr(value, 8)}); a step must " \
                                         f"hold on the whole declared domain"
            if not mpmath.almosteq(value, 0, rel_eps=TOLERANCE, abs_eps=TOLERANCE):
                return False, "numeric", f"{failure}: at {_show(point)} the difference is " \
                                         f"{mpmath.nstr(value, 8)}"
        return True, f"numeric ({points} points, {DIGITS} digits)", ""

    # -- relations that must hold on the domain -------------------------------------------

    def _holds(self, relation: sp.Basic) -> tuple[bool, str, str]:
        if relation is sp.true:
            return True, "symbolic", ""
        if relation is sp.false:
            return False, "symbolic", "the relation is false"
        if isinstance(relation, sp.Equality):
            return self._zero(relation.lhs - relation.rhs, "the equation does not hold")
        gap = relation.gts - relation.lts  # >= 0 (or > 0) wherever the relation holds
        strict = isinstance(relation, (sp.StrictGreaterThan, sp.StrictLessThan))
        points = POINTS_WITH_INTEGRALS if gap.has(sp.Integral) else POINTS
        for point, value, at in self._evaluate(gap, points, wide=True):
            if isinstance(value, mpmath.mpc):
                return False, "numeric", f"not real at {_show(point)}: greater side minus " \
                                         f"smaller side = {mpmath.nstr(value, 8)}"
            if at is None:  # by quadrature: a gap within the slack counts as 0
                slack = TOLERANCE * max(1, abs(value))
                violated = (value <= slack) if strict else (value < -slack)
            else:  # confirmed at a higher precision: is the gap real or rounding error?
                value = _resolved_gap(value, at)
                violated = (value is None or value <= 0) if strict else \
                    (value is not None and value < 0)
            if violated:
                shown = "0 to working precision" if value is None else mpmath.nstr(value, 8)
                return False, "numeric", f"violated at {_show(point)}: " \
                                         f"greater side minus smaller side = {shown}"
        return True, f"numeric ({points} points, {DIGITS} digits)", ""

    # -- sampling and evaluation ----------------------------------------------------------

    def _evaluate(self, expr: sp.Expr, count: int,
                  wide: bool = False) -> Iterable[tuple[dict, Any, Callable | None]]:
        """Values of ``expr`` at ``count`` random points of the domain (poles are redrawn), each
        with a function giving it at a given precision (None where an integral is evaluated by
        quadrature). With ``wide``, every second point is drawn at the wide scale."""
        expr = _lhs_minus_rhs(expr).subs(self.d.given)
        bounds = sorted((s for s in expr.free_symbols if s.is_integer and s.is_positive), key=str)
        compiled: dict[tuple[int, ...], tuple[list, Callable]] = {}
        digits = QUADRATURE_DIGITS if expr.has(sp.Integral) else DIGITS
        with mpmath.workdps(digits):
            produced = attempts = misses = 0
            while produced < count:
                attempts += 1
                if attempts > 50 * count:
                    raise DerivationError(f"{self.d.name}: could not sample the domain")
                sizes = tuple(self.rng.randint(1, 4) for _ in bounds)
                if sizes not in compiled:
                    compiled[sizes] = _compile(expr.subs(dict(zip(bounds, sizes))))
                atoms, function = compiled[sizes]
                point = dict(zip(bounds, sizes))
                at_wide = wide and digits == DIGITS and produced % 2 == 1 and misses < 10
                stratum = (produced // 2) % WIDE_STRATA if at_wide else None
                point.update((atom, self._draw(atom, stratum)) for atom in atoms)
                if self.d.where is not None and \
                        self.d.where.subs(self.d.given).subs(point) is not sp.true:
                    misses += 1
                    continue
                values = [point[atom] for atom in atoms]
                value = _mp_value(function, values)
                if value is None:
                    misses += 1
                    continue  # a pole or an overflow at this point: draw another
                produced, misses = produced + 1, 0
                yield point, value, None if digits != DIGITS else functools.partial(
                    _precise_value, function, values)

    def _draw(self, atom: sp.Basic, stratum: int | None = None) -> Any:
        """A random value for a symbol, an indexed entry ``x[2]`` or an application ``D(x)``;
        an undeclared real or positive symbol at the moderate scale, or with ``stratum`` at the
        wide scale's magnitudes e^u, u in that stratum of (-WIDE_LOG, WIDE_LOG)."""
        key = atom.base if isinstance(atom, sp.Indexed) else atom
        spec = self.d.domain.get(key)
        if spec is None and isinstance(atom, sp.Indexed):
            spec = self.d.domain.get(atom.base.label)
        if spec is None and isinstance(atom, AppliedUndef):
            spec = self.d.domain.get(atom.func)
        if callable(spec):
            return mpmath.mpf(spec(self.rng))
        if spec is not None:
            lo, hi = spec
            return mpmath.mpf(self.rng.uniform(float(lo), float(hi)))
        symbol = atom.base.label if isinstance(atom, sp.Indexed) else atom
        if getattr(symbol, "is_integer", False):
            return mpmath.mpf(self.rng.randint(1, 4))
        positive = getattr(symbol, "is_positive", False)
        if stratum is not None:
            width = 2 * WIDE_LOG / WIDE_STRATA
            low = -WIDE_LOG + stratum * width
            magnitude = mpmath.exp(self.rng.uniform(low, low + width))
            return magnitude if positive or self.rng.random() < 0.5 else -magnitude
        if positive:
            return mpmath.exp(self.rng.uniform(-1.5, 1.5))
        return mpmath.mpf(self.rng.uniform(-2.0, 2.0))


_NO_ORDER = MpmathPrinter({"order": "none", "fully_qualified_modules": False})


@functools.lru_cache(maxsize=256)
def constant_integral(integral: sp.Integral) -> sp.Expr:
    """The exact value of an integral without free symbols, computed once per process."""
    return integral.doit()


def _is_constant_integral(a: sp.Basic) -> bool:
    """An integral of a known function with no free symbol: a number to compute once."""
    return isinstance(a, sp.Integral) and not a.free_symbols and not a.atoms(AppliedUndef)


def _unroll(expr: sp.Expr) -> sp.Expr:
    """Write out sums and products whose bounds are now integers (integrals stay as they are)."""

    def expand(operator: sp.Expr) -> sp.Expr:
        (index, lo, hi), = operator.limits
        if not (lo.is_Integer and hi.is_Integer):
            return operator
        terms = [_unroll(operator.function).subs(index, k) for k in range(int(lo), int(hi) + 1)]
        return (sp.Add if isinstance(operator, sp.Sum) else sp.Mul)(*terms)

    return expr.replace(lambda a: isinstance(a, (sp.Sum, sp.Product)), expand)


@functools.lru_cache(maxsize=512)
def _compile(expr: sp.Expr) -> tuple[list, Callable]:
    """``expr`` as an mpmath function of its atoms: symbols, indexed entries, applications."""
    expr = _unroll(expr)
    expr = expr.replace(_is_constant_integral,
                        lambda a: a.evalf(QUADRATURE_DIGITS))  # constants: integrate once
    if expr.has(sp.Derivative):
        expr = expr.replace(lambda a: isinstance(a, sp.Derivative), lambda a: a.doit())
    # derivatives of an undefined function are values of their own: at one point, p, p' and
    # p'' can take any values, so a pointwise identity in them holds for every function
    atoms = sorted(expr.atoms(sp.Derivative), key=str)
    atoms += sorted(expr.atoms(AppliedUndef), key=str)
    atoms += sorted(expr.atoms(sp.Indexed), key=str)
    stand_ins = [sp.Dummy() for _ in atoms]
    body = expr.xreplace(dict(zip(atoms, stand_ins)))
    # the symbols left once those are values of their own: x in f(x)·cos x is drawn too
    taken = set(stand_ins)
    symbols = sorted((s for s in body.free_symbols if isinstance(s, sp.Symbol)
                      and s not in taken), key=str)
    symbol_stand_ins = [sp.Dummy() for _ in symbols]
    body = body.xreplace(dict(zip(symbols, symbol_stand_ins)))
    return atoms + symbols, sp.lambdify(stand_ins + symbol_stand_ins, body, modules="mpmath",
                                        printer=_NO_ORDER)


def _mp_value(function: Callable, values: list) -> Any | None:
    """The value of a compiled expression at a point, or None at a pole."""
    try:
        value = function(*values)
    except (TypeError, ValueError, ZeroDivisionError, OverflowError):
        return None
    if isinstance(value, bool):
        return mpmath.mpf(0 if value else -1)
    try:
        value = mpmath.mpmathify(value)
    except TypeError:  # a symbol left unevaluated (no value drawn for it): not a number
        return None
    if isinstance(value, mpmath.mpc):
        if not (mpmath.isfinite(value.real) and mpmath.isfinite(value.imag)):
            return None
        if abs(value.imag) > TOLERANCE * max(1, abs(value.real)):
            return value  # not real at a point of the domain: the callers' counterexample
        value = value.real
    if not mpmath.isfinite(value):
        return None
    return value


def _precise_value(function: Callable, values: list, digits: int) -> Any | None:
    """The value of a compiled expression at ``digits`` digits."""
    with mpmath.workdps(digits):
        return _mp_value(function, values)


def _resolved_gap(value: Any, at: Callable[[int], Any]) -> Any | None:
    """The gap at a point, given its value at DIGITS digits and ``at(digits)``: the first value
    of the ladder DIGITS, *PRECISE_DIGITS that the next precision confirms (to STABLE relative):
    a real gap, however small or however cancelled. None where no two agree: rounding error of
    large cancelling terms at every precision, a gap that is 0 to the working precision."""
    for digits in PRECISE_DIGITS:
        precise = at(digits)
        if precise is None or isinstance(precise, mpmath.mpc):
            return value
        if abs(value - precise) <= STABLE * abs(precise):
            return precise
        value = precise
    return None


def _show(point: Mapping) -> str:
    return "{" + ", ".join(f"{k}={mpmath.nstr(v, 6)}" for k, v in point.items()) + "}"
