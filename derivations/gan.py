"""The GAN value function, the optimal discriminator and the Jensen–Shannon form (3.b–3.d).

With arbitrary capacity the generator enters only through its distribution p_G, and

    V(D, G) = ∫ [p_data(x) log D(x) + p_G(x) log(1 − D(x))] dx            (3.b)

is an integral of the pointwise Lagrangian L(x, D) = p_data log D + p_G log(1 − D), which has
no D′ term. Results:

* ``D_STAR(p_data, p_G)`` = p_data/(p_data + p_G): the Euler–Lagrange equation of L
  (``sympy.calculus.euler.euler_equations``) solved by ``sympy.solve``; the second variation
  ∂²L/∂D² = −p_data/D² − p_G/(1 − D)² < 0 on D ∈ (0, 1) makes it a maximum of V (3.c), i.e.
  a minimum of the homework's objective −V.
* ``GAN_VALUE_INTEGRAND(p_data, p_G, D)`` = L, pointwise (the integrand of V);
  ``GAN_SECOND_VARIATION(p_data, p_G, D)`` = ∂²L/∂D².
* ``JSD_INTEGRAND(p_data, p_G)`` = ½ p_data log(p_data/m) + ½ p_G log(p_G/m), m = (p_data +
  p_G)/2: the integrand of JSD(p_data‖p_G) = ½ KL(p_data‖m) + ½ KL(p_G‖m) (a definition).
* ``GAN_VALUE_AT_D_STAR(p_data, p_G)`` = L at D*, pointwise, derived to be
  2·JSD_INTEGRAND − (p_data + p_G) log 2. Integrated over x, and because ∫ p_data = ∫ p_G = 1,
  ∫ GAN_VALUE_AT_D_STAR dx = 2 JSD(p_data‖p_G) − log 4 (derivation ``generator_objective``,
  carried out on the integrals with p_data, p_G undefined functions, checked on integrands).
* the homework's sign convention (3.a/3.d): min_D −V(D, G) = log 4 − 2 JSD(p_data‖p_G);
* the optimal generator: the JSD integrand is m·g(D*) with g(a) = a log 2a + (1 − a)
  log 2(1 − a) convex and zero only at a = ½, so JSD ≥ 0 with equality iff p_G = p_data, where
  D* = ½ (``D_STAR_AT_OPTIMUM``) and V(D*, G) = −log 4 (the homework's objective: log 4).

Everything is pointwise or on integrands: no quadrature in ``verify()``.
Source: Goodfellow et al., "Generative Adversarial Nets" (2014), Proposition 1 and Theorem 1.
"""

from __future__ import annotations

import sympy as sp
from sympy.calculus.euler import euler_equations

from derivations.core import Derivation, Step, derivation, lazy_exports

x = sp.Symbol("x", real=True)
p_data, p_G = sp.symbols("p_data p_G", positive=True)  # the two densities at one point x
D = sp.Function("D")  # the discriminator, D(x) ∈ (0, 1)
d_value = sp.Symbol("D", positive=True)  # a value of D(x), for the exported integrand
a = sp.Symbol("a", positive=True)  # D* = p_data/(p_data + p_G) ∈ (0, 1), in the JSD bound
P_data = sp.Function("p_data", positive=True)  # the densities as functions, under integrals
P_G = sp.Function("p_G", positive=True)

x_lo, x_hi = sp.symbols("x_lo x_hi", real=True)  # the sample space: x_lo = −∞, x_hi = ∞ allowed

_UNIT = (0.0, 1.0)
# Integrals run over the sample space (x_lo, x_hi). Symbolic ends keep every integral
# non-constant, so the checker compares integrands instead of asking SymPy to integrate an
# undefined density (which takes seconds and can only fail).
_EVERYWHERE = (x, x_lo, x_hi)


def lagrangian(data: sp.Expr, generated: sp.Expr, discriminator: sp.Expr) -> sp.Expr:
    """L = p_data log D + p_G log(1 − D): the integrand of V (the model, 3.b)."""
    return data * sp.log(discriminator) + generated * sp.log(1 - discriminator)


def kl_integrand(p: sp.Expr, q: sp.Expr) -> sp.Expr:
    """p log(p/q): KL(p‖q) = ∫ p log(p/q) dx (the definition)."""
    return p * sp.log(p / q)


def jsd_integrand(p: sp.Expr, q: sp.Expr) -> sp.Expr:
    """½ p log(p/m) + ½ q log(q/m), m = (p + q)/2: JSD = ½ KL(p‖m) + ½ KL(q‖m) (definition)."""
    m = (p + q) / 2
    return kl_integrand(p, m) / 2 + kl_integrand(q, m) / 2


def _jsd(p: sp.Expr, q: sp.Expr) -> sp.Expr:
    """JSD(p‖q) as integrals of the KL integrands against the mixture."""
    m = (p + q) / 2
    return sp.Integral(kl_integrand(p, m), _EVERYWHERE) / 2 + \
        sp.Integral(kl_integrand(q, m), _EVERYWHERE) / 2


def _normalised() -> dict[sp.Basic, sp.Basic]:
    """∫ p_data dx = ∫ p_G dx = 1: both are probability densities."""
    return {sp.Integral(P_data(x), _EVERYWHERE): 1, sp.Integral(P_G(x), _EVERYWHERE): 1}


def _logs_together(expr: sp.Expr) -> sp.Expr:
    """Each log's argument over a common denominator (1 − p/(p + q) → q/(p + q))."""
    return expr.replace(lambda e: isinstance(e, sp.log), lambda e: sp.log(sp.factor(e.args[0])))


@derivation
def value_function() -> Derivation:
    integrand = lagrangian(P_data(x), P_G(x), D(x))
    return Derivation(
        "GAN value function",
        "3.b",
        (
            Step(sp.Integral(integrand, _EVERYWHERE),
                 "V(D, G) = E_data log D(x) + E_z log(1 − D(G(z))); with arbitrary capacity the "
                 "generator enters only through p_G: E_z f(G(z)) = ∫ p_G(x) f(x) dx", "def"),
            Step(sp.Integral(P_data(x) * sp.log(D(x)), _EVERYWHERE)
                 + sp.Integral(P_G(x) * sp.log(1 - D(x)), _EVERYWHERE),
                 "linearity: E_{p_data}[log D] + E_{p_G}[log(1 − D)]"),
        ),
        domain={D: _UNIT},
    )


@derivation
def optimal_discriminator() -> Derivation:
    L = lagrangian(p_data, p_G, D(x))
    (euler_lagrange,) = euler_equations(L, D(x), x)
    (solution,) = sp.solve(euler_lagrange, D(x))
    return Derivation(
        "optimal discriminator",
        "3.c",
        (
            Step(L, "V = ∫ L(x, D(x)) dx; the Lagrangian L = p_data log D + p_G log(1 − D) "
                    "has no D′ term", "def"),
            Step(euler_lagrange, "Euler–Lagrange: ∂L/∂D − d/dx ∂L/∂D′ = ∂L/∂D = 0 "
                                 "(sympy.calculus.euler.euler_equations)", "stationary", wrt=D(x)),
            Step(sp.Eq(D(x), solution), "solve for D(x) (sympy.solve)", "solves"),
            Step(sp.diff(L, D(x), 2) < 0,
                 "second variation ∂²L/∂D² = −p_data/D² − p_G/(1 − D)² < 0 on D ∈ (0, 1): "
                 "the stationary point maximises L at every x, hence V", "holds"),
            Step(solution > 0, "D* > 0", "holds"),
            Step(solution < 1, "D* < 1: D* lies where log D and log(1 − D) are defined", "holds"),
        ),
        args=(p_data, p_G),
        domain={D: _UNIT},
    )


@derivation
def value_at_optimal_discriminator() -> Derivation:
    """An equality chain from L(D*) (so it can serve as a lemma under the integrals)."""
    d_star = optimal_discriminator().result
    substituted = lagrangian(p_data, p_G, d_star)
    complement = {1 - d_star: sp.factor(1 - d_star)}
    together = substituted.subs(complement)
    jensen_shannon = 2 * jsd_integrand(p_data, p_G) - (p_data + p_G) * sp.log(2)
    return Derivation(
        "GAN value at the optimal discriminator, pointwise",
        "3.d",
        (
            Step(substituted, "the integrand L of V(D, G) at D = D* (3.c)", "def"),
            Step(sp.Eq(*next(iter(complement.items()))), "1 − D* = p_G/(p_data + p_G)", "holds"),
            Step(together, "so log(1 − D*) = log(p_G/(p_data + p_G))", subs=complement),
            Step(jensen_shannon, "p_data + p_G = 2m with m = (p_data + p_G)/2: "
                                 "log(p/(2m)) = log(p/m) − log 2; "
                                 "= 2·[½ p_data log(p_data/m) + ½ p_G log(p_G/m)] "
                                 "− (p_data + p_G) log 2"),
        ),
        args=(p_data, p_G),
    )


def _on_functions() -> dict[sp.Symbol, sp.Expr]:
    return {p_data: P_data(x), p_G: P_G(x)}


@derivation
def generator_objective() -> Derivation:
    """V(D*, G) = 2 JSD(p_data‖p_G) − log 4, on the integrals (p_data, p_G functions of x)."""
    V = value_function().steps[0].expr
    d_star = optimal_discriminator().result.subs(_on_functions())
    at_d_star = V.subs(D(x), d_star)
    pointwise = value_at_optimal_discriminator()
    jsd_part = (2 * jsd_integrand(p_data, p_G)).subs(_on_functions())
    by_lemma = sp.Integral(pointwise.result.subs(_on_functions()), _EVERYWHERE)
    split = sp.Integral(jsd_part, _EVERYWHERE) - sp.log(2) * sp.Integral(P_data(x), _EVERYWHERE) \
        - sp.log(2) * sp.Integral(P_G(x), _EVERYWHERE)
    with_jsd = 2 * _jsd(P_data(x), P_G(x)) - sp.log(2) * sp.Integral(P_data(x), _EVERYWHERE) \
        - sp.log(2) * sp.Integral(P_G(x), _EVERYWHERE)
    return Derivation(
        "GAN generator objective is −log 4 + 2 JSD",
        "3.d",
        (
            Step(V, "V(D, G) (3.b)", "def"),
            Step(at_d_star, "D = D* (3.c) at every x", subs={D(x): d_star}),
            Step(by_lemma, "pointwise: L(D*) = 2·JSD integrand − (p_data + p_G) log 2",
                 by=pointwise, subs=_on_functions()),
            Step(split, "linearity of the integral"),
            Step(with_jsd, "JSD(p_data‖p_G) = ½ KL(p_data‖m) + ½ KL(p_G‖m), m = (p_data + p_G)/2"),
            Step(with_jsd.subs(_normalised()), "∫ p_data dx = ∫ p_G dx = 1: densities",
                 subs=_normalised()),
            Step(2 * _jsd(P_data(x), P_G(x)) - sp.log(4), "2 log 2 = log 4"),
        ),
        domain={D: _UNIT},
    )


@derivation
def homework_convention() -> Derivation:
    """The homework's form (3.a/3.b): max over p_G of min over D of −V; the inner value is
    log 4 − 2 JSD."""
    minus_V = -value_function().steps[0].expr
    minus_L = -lagrangian(p_data, p_G, D(x))
    d_star = optimal_discriminator().result.subs(_on_functions())
    at_d_star = minus_V.subs(D(x), d_star)
    pointwise = value_at_optimal_discriminator()
    by_lemma = -sp.Integral(pointwise.result.subs(_on_functions()), _EVERYWHERE)
    with_jsd = -2 * _jsd(P_data(x), P_G(x)) + sp.log(2) * sp.Integral(P_data(x), _EVERYWHERE) \
        + sp.log(2) * sp.Integral(P_G(x), _EVERYWHERE)
    return Derivation(
        "GAN objective in the homework's convention is log 4 − 2 JSD",
        "3.d",
        (
            Step(minus_V, "the homework's inner objective −∫ [p_data log D + p_G log(1 − D)] dx, "
                          "minimised over D", "def"),
            Step(sp.diff(minus_L, D(x), 2) > 0,
                 "its second variation p_data/D² + p_G/(1 − D)² > 0: the stationary point D* is "
                 "its minimum over D", "holds"),
            Step(at_d_star, "D = D* (3.c)", subs={D(x): d_star}),
            Step(by_lemma, "pointwise value at D* (derived above)", by=pointwise,
                 subs=_on_functions()),
            Step(with_jsd, "linearity; JSD = ½ KL(p_data‖m) + ½ KL(p_G‖m)"),
            Step(with_jsd.subs(_normalised()), "∫ p_data dx = ∫ p_G dx = 1",
                 subs=_normalised()),
            Step(sp.log(4) - 2 * _jsd(P_data(x), P_G(x)), "2 log 2 = log 4"),
        ),
        domain={D: _UNIT},
    )


@derivation
def jsd_nonnegative() -> Derivation:
    """JSD integrand = m·g(a), m = (p_data + p_G)/2, a = D*; g convex on (0, 1), min g(½) = 0."""
    j = jsd_integrand(p_data, p_G)
    g = a * sp.log(2 * a) + (1 - a) * sp.log(2 * (1 - a))
    d_star = optimal_discriminator().result
    factored = _logs_together((p_data + p_G) / 2 * g.subs(a, d_star))
    slope = sp.diff(g, a)
    (stationary_point,) = sp.solve(slope, a)
    return Derivation(
        "JSD is non-negative, zero only for p_G = p_data",
        "3.d",
        (
            Step(j, "the JSD integrand", "def"),
            Step(factored, "factor out m = (p_data + p_G)/2: with a = D* = p_data/(p_data + p_G), "
                           "p_data/m = 2a and p_G/m = 2(1 − a); so j = m·g(D*)"),
            Step(g, "g(a) = a log 2a + (1 − a) log 2(1 − a) on (0, 1)", "def"),
            Step(sp.diff(g, a, 2) > 0, "g is strictly convex: g″(a) = 1/a + 1/(1 − a) > 0",
                 "holds"),
            Step(sp.Eq(slope, 0), "a convex g is minimal where g′(a) = 0", "stationary", wrt=a),
            Step(sp.Eq(a, stationary_point), "only at a = ½, i.e. D* = ½, i.e. p_G = p_data",
                 "solves"),
            Step(g.subs(a, stationary_point), "the minimum of g", "def"),
            Step(sp.Integer(0), "log 1 = 0: g ≥ 0 on (0, 1), with equality iff a = ½; hence "
                                "j = m·g(D*) ≥ 0, JSD ≥ 0 and JSD = 0 iff p_G = p_data, so "
                                "V(D*, G) = −log 4 + 2 JSD ≥ −log 4"),
        ),
        args=(p_data, p_G),
        domain={a: _UNIT},
    )


@derivation
def optimal_generator() -> Derivation:
    d_star = optimal_discriminator().result
    value = value_at_optimal_discriminator().result
    at_optimum = value.subs(p_G, p_data)
    return Derivation(
        "optimal generator: p_G = p_data, D* = 1/2, V = −log 4",
        "3.d",
        (
            Step(value, "V(D*, G) pointwise: 2·JSD integrand − (p_data + p_G) log 2 "
                        "(derived above); JSD ≥ 0 is minimal (0) only at p_G = p_data", "def"),
            Step(at_optimum, "p_G = p_data", subs={p_G: p_data}),
            Step(-p_data * sp.log(4), "log 1 = 0: the value is −p_data log 4, which integrates "
                                      "to −log 4 (∫ p_data = 1); in the homework's sign "
                                      "convention the optimal value is log 4"),
            Step(d_star, "the optimal discriminator D* (3.c)", "def"),
            Step(d_star.subs(p_G, p_data), "at p_G = p_data: D* = ½ everywhere",
                 subs={p_G: p_data}),
        ),
        args=(p_data,),
    )


__getattr__ = lazy_exports(
    __name__,
    {
        "D_STAR": lambda: optimal_discriminator().closed_form,
        "GAN_VALUE_INTEGRAND": lambda: sp.Lambda(
            (p_data, p_G, d_value), optimal_discriminator().steps[0].expr.subs(D(x), d_value)),
        "GAN_SECOND_VARIATION": lambda: sp.Lambda(
            (p_data, p_G, d_value),
            optimal_discriminator().steps[3].expr.lhs.subs(D(x), d_value)),
        "GAN_VALUE_AT_D_STAR": lambda: value_at_optimal_discriminator().closed_form,
        "JSD_INTEGRAND": lambda: sp.Lambda((p_data, p_G), jsd_integrand(p_data, p_G)),
        "D_STAR_AT_OPTIMUM": lambda: optimal_generator().closed_form,
    },
)
