"""The GAN derivations (3.b–3.d) against textbook forms typed here independently, by property
tests of the pointwise objective, and against quadrature of the Jensen–Shannon divergence.

Textbook forms: Goodfellow et al. (2014), Proposition 1 (D* = p_data/(p_data + p_G)) and
Theorem 1 (C(G) = −log 4 + 2·JSD(p_data‖p_G)); Lin (1991) for JSD = ½KL(p‖m) + ½KL(q‖m).

Nothing here samples at random: Hypothesis draws the parameters (derandomized profile) and every
comparison is deterministic, so this file spends none of its 1e-6 false-failure budget.
Floating-point checks use tolerances from the arithmetic (a few ulps of the values compared)
or from QUADPACK's own error estimates, stated where they are used.
"""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from derivations import gan
from derivations.core import Step
from numerics.bridge import to_numpy
from numerics.quadrature import integrate_1d, js_divergence
from tests.strategies import means, scales

p, q = sp.symbols("p_data p_G", positive=True)
x = sp.Symbol("x", real=True)
D = sp.Function("D")
d = sp.Symbol("D", positive=True)

TEXTBOOK_D_STAR = p / (p + q)
TEXTBOOK_VALUE_AT_D_STAR = p * sp.log(p / (p + q)) + q * sp.log(q / (p + q))
TEXTBOOK_JSD_INTEGRAND = p * sp.log(2 * p / (p + q)) / 2 + q * sp.log(2 * q / (p + q)) / 2
TEXTBOOK_SECOND_VARIATION = -p / d**2 - q / (1 - d) ** 2
TEXTBOOK_INTEGRAND = p * sp.log(d) + q * sp.log(1 - d)

BUILDERS = [gan.value_function, gan.optimal_discriminator, gan.value_at_optimal_discriminator,
            gan.generator_objective, gan.homework_convention, gan.jsd_nonnegative,
            gan.optimal_generator]

EPS = np.finfo(float).eps


def same(a: sp.Expr, b: sp.Expr) -> bool:
    return sp.simplify(sp.expand(sp.expand_log(a - b, force=True))) == 0


def split_integrals(expr: sp.Expr) -> tuple[sp.Expr, sp.Expr]:
    """(constant part, Σ coefficient·integrand) of a combination of integrals over one range."""
    constant, integrand = sp.Integer(0), sp.Integer(0)
    for term in sp.Add.make_args(sp.expand(expr, deep=False)):
        integrals = [f for f in sp.Mul.make_args(term) if isinstance(f, sp.Integral)]
        if not integrals:
            constant += term
            continue
        (integral,) = integrals
        integrand += (term / integral) * integral.function
    return constant, integrand


# --------------------------------------------------------------------------------------------
# the derivations verify, and their results are the textbook forms


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_every_gan_derivation_verifies(build):
    verification = build().verify()
    assert verification.ok, verification.first_failure


def test_the_optimal_discriminator_is_the_ratio_of_the_data_density_to_the_sum():
    assert same(gan.D_STAR(p, q), TEXTBOOK_D_STAR)


def test_the_optimal_discriminator_is_found_by_the_euler_lagrange_equation_and_solve():
    steps = gan.optimal_discriminator().steps
    assert [s.rel for s in steps[:3]] == ["def", "stationary", "solves"]
    assert "euler_equations" in steps[1].reason and "solve" in steps[2].reason


@pytest.mark.parametrize("closed_form, textbook", [
    ("GAN_VALUE_AT_D_STAR", TEXTBOOK_VALUE_AT_D_STAR),
    ("JSD_INTEGRAND", TEXTBOOK_JSD_INTEGRAND),
])
def test_each_pointwise_gan_form_equals_its_textbook_form(closed_form, textbook):
    derived = getattr(gan, closed_form)
    assert derived.variables == (p, q)
    assert same(derived(p, q), textbook)


def test_the_value_at_d_star_is_twice_the_jsd_integrand_minus_the_mass_times_log_two():
    assert same(gan.GAN_VALUE_AT_D_STAR(p, q), 2 * TEXTBOOK_JSD_INTEGRAND - (p + q) * sp.log(2))


def test_the_integrand_and_its_second_variation_are_the_textbook_forms():
    assert same(gan.GAN_VALUE_INTEGRAND(p, q, d), TEXTBOOK_INTEGRAND)
    assert sp.simplify(gan.GAN_SECOND_VARIATION(p, q, d) - TEXTBOOK_SECOND_VARIATION) == 0


def test_the_generator_objective_is_minus_log_four_plus_twice_the_jsd():
    P, Q = gan.P_data(x), gan.P_G(x)
    constant, integrand = split_integrals(gan.generator_objective().result)
    assert constant == -sp.log(4)
    assert same(integrand, 2 * TEXTBOOK_JSD_INTEGRAND.subs({p: P, q: Q}))


def test_the_homework_convention_gives_log_four_minus_twice_the_jsd():
    P, Q = gan.P_data(x), gan.P_G(x)
    constant, integrand = split_integrals(gan.homework_convention().result)
    assert constant == sp.log(4)
    assert same(integrand, -2 * TEXTBOOK_JSD_INTEGRAND.subs({p: P, q: Q}))


def test_at_the_optimum_the_discriminator_is_one_half_and_the_value_minus_log_four():
    assert gan.D_STAR_AT_OPTIMUM(p) == sp.Rational(1, 2)
    assert sp.simplify(gan.optimal_generator().steps[2].expr + p * sp.log(4)) == 0
    assert gan.D_STAR(p, p) == sp.Rational(1, 2)
    assert sp.simplify(gan.JSD_INTEGRAND(p, p)) == 0


def test_the_jsd_minimum_is_at_d_star_one_half():
    steps = gan.jsd_nonnegative().steps
    (solution,) = [s.expr.rhs for s in steps if s.rel == "solves"]
    assert solution == sp.Rational(1, 2)


# --------------------------------------------------------------------------------------------
# a corrupted step is caught and named


def test_a_discriminator_with_the_generator_density_in_the_numerator_is_caught_and_named():
    derivation = gan.optimal_discriminator()
    wrong = Step(sp.Eq(D(x), q / (p + q)), derivation.steps[2].reason, "solves")
    failure = derivation.replace_step(2, wrong).verify().first_failure
    assert failure is not None and failure.index == 2


def test_a_jsd_without_its_halves_is_caught_and_named():
    derivation = gan.value_at_optimal_discriminator()
    index = len(derivation.steps) - 1
    m = (p + q) / 2
    no_halves = 2 * (p * sp.log(p / m) + q * sp.log(q / m)) - (p + q) * sp.log(2)
    wrong = derivation.replace_step(index, Step(no_halves, derivation.steps[index].reason))
    failure = wrong.verify().first_failure
    assert failure is not None and failure.index == index


def test_a_jsd_definition_without_its_halves_is_caught_and_named_under_the_integral():
    derivation = gan.generator_objective()
    index = 4
    P, Q = gan.P_data(x), gan.P_G(x)
    M = (P + Q) / 2
    span = (x, gan.x_lo, gan.x_hi)
    wrong_jsd = sp.Integral(P * sp.log(P / M), span) + sp.Integral(Q * sp.log(Q / M), span)
    old = derivation.steps[index]
    corrupted = 2 * wrong_jsd - sp.log(2) * sp.Integral(P, span) - sp.log(2) * sp.Integral(Q, span)
    failure = derivation.replace_step(index, Step(corrupted, old.reason)).verify().first_failure
    assert failure is not None and failure.index == index


def test_a_second_variation_claimed_positive_is_caught_and_named():
    derivation = gan.optimal_discriminator()
    L = derivation.steps[0].expr
    wrong = Step(sp.diff(L, D(x), 2) > 0, "claimed convex", "holds")
    failure = derivation.replace_step(3, wrong).verify().first_failure
    assert failure is not None and failure.index == 3


def test_the_homework_value_with_the_max_form_sign_is_caught_and_named():
    derivation = gan.homework_convention()
    index = len(derivation.steps) - 1
    old = derivation.steps[index]
    wrong = Step(-old.expr, old.reason)  # −log 4 + 2 JSD: the sign of the max form
    failure = derivation.replace_step(index, wrong).verify().first_failure
    assert failure is not None and failure.index == index


# --------------------------------------------------------------------------------------------
# D* maximises the pointwise objective (property test, with a mutant twin)


def _objective() -> tuple:
    return to_numpy(gan.GAN_VALUE_INTEGRAND), to_numpy(gan.D_STAR)


def beats_every_other_value(candidate: float, p_data: float, p_g: float, other: float) -> bool:
    """L(candidate) ≥ L(other) up to the rounding of the two float64 evaluations.

    L = p log D + q log(1 − D) is evaluated with relative error ≲ 8 ε times the sum of the
    magnitudes of its two terms; the slack is that bound for both values.
    """
    value, _ = _objective()
    at_candidate, at_other = value(p_data, p_g, candidate), value(p_data, p_g, other)

    def size(dv: float) -> float:
        return abs(p_data * math.log(dv)) + abs(p_g * math.log1p(-dv))

    slack = 8 * EPS * (size(candidate) + size(other))
    return bool(at_candidate >= at_other - slack)


@given(p_data=scales(), p_g=scales(), other=st.floats(1e-6, 1 - 1e-6))
def test_the_optimal_discriminator_beats_every_other_value_in_the_unit_interval(p_data, p_g, other):
    _, d_star = _objective()
    assert beats_every_other_value(float(d_star(p_data, p_g)), p_data, p_g, other)


@given(p_data=scales(), log_ratio=st.floats(0.1, 3.0), flip=st.booleans())
def test_the_swapped_discriminator_is_beaten_by_the_derived_one(p_data, log_ratio, flip):
    """Twin: the mutant q/(p + q) fails the property wherever p ≠ q (here |log p/q| ≥ 0.1),
    the derived D* being a value it does not beat."""
    p_g = p_data * math.exp(-log_ratio if flip else log_ratio)
    _, d_star = _objective()
    mutant = p_g / (p_data + p_g)
    assert not beats_every_other_value(mutant, p_data, p_g, float(d_star(p_data, p_g)))


@given(p_data=scales(), p_g=scales(), value=st.floats(1e-6, 1 - 1e-6))
def test_the_second_variation_is_negative_on_the_unit_interval(p_data, p_g, value):
    assert to_numpy(gan.GAN_SECOND_VARIATION)(p_data, p_g, value) < 0


# --------------------------------------------------------------------------------------------
# the JSD form against quadrature, for two Gaussians


TINY = 1e-290  # below this a density's share of the integrand is < 1e-287: taken as 0


def normal_logpdf(t: float, mean: float, std: float) -> float:
    return -((t - mean) ** 2) / (2 * std**2) - math.log(std * math.sqrt(2 * math.pi))


def _value_integral(closed_form: sp.Lambda, mu_1: float, s_1: float, mu_2: float,
                    s_2: float):
    """∫ closed_form(p_data(x), p_G(x)) dx by QUADPACK, with p_data = N(μ1, s1²), p_G = N(μ2, s2²).

    Where a density is below TINY the integrand is taken as 0 (it is then at most ~1e-287: the
    limit p log p → 0, the convention of numerics.quadrature); elsewhere it is the closed form.
    """
    f = to_numpy(closed_form)

    def integrand(t: float) -> float:
        a = math.exp(normal_logpdf(t, mu_1, s_1))
        b = math.exp(normal_logpdf(t, mu_2, s_2))
        return float(f(a, b)) if a > TINY and b > TINY else 0.0

    return integrate_1d(integrand, points=[mu_1, mu_2])


def jsd_form_holds(closed_form: sp.Lambda, mu_1: float, s_1: float, mu_2: float,
                   s_2: float) -> tuple[bool, float, float]:
    """Does ∫ closed_form dx equal −log 4 + 2·JSD(p_data‖p_G), JSD by independent quadrature?

    Tolerance: twice the sum of QUADPACK's absolute error estimates (the value's plus twice the
    JSD's; the factor 2 is a safety margin on the estimates), plus the float64 rounding of the
    sums (64 ε times the magnitudes).
    """
    value = _value_integral(closed_form, mu_1, s_1, mu_2, s_2)
    jsd = js_divergence(log_p=lambda t: normal_logpdf(t, mu_1, s_1),
                        log_q=lambda t: normal_logpdf(t, mu_2, s_2), points=[mu_1, mu_2])
    claimed = -math.log(4) + 2 * jsd.value
    gap = abs(value.value - claimed)
    tolerance = 2 * (value.error + 2 * jsd.error) + 64 * EPS * (abs(value.value) + math.log(4))
    return gap <= tolerance, gap, tolerance


@given(mu_1=means(2.0), s_1=scales(-1.0, 1.0), mu_2=means(2.0), s_2=scales(-1.0, 1.0))
def test_the_value_at_d_star_integrates_to_minus_log_four_plus_twice_the_jsd(mu_1, s_1, mu_2, s_2):
    holds, gap, tolerance = jsd_form_holds(gan.GAN_VALUE_AT_D_STAR, mu_1, s_1, mu_2, s_2)
    assert holds, f"|∫V − (2 JSD − log 4)| = {gap:.3g} > tolerance {tolerance:.3g}"


def test_the_jsd_quadrature_check_rejects_a_value_without_the_halves():
    """Twin: 2·(p log(p/m) + q log(q/m)) − (p + q) log 2 integrates to 4 JSD − log 4; for
    N(0, 1) against N(1.5, 0.7²) (JSD ≈ 0.25 nats) the check must reject it."""
    m = (p + q) / 2
    mutant = sp.Lambda((p, q), 2 * (p * sp.log(p / m) + q * sp.log(q / m)) - (p + q) * sp.log(2))
    holds, gap, tolerance = jsd_form_holds(mutant, 0.0, 1.0, 1.5, 0.7)
    assert not holds and gap > 1e6 * tolerance


# --------------------------------------------------------------------------------------------
# packaging


def test_importing_the_module_derives_nothing_and_d_star_needs_only_sympy():
    code = ("import sys; import derivations.gan as g; from derivations.core import _REGISTRY; "
            "built = [k for k, b in _REGISTRY.items() "
            "if k.startswith('derivations.gan.') and b.cache_info().currsize]; "
            "from derivations.gan import D_STAR; D_STAR(1, 2); "
            "heavy = sorted({m.split('.')[0] for m in sys.modules} & {'numpy', 'scipy', 'torch'}); "
            "print(built, heavy)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[] []"
