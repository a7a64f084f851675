"""Concrete random instances of the unknown functions of an answer: a witness for the engine.

Where two sides differ only through integrals or expectations of unknown densities
(``\\int p(x)\\log D(x)\\,dx``, ``\\mathbb{E}_q[\\log p(x|z)]``, ``KL(q\\|p)``), random values
cannot decide: such a value may be tied to others by an identity (``\\int p = 1``). Here every
unknown function is replaced by a concrete random function of the right kind, so both sides
become explicit numbers computed by quadrature:

* a density ``p(a)`` used alone: a mixture of two Gaussians with random weights, means and
  scales (so an identity special to one Gaussian family is not mistaken for a general one);
* a conditional ``q(a \\mid b)``: the Gaussian N(a; m + c b, s²);
* one name used as a conditional ``p(x \\mid z)`` and as marginals ``p(z)``, ``p(x)``, a joint
  ``p(x, z)`` or the posterior ``p(z \\mid x)``: one linear-Gaussian model of (z, x), each read
  from it exactly, so the family is consistent (Bayes' rule and marginalisation hold);
* ``D`` (values in (0, 1)): a sigmoid of a random quadratic; any other function of one
  argument: a random quadratic plus a sine;
* ``KL``, ``JSD`` and expectations: their definitions, as integrals against these densities.

A difference found this way is a genuine counterexample: concrete densities where the two
sides differ. Agreement for several independent random instances is the same evidence the
engine accepts for identities in random points (an identity of analytic expressions that holds
on a random draw of a rich family is an identity). Where the instance would not be faithful —
one name used in shapes no single model explains, an unknown function of several arguments
inside an integral — :func:`instantiate` returns None and the engine stays undecided.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

import sympy as sp
from sympy.core.function import AppliedUndef

from grading.answers.notation import Expectation, Given, Namespace, Normal, Sampled, base_letter

__all__ = ["Instance", "Unsupported", "compile_numeric", "instantiate", "pushforward"]

_SQRT_2PI = sp.sqrt(2 * sp.pi)


def _gaussian(a: sp.Basic, mean: sp.Basic, scale: sp.Basic) -> sp.Basic:
    return sp.exp(-(a - mean) ** 2 / (2 * scale ** 2)) / (_SQRT_2PI * scale)


def _number(rng: random.Random, lo: float, hi: float) -> sp.Rational:
    """A random rational (exact, so the instance is the same at every precision)."""
    return sp.Rational(round(rng.uniform(lo, hi) * 1000), 1000)


@dataclass(frozen=True)
class Instance:
    """Both sides with their unknown functions made concrete, and what was chosen."""

    reference: sp.Basic
    answer: sp.Basic
    description: dict[str, str]


class _Unfaithful(Exception):
    """The concrete instance would not mean what the answer means."""


def _is_density_name(name: str, namespace: Namespace) -> bool:
    return base_letter(name) in ("p", "q", "P", "Q") and \
        namespace.function_kind(name) == "positive"


def _symbol_of(arg: sp.Basic) -> str | None:
    return arg.name if isinstance(arg, sp.Symbol) else None


class _Builder:
    def __init__(self, namespace: Namespace, rng: random.Random,
                 applications: dict[str, list[tuple[sp.Basic, ...]]],
                 bare: set[str]) -> None:
        self.ns = namespace
        self.rng = rng
        self.description: dict[str, str] = {}
        self.makers: dict[str, Callable[[tuple[sp.Basic, ...]], sp.Basic]] = {}
        for name, uses in applications.items():
            self.makers[name] = self.maker(name, uses)
        for name in bare - set(self.makers):
            self.makers[name] = self.mixture(name)

    # -- the concrete functions -----------------------------------------------------------

    def maker(self, name: str, uses: list[tuple[sp.Basic, ...]]
              ) -> Callable[[tuple[sp.Basic, ...]], sp.Basic]:
        if name in ("KL", "JSD"):
            return lambda args: self.divergence(name, args)
        if _is_density_name(name, self.ns):
            shapes = {self.shape(args) for args in uses}
            if shapes <= {"marginal"}:
                return self.mixture(name)
            return self.joint_model(name, uses)
        if any(len(args) != 1 or isinstance(args[0], (Given, Sampled, Normal)) for args in uses):
            raise _Unfaithful(f"{name} takes several arguments")
        kind = self.ns.function_kind(name)
        a, b, c, d = (_number(self.rng, -1, 1) for _ in range(4))
        if kind == "unit_interval" or (isinstance(kind, tuple) and kind == (0.0, 1.0)):
            self.description[name] = f"{name}(t) = sigmoid({a} + {b} t + {c} t²)"
            return lambda args: 1 / (1 + sp.exp(-(a + b * args[0] + c * args[0] ** 2)))
        if kind == "positive":
            self.description[name] = f"{name}(t) = exp({a} + {b} t - t²/4)"
            return lambda args: sp.exp(a + b * args[0] - args[0] ** 2 / 4)
        self.description[name] = f"{name}(t) = {a} + {b} t + {c} t² + {d} sin t"
        return lambda args: a + b * args[0] + c * args[0] ** 2 + d * sp.sin(args[0])

    @staticmethod
    def shape(args: tuple[sp.Basic, ...]) -> str:
        if len(args) == 1 and not isinstance(args[0], (Given, Sampled, Normal)):
            return "marginal"
        if len(args) == 1 and isinstance(args[0], Given):
            return "conditional"
        if len(args) == 2 and not any(isinstance(a, (Given, Sampled, Normal)) for a in args):
            return "joint"
        raise _Unfaithful("a density applied in an unexpected way")

    def mixture(self, name: str) -> Callable[[tuple[sp.Basic, ...]], sp.Basic]:
        w = _number(self.rng, 0.25, 0.75)
        m1, m2 = _number(self.rng, -1.2, 0), _number(self.rng, 0, 1.2)
        s1, s2 = _number(self.rng, 0.5, 1.2), _number(self.rng, 0.5, 1.2)
        self.description[name] = (f"{name}(t) = {w}·N(t; {m1}, {s1}²) + {1 - w}·N(t; {m2}, "
                                  f"{s2}²)")

        def density(args: tuple[sp.Basic, ...]) -> sp.Basic:
            if self.shape(args) != "marginal":
                raise _Unfaithful(f"{name} used both alone and with a condition")
            t = args[0]
            return w * _gaussian(t, m1, s1) + (1 - w) * _gaussian(t, m2, s2)

        return density

    def joint_model(self, name: str, uses: list[tuple[sp.Basic, ...]]
                    ) -> Callable[[tuple[sp.Basic, ...]], sp.Basic]:
        """One linear-Gaussian model z ~ N(m, u²), x | z ~ N(a + c z, s²) for every use."""
        conditionals = [args[0] for args in uses if self.shape(args) == "conditional"]
        pairs = {(_symbol_of(g.args[0]), _symbol_of(g.args[1])) for g in conditionals}
        if len(pairs) > 2:
            raise _Unfaithful(f"{name} is conditioned in more than two ways")
        data = latent = None
        for first, second in pairs:
            if first is None or second is None:
                if len(pairs) > 1 or any(self.shape(args) != "conditional" for args in uses):
                    raise _Unfaithful(f"{name}'s conditional is not on named variables")
            elif data is None:
                data, latent = first, second
            elif (first, second) != (latent, data):
                raise _Unfaithful(f"{name} is conditioned on unrelated variables")
        m, a = _number(self.rng, -1, 1), _number(self.rng, -1, 1)
        u, s = _number(self.rng, 0.6, 1.3), _number(self.rng, 0.5, 1.2)
        c = _number(self.rng, 0.4, 1.2) * self.rng.choice((-1, 1))
        self.description[name] = (f"{name}: z ~ N({m}, {u}²), x | z ~ N({a} + {c} z, {s}²)"
                                  + (f" with x = {data}, z = {latent}" if data else ""))
        evidence_scale = sp.sqrt(s ** 2 + c ** 2 * u ** 2)
        gain = c * u ** 2 / evidence_scale ** 2
        posterior_scale = u * s / evidence_scale

        def marginal(point: sp.Basic, variable: str | None) -> sp.Basic:
            if variable is not None and variable == latent:
                return _gaussian(point, m, u)
            if variable is not None and variable == data:
                return _gaussian(point, a + c * m, evidence_scale)
            raise _Unfaithful(f"{name}({point}) is not a marginal of its model")

        def density(args: tuple[sp.Basic, ...]) -> sp.Basic:
            shape = self.shape(args)
            if shape == "marginal":
                return marginal(args[0], _symbol_of(args[0]))
            if shape == "joint":
                names = tuple(_symbol_of(arg) for arg in args)
                if set(names) != {data, latent}:
                    raise _Unfaithful(f"{name}'s joint is not over its model's variables")
                x_value, z_value = (args[names.index(data)], args[names.index(latent)])
                return _gaussian(z_value, m, u) * _gaussian(x_value, a + c * z_value, s)
            value, given = args[0].args
            first, second = _symbol_of(value), _symbol_of(given)
            if data is None or (first, second) == (data, latent):
                return _gaussian(value, a + c * given, s)  # x | z
            if (first, second) == (latent, data):  # the posterior z | x
                return _gaussian(value, m + gain * (given - a - c * m), posterior_scale)
            raise _Unfaithful(f"{name}'s condition does not fit its model")

        return density

    # -- distributions as densities of a variable -------------------------------------------

    def density_of(self, distribution: sp.Basic, variable: sp.Basic) -> sp.Basic:
        """The concrete density of ``distribution`` at ``variable``."""
        if isinstance(distribution, Normal):
            mean, variance = distribution.args
            return _gaussian(variable, mean, sp.sqrt(variance))
        if isinstance(distribution, sp.Symbol) and distribution.name in self.makers:
            return self.makers[distribution.name]((variable,))
        if isinstance(distribution, AppliedUndef) and distribution.func.__name__ in self.makers \
                and len(distribution.args) == 1:
            (arg,) = distribution.args
            if isinstance(arg, Given):
                return self.makers[distribution.func.__name__]((Given(variable, arg.args[1]),))
            return self.makers[distribution.func.__name__]((variable,))
        raise _Unfaithful("a distribution the engine cannot make concrete")

    def divergence(self, name: str, args: tuple[sp.Basic, ...]) -> sp.Basic:
        if len(args) != 2:
            raise _Unfaithful(f"{name} of {len(args)} arguments")
        t = sp.Dummy("t", real=True)
        first, second = (self.density_of(arg, t) for arg in args)
        if name == "KL":
            body = first * (sp.log(first) - sp.log(second))
        else:
            mixture = (first + second) / 2
            body = (first * (sp.log(first) - sp.log(mixture)) +
                    second * (sp.log(second) - sp.log(mixture))) / 2
        return sp.Integral(body, (t, -sp.oo, sp.oo))

    @staticmethod
    def sampled_variable(body: sp.Basic, law: sp.Basic) -> sp.Symbol | None:
        """The variable an expectation without ``z \\sim`` averages over: the one free symbol of
        its body that its distribution does not use, or the latent ``z`` of the course."""
        free = sorted((s for s in body.free_symbols - law.free_symbols
                       if isinstance(s, sp.Symbol) and not s.is_integer
                       and base_letter(s.name) not in ("p", "q", "P", "Q")), key=str)
        if len(free) == 1:
            return free[0]
        latent = [s for s in free if s.name == "z"]
        return latent[0] if len(latent) == 1 else None

    def expectation(self, body: sp.Basic, distribution: sp.Basic | None) -> sp.Basic:
        if distribution is None:
            raise _Unfaithful("an expectation without its distribution")
        if isinstance(distribution, Sampled):
            variable, law = distribution.args
        elif isinstance(distribution, AppliedUndef) and len(distribution.args) == 1:
            (arg,) = distribution.args
            variable, law = (arg.args[0] if isinstance(arg, Given) else arg), distribution
        else:
            variable, law = None, distribution
        t = sp.Dummy("t", real=True)
        if variable is None and not isinstance(law, sp.Symbol) and not body.has(AppliedUndef) \
                and body.free_symbols <= law.free_symbols:
            return body  # E[c] = c: nothing in the body is sampled
        if variable is None:
            variable = self.sampled_variable(body, law)
        if isinstance(variable, sp.Symbol):
            inner = body.xreplace({variable: t})
        elif variable is None and isinstance(law, sp.Symbol):
            inner = body  # E_q[log q - log p]: bare densities of the sampled variable
        else:
            raise _Unfaithful("an expectation whose variable cannot be told")
        bare = {s: self.makers[s.name]((t,)) for s in inner.free_symbols
                if isinstance(s, sp.Symbol) and s.name in self.makers}
        if variable is None and not bare:
            raise _Unfaithful("an expectation whose variable cannot be told")
        return sp.Integral(self.density_of(law, t) * inner.xreplace(bare), (t, -sp.oo, sp.oo))


_GENERATED = frozenset({"G", "g", "gen", "model", "theta", "fake"})


def pushforward(*sides: sp.Basic) -> bool:
    """An unknown function of an unknown function (``D(G(z))``) next to a generator's density
    (``p_G``): the two may be tied by the law of G(z), which concrete instances would miss."""
    applications = [a for side in sides for a in side.atoms(AppliedUndef)]
    composed = any(arg.has(AppliedUndef) for a in applications for arg in a.args
                   if not isinstance(arg, (Given, Sampled, Normal)))
    generated = any(a.func.__name__.partition("_")[2] in _GENERATED for a in applications) or \
        any(s.name.partition("_")[2] in _GENERATED for side in sides for s in side.free_symbols
            if isinstance(s, sp.Symbol))
    return composed and generated


def _collect(expr: sp.Basic, applications: dict, bare: set[str]) -> None:
    for application in expr.atoms(AppliedUndef):
        applications.setdefault(application.func.__name__, []).append(application.args)
        if application.func.__name__ in ("KL", "JSD"):
            for arg in application.args:
                if isinstance(arg, sp.Symbol):
                    bare.add(arg.name)
    for expectation in expr.atoms(Expectation):
        if len(expectation.args) == 2:
            law = expectation.args[1]
            law = law.args[1] if isinstance(law, Sampled) else law
            if isinstance(law, sp.Symbol):
                bare.add(law.name)  # E_p[log p - log q]: p and q densities of one variable
                bare.update(s.name for s in expectation.args[0].free_symbols
                            if isinstance(s, sp.Symbol) and base_letter(s.name) in "pqPQ")


def _concrete(expr: sp.Basic, builder: _Builder) -> sp.Basic:
    """``expr`` with every unknown function, divergence and expectation made explicit."""
    def visit(e: sp.Basic) -> sp.Basic:
        if isinstance(e, Expectation):
            body = visit(e.args[0])
            law = e.args[1] if len(e.args) == 2 else None
            return visit(builder.expectation(body, law))
        if isinstance(e, AppliedUndef):
            name = e.func.__name__
            if name in ("KL", "JSD"):
                return visit(builder.divergence(name, e.args))
            args = tuple(visit(a) if not isinstance(a, (Given, Normal, Sampled)) else
                         a.func(*(visit(x) for x in a.args)) for a in e.args)
            return builder.makers[name](args)
        if isinstance(e, sp.Derivative):
            return sp.diff(visit(e.expr), *e.variable_count)
        if not e.args or isinstance(e, (sp.Symbol, sp.Number)):
            return e
        return e.func(*(visit(a) for a in e.args))

    result = visit(expr)
    if result.atoms(AppliedUndef) or result.has(Expectation):
        raise _Unfaithful("something stayed unknown")
    return result


def instantiate(reference: sp.Basic, answer: sp.Basic, namespace: Namespace,
                rng: random.Random) -> Instance | None:
    """Both sides with concrete random functions, or None when that would not be faithful."""
    applications: dict[str, list[tuple[sp.Basic, ...]]] = {}
    bare: set[str] = set()
    for side in (reference, answer):
        _collect(side, applications, bare)
    if not applications and not bare and not (reference.has(Expectation)
                                              or answer.has(Expectation)):
        return None
    if pushforward(reference, answer):
        return None  # p_G is the law of G(z): independent instances would not know it
    try:
        builder = _Builder(namespace, rng, applications, bare)
        return Instance(_concrete(reference, builder), _concrete(answer, builder),
                        dict(builder.description))
    except (_Unfaithful, TypeError, ValueError):
        return None


# -- a fast evaluator for the explicit instances ------------------------------------------------

_UNARY: dict[type, Callable[[object], object]] = {}


def _unary() -> dict[type, Callable[[object], object]]:
    import mpmath

    if not _UNARY:
        _UNARY.update({sp.exp: mpmath.exp, sp.log: mpmath.log, sp.sin: mpmath.sin,
                       sp.cos: mpmath.cos, sp.tan: mpmath.tan, sp.tanh: mpmath.tanh,
                       sp.sinh: mpmath.sinh, sp.cosh: mpmath.cosh, sp.Abs: abs,
                       sp.atan: mpmath.atan, sp.erf: mpmath.erf})
    return _UNARY


class Unsupported(Exception):
    """A node the fast evaluator does not compile (the engine then stays undecided)."""


WINDOW = (-14, -6, -3, -1.5, 0, 1.5, 3, 6, 14)  # where the instances' densities live


def compile_numeric(expr: sp.Basic, tolerance: object, *,
                    window: tuple[float, ...] | None = None) -> Callable[[dict], object]:
    """``expr`` as a tree of Python closures over mpmath (no code is generated or executed):
    ``f(values)`` with ``values`` mapping each free symbol to a number. Integrals over their
    bounds are computed by mpmath quadrature whose error estimate must stay below
    ``tolerance`` relative to the value. With ``window``, an integral over the whole line is
    taken over the window by Gauss–Legendre: right for integrands that vanish outside it (the
    concrete densities here: their means lie in [-1.2, 1.2] and scales below 1.4, so the
    tails beyond ±14 are below e^-80)."""
    import mpmath

    def build(e: sp.Basic) -> Callable[[dict], object]:
        if isinstance(e, sp.Rational):
            value = mpmath.mpf(int(e.p)) / int(e.q)
            return lambda env: value
        if isinstance(e, sp.Float):
            text = str(e)
            return lambda env: mpmath.mpf(text)
        if e is sp.pi:
            return lambda env: +mpmath.pi
        if e is sp.E:
            return lambda env: +mpmath.e
        if isinstance(e, sp.Symbol):
            return lambda env: env[e]
        if isinstance(e, sp.Add):
            parts = [build(a) for a in e.args]
            return lambda env: mpmath.fsum(f(env) for f in parts)
        if isinstance(e, sp.Mul):
            parts = [build(a) for a in e.args]

            def product(env: dict) -> object:
                result = mpmath.mpf(1)
                for f in parts:
                    result *= f(env)
                return result

            return product
        if isinstance(e, sp.Pow):
            base, exponent = build(e.base), build(e.exp)
            return lambda env: mpmath.power(base(env), exponent(env))
        if isinstance(e, sp.Integral) and len(e.limits) == 1 and len(e.limits[0]) == 3:
            variable, lower, upper = e.limits[0]
            body = build(e.function)
            lo = (lambda env: -mpmath.inf) if lower is -sp.oo else build(lower)
            hi = (lambda env: mpmath.inf) if upper is sp.oo else build(upper)

            def integral(env: dict) -> object:
                def integrand(t: object) -> object:
                    inner = dict(env)
                    inner[variable] = t
                    return body(inner)

                a, b = lo(env), hi(env)
                windowed = window is not None and not mpmath.isfinite(a) and \
                    not mpmath.isfinite(b) and \
                    all(abs(integrand(mpmath.mpf(edge))) < mpmath.mpf(10) ** -40
                        for edge in (window[0], window[-1]))  # nothing left beyond the window
                if windowed:
                    value, error = mpmath.quad(integrand, list(window), method="gauss-legendre",
                                               error=True)
                else:
                    points = [a, b] if mpmath.isfinite(a) or mpmath.isfinite(b) \
                        else [a, -2, 0, 2, b]
                    value, error = mpmath.quad(integrand, points, error=True)
                if error > tolerance * max(abs(value), 1):
                    raise Unsupported("an integral quadrature could not compute closely enough")
                return value

            return integral
        function = _unary().get(type(e))
        if function is not None and len(e.args) == 1:
            inner = build(e.args[0])
            return lambda env: function(inner(env))
        raise Unsupported(f"cannot evaluate {type(e).__name__} in a concrete instance")

    return build(expr)
