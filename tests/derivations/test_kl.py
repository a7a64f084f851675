"""The derived Gaussian KL divergences against their textbook forms, typed here independently.

Textbook forms: Kingma & Welling (2014), appendix B; Bishop, PRML, exercise 1.30.
"""

from __future__ import annotations

import pytest
import sympy as sp

from derivations import kl
from derivations.core import Step

mu_1, mu_2, mu, mu_q, mu_p = sp.symbols("mu_1 mu_2 mu mu_q mu_p", real=True)
sigma_1, sigma_2, sigma = sp.symbols("sigma_1 sigma_2 sigma", positive=True)
logvar = sp.Symbol("logvar", real=True)

TEXTBOOK_GENERAL = sp.log(sigma_2 / sigma_1) + (sigma_1**2 + (mu_1 - mu_2) ** 2) / (2 * sigma_2**2) - sp.Rational(1, 2)
TEXTBOOK_STANDARD = (mu**2 + sigma**2 - 1 - sp.log(sigma**2)) / 2
TEXTBOOK_LOGVAR = (mu**2 + sp.exp(logvar) - 1 - logvar) / 2
TEXTBOOK_EQUAL = (mu_q - mu_p) ** 2 / (2 * sigma**2)


def same(a: sp.Expr, b: sp.Expr) -> bool:
    return sp.simplify(sp.expand_log(a - b, force=True)) == 0


@pytest.mark.parametrize(
    "closed_form, textbook",
    [
        ("KL_GAUSSIAN", TEXTBOOK_GENERAL),
        ("KL_STANDARD_NORMAL", TEXTBOOK_STANDARD),
        ("KL_STANDARD_NORMAL_LOGVAR", TEXTBOOK_LOGVAR),
        ("KL_EQUAL_VARIANCE", TEXTBOOK_EQUAL),
    ],
)
def test_each_derived_kl_equals_its_textbook_form(closed_form, textbook):
    derived = getattr(kl, closed_form)
    assert same(derived(*derived.variables), textbook)


WRONG_STANDARD = {
    "sign of the log flipped": (mu**2 + sigma**2 - 1 + sp.log(sigma**2)) / 2,
    "factor ½ lost": mu**2 + sigma**2 - 1 - sp.log(sigma**2),
    "σ for σ²": (mu**2 + sigma - 1 - sp.log(sigma)) / 2,
}


@pytest.mark.parametrize("wrong", WRONG_STANDARD.values(), ids=WRONG_STANDARD.keys())
def test_a_mistyped_prior_kl_is_told_apart_from_the_derived_one(wrong):
    assert not same(kl.KL_STANDARD_NORMAL(mu, sigma), wrong)


def test_the_general_kl_with_swapped_arguments_is_a_different_function():
    derived = kl.KL_GAUSSIAN
    assert not same(derived(mu_1, sigma_1, mu_2, sigma_2), derived(mu_2, sigma_2, mu_1, sigma_1))


def test_the_diagonal_kl_is_the_sum_of_the_coordinate_kls():
    values = [(0.3, 1.2, -0.5, 0.7), (1.1, 0.4, 0.2, 2.0), (-0.8, 0.9, 0.0, 1.0)]
    mus, sigmas, ms, ss = kl.KL_DIAGONAL.variables
    body = kl.KL_DIAGONAL.expr.subs(kl.d, len(values)).doit()
    point = {}
    for k, (a, b, c, e) in enumerate(values, start=1):
        point.update({mus[k]: a, sigmas[k]: b, ms[k]: c, ss[k]: e})
    textbook = sum(float(TEXTBOOK_GENERAL.subs({mu_1: a, sigma_1: b, mu_2: c, sigma_2: e}))
                   for a, b, c, e in values)
    assert float(body.subs(point)) == pytest.approx(textbook, rel=1e-12)


def test_every_kl_derivation_verifies():
    for build in (kl.general, kl.standard_normal_prior, kl.standard_normal_prior_logvar,
                  kl.equal_variance, kl.diagonal, kl.self_divergence, kl.nonnegativity,
                  kl.asymmetry):
        verification = build().verify()
        assert verification.ok, verification.first_failure


def test_kl_of_a_distribution_to_itself_is_zero():
    assert kl.self_divergence().result == 0


def test_a_lost_factor_of_two_in_the_moment_step_is_caught_and_named():
    general = kl.general()
    last = general.steps[-1]
    corrupted = general.replace_step(len(general.steps) - 1, Step(2 * last.expr, last.reason))
    failure = corrupted.verify().first_failure
    assert failure is not None and failure.index == len(general.steps) - 1


def test_a_change_of_variables_without_its_jacobian_is_caught_and_named():
    general = kl.general()
    step = general.steps[2]
    (integral,) = step.expr.atoms(sp.Integral)
    corrupted = general.replace_step(2, Step(integral.func(integral.function * sigma_1, *integral.limits),
                                             step.reason, change=step.change))
    assert corrupted.verify().first_failure.index == 2


def test_the_equal_variance_specialisation_must_use_the_right_substitution():
    derivation = kl.equal_variance()
    step = derivation.steps[1]
    wrong = Step(step.expr, step.reason, subs={mu_1: mu_q, mu_2: mu_p, sigma_1: sigma, sigma_2: 2 * sigma})
    assert derivation.replace_step(1, wrong).verify().first_failure.index == 1


def test_non_negativity_is_refused_for_a_formula_that_can_go_negative():
    derivation = kl.nonnegativity()
    wrong = Step(TEXTBOOK_GENERAL - 1 >= 0, "shifted", "holds")
    assert derivation.replace_step(len(derivation.steps) - 1, wrong).verify().first_failure is not None


def test_asymmetry_is_shown_with_two_different_values():
    derivation = kl.asymmetry()
    assert derivation.verify().ok
    equal = Step(sp.Eq(derivation.steps[0].expr, derivation.steps[0].expr + 1), "", "holds")
    assert not derivation.replace_step(1, equal).verify().ok
