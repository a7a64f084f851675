"""Tests of models/samplers.py with the EXACT score of the noised mixture (no training here).

* annealed Langevin at the course's settings and the reverse VE-SDE pass the calibrated
  comparison of :func:`models.samplers.check_samples` with exact samples of p_{σ_L};
* a score scaled by 0.8 fails it (power; shown with the cheaper sampler, the SDE — the
  learned-score tests show it for both samplers);
* the bias of annealed Langevin, measured on a Gaussian target where it is known exactly: the
  variance after the ladder equals the ULA recursion v ← (1 − α/v_i)² v + 2α (typed here, the
  textbook AR(1) form — an independent route), and exceeds the target variance by ≈ α/(2v − α);
* Tweedie's denoising step equals the Gaussian posterior mean (typed textbook form).

Budget: the per-file false-failure probability 1e-6 is split over 4 random assertions
(2.5e-7 each): the two sampler checks (each splits its share over 5 checks) and the mean and
variance z-tests of the Gaussian chain. Power: with n = 5000 samples the pooled variance check
detects a relative excess variance of z·se + 1.64·se ≈ 0.16 (se ≈ 0.02) with probability 0.95;
a score scaled by 0.8 inflates each mode's variance by ≈ 25 % (Langevin) to 50 % (SDE).
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from models.samplers import (COURSE_SETTINGS, EXACT, annealed_langevin, check_samples,
                             sample_from_noise,
                             reverse_sde, tweedie_denoise)
from models.score import ScoreConfig, mixture_score, noised_mixture
from numerics.estimates import Estimate
from numerics.tolerance import z_quantile

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]



FILE_BUDGET = 1e-6
RANDOM_ASSERTIONS = 4
SHARE = FILE_BUDGET / RANDOM_ASSERTIONS
N = 5000  # samples per sampler run
LADDER = ScoreConfig().sigmas  # σ_1 = 3 > … > σ_10 = 0.1, the ladder the score model learns
SDE_STEPS = 200


@pytest.fixture(scope="module")
def exact_score(score_mixture):
    return mixture_score(score_mixture)


@pytest.fixture(scope="module")
def target(score_mixture):
    """Exact draws of p_{σ_L}: a reference of N points and a large one of 10⁶."""
    noised = noised_mixture(score_mixture, float(LADDER[-1]))
    rng = np.random.default_rng(31)
    return noised.sample(N, rng)[0], noised.sample(1_000_000, rng)[0]


def _langevin(score, seed: int) -> torch.Tensor:
    return sample_from_noise(score, LADDER, N, generator=torch.Generator().manual_seed(seed))


def _sde(score, mixture, seed: int) -> torch.Tensor:
    """The reverse SDE from an exact sample of p_{σ_max} (so only the discretisation is tested)."""
    generator = torch.Generator().manual_seed(seed)
    start = noised_mixture(mixture, float(LADDER[0])).sample(N, np.random.default_rng(seed))[0]
    return reverse_sde(score, float(LADDER[-1]), float(LADDER[0]), torch.as_tensor(start),
                       steps=SDE_STEPS, generator=generator)


def _check(samples, target, mixture, seed: int):
    reference, large = target
    return check_samples(samples, reference, large, mixture.means, failure_prob=SHARE,
                         rng=np.random.default_rng(seed), allowance=EXACT)


def test_annealed_langevin_with_the_exact_score_passes_the_two_sample_test(
        exact_score, target, score_mixture):
    result = _check(_langevin(exact_score, seed=1), target, score_mixture, seed=2)
    assert result.passed, result.summary()


def test_reverse_sde_with_the_exact_score_passes_the_two_sample_test(
        exact_score, target, score_mixture):
    result = _check(_sde(exact_score, score_mixture, seed=3), target, score_mixture, seed=4)
    assert result.passed, result.summary()


def test_reverse_sde_with_the_exact_score_scaled_by_0_8_fails_the_test(
        exact_score, target, score_mixture):
    """Power (twin of the two checks above): p_σ^0.8-like samples, modes ≈ 50 % wider."""
    scaled = lambda x, sigma: 0.8 * exact_score(x, sigma)  # noqa: E731
    result = _check(_sde(scaled, score_mixture, seed=7), target, score_mixture, seed=8)
    assert "variance pooled over modes (z-test)" in result.failed, result.summary()


# --------------------------------------------------------------------------------------------
# the bias of annealed Langevin, on a Gaussian target where it is known exactly

MU, S = 0.5, 0.1  # target N(μ, s²); at σ_L = 0.1 the last level's variance is v = 0.02
CHAINS = 100_000


def _gaussian_score():
    from derivations.diffusion import GAUSSIAN_SCORE
    from numerics.bridge import to_torch

    score = to_torch(GAUSSIAN_SCORE)  # (x, mu, sigma) -> −(x − μ)/σ²
    return lambda x, sigma: score(x, MU, math.sqrt(S**2 + sigma**2))


def ula_moments(eta: float, noise: float = 2.0) -> tuple[float, float]:
    """Mean and variance after annealed ULA on N(μ, s² + σ_i²), started at N(0, σ_1²).

    Textbook AR(1): x' = x + α(μ − x)/v + √(noise·α) ε, so m ← m + α(μ − m)/v and
    V ← (1 − α/v)² V + noise·α (noise = 2 is Langevin; noise = 1 is the mutant √α).
    """
    mean, variance = 0.0, float(LADDER[0]) ** 2
    for sigma in LADDER:
        alpha, v = eta * sigma**2 / LADDER[-1] ** 2, S**2 + sigma**2
        for _ in range(COURSE_SETTINGS.steps_per_level):
            mean = mean + alpha * (MU - mean) / v
            variance = (1 - alpha / v) ** 2 * variance + noise * alpha
    return mean, variance


def test_annealed_langevin_bias_on_a_gaussian_is_the_ula_excess_variance():
    generator = torch.Generator().manual_seed(11)
    start = float(LADDER[0]) * torch.randn(CHAINS, 1, generator=generator, dtype=torch.float64)
    x = annealed_langevin(_gaussian_score(), LADDER, start, eta=COURSE_SETTINGS.eta,
                          steps_per_level=COURSE_SETTINGS.steps_per_level,
                          generator=generator)[:, 0].numpy()
    mean_estimate = Estimate.from_samples(x)
    variance_estimate = Estimate.from_samples((x - x.mean()) ** 2)
    z = z_quantile(SHARE)
    mean, variance = ula_moments(COURSE_SETTINGS.eta)
    assert abs(mean_estimate.mean - mean) <= z * mean_estimate.standard_error
    assert abs(variance_estimate.mean - variance) <= z * variance_estimate.standard_error, \
        f"variance {variance_estimate} vs ULA recursion {variance:.6g}"
    # the recorded bias: at the course's settings the last level ends ≈ α/(2v − α) too wide
    v_last = S**2 + LADDER[-1] ** 2
    excess = variance / v_last - 1
    assert excess == pytest.approx(COURSE_SETTINGS.eta / (2 * v_last - COURSE_SETTINGS.eta),
                                   rel=1e-3)
    assert variance_estimate.mean - v_last > 6 * variance_estimate.standard_error  # detectable
    # twin: the mutant Langevin noise √α (for √(2α)) predicts half the variance: rejected
    _, mutant_variance = ula_moments(COURSE_SETTINGS.eta, noise=1.0)
    assert abs(variance_estimate.mean - mutant_variance) > z * variance_estimate.standard_error


# --------------------------------------------------------------------------------------------
# Tweedie's denoising step


def test_tweedie_denoising_is_the_gaussian_posterior_mean():
    """x̃ + σ² ∇log p_σ(x̃) = (σ²μ + τ²x̃)/(τ² + σ²) for x ~ N(μ, τ²) (typed textbook form)."""
    mu, tau, sigma = 0.7, 0.4, 0.3
    x_tilde = torch.linspace(-2, 2, 9, dtype=torch.float64)[:, None]
    score = lambda x, s: -(x - mu) / (tau**2 + s**2)  # noqa: E731 - N(μ, τ² + σ²)'s score
    denoised = tweedie_denoise(score, x_tilde, sigma)
    expected = (sigma**2 * mu + tau**2 * x_tilde) / (tau**2 + sigma**2)
    assert torch.allclose(denoised, expected, rtol=1e-12, atol=1e-12)
    flipped = tweedie_denoise(lambda x, s: -score(x, s), x_tilde, sigma)  # twin: sign flipped
    assert not torch.allclose(flipped, expected, rtol=1e-3, atol=1e-3)
