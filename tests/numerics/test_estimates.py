"""Monte Carlo estimates, and the derived KL divergences and Gaussian log-densities checked
against Monte Carlo over random parameters — with wrong formulas (mutants) that must be caught.

Second routes (independent of the derivations' integration steps):
* KL(q‖p) = E_q[log q(x) − log p(x)], estimated from x ~ q drawn by NumPy;
* E_p[log p(x)] = −½ log(2πeσ²) (the negative entropy, typed here) and
  ∫ p = E_r[p(x)/r(x)] = 1 with r = N(μ, (2σ)²) (importance sampling).

Budget (false failures ≤ 1e-6 for this FILE). E = Hypothesis max_examples (25 under "ci").
* correct formulas: 7 tests × E examples × 1 z-test = 7E = 175 assertions, half the budget:
  α = 0.5e-6 / (7E) / 10 = 2.9e-10 each (z = 6.3);
* mutants: 16 (test, mutant) pairs × E = 16E = 400 assertions, the other half: each mutant
  must be caught with probability ≥ 1 − β, β = 0.5e-6 / (16E) / 10 = 1.25e-10.
The factor 10 absorbs the error of the normal approximation in the far tail: the summands are
quadratics in a Gaussian (skewness ≤ 2√2) or bounded importance weights, and with n ≥ 20 000
the leading Cramér/Edgeworth correction exp(κ₃z³/(6√n)) ≤ e ≈ 2.7 at z ≈ 6.3.

Power: for a mutant off by δ the sample size is n = 1.2 · ((z_α + z_β) sd / δ)² (at least
20 000), with sd the exact standard deviation of one summand (typed in ``_kl_summand_sd`` or
computed by quadrature); the factor 1.2 covers the estimated standard error. Where a mutant
is indistinguishable the parameters are restricted, with the reason at each strategy, so that
δ/sd stays ≥ 0.07 and n ≤ 200 000.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from derivations import gaussian, kl
from numerics.bridge import to_numpy
from numerics.estimates import Estimate, paired_difference
from numerics.tolerance import check_close, samples_for_power
from tests.strategies import log_variances, means, scales, seeds

FILE_BUDGET = 1e-6
E = settings().max_examples
CLT_SAFETY = 10
ALPHA = FILE_BUDGET / 2 / (7 * E) / CLT_SAFETY
BETA = FILE_BUDGET / 2 / (16 * E) / CLT_SAFETY
N_MIN, N_MAX = 20_000, 200_000


def sample_size(sd: float, delta: float) -> int:
    """n for which the z-test at ALPHA catches an error delta with probability ≥ 1 − BETA."""
    n = max(N_MIN, math.ceil(1.2 * samples_for_power(sd, delta, ALPHA, 1 - BETA)))
    assert n <= N_MAX, f"δ/sd = {delta / sd:.3g} is too small: restrict the parameters"
    return n


# -- the record itself (deterministic) -------------------------------------------------------


def test_estimate_is_the_sample_mean_with_standard_error_sd_over_root_n():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    estimate = Estimate.from_samples(x)
    assert estimate.mean == 3.5 and estimate.n == 4
    assert estimate.standard_error == pytest.approx(np.std(x, ddof=1) / 2)


def test_estimate_along_an_axis_gives_one_entry_per_column_and_accepts_tensors():
    x = torch.arange(12, dtype=torch.float32).reshape(4, 3)
    estimate = Estimate.from_samples(x, axis=0)
    np.testing.assert_allclose(estimate.mean, [4.5, 5.5, 6.5])
    np.testing.assert_allclose(estimate.standard_error, np.full(3, np.std([0, 3, 6, 9], ddof=1) / 2))
    assert estimate.sum().mean == pytest.approx(16.5)
    assert estimate.sum().standard_error == pytest.approx(math.sqrt(3) * estimate.standard_error[0])


def test_differences_of_independent_estimates_add_variances_and_scaling_scales_the_error():
    a, b = Estimate(2.0, 0.3, 100), Estimate(0.5, 0.4, 50)
    assert (a - b).mean == 1.5 and (a - b).standard_error == pytest.approx(0.5)
    assert (a + b).standard_error == pytest.approx(0.5) and (a - b).n == 50
    assert (3 * a).standard_error == pytest.approx(0.9) and (-a).mean == -2.0
    assert (a - 1.0).standard_error == 0.3 and (1.0 - a).mean == -1.0
    assert Estimate.exact(2.0).standard_error == 0.0


def test_paired_difference_uses_the_spread_of_the_differences():
    x = np.array([1.0, 2.0, 3.0, 5.0])
    paired = paired_difference(x + 0.1, x)
    assert paired.mean == pytest.approx(0.1) and paired.standard_error == pytest.approx(0.0)


def test_a_standard_error_needs_two_samples_and_the_z_score_is_signed():
    with pytest.raises(ValueError):
        Estimate.from_samples([1.0])
    assert Estimate(1.0, 0.5, 9).z_score(0.0) == pytest.approx(2.0)
    assert "± 0.5" in str(Estimate(1.0, 0.5, 9))


# -- Monte Carlo estimators (second routes) ---------------------------------------------------


def log_density(x, mu, sigma):
    return to_numpy(gaussian.GAUSSIAN_LOG_DENSITY)(x, mu, sigma)


def kl_monte_carlo(seed: int, n: int, mu_1, sigma_1, mu_2, sigma_2) -> Estimate:
    """E_q[log q − log p] from n draws of q = N(μ1, σ1²)."""
    x = np.random.default_rng(seed).normal(mu_1, sigma_1, n)
    return Estimate.from_samples(log_density(x, mu_1, sigma_1) - log_density(x, mu_2, sigma_2))


def _kl_summand_sd(mu_1, sigma_1, mu_2, sigma_2) -> float:
    """sd of log q − log p under q: with x = μ1 + σ1 t it is const + B t + C t², var B² + 2C²."""
    b = (mu_1 - mu_2) * sigma_1 / sigma_2**2
    c = (sigma_1**2 / sigma_2**2 - 1) / 2
    return math.sqrt(b * b + 2 * c * c)


def _diagonal_summand_sd(mu, sigma, m, s) -> float:
    return math.sqrt(sum(_kl_summand_sd(*p) ** 2 for p in zip(mu, sigma, m, s)))


def kl_diagonal_monte_carlo(seed: int, n: int, mu, sigma, m, s) -> Estimate:
    rng = np.random.default_rng(seed)
    mu, sigma, m, s = (np.asarray(v) for v in (mu, sigma, m, s))
    z = mu + sigma * rng.standard_normal((n, len(mu)))
    ratio = np.sum(log_density(z, mu, sigma) - log_density(z, m, s), axis=-1)
    return Estimate.from_samples(ratio)


def mutate(closed_form: sp.Lambda, how) -> sp.Lambda:
    return sp.Lambda(closed_form.variables, how(closed_form.expr, closed_form.variables))


def value(closed_form: sp.Lambda, *args) -> float:
    return float(to_numpy(closed_form)(*args))


# parameters ---------------------------------------------------------------------------------


@st.composite
def separated_pairs(draw):
    """(μ1, σ1, μ2, σ2) with |μ1 − μ2| ∈ [1, 3] σ2: q ≠ p, so −KL, 2KL and KL/2 differ from KL
    by at least 0.41 sd of the summand (min of KL/sd over this region, found by a 10⁶-point scan)."""
    mu_1, sigma_1, sigma_2 = draw(means()), draw(scales(-1.5, 1.5)), draw(scales(-1.5, 1.5))
    gap = draw(st.floats(1.0, 3.0)) * draw(st.sampled_from([-1.0, 1.0]))
    return mu_1, sigma_1, mu_1 + gap * sigma_2, sigma_2


@st.composite
def unequal_variance_pairs(draw):
    """(μ1, σ1, μ2, σ2) with |log σ1/σ2| ∈ [0.5, 1.5]: with equal variances KL(q‖p) = KL(p‖q),
    so swapped arguments are invisible there. Here |KL(q‖p) − KL(p‖q)| ≥ 0.14 sd."""
    mu_1, mu_2, sigma_1 = draw(means()), draw(means()), draw(scales(-1.0, 1.0))
    gap = draw(st.floats(0.5, 1.5)) * draw(st.sampled_from([-1.0, 1.0]))
    return mu_1, sigma_1, mu_2, sigma_1 * math.exp(gap)


@st.composite
def away_from_the_prior(draw):
    """(μ, σ) with |μ| ≥ 1 or |log σ| ≥ 0.5: at μ = 0, σ = 1 the KL is 0 = −0. KL/sd ≥ 0.29."""
    mu, log_sigma = draw(means()), draw(st.floats(-1.5, 1.5))
    if abs(mu) < 1 and abs(log_sigma) < 0.5:
        log_sigma = 0.5 + abs(log_sigma) if log_sigma >= 0 else -0.5 - abs(log_sigma)
    return mu, math.exp(log_sigma)


def scales_away_from_one():
    """σ with |log σ| ∈ [0.5, 1.5]: at σ = 1, σ² = σ and the σ-for-σ² mutant is invisible."""
    return st.tuples(st.floats(0.5, 1.5), st.sampled_from([-1.0, 1.0])).map(
        lambda t: math.exp(t[0] * t[1]))


@st.composite
def separated_means_equal_variance(draw):
    """(μ_q, μ_p, σ) with |μ_q − μ_p| ∈ [0.5, 3] σ and |log σ| ≥ 0.5 (KL = 0 at μ_q = μ_p)."""
    sigma = draw(scales_away_from_one())
    mu_q = draw(means())
    return mu_q, mu_q + draw(st.floats(0.5, 3.0)) * draw(st.sampled_from([-1.0, 1.0])) * sigma, sigma


@st.composite
def separated_diagonal_pairs(draw):
    """(μ, σ, m, s) in d ≤ 3 dimensions with σ_j = s_j e^{g_j}, g_j ∈ [0.5, 1.5] and
    |μ_j − m_j| ∈ [1, 3] s_j: each coordinate separated (so KL/sd ≥ 0.41), and every σ_j > s_j,
    so the coordinate asymmetries KL_j(q‖p) − KL_j(p‖q) share one sign and do not cancel."""
    d = draw(st.integers(1, 3))
    s = [draw(scales(-1.0, 1.0)) for _ in range(d)]
    sigma = [s_j * math.exp(draw(st.floats(0.5, 1.5))) for s_j in s]
    mu = [draw(means()) for _ in range(d)]
    m = [mu_j + draw(st.floats(1.0, 3.0)) * draw(st.sampled_from([-1.0, 1.0])) * s_j
         for mu_j, s_j in zip(mu, s)]
    return mu, sigma, m, s


# -- KL_GAUSSIAN ------------------------------------------------------------------------------


@given(seed=seeds(), params=st.tuples(means(), scales(-1.5, 1.5), means(), scales(-1.5, 1.5)))
def test_kl_gaussian_matches_the_monte_carlo_mean_of_the_log_ratio(seed, params):
    estimate = kl_monte_carlo(seed, N_MIN, *params)
    check_close(estimate, value(kl.KL_GAUSSIAN, *params), failure_prob=ALPHA).raise_if_failed()


KL_GAUSSIAN_MUTANTS = {
    "sign flipped": (lambda e, v: -e, separated_pairs()),
    "factor 2 lost": (lambda e, v: 2 * e, separated_pairs()),
    "arguments swapped": (lambda e, v: e.xreplace({v[0]: v[2], v[1]: v[3], v[2]: v[0], v[3]: v[1]}),
                          unequal_variance_pairs()),
}


@pytest.mark.parametrize("mutant", KL_GAUSSIAN_MUTANTS)
@given(seed=seeds(), data=st.data())
def test_monte_carlo_check_catches_a_wrong_kl_gaussian(mutant, seed, data):
    how, strategy = KL_GAUSSIAN_MUTANTS[mutant]
    params = data.draw(strategy)
    truth, wrong = value(kl.KL_GAUSSIAN, *params), value(mutate(kl.KL_GAUSSIAN, how), *params)
    n = sample_size(_kl_summand_sd(*params), abs(wrong - truth))
    estimate = kl_monte_carlo(seed, n, *params)
    assert not check_close(estimate, wrong, failure_prob=ALPHA).passed


# -- KL_STANDARD_NORMAL -----------------------------------------------------------------------


@given(seed=seeds(), mu=means(), sigma=scales(-1.5, 1.5))
def test_kl_to_the_standard_normal_matches_monte_carlo(seed, mu, sigma):
    estimate = kl_monte_carlo(seed, N_MIN, mu, sigma, 0.0, 1.0)
    check_close(estimate, value(kl.KL_STANDARD_NORMAL, mu, sigma),
                failure_prob=ALPHA).raise_if_failed()


def _sigma_for_variance(e, v):
    sigma = v[1]
    return e.xreplace({sigma**2: sigma, sp.log(sigma): sp.log(sigma) / 2})


KL_STANDARD_MUTANTS = {
    "sign flipped": (lambda e, v: -e, away_from_the_prior()),
    "factor 2 lost": (lambda e, v: 2 * e, away_from_the_prior()),
    # ½(μ² + σ − 1 − log σ): off by ½(σ² − σ − log σ), which is convex with its only zero at
    # σ = 1; |log σ| ≥ 0.5 gives δ ≥ 0.13 and δ/sd ≥ 0.07
    "sigma for sigma squared": (_sigma_for_variance, st.tuples(means(), scales_away_from_one())),
}


@pytest.mark.parametrize("mutant", KL_STANDARD_MUTANTS)
@given(seed=seeds(), data=st.data())
def test_monte_carlo_check_catches_a_wrong_kl_to_the_standard_normal(mutant, seed, data):
    how, strategy = KL_STANDARD_MUTANTS[mutant]
    mu, sigma = data.draw(strategy)
    truth = value(kl.KL_STANDARD_NORMAL, mu, sigma)
    wrong = value(mutate(kl.KL_STANDARD_NORMAL, how), mu, sigma)
    n = sample_size(_kl_summand_sd(mu, sigma, 0.0, 1.0), abs(wrong - truth))
    assert not check_close(kl_monte_carlo(seed, n, mu, sigma, 0.0, 1.0), wrong,
                           failure_prob=ALPHA).passed


def test_sigma_for_sigma_squared_mutant_is_the_intended_wrong_formula():
    mu, sigma = kl.KL_STANDARD_NORMAL.variables
    wrong = mutate(kl.KL_STANDARD_NORMAL, _sigma_for_variance).expr
    assert sp.simplify(wrong - (mu**2 + sigma - 1 - sp.log(sigma)) / 2) == 0


# -- KL_EQUAL_VARIANCE ------------------------------------------------------------------------


@given(seed=seeds(), params=separated_means_equal_variance())
def test_kl_of_equal_variances_matches_monte_carlo(seed, params):
    mu_q, mu_p, sigma = params
    estimate = kl_monte_carlo(seed, N_MIN, mu_q, sigma, mu_p, sigma)
    check_close(estimate, value(kl.KL_EQUAL_VARIANCE, *params),
                failure_prob=ALPHA).raise_if_failed()


KL_EQUAL_MUTANTS = {
    # (μ_q − μ_p)²/σ²: off by KL itself; δ/sd = |Δ|/(2σ) ≥ 0.25
    "factor 2 lost": lambda e, v: 2 * e,
    # (μ_q − μ_p)²/(2σ): δ/sd = |Δ||1 − 1/σ|/2 ≥ 0.25 |σ − 1| ≥ 0.098 for |log σ| ≥ 0.5
    # (KL is symmetric in μ_q, μ_p at equal variance: swapping arguments is no mutant here)
    "sigma for sigma squared": lambda e, v: e.xreplace({v[2] ** 2: v[2], v[2] ** -2: v[2] ** -1}),
}


@pytest.mark.parametrize("mutant", KL_EQUAL_MUTANTS)
@given(seed=seeds(), params=separated_means_equal_variance())
def test_monte_carlo_check_catches_a_wrong_kl_of_equal_variances(mutant, seed, params):
    mu_q, mu_p, sigma = params
    truth = value(kl.KL_EQUAL_VARIANCE, *params)
    wrong = value(mutate(kl.KL_EQUAL_VARIANCE, KL_EQUAL_MUTANTS[mutant]), *params)
    assert wrong != pytest.approx(truth, rel=1e-3)  # the mutation took effect
    n = sample_size(_kl_summand_sd(mu_q, sigma, mu_p, sigma), abs(wrong - truth))
    assert not check_close(kl_monte_carlo(seed, n, mu_q, sigma, mu_p, sigma), wrong,
                           failure_prob=ALPHA).passed


# -- KL_DIAGONAL ------------------------------------------------------------------------------


@given(seed=seeds(), params=separated_diagonal_pairs())
def test_kl_of_diagonal_gaussians_matches_monte_carlo_in_d_dimensions(seed, params):
    estimate = kl_diagonal_monte_carlo(seed, N_MIN, *params)
    check_close(estimate, value(kl.KL_DIAGONAL, *params), failure_prob=ALPHA).raise_if_failed()


KL_DIAGONAL_MUTANTS = {
    "factor 2 lost": lambda e, v: 2 * e,
    "arguments swapped": lambda e, v: e.xreplace({v[0]: v[2], v[1]: v[3], v[2]: v[0], v[3]: v[1]}),
}


@pytest.mark.parametrize("mutant", KL_DIAGONAL_MUTANTS)
@given(seed=seeds(), params=separated_diagonal_pairs())
def test_monte_carlo_check_catches_a_wrong_diagonal_kl(mutant, seed, params):
    truth = value(kl.KL_DIAGONAL, *params)
    wrong = value(mutate(kl.KL_DIAGONAL, KL_DIAGONAL_MUTANTS[mutant]), *params)
    n = sample_size(_diagonal_summand_sd(*params), abs(wrong - truth))
    assert not check_close(kl_diagonal_monte_carlo(seed, n, *params), wrong,
                           failure_prob=ALPHA).passed


# -- GAUSSIAN_LOG_DENSITY ---------------------------------------------------------------------


def negative_entropy(sigma: float) -> float:
    """E_p[log p] = −½ log(2πeσ²) for p = N(μ, σ²), typed from the textbook."""
    return -0.5 * math.log(2 * math.pi * math.e * sigma**2)


def _quadratic_coefficient(e, v, factor):
    x, mu, sigma = v
    return e.xreplace({sigma**-2: factor * sigma**-2})


# A mutant ℓ = const − k t² (x = μ + σt) has E_p[ℓ] moved by ½ − k and sd |k|√2:
LOG_DENSITY_MUTANTS = {
    # the quadratic term's sign flipped, k = −½: moved by 1, sd 1/√2
    "sign flipped": (lambda e, v: _quadratic_coefficient(e, v, -1), lambda sigma: -0.5, scales()),
    # factor 2 lost in the exponent, −(x − μ)²/σ², k = 1: moved by ½, sd √2
    "factor 2 lost": (lambda e, v: _quadratic_coefficient(e, v, 2), lambda sigma: 1.0, scales()),
    # σ for σ² in the exponent, k = σ/2: moved by (1 − σ)/2, which is 0 at σ = 1, so the
    # strategy keeps |log σ| ≥ 0.5 (δ ≥ 0.197, δ/sd ≥ 0.19)
    "sigma for sigma squared": (lambda e, v: e.xreplace({v[2] ** -2: v[2] ** -1}),
                                lambda sigma: sigma / 2, scales_away_from_one()),
}


@given(seed=seeds(), mu=means(), sigma=scales())
def test_gaussian_log_density_averages_to_minus_the_entropy(seed, mu, sigma):
    x = np.random.default_rng(seed).normal(mu, sigma, N_MIN)
    estimate = Estimate.from_samples(log_density(x, mu, sigma))
    check_close(estimate, negative_entropy(sigma), failure_prob=ALPHA).raise_if_failed()


@pytest.mark.parametrize("mutant", LOG_DENSITY_MUTANTS)
@given(seed=seeds(), mu=means(), data=st.data())
def test_entropy_check_catches_a_wrong_log_density(mutant, seed, mu, data):
    how, k, strategy = LOG_DENSITY_MUTANTS[mutant]
    sigma = data.draw(strategy)
    wrong = to_numpy(mutate(gaussian.GAUSSIAN_LOG_DENSITY, how))
    delta, sd = abs(0.5 - k(sigma)), abs(k(sigma)) * math.sqrt(2)
    x = np.random.default_rng(seed).normal(mu, sigma, sample_size(sd, delta))
    estimate = Estimate.from_samples(wrong(x, mu, sigma))
    assert not check_close(estimate, negative_entropy(sigma), failure_prob=ALPHA).passed


def normalisation_estimate(log_p, seed: int, n: int, mu: float, sigma: float) -> Estimate:
    """∫ p = E_r[p/r], r = N(μ, (2σ)²): the weights are bounded by 2 for the true density."""
    x = np.random.default_rng(seed).normal(mu, 2 * sigma, n)
    return Estimate.from_samples(np.exp(log_p(x, mu, sigma) - log_density(x, mu, 2 * sigma)))


def weight_sd(log_p, mu: float, sigma: float) -> float:
    """sd of w = p(x)/r(x) under r (for the power of the check): E_r[w^k] = ∫ e^{kℓ_p − (k−1)ℓ_r},
    by the trapezoidal rule on x = μ + σt, |t| ≤ 20 (the integrands are Gaussian in t)."""
    t = np.linspace(-20.0, 20.0, 40_001)
    x = mu + sigma * t
    log_w = log_p(x, mu, sigma) - log_density(x, mu, 2 * sigma)
    log_r = log_density(x, mu, 2 * sigma)
    first = np.trapezoid(np.exp(log_w + log_r), x)
    second = np.trapezoid(np.exp(2 * log_w + log_r), x)
    return math.sqrt(second - first**2)


@given(seed=seeds(), mu=means(), sigma=scales())
def test_gaussian_density_integrates_to_one_by_importance_sampling(seed, mu, sigma):
    estimate = normalisation_estimate(log_density, seed, N_MIN, mu, sigma)
    check_close(estimate, 1.0, failure_prob=ALPHA).raise_if_failed()


NORMALISATION_MUTANTS = {
    # ∫ = 1/√2 whatever σ
    "factor 2 lost": (lambda e, v: _quadratic_coefficient(e, v, 2), scales()),
    # −½ log(2πσ) for −½ log(2πσ²): ∫ = √σ, which is 1 at σ = 1, so |log σ| ≥ 0.5 (δ/sd ≥ 0.31)
    "sigma for sigma squared": (lambda e, v: e + sp.log(v[2]) / 2, scales_away_from_one()),
}


@pytest.mark.parametrize("mutant", NORMALISATION_MUTANTS)
@given(seed=seeds(), mu=means(), data=st.data())
def test_normalisation_check_catches_a_wrong_log_density(mutant, seed, mu, data):
    how, strategy = NORMALISATION_MUTANTS[mutant]
    sigma = data.draw(strategy)
    wrong = to_numpy(mutate(gaussian.GAUSSIAN_LOG_DENSITY, how))
    delta = abs(1 / math.sqrt(2) - 1) if mutant == "factor 2 lost" else abs(math.sqrt(sigma) - 1)
    n = sample_size(weight_sd(wrong, mu, sigma), delta)
    estimate = normalisation_estimate(wrong, seed, n, mu, sigma)
    assert not check_close(estimate, 1.0, failure_prob=ALPHA).passed


# -- DIAGONAL_GAUSSIAN_LOG_DENSITY ------------------------------------------------------------


@given(seed=seeds(), mu=st.lists(means(), min_size=1, max_size=4), data=st.data())
def test_diagonal_log_density_averages_to_minus_the_sum_of_entropies(seed, mu, data):
    logvar = data.draw(st.lists(log_variances(), min_size=len(mu), max_size=len(mu)))
    mu, logvar = np.array(mu), np.array(logvar)
    x = mu + np.exp(logvar / 2) * np.random.default_rng(seed).standard_normal((N_MIN, len(mu)))
    estimate = Estimate.from_samples(to_numpy(gaussian.DIAGONAL_GAUSSIAN_LOG_DENSITY)(x, mu, logvar))
    expected = sum(negative_entropy(math.exp(lv / 2)) for lv in logvar)
    check_close(estimate, expected, failure_prob=ALPHA).raise_if_failed()


@given(seed=seeds(), mu=st.lists(means(), min_size=1, max_size=4), data=st.data())
def test_entropy_check_catches_a_diagonal_log_density_with_a_factor_2_lost(seed, mu, data):
    logvar = data.draw(st.lists(log_variances(), min_size=len(mu), max_size=len(mu)))
    closed_form = gaussian.DIAGONAL_GAUSSIAN_LOG_DENSITY
    x_, mu_, logvar_ = closed_form.variables
    mutant = sp.Lambda(closed_form.variables, closed_form.expr.replace(
        lambda a: a == sp.exp(-logvar_[sp.Idx("j")]), lambda a: 2 * a))
    assert mutant != closed_form  # the mutation took effect
    wrong = to_numpy(mutant)
    mu, logvar = np.array(mu), np.array(logvar)
    d = len(mu)
    # E moves by −d/2; the summand −Σ t_j² has sd √(2d)
    x = mu + np.exp(logvar / 2) * np.random.default_rng(seed).standard_normal(
        (sample_size(math.sqrt(2 * d), d / 2), d))
    estimate = Estimate.from_samples(wrong(x, mu, logvar))
    expected = sum(negative_entropy(math.exp(lv / 2)) for lv in logvar)
    assert not check_close(estimate, expected, failure_prob=ALPHA).passed
