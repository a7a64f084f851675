"""Quadrature KL and JSD, and the derived closed forms checked against quadrature.

Second route: KL(q‖p) = ∫ q log(q/p) integrated numerically (QUADPACK) from the bridged
log-densities, against the derived ``KL_*`` constants, over Hypothesis parameters. The check
accepts |closed form − quadrature| ≤ 10 · (QUADPACK's error estimate) + 1e-9 · max(1, |KL|).
Each check has twins that feed wrong formulas (sign flipped, factor 2 lost, σ for σ²,
arguments swapped) on parameters where the mutant differs by ≥ 0.1, far above the tolerance.

Nothing here is random in outcome (quadrature is deterministic; the parameters come from the
derandomized Hypothesis profile): the false-failure budget of this file is 0.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from derivations import gaussian, kl
from numerics.bridge import to_numpy
from numerics.quadrature import QuadratureResult, integrate_1d, js_divergence, kl_divergence
from tests.strategies import gaussian_pairs, means, scales


def log_normal(mu: float, sigma: float):
    f = to_numpy(gaussian.GAUSSIAN_LOG_DENSITY)
    return lambda x: f(x, mu, sigma)


def gaussian_kl_by_quadrature(mu_1, sigma_1, mu_2, sigma_2) -> QuadratureResult:
    return kl_divergence(log_p=log_normal(mu_1, sigma_1), log_q=log_normal(mu_2, sigma_2),
                         points=(mu_1, mu_2))


def agrees(result: QuadratureResult, value: float) -> bool:
    return abs(result.value - value) <= 10 * result.error + 1e-9 * max(1.0, abs(value))


def closed(closed_form: sp.Lambda, *args) -> float:
    return float(to_numpy(closed_form)(*args))


# -- the derived KLs against quadrature ------------------------------------------------------


@given(params=gaussian_pairs(low=-1.5, high=1.5))
def test_kl_gaussian_equals_the_quadrature_of_the_log_ratio(params):
    assert agrees(gaussian_kl_by_quadrature(*params), closed(kl.KL_GAUSSIAN, *params))


@st.composite
def distinct_pairs(draw):
    """|μ1 − μ2| ≥ σ2 and |log σ1/σ2| ≥ 0.5: KL ≥ 0.5 and KL(q‖p) − KL(p‖q) ≥ 0.17, so each
    mutant below differs by ≥ 0.17 (at q = p all of −KL, 2KL, KL(p‖q) equal KL = 0)."""
    mu_1, sigma_1 = draw(means()), draw(scales(-1.0, 1.0))
    sigma_2 = sigma_1 * math.exp(draw(st.floats(0.5, 1.5)) * draw(st.sampled_from([-1, 1])))
    mu_2 = mu_1 + draw(st.floats(1.0, 3.0)) * draw(st.sampled_from([-1, 1])) * sigma_2
    return mu_1, sigma_1, mu_2, sigma_2


@pytest.mark.parametrize("mutant", ["sign flipped", "factor 2 lost", "arguments swapped"])
@given(params=distinct_pairs())
def test_quadrature_check_catches_a_wrong_kl_gaussian(mutant, params):
    mu_1, sigma_1, mu_2, sigma_2 = params
    truth = closed(kl.KL_GAUSSIAN, *params)
    wrong = {"sign flipped": -truth, "factor 2 lost": 2 * truth,
             "arguments swapped": closed(kl.KL_GAUSSIAN, mu_2, sigma_2, mu_1, sigma_1)}[mutant]
    assert abs(wrong - truth) >= 0.1
    assert not agrees(gaussian_kl_by_quadrature(*params), wrong)


@given(mu=means(), sigma=scales(-1.5, 1.5))
def test_kl_to_the_standard_normal_equals_quadrature(mu, sigma):
    assert agrees(gaussian_kl_by_quadrature(mu, sigma, 0.0, 1.0),
                  closed(kl.KL_STANDARD_NORMAL, mu, sigma))
    assert agrees(gaussian_kl_by_quadrature(mu, sigma, 0.0, 1.0),
                  closed(kl.KL_STANDARD_NORMAL_LOGVAR, mu, 2 * math.log(sigma)))


@given(mu=means(), log_sigma=st.floats(0.5, 1.5), sign=st.sampled_from([-1, 1]))
def test_quadrature_check_catches_sigma_for_sigma_squared_in_the_prior_kl(mu, log_sigma, sign):
    # ½(μ² + σ − 1 − log σ) is off by ½(σ² − σ − log σ) ≥ 0.13 for |log σ| ≥ 0.5; at σ = 1
    # the two agree (σ² = σ), so σ is kept away from 1.
    sigma = math.exp(sign * log_sigma)
    wrong = (mu**2 + sigma - 1 - math.log(sigma)) / 2
    assert not agrees(gaussian_kl_by_quadrature(mu, sigma, 0.0, 1.0), wrong)


@given(mu_q=means(), mu_p=means(), sigma=scales(-1.5, 1.5))
def test_kl_of_equal_variances_equals_quadrature(mu_q, mu_p, sigma):
    assert agrees(gaussian_kl_by_quadrature(mu_q, sigma, mu_p, sigma),
                  closed(kl.KL_EQUAL_VARIANCE, mu_q, mu_p, sigma))


@given(data=st.data(), d=st.integers(1, 3))
def test_kl_of_diagonal_gaussians_is_the_sum_of_coordinate_quadratures(data, d):
    params = [data.draw(st.lists(s, min_size=d, max_size=d))
              for s in (means(), scales(-1, 1), means(), scales(-1, 1))]
    coordinates = [gaussian_kl_by_quadrature(*p) for p in zip(*params)]
    total = QuadratureResult(sum(c.value for c in coordinates), sum(c.error for c in coordinates))
    derived = closed(kl.KL_DIAGONAL, *params)
    assert agrees(total, derived)
    # twin: a sum that forgets the last coordinate is caught unless that coordinate's KL is 0
    if coordinates[-1].value > 0.1:
        assert not agrees(total, derived - coordinates[-1].value)


# -- the Gaussian density against quadrature -------------------------------------------------


@given(mu=means(), sigma=scales())
def test_gaussian_density_has_mass_one_mean_mu_and_variance_sigma_squared(mu, sigma):
    log_p = log_normal(mu, sigma)
    p = lambda x: math.exp(log_p(x))  # noqa: E731
    points = (mu - sigma, mu, mu + sigma)
    mass = integrate_1d(p, points=points)
    mean = integrate_1d(lambda x: x * p(x), points=points)
    variance = integrate_1d(lambda x: (x - mu) ** 2 * p(x), points=points)
    assert agrees(mass, 1.0) and agrees(mean, mu) and agrees(variance, sigma**2)


@pytest.mark.parametrize("mutant, mass", [("factor 2 lost in the exponent", 1 / math.sqrt(2)),
                                          ("sigma for sigma squared in the normaliser", None)])
@given(mu=means(), log_sigma=st.floats(0.5, 1.5), sign=st.sampled_from([-1, 1]))
def test_mass_check_catches_a_wrong_gaussian_density(mutant, mass, mu, log_sigma, sign):
    # the normaliser mutant has mass √σ: equal to 1 at σ = 1, so |log σ| ≥ 0.5 (|√σ − 1| ≥ 0.22)
    sigma = math.exp(sign * log_sigma)
    if mass is None:
        p = lambda x: math.exp(-((x - mu) ** 2) / (2 * sigma**2)) / math.sqrt(2 * math.pi * sigma)  # noqa: E731
    else:
        p = lambda x: math.exp(-((x - mu) ** 2) / sigma**2) / math.sqrt(2 * math.pi * sigma**2)  # noqa: E731
    assert not agrees(integrate_1d(p, points=(mu,)), 1.0)


# -- the quadrature routines themselves ------------------------------------------------------


def test_kl_of_exponentials_on_a_half_line_matches_its_textbook_form():
    rate_1, rate_2 = 2.0, 0.5
    result = kl_divergence(lambda x: rate_1 * math.exp(-rate_1 * x),
                           lambda x: rate_2 * math.exp(-rate_2 * x), support=(0.0, math.inf))
    assert agrees(result, math.log(rate_1 / rate_2) + rate_2 / rate_1 - 1)


def test_density_and_log_density_routes_agree_and_zero_density_contributes_nothing():
    by_density = kl_divergence(stats.norm(0, 1).pdf, stats.norm(1, 2).pdf)
    by_log = kl_divergence(log_p=stats.norm(0, 1).logpdf, log_q=stats.norm(1, 2).logpdf)
    assert by_density.value == pytest.approx(by_log.value, rel=1e-9)
    uniform = lambda x: 1.0 if 0 <= x <= 1 else 0.0  # noqa: E731
    wide = lambda x: 0.5 if 0 <= x <= 2 else 0.0  # noqa: E731
    assert agrees(kl_divergence(uniform, wide, support=(0, 2), points=(1,)), math.log(2))


def test_kl_is_infinite_where_q_vanishes_on_the_support_of_p():
    uniform = lambda x: 1.0 if 0 <= x <= 1 else 0.0  # noqa: E731
    narrow = lambda x: 2.0 if 0 <= x <= 0.5 else 0.0  # noqa: E731
    assert kl_divergence(uniform, narrow, support=(0, 1), points=(0.5,)).value == math.inf


def test_log_densities_keep_far_narrow_peaks_accurate():
    params = (40.0, 0.01, 40.02, 0.03)
    assert agrees(gaussian_kl_by_quadrature(*params), closed(kl.KL_GAUSSIAN, *params))


@given(p=st.tuples(means(), scales(-1, 1)), q=st.tuples(means(), scales(-1, 1)))
def test_jsd_is_symmetric_bounded_by_log_2_and_equals_the_entropy_route(p, q):
    forward = js_divergence(log_p=log_normal(*p), log_q=log_normal(*q), points=(p[0], q[0]))
    backward = js_divergence(log_p=log_normal(*q), log_q=log_normal(*p), points=(p[0], q[0]))
    assert forward.value == pytest.approx(backward.value, abs=1e-9)
    assert -1e-12 <= forward.value <= math.log(2) + 1e-12
    # second route: JSD = H(m) − (H(p) + H(q))/2 with the textbook Gaussian entropies
    log_m = lambda x: np.logaddexp(log_normal(*p)(x), log_normal(*q)(x)) + math.log(0.5)  # noqa: E731
    h_m = integrate_1d(lambda x: -np.exp(log_m(x)) * log_m(x), points=(p[0], q[0]))
    h = lambda sigma: 0.5 * math.log(2 * math.pi * math.e * sigma**2)  # noqa: E731
    assert agrees(QuadratureResult(h_m.value, h_m.error + forward.error),
                  forward.value + (h(p[1]) + h(q[1])) / 2)


def test_jsd_of_one_distribution_is_zero_and_of_disjoint_supports_is_log_2():
    same = js_divergence(log_p=log_normal(0.3, 1.2), log_q=log_normal(0.3, 1.2))
    assert abs(same.value) <= 1e-12
    left = lambda x: 1.0 if 0 <= x <= 1 else 0.0  # noqa: E731
    right = lambda x: 1.0 if 2 <= x <= 3 else 0.0  # noqa: E731
    disjoint = js_divergence(left, right, support=(0, 3), points=(1, 2))
    assert agrees(disjoint, math.log(2))
    # twin: a JSD without the ½ weights (KL(p‖m) + KL(q‖m)) would give 2 log 2
    assert not agrees(disjoint, 2 * math.log(2))


def test_a_negative_density_or_missing_density_is_refused():
    with pytest.raises(ValueError, match="not a density"):
        kl_divergence(lambda x: -1.0, lambda x: 1.0, support=(0, 1))
    with pytest.raises(ValueError, match="give q"):
        kl_divergence(lambda x: 1.0, support=(0, 1))
    with pytest.raises(ValueError, match="empty"):
        integrate_1d(lambda x: 1.0, support=(1, 0))


def test_quadrature_result_is_a_float_with_an_error():
    result = integrate_1d(np.exp, support=(0.0, 1.0))
    assert float(result) == pytest.approx(math.e - 1) and result.error < 1e-10
