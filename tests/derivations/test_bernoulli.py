"""The Bernoulli decoder's derived likelihood, log-likelihood and logits form, against textbook
forms typed here independently and against SciPy's and PyTorch's implementations.

Textbook forms: Bishop, PRML (2.2) (the Bernoulli pmf μ^x (1 − μ)^(1 − x)); Kingma & Welling
(2014), appendix C.1 (the decoder log-likelihood Σ_j x_j log y_j + (1 − x_j) log(1 − y_j)); the
PyTorch documentation of ``binary_cross_entropy_with_logits`` (its loss is minus the logits
form). Every check here is deterministic (no sampling), so there is no false-failure budget to
spend; floating-point comparisons use a relative tolerance of 1e-12 (float64 rounding of a few
operations), which the wrong formulas below miss by many orders of magnitude.
"""

from __future__ import annotations

import functools
import math

import mpmath
import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from derivations import bernoulli
from derivations.core import Step
from tests.strategies import probabilities

x = sp.Symbol("x", real=True)
y = sp.Symbol("y", positive=True)
l = sp.Symbol("l", real=True)  # noqa: E741 - the logit, as in the module
j = sp.Idx("j")
G = sp.Symbol("G", integer=True, positive=True)
xs, ys = sp.IndexedBase("x"), sp.IndexedBase("y")

TEXTBOOK_LIKELIHOOD = sp.Product(ys[j] ** xs[j] * (1 - ys[j]) ** (1 - xs[j]), (j, 1, G))
TEXTBOOK_LOG_LIKELIHOOD = sp.Sum(xs[j] * sp.log(ys[j]) + (1 - xs[j]) * sp.log(1 - ys[j]), (j, 1, G))
TEXTBOOK_LOG_PIXEL = x * sp.log(y) + (1 - x) * sp.log(1 - y)
TEXTBOOK_LOGITS = x * l - sp.log(1 + sp.exp(l))  # = −softplus(l) + x l

IMAGES = [  # (pixels, probabilities): a few binary images of G = 1..4 pixels
    ([1], [0.3]),
    ([0, 1], [0.8, 0.6]),
    ([1, 0, 0], [0.05, 0.5, 0.95]),
    ([0, 1, 1, 0], [0.2, 0.9, 0.4, 0.7]),
]

BUILDERS = [bernoulli.pixel_pmf, bernoulli.likelihood, bernoulli.log_pixel,
            bernoulli.log_likelihood, bernoulli.log_pixel_logits]


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)


def at_image(closed_form: sp.Lambda, pixels: list[float], probs: list[float]) -> float:
    """An indexed closed form (product or sum over G) evaluated on one image, by SymPy."""
    image, probabilities_ = closed_form.variables
    body = closed_form.expr.subs(bernoulli.G, len(pixels)).doit()
    point = {}
    for k, (pixel, prob) in enumerate(zip(pixels, probs), start=1):
        point.update({image[k]: pixel, probabilities_[k]: prob})
    return float(body.subs(point))


def textbook_at_image(form: sp.Expr, pixels: list[float], probs: list[float]) -> float:
    body = form.subs(G, len(pixels)).doit()
    point = {}
    for k, (pixel, prob) in enumerate(zip(pixels, probs), start=1):
        point.update({xs[k]: pixel, ys[k]: prob})
    return float(body.subs(point))


# -- every derivation verifies ----------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_each_bernoulli_derivation_verifies_and_names_its_homework_part(build):
    derivation = build()
    verification = derivation.verify()
    assert verification.ok, verification.first_failure
    assert derivation.part in ("1.a", "2")


# -- the results against the textbook, symbolically and numerically ---------------------------


def test_the_pixel_pmf_is_the_textbook_power_form_and_matches_the_cases_y_and_one_minus_y():
    derived = bernoulli.pixel_pmf().result
    assert sp.simplify(derived - y**x * (1 - y) ** (1 - x)) == 0
    for prob in (0.05, 0.3, 0.99):
        assert close(float(derived.subs({x: 1, y: prob})), stats.bernoulli.pmf(1, prob))
        assert close(float(derived.subs({x: 0, y: prob})), stats.bernoulli.pmf(0, prob))


@pytest.mark.parametrize("pixels, probs", IMAGES)
def test_the_likelihood_is_the_product_of_the_pixel_pmfs(pixels, probs):
    derived = at_image(bernoulli.BERNOULLI_LIKELIHOOD, pixels, probs)
    assert close(derived, textbook_at_image(TEXTBOOK_LIKELIHOOD, pixels, probs))
    assert close(derived, float(np.prod(stats.bernoulli.pmf(pixels, probs))))


@pytest.mark.parametrize("pixels, probs", IMAGES)
def test_the_log_likelihood_is_scipys_summed_log_pmf_and_the_log_of_the_likelihood(pixels, probs):
    derived = at_image(bernoulli.BERNOULLI_LOG_LIKELIHOOD, pixels, probs)
    assert close(derived, textbook_at_image(TEXTBOOK_LOG_LIKELIHOOD, pixels, probs))
    assert close(derived, float(np.sum(stats.bernoulli.logpmf(pixels, probs))))
    # part 1.a also accepts the exp of the summed log form
    assert close(math.exp(derived), at_image(bernoulli.BERNOULLI_LIKELIHOOD, pixels, probs))


def test_the_log_pixel_and_the_logits_forms_are_the_textbook_forms():
    assert sp.simplify(bernoulli.BERNOULLI_LOG_PIXEL(x, y) - TEXTBOOK_LOG_PIXEL) == 0
    assert sp.simplify(bernoulli.BERNOULLI_LOG_PIXEL_LOGITS(x, l) - TEXTBOOK_LOGITS) == 0


def test_the_exported_constants_keep_their_argument_order():
    assert [str(v) for v in bernoulli.BERNOULLI_LIKELIHOOD.variables] == ["x", "y"]
    assert [str(v) for v in bernoulli.BERNOULLI_LOG_LIKELIHOOD.variables] == ["x", "y"]
    assert bernoulli.BERNOULLI_LOG_PIXEL.variables == (x, y)
    assert bernoulli.BERNOULLI_LOG_PIXEL_LOGITS.variables == (x, l)


def torch_log_pixel_logits(pixel: float, logit: float) -> float:
    """Minus PyTorch's binary cross-entropy with logits, in float64."""
    loss = torch.nn.functional.binary_cross_entropy_with_logits(
        torch.tensor(logit, dtype=torch.float64), torch.tensor(pixel, dtype=torch.float64))
    return -float(loss)


@functools.cache
def _derived_logits_mp():  # noqa: ANN202 - a compiled mpmath function
    return sp.lambdify((x, l), bernoulli.BERNOULLI_LOG_PIXEL_LOGITS(x, l), "mpmath")


def derived_log_pixel_logits(pixel: float, logit: float) -> float:
    """The derived logits form at 30 digits (no overflow, no cancellation), as a float."""
    with mpmath.workdps(30):
        return float(_derived_logits_mp()(mpmath.mpf(pixel), mpmath.mpf(logit)))


@given(pixel=st.floats(0.0, 1.0), logit=st.floats(-30.0, 30.0))
def test_the_logits_form_is_minus_torchs_binary_cross_entropy_with_logits(pixel, logit):
    assert close(derived_log_pixel_logits(pixel, logit), torch_log_pixel_logits(pixel, logit))


@given(pixel=st.sampled_from([0.0, 1.0]), prob=probabilities())
def test_the_logits_form_at_the_logit_of_y_is_the_log_pixel_pmf(pixel, prob):
    logit = math.log(prob / (1 - prob))
    expected = float(stats.bernoulli.logpmf(int(pixel), prob))
    assert close(derived_log_pixel_logits(pixel, logit), expected)


# -- mistyped textbook forms are told apart ---------------------------------------------------


WRONG_LOG_PIXEL = {
    "exponents swapped": (1 - x) * sp.log(y) + x * sp.log(1 - y),
    "(1 − x) lost": x * sp.log(y) + sp.log(1 - y),
    "sign flipped": -TEXTBOOK_LOG_PIXEL,
}


@pytest.mark.parametrize("wrong", WRONG_LOG_PIXEL.values(), ids=WRONG_LOG_PIXEL.keys())
def test_a_mistyped_log_pixel_form_disagrees_with_the_derived_one(wrong):
    derived = bernoulli.BERNOULLI_LOG_PIXEL(x, y)  # a value apart at x ∈ {0, 1} proves it
    assert any(not close(float(derived.subs({x: p, y: 0.3})), float(wrong.subs({x: p, y: 0.3})))
               for p in (0, 1))


WRONG_LOGITS = {
    "sign of the softplus flipped": x * l + sp.log(1 + sp.exp(l)),
    "σ(−l) for σ(l)": -x * l - sp.log(1 + sp.exp(-l)),
    "factor x lost": l - sp.log(1 + sp.exp(l)),
}


@pytest.mark.parametrize("wrong", WRONG_LOGITS.values(), ids=WRONG_LOGITS.keys())
def test_a_mistyped_logits_form_disagrees_with_torch(wrong):
    reference = sp.lambdify((x, l), wrong, "mpmath")
    assert any(not close(float(reference(p, v)), torch_log_pixel_logits(p, v))
               for p in (0.0, 1.0) for v in (-2.0, 0.5, 3.0))


def test_a_likelihood_with_swapped_exponents_disagrees_with_scipy():
    pixels, probs = IMAGES[2]
    wrong = sp.Product(ys[j] ** (1 - xs[j]) * (1 - ys[j]) ** xs[j], (j, 1, G))
    assert not close(textbook_at_image(wrong, pixels, probs),
                     float(np.prod(stats.bernoulli.pmf(pixels, probs))))


# -- a corrupted step inside a derivation is caught and named ----------------------------------


def _corrupted(build, index: int, expr: sp.Basic) -> int | None:
    """The index of the first failing step once step ``index`` claims ``expr`` instead
    (same relation, lemma and substitution as the original step)."""
    derivation = build()
    original = derivation.steps[index]
    step = Step(expr, original.reason, original.rel, wrt=original.wrt, subs=original.subs,
                change=original.change, by=original.by)
    failure = derivation.replace_step(index, step).verify().first_failure
    return None if failure is None else failure.index


def test_a_power_form_with_swapped_exponents_is_caught_at_its_step():
    assert _corrupted(bernoulli.pixel_pmf, 1, y ** (1 - x) * (1 - y) ** x) == 1


def test_a_likelihood_that_forgets_the_one_minus_y_factors_is_caught_at_its_step():
    wrong = sp.Product(ys[j] ** xs[j], (j, 1, bernoulli.G))
    assert _corrupted(bernoulli.likelihood, 1, wrong) == 1


def test_a_log_likelihood_with_a_flipped_sign_is_caught_at_the_log_of_the_product():
    derivation = bernoulli.log_likelihood()
    assert _corrupted(bernoulli.log_likelihood, 1, -derivation.steps[1].expr) == 1


def test_a_logits_step_that_loses_the_softplus_of_the_negative_class_is_caught():
    softplus = sp.log(1 + sp.exp(l))
    wrong = x * (l - softplus)  # (1 − x) log(1 − σ(l)) dropped
    assert _corrupted(bernoulli.log_pixel_logits, 2, wrong) == 2


def test_a_sign_flipped_cross_entropy_is_refused_at_the_holds_step():
    derivation = bernoulli.log_pixel_logits()
    relation = derivation.steps[4].expr
    assert _corrupted(bernoulli.log_pixel_logits, 4, sp.Eq(relation.lhs, -relation.rhs)) == 4
