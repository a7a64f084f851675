"""The diffusion derivations (Question 4) against textbook forms typed here independently, against
quadrature and finite differences, and against a Monte Carlo simulation of the DDPM chain.

Textbook forms: the Gaussian score −(x − μ)/σ²; the sum of independent Gaussians
N(μ, τ² + σ²) (Bishop, PRML §2.3.3); the Gaussian posterior mean (σ²μ + τ²x̃)/(τ² + σ²)
(PRML (2.141)); Tweedie E[x|x̃] = x̃ + σ²∇log p_σ(x̃) (Efron 2011); Vincent (2011) for denoising
score matching; the Fokker–Planck equation of dX = ∇log p dt + √2 dW (Risken ch. 4); the ULA
stationary variance τ²/(1 − α/(2τ²)) for a Gaussian target (Roberts & Tweedie 1996); the DDPM
marginal N(√ᾱ_t x_0, 1 − ᾱ_t) (Ho et al. 2020, eq. (4)).

False-failure budget of this file: 1e-6. Only the DDPM tests draw random numbers (numpy
Generator seeded by Hypothesis, or the stated seed 0); half of the budget is split over the
assertions of the DDPM property (2 per Hypothesis example, over the profile's max_examples),
the other half is the twin's probability of not rejecting the mutant (its sample size is chosen
for that power). Every other check is deterministic, with tolerances from the arithmetic or
from QUADPACK's error estimates and finite-difference error estimates, stated where used.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from derivations import diffusion
from derivations.core import Step
from derivations.gaussian import normal_pdf
from numerics.bridge import to_numpy
from numerics.estimates import Estimate
from numerics.quadrature import integrate_1d
from numerics.tolerance import check_close, check_distribution, z_quantile
from tests.strategies import gaussian_mixtures, means, scales, seeds

x, u, mu, x_tilde = sp.symbols("x u mu x_tilde", real=True)
tau, sigma, alpha = sp.symbols("tau sigma alpha", positive=True)
score, epsilon = sp.symbols("score epsilon", real=True)
g, P = sp.Symbol("g", real=True), sp.Symbol("P", positive=True)

TEXTBOOK_SCORE = -(x - mu) / sigma**2
TEXTBOOK_NOISED_DENSITY = sp.exp(-(x - mu) ** 2 / (2 * (tau**2 + sigma**2))) \
    / sp.sqrt(2 * sp.pi * (tau**2 + sigma**2))
TEXTBOOK_POSTERIOR_MEAN = (sigma**2 * mu + tau**2 * x_tilde) / (tau**2 + sigma**2)
TEXTBOOK_LANGEVIN = x + alpha * score + sp.sqrt(2 * alpha) * epsilon

BUILDERS = [diffusion.gaussian_score, diffusion.gaussian_slope, diffusion.gaussian_normalisation,
            diffusion.gaussian_factorisation, diffusion.gaussian_convolution,
            diffusion.noised_mixture, diffusion.noised_mixture_score,
            diffusion.noised_mixture_score_2d, diffusion.tweedie_gaussian,
            diffusion.tweedie_identity, diffusion.dsm_minimiser, diffusion.langevin_limit,
            diffusion.fokker_planck_stationarity, diffusion.ddpm_step,
            diffusion.ddpm_marginal_mean, diffusion.ddpm_marginal_variance]

EPS = np.finfo(float).eps
FILE_BUDGET = 1e-6
NULL_BUDGET = FILE_BUDGET / 2  # the DDPM property's assertions under the true formula
MISS_BUDGET = FILE_BUDGET / 2  # the twin failing to reject the √(1 − β) mutant
CHAINS = 2000  # samples per DDPM example


def same(a: sp.Expr, b: sp.Expr) -> bool:
    return sp.simplify(a - b) == 0


def last(derivation) -> int:
    return len(derivation.steps) - 1


def named_failure(derivation, index: int, step: Step) -> int | None:
    failure = derivation.replace_step(index, step).verify().first_failure
    return None if failure is None else failure.index


# --------------------------------------------------------------------------------------------
# the derivations verify, and their results are the textbook forms


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_every_diffusion_derivation_verifies(build):
    verification = build().verify()
    assert verification.ok, verification.first_failure


def test_the_gaussian_score_is_minus_the_offset_over_the_variance():
    assert same(diffusion.GAUSSIAN_SCORE(x, mu, sigma), TEXTBOOK_SCORE)


def test_gaussian_noise_on_a_gaussian_adds_the_variances():
    assert same(diffusion.NOISED_GAUSSIAN_DENSITY(x, mu, tau, sigma), TEXTBOOK_NOISED_DENSITY)


def test_the_gaussian_posterior_mean_is_the_precision_weighted_average_and_tweedie():
    derived = diffusion.TWEEDIE_POSTERIOR_MEAN(x_tilde, mu, tau, sigma)
    assert same(derived, TEXTBOOK_POSTERIOR_MEAN)
    noised_score = TEXTBOOK_SCORE.subs({x: x_tilde, sigma: sp.sqrt(tau**2 + sigma**2)},
                                       simultaneous=True)
    assert same(derived, x_tilde + sigma**2 * noised_score)


def test_tweedie_for_any_prior_and_the_dsm_minimiser_are_the_score_forms():
    assert same(diffusion.tweedie_identity().result, x_tilde + sigma**2 * g / P)
    assert same(diffusion.dsm_minimiser().result, g / P)  # ∇p_σ/p_σ = ∇ log p_σ


def test_the_langevin_step_is_the_homework_update_with_drift_the_score_and_diffusion_one():
    assert same(diffusion.LANGEVIN_STEP(x, score, alpha, epsilon), TEXTBOOK_LANGEVIN)
    limit = diffusion.langevin_limit()
    assert limit.steps[2].expr == score
    assert limit.result == 1


def test_fokker_planck_of_the_langevin_limit_vanishes_for_a_general_positive_density():
    p = sp.Function("p", positive=True)(x)
    textbook = -sp.diff(p * sp.diff(sp.log(p), x), x) + sp.diff(p, x, 2)
    assert sp.simplify(textbook) == 0
    wrong_sign = -sp.diff(p * sp.diff(sp.log(p), x), x) - sp.diff(p, x, 2)
    assert sp.simplify(wrong_sign) != 0
    # the derivation's starting point is that operator: on a concrete positive density it is 0
    concrete = sp.Lambda(x, sp.exp(-x**4) * (2 + sp.sin(x)))
    start = diffusion.fokker_planck_stationarity().steps[0].expr
    assert sp.simplify(start.subs(diffusion.p, concrete).doit()) == 0


def test_the_ula_stationary_variance_of_a_gaussian_target_tends_to_its_variance():
    """One step x′ = LANGEVIN_STEP(x, score_N(μ, τ²)(x), α, ε) is linear: x′ − μ = A (x − μ) + B ε,
    so a stationary variance solves V = A² V + B²: V = τ²/(1 − α/(2τ²)), which → τ² as α → 0.
    Twin: noise √α ε instead of √(2α) ε gives τ²/2 in the limit."""
    def stationary(update: sp.Expr) -> sp.Expr:
        A, B = sp.diff(update, x), sp.diff(update, epsilon)
        return sp.simplify(B**2 / (1 - A**2))

    derived = diffusion.LANGEVIN_STEP(x, diffusion.GAUSSIAN_SCORE(x, mu, tau), alpha, epsilon)
    V = stationary(derived)
    assert same(V, tau**2 / (1 - alpha / (2 * tau**2)))
    assert sp.limit(V, alpha, 0) == tau**2
    half_noise = x + alpha * (mu - x) / tau**2 + sp.sqrt(alpha) * epsilon
    assert sp.limit(stationary(half_noise), alpha, 0) == tau**2 / 2


def test_the_ddpm_marginal_is_the_textbook_form_for_three_steps():
    beta = diffusion.beta
    b = sp.symbols("b1:4", positive=True)
    at_three = {diffusion.t: 3}
    mean = diffusion.DDPM_MARGINAL_MEAN.expr.subs(at_three).doit().subs(
        {beta[n + 1]: b[n] for n in range(3)})
    variance = diffusion.DDPM_MARGINAL_VARIANCE.expr.subs(at_three).doit().subs(
        {beta[n + 1]: b[n] for n in range(3)})
    x_0 = diffusion.x_0
    alpha_bar = (1 - b[0]) * (1 - b[1]) * (1 - b[2])
    assert same(mean, sp.sqrt(alpha_bar) * x_0)
    assert same(variance, 1 - alpha_bar)


@given(x_0=means(), betas=st.lists(st.floats(0.01, 0.99), min_size=1, max_size=8))
def test_the_bridged_ddpm_marginal_matches_the_cumulative_product(x_0, betas):
    beta = np.array(betas)
    alpha_bar = np.prod(1 - beta)
    mean = to_numpy(diffusion.DDPM_MARGINAL_MEAN)(x_0, beta)
    variance = to_numpy(diffusion.DDPM_MARGINAL_VARIANCE)(beta)
    assert math.isclose(mean, math.sqrt(alpha_bar) * x_0, rel_tol=64 * EPS, abs_tol=64 * EPS)
    assert math.isclose(variance, 1 - alpha_bar, rel_tol=64 * EPS, abs_tol=64 * EPS)


def _typed_mixture_score(point: float, w, m, s, noise: float) -> float:
    """Σ_k r_k (m_k − x)/(s_k² + σ²) with r_k ∝ w_k N(x; m_k, s_k² + σ²), in log space."""
    w, m, s = map(np.asarray, (w, m, s))
    variance = s**2 + noise**2
    log_terms = np.log(w) + stats.norm.logpdf(point, m, np.sqrt(variance))
    r = np.exp(log_terms - np.logaddexp.reduce(log_terms))
    return float(np.sum(r * (m - point) / variance))


@given(mixture=gaussian_mixtures(), noise=scales(-1.6, 0.7), point=means(3.0))
def test_the_derived_mixture_score_is_the_textbook_responsibility_form(mixture, noise, point):
    w, m, s = mixture
    derived = to_numpy(diffusion.NOISED_MIXTURE_SCORE)(point, np.array(w), np.array(m),
                                                        np.array(s), noise)
    typed = _typed_mixture_score(point, w, m, s, noise)
    # two float64 routes of a few dozen operations: agreement to 1e-10 relative to the scale
    # of the terms Σ r_k |m_k − x|/(s_k² + σ²)
    scale = float(np.max(np.abs(np.array(m) - point) / (np.array(s) ** 2 + noise**2))) + 1.0
    assert abs(derived - typed) <= 1e-10 * scale


@given(mixture=gaussian_mixtures(), second_means=st.lists(means(2.0), min_size=3, max_size=3),
       noise=scales(-1.6, 0.7), point=st.tuples(means(3.0), means(3.0)))
def test_the_2d_score_is_the_textbook_isotropic_responsibility_form(mixture, second_means, noise,
                                                                     point):
    w, m_1, s = map(np.array, mixture)
    m_2 = np.array(second_means[: len(w)])
    variance = s**2 + noise**2
    # log N((x_1, x_2); (m_1k, m_2k), V_k I) = the sum of the two coordinates' log-densities
    log_terms = np.log(w) + sum(stats.norm.logpdf(point[c], mean, np.sqrt(variance))
                                for c, mean in enumerate((m_1, m_2)))
    r = np.exp(log_terms - np.logaddexp.reduce(log_terms))
    typed = [float(np.sum(r * (mean - point[c]) / variance)) for c, mean in enumerate((m_1, m_2))]
    derived = [to_numpy(coordinate)(point[0], point[1], w, m_1, m_2, s, noise)
               for coordinate in diffusion.NOISED_MIXTURE_SCORE_2D]
    scale = float(np.max(np.abs(np.concatenate([m_1 - point[0], m_2 - point[1]]))
                         / np.min(variance))) + 1.0
    assert np.allclose(derived, typed, rtol=0, atol=1e-10 * scale)


# --------------------------------------------------------------------------------------------
# a corrupted step is caught and named


def test_a_fokker_planck_diffusion_term_of_the_wrong_sign_is_caught_and_named():
    derivation = diffusion.fokker_planck_stationarity()
    T = derivation.steps[1].subs[diffusion.p].expr
    log_t = sp.log(T)
    wrong = -(sp.diff(T, x) * sp.diff(log_t, x) + T * sp.diff(log_t, x, 2)) - sp.diff(T, x, 2)
    assert named_failure(derivation, 2, Step(wrong, derivation.steps[2].reason)) == 2


def _rooted_alpha_bar(steps: sp.Expr) -> sp.Product:
    beta, i = diffusion.beta, diffusion.i
    return sp.Product(sp.sqrt(1 - beta[i]), (i, 1, steps))


def test_a_ddpm_variance_with_the_root_of_one_minus_beta_is_caught_and_named():
    derivation = diffusion.ddpm_marginal_variance()
    index = last(derivation)
    wrong = Step(1 - _rooted_alpha_bar(diffusion.t), derivation.steps[index].reason)
    assert named_failure(derivation, index, wrong) == index


def test_a_ddpm_mean_with_the_root_of_one_minus_beta_is_caught_and_named():
    derivation = diffusion.ddpm_marginal_mean()
    index = last(derivation)
    wrong = Step(sp.sqrt(_rooted_alpha_bar(diffusion.t)) * diffusion.x_0,
                 derivation.steps[index].reason)
    assert named_failure(derivation, index, wrong) == index


def test_a_completed_square_with_the_wrong_posterior_mean_is_caught_and_named():
    derivation = diffusion.gaussian_factorisation()
    exponent = derivation.steps[0].expr.atoms(sp.exp).pop().args[0]
    wrong_mean = (sigma**2 * mu + tau**2 * x) / tau**2  # denominator τ² instead of τ² + σ²
    variance = sigma**2 * tau**2 / (sigma**2 + tau**2)
    completed = -(u - wrong_mean) ** 2 / (2 * variance) - (x - mu) ** 2 / (2 * (tau**2 + sigma**2))
    wrong = Step(sp.Eq(exponent, completed), derivation.steps[1].reason, "holds")
    assert named_failure(derivation, 1, wrong) == 1


def test_a_convolution_with_sigma_for_sigma_squared_is_caught_and_named():
    derivation = diffusion.gaussian_convolution()
    index = last(derivation)
    wrong = Step(normal_pdf(x, mu, sp.sqrt(tau**2 + sigma)), derivation.steps[index].reason,
                 by=derivation.steps[index].by, subs=derivation.steps[index].subs)
    assert named_failure(derivation, index, wrong) == index


def test_a_mixture_score_that_forgets_the_noise_is_caught_and_named():
    derivation = diffusion.noised_mixture_score()
    w, m, s, k, K = diffusion.w, diffusion.m, diffusion.s, diffusion.k, diffusion.K
    component = normal_pdf(x, m[k], sp.sqrt(s[k] ** 2 + sigma**2))
    wrong_scores = sp.Sum(w[k] * component * (m[k] - x) / s[k] ** 2, (k, 1, K))
    old = derivation.steps[3]
    assert named_failure(derivation, 3, Step(wrong_scores, old.reason, by=old.by,
                                             subs=old.subs)) == 3


def test_tweedie_with_the_wrong_sign_is_caught_and_named():
    derivation = diffusion.tweedie_gaussian()
    index = last(derivation)
    noised_score = TEXTBOOK_SCORE.subs({x: x_tilde, sigma: sp.sqrt(tau**2 + sigma**2)},
                                       simultaneous=True)
    wrong = Step(x_tilde - sigma**2 * noised_score, derivation.steps[index].reason)
    assert named_failure(derivation, index, wrong) == index


def test_a_langevin_step_with_half_the_noise_variance_is_caught_and_named():
    derivation = diffusion.langevin_limit()
    old = derivation.steps[4]
    wrong = Step(sp.expand(alpha * score**2 / 2 + sp.Rational(1, 2)), old.reason, subs=old.subs)
    assert named_failure(derivation, 4, wrong) == 4


# --------------------------------------------------------------------------------------------
# the mixture score against a finite difference of the numerically noised density


def _scaled_joint(point: float, w, m, s, noise: float):
    """u ↦ p(u) N(y; u, σ²)/e^L with p = Σ_k w_k N(m_k, s_k²) typed here, and L the largest log
    of that product on a fine grid: scaled to peak near 1, so QUADPACK's absolute accuracy is a
    relative one even where p_σ(y) is as small as e^-100. Returns (function, L, the grid's
    argmax)."""
    w, m, s = (np.asarray(a, dtype=float) for a in (w, m, s))

    def log_joint(v):
        v = np.asarray(v, dtype=float)[..., None]
        log_prior = np.logaddexp.reduce(np.log(w) - (v - m) ** 2 / (2 * s**2)
                                        - np.log(s * math.sqrt(2 * math.pi)), axis=-1)
        return log_prior - (point - v[..., 0]) ** 2 / (2 * noise**2) \
            - math.log(noise * math.sqrt(2 * math.pi))

    grid = np.linspace(min(m.min(), point) - 6, max(m.max(), point) + 6, 4001)
    values = log_joint(grid)
    peak = int(np.argmax(values))
    top = float(values[peak])
    return (lambda v: math.exp(float(log_joint(v)) - top)), top, float(grid[peak])


def _log_noised_density(point: float, w, m, s, noise: float) -> tuple[float, float]:
    """(log p_σ(y), its absolute error): p_σ(y) = ∫ p(u) N(y; u, σ²) du by QUADPACK."""
    scaled, top, peak = _scaled_joint(point, w, m, s, noise)
    result = integrate_1d(scaled, points=sorted({*map(float, m), point, peak}))
    return top + math.log(result.value), (result.error + 4 * EPS * result.value) / result.value


def score_matches_finite_difference(score_value: float, point: float, w, m, s,
                                    noise: float, h: float = 2e-3) -> tuple[bool, float, float]:
    """Compare a score with the central difference of log p_σ at step h/2.

    Error budget of the difference quotient D(h/2): its truncation error, estimated by
    Richardson as |D(h) − D(h/2)|/3 (the leading error term is c h²), plus the propagated
    error of the logs, (δ₊ + δ₋)/h with δ = (QUADPACK error + 4 ε p_σ)/p_σ. The tolerance is
    twice that sum (a stated safety factor on the two estimates).
    """
    def log_and_error(y: float) -> tuple[float, float]:
        return _log_noised_density(y, w, m, s, noise)

    lp_h, ep_h = log_and_error(point + h)
    lm_h, em_h = log_and_error(point - h)
    lp, ep = log_and_error(point + h / 2)
    lm, em = log_and_error(point - h / 2)
    coarse = (lp_h - lm_h) / (2 * h)
    fine = (lp - lm) / h
    truncation = abs(coarse - fine) / 3
    rounding = (ep + em) / h + (ep_h + em_h) / (2 * h) / 3
    tolerance = 2 * (truncation + rounding)
    gap = abs(score_value - fine)
    return gap <= tolerance, gap, tolerance


@given(mixture=gaussian_mixtures(), noise=scales(-1.6, 0.7), point=means(3.0))
def test_the_mixture_score_matches_a_finite_difference_of_the_noised_density(mixture, noise, point):
    w, m, s = mixture
    value = float(to_numpy(diffusion.NOISED_MIXTURE_SCORE)(point, np.array(w), np.array(m),
                                                           np.array(s), noise))
    ok, gap, tolerance = score_matches_finite_difference(value, point, w, m, s, noise)
    assert ok, f"|score − finite difference| = {gap:.3g} > {tolerance:.3g}"


def test_the_finite_difference_check_rejects_a_score_that_ignores_the_noise():
    """Twin: the score of the un-noised mixture (variance s_k², not s_k² + σ²)."""
    w, m, s, noise, point = [0.3, 0.7], [-1.0, 1.0], [0.5, 0.8], 0.6, 0.4
    log_terms = np.log(w) + stats.norm.logpdf(point, m, s)
    r = np.exp(log_terms - np.logaddexp.reduce(log_terms))
    mutant = float(np.sum(r * (np.array(m) - point) / np.array(s) ** 2))
    ok, gap, tolerance = score_matches_finite_difference(mutant, point, w, m, s, noise)
    assert not ok and gap > 1e3 * tolerance


# --------------------------------------------------------------------------------------------
# Tweedie against the posterior mean by quadrature, for a mixture prior


def posterior_mean_matches(claimed: float, point: float, w, m, s,
                           noise: float) -> tuple[bool, float, float]:
    """E[u|x̃] = ∫ u p(u) N(x̃; u, σ²) du / ∫ p(u) N(x̃; u, σ²) du by QUADPACK, p the mixture.

    Tolerance: twice the error of the ratio propagated from QUADPACK's estimates,
    e₁/I₀ + |I₁| e₀/I₀², plus 64 ε (|x̃| + |ratio|) of rounding.
    """
    weight, _, peak = _scaled_joint(point, w, m, s, noise)  # the common scale cancels
    cuts = sorted({*map(float, m), point, peak})
    zeroth = integrate_1d(weight, points=cuts)
    first = integrate_1d(lambda v: v * weight(v), points=cuts)
    ratio = first.value / zeroth.value
    error = first.error / zeroth.value + abs(first.value) * zeroth.error / zeroth.value**2
    tolerance = 2 * error + 64 * EPS * (abs(point) + abs(ratio))
    gap = abs(claimed - ratio)
    return gap <= tolerance, gap, tolerance


@given(mixture=gaussian_mixtures(), noise=scales(-1.6, 0.7), point=means(3.0))
def test_tweedie_gives_the_posterior_mean_of_a_mixture_prior(mixture, noise, point):
    w, m, s = mixture
    score_value = float(to_numpy(diffusion.NOISED_MIXTURE_SCORE)(point, np.array(w), np.array(m),
                                                                 np.array(s), noise))
    tweedie = point + noise**2 * score_value  # E[x|x̃] = x̃ + σ² ∇ log p_σ(x̃)
    ok, gap, tolerance = posterior_mean_matches(tweedie, point, w, m, s, noise)
    assert ok, f"|Tweedie − quadrature| = {gap:.3g} > {tolerance:.3g}"


def test_the_posterior_mean_check_rejects_sigma_for_sigma_squared_in_tweedie():
    w, m, s, noise, point = [0.3, 0.7], [-1.0, 1.0], [0.5, 0.8], 0.5, 0.4
    score_value = float(to_numpy(diffusion.NOISED_MIXTURE_SCORE)(point, np.array(w), np.array(m),
                                                                 np.array(s), noise))
    ok, gap, tolerance = posterior_mean_matches(point + noise * score_value, point, w, m, s, noise)
    assert not ok and gap > 1e3 * tolerance


@given(x_t=means(3.0), prior=st.tuples(means(2.0), scales(-1.2, 0.7)), noise=scales(-1.6, 0.7))
def test_the_gaussian_tweedie_closed_form_is_the_posterior_mean_by_quadrature(x_t, prior, noise):
    mean, std = prior
    claimed = float(to_numpy(diffusion.TWEEDIE_POSTERIOR_MEAN)(x_t, mean, std, noise))
    ok, gap, tolerance = posterior_mean_matches(claimed, x_t, [1.0], [mean], [std], noise)
    assert ok, f"|closed form − quadrature| = {gap:.3g} > {tolerance:.3g}"


# --------------------------------------------------------------------------------------------
# the DDPM marginal against a Monte Carlo simulation of the chain


def simulate_chain(x_0: float, betas: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """n independent runs of x_t = √(1 − β_t) x_{t−1} + √β_t ε_t from x_0; returns x_T."""
    state = np.full(n, float(x_0))
    for beta in betas:
        state = math.sqrt(1 - beta) * state + math.sqrt(beta) * rng.standard_normal(n)
    return state


def _per_assertion() -> tuple[float, int]:
    """(budget, assertions): the DDPM property makes 2 assertions per Hypothesis example."""
    return NULL_BUDGET, 2 * settings().max_examples


def consistent_with_marginal(samples: np.ndarray, mean: float, variance: float) -> bool:
    """Are the samples N(mean, variance)? Two exact tests under that hypothesis:

    * the sample mean is N(mean, variance/n) exactly (the chain is linear-Gaussian), so the
      z-test with the CLAIMED standard error √(variance/n) has exactly the stated level;
    * Kolmogorov–Smirnov against the claimed CDF (exact finite-n null distribution).
    """
    budget, assertions = _per_assertion()
    n = samples.size
    estimate = Estimate(float(samples.mean()), math.sqrt(variance / n), n)
    z_test = check_close(estimate, mean, failure_prob=budget, n_assertions=assertions)
    ks = check_distribution(samples, stats.norm(mean, math.sqrt(variance)).cdf,
                            failure_prob=budget, n_assertions=assertions)
    return bool(z_test) and bool(ks)


def _marginal(x_0: float, betas: np.ndarray) -> tuple[float, float]:
    return (float(to_numpy(diffusion.DDPM_MARGINAL_MEAN)(x_0, betas)),
            float(to_numpy(diffusion.DDPM_MARGINAL_VARIANCE)(betas)))


@given(seed=seeds(), x_0=means(3.0), betas=st.lists(st.floats(0.01, 0.6), min_size=1, max_size=6))
def test_the_ddpm_chain_is_distributed_as_the_derived_marginal(seed, x_0, betas):
    """Power: with n = 2000 the z-test detects a mean error of (z + 4.89)·√((1 − ᾱ)/n), i.e.
    ≤ 0.24·√(1 − ᾱ) under the CI profile, with probability ≥ 1 − 5e-7 (4.89 = z_{1−5e-7})."""
    rng = np.random.default_rng(seed)
    beta = np.array(betas)
    mean, variance = _marginal(x_0, beta)
    assert consistent_with_marginal(simulate_chain(x_0, beta, CHAINS, rng), mean, variance)


def _twin_sample_size(true: tuple[float, float], mutant: tuple[float, float]) -> int:
    """Smallest n (≥ CHAINS) for which the mean z-test alone rejects the mutant with probability
    ≥ 1 − MISS_BUDGET. The sample mean is exactly N(μ, V/n); it is accepted when
    |x̄ − μ_mut| ≤ z √(V_mut/n): P(accept) = Φ((δ + z s_m)/s) − Φ((δ − z s_m)/s), δ = μ_mut − μ."""
    budget, assertions = _per_assertion()
    z = z_quantile(budget, assertions)
    n = CHAINS
    while True:
        s, s_m = math.sqrt(true[1] / n), math.sqrt(mutant[1] / n)
        delta = mutant[0] - true[0]
        accept = stats.norm.cdf((delta + z * s_m) / s) - stats.norm.cdf((delta - z * s_m) / s)
        if accept <= MISS_BUDGET:
            return n
        n *= 2


def test_the_ddpm_check_rejects_the_root_of_one_minus_beta_mutant():
    """Twin, seed 0 (stated): the marginal with ᾱ' = ∏ √(1 − β_i) in place of ∏ (1 − β_i)."""
    x_0, beta = 2.0, np.array([0.1, 0.2, 0.3])
    true = _marginal(x_0, beta)
    rooted = float(np.prod(np.sqrt(1 - beta)))
    mutant = (math.sqrt(rooted) * x_0, 1 - rooted)
    n = _twin_sample_size(true, mutant)
    samples = simulate_chain(x_0, beta, n, np.random.default_rng(0))
    assert not consistent_with_marginal(samples, *mutant)
