"""Tests of models/score.py: denoising score matching on a 2-D Gaussian mixture, the learned
field against the analytic noised-mixture score, samples drawn with the learned score, and
the Question 4 figures.

Independent routes: the analytic score comes from ``derivations.diffusion``
(``NOISED_MIXTURE_SCORE_2D``, through the torch bridge); this file types the textbook form
Σ_k r_k(x) (m_k − x)/(s_k² + σ²), r = softmax_k(log w_k − ‖x − m_k‖²/(2(s_k² + σ²)) − log(s_k² + σ²)),
and the DSM loss ½σ²‖s + ε/σ‖².

Statistics (per-file budget 1e-6, split over 3 random assertions, 3.3e-7 each): the relative
MSE check (one assertion over 9 noise levels, z-bound on a ratio estimate from 20,000 exact
draws of p_σ per level: it fails when the estimate exceeds 0.05 by more than z·se, se ≈ 1e-3,
so it detects a true relative MSE ≥ 0.05 + (z + 1.64)·se ≈ 0.057 with probability 0.95), and
the two sampler checks with the learned score (each splits its share over 5 checks), judged
with the stated allowance :data:`LEARNED`. Power of those: a score scaled by 0.8 fails.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from models.samplers import (Allowance, check_samples,
                             sample_from_noise,
                             reverse_sde)
from models.score import (ScoreConfig, ScoreNetwork, denoising_score_matching_loss,
                          isotropic_stds, mixture_score, noised_mixture, relative_mse, train)
from numerics.tolerance import z_quantile

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("one_thread")]



FILE_BUDGET = 1e-6
RANDOM_ASSERTIONS = 3
SHARE = FILE_BUDGET / RANDOM_ASSERTIONS
RELATIVE_MSE = 0.05  # the target for σ in [0.1, 3]
SIGMAS = np.geomspace(0.1, 3.0, 9)  # on and between the ladder's levels
TRAINING_SECONDS = 10.0  # CPU seconds of one thread
N = 5000
SDE_STEPS = 200
# The looser, stated threshold for samples drawn with the LEARNED score: on top of the
# statistical tolerance, Ê may exceed its threshold by 0.01, the sliced-KS distance by 0.03,
# each mode's probability may be off by 0.03 and each relative excess variance by 0.10.
LEARNED = Allowance(energy=0.01, ks=0.03, weight=0.03, variance=0.10)


def textbook_score(mixture, x: torch.Tensor, sigma: float, variance_of=lambda s2, sg: s2 + sg**2):
    """Σ_k r_k (m_k − x)/(s_k² + σ²) with softmax responsibilities (typed textbook form).

    ``variance_of`` lets the twins plant a wrong noised variance (σ for σ²).
    """
    w = torch.tensor(np.array(mixture.weights), dtype=torch.float64)
    m = torch.tensor(np.array(mixture.means), dtype=torch.float64)
    v = variance_of(torch.tensor(isotropic_stds(mixture), dtype=torch.float64) ** 2, sigma)
    diff = m[None] - x.double()[:, None]                                      # (n, K, 2)
    logits = torch.log(w) - (diff**2).sum(-1) / (2 * v) - torch.log(v)       # 2-D: det = v²
    r = torch.softmax(logits, dim=1)
    return (r[..., None] * diff / v[:, None]).sum(dim=1)


# --------------------------------------------------------------------------------------------
# the analytic score and the loss


@given(seed=st.integers(0, 2**32 - 1), log_sigma=st.floats(math.log(0.05), math.log(5.0)))
def test_the_derived_mixture_score_is_the_textbook_score(score_mixture, seed, log_sigma):
    sigma = math.exp(log_sigma)
    x = 3 * torch.randn(64, 2, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    derived = mixture_score(score_mixture)(x, sigma)
    assert torch.allclose(derived, textbook_score(score_mixture, x, sigma), rtol=1e-9, atol=1e-9)


def test_the_mixture_score_check_catches_sigma_for_sigma_squared(score_mixture):
    """Twin: the same comparison against s_k² + σ (σ for σ²) fails."""
    x = 3 * torch.randn(64, 2, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    wrong = textbook_score(score_mixture, x, 0.5, variance_of=lambda s2, sg: s2 + sg)
    assert not torch.allclose(mixture_score(score_mixture)(x, 0.5), wrong, rtol=1e-3, atol=1e-3)


def test_far_from_the_data_the_mixture_score_is_the_nearest_component_score(score_mixture):
    """Beyond float64's exp range the closed form is 0/0; the limit is the score of the
    component with the smallest exponent ‖x − m_k‖²/(2(s_k² + σ²)) — here the widest one, k = 3,
    for both points (at (−60, 5) it beats the Euclidean-nearest k = 1)."""
    far = torch.tensor([[40.0, 40.0], [-60.0, 5.0]], dtype=torch.float64)
    value = mixture_score(score_mixture)(far, 0.1)
    assert torch.isfinite(value).all()
    nearest = torch.tensor(np.array(score_mixture.means))[[2, 2]]
    variance = torch.tensor(isotropic_stds(score_mixture))[[2, 2]] ** 2 + 0.01
    assert torch.allclose(value, (nearest - far) / variance[:, None], rtol=1e-12)


def test_dsm_loss_is_the_sigma_squared_weighted_denoising_objective():
    generator = torch.Generator().manual_seed(3)
    model = ScoreNetwork(2, 16, 2, torch.zeros(2), torch.ones(()))
    x = torch.randn(32, 2, generator=generator)
    sigma = torch.exp(torch.randn(32, generator=generator))
    noise = torch.randn(32, 2, generator=generator)
    loss = denoising_score_matching_loss(model, x, sigma, noise)
    with torch.no_grad():
        s = model(x + sigma[:, None] * noise, sigma)
    textbook = 0.5 * ((sigma[:, None] * s + noise) ** 2).sum(dim=1)  # ½σ²‖s + ε/σ‖²
    assert torch.allclose(loss.detach(), textbook, rtol=1e-5, atol=1e-6)
    unweighted = 0.5 * ((s + noise / sigma[:, None]) ** 2).sum(dim=1)  # twin: λ(σ) = 1
    assert not torch.allclose(loss.detach(), unweighted, rtol=1e-3, atol=1e-3)


def test_training_is_deterministic_under_a_seed(score_mixture):
    config = ScoreConfig(steps=15, threads=1)
    first, second = (train(config, score_mixture, seed=5, progress=False) for _ in range(2))
    assert first.losses == second.losses


# --------------------------------------------------------------------------------------------
# the learned field


def _relative_mse_bound_holds(estimates) -> bool:
    z = z_quantile(SHARE, len(estimates))  # one assertion: its share split over the levels
    return all(e.mean - z * e.standard_error <= RELATIVE_MSE for e in estimates)


def test_learned_score_matches_the_noised_mixture_score_from_sigma_0_1_to_3(
        trained_score, score_mixture):
    rng = np.random.default_rng(101)
    estimates = [relative_mse(trained_score.score, score_mixture, float(s), 20_000, rng)
                 for s in SIGMAS]
    report = ", ".join(f"σ={s:.3g}: {e.mean:.4f}±{e.standard_error:.4f}"
                       for s, e in zip(SIGMAS, estimates))
    assert _relative_mse_bound_holds(estimates), report
    assert trained_score.cpu_seconds <= TRAINING_SECONDS, \
        f"training took {trained_score.cpu_seconds:.2f} CPU s > {TRAINING_SECONDS} s"


def test_the_relative_mse_check_catches_a_wrong_analytic_score(trained_score, score_mixture):
    """Twin: against the mixture score with σ for σ², the learned field is far off."""
    wrong = lambda x, s: textbook_score(score_mixture, x, s, lambda s2, sg: s2 + sg)  # noqa: E731
    rng = np.random.default_rng(102)
    estimates = [relative_mse(trained_score.score, score_mixture, float(s), 20_000, rng,
                              exact=wrong) for s in SIGMAS]
    assert not _relative_mse_bound_holds(estimates)


# --------------------------------------------------------------------------------------------
# samples drawn with the learned score


@pytest.fixture(scope="module")
def target(score_mixture, trained_score):
    noised = noised_mixture(score_mixture, trained_score.config.sigma_min)
    rng = np.random.default_rng(41)
    return noised.sample(N, rng)[0], noised.sample(1_000_000, rng)[0]


def _langevin(score, sigmas, seed: int) -> torch.Tensor:
    return sample_from_noise(score, sigmas, N, generator=torch.Generator().manual_seed(seed))


def _sde(score, mixture, sigmas, seed: int) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    start = noised_mixture(mixture, float(sigmas[0])).sample(N, np.random.default_rng(seed))[0]
    return reverse_sde(score, float(sigmas[-1]), float(sigmas[0]), torch.as_tensor(start),
                       steps=SDE_STEPS, generator=generator)


def _check(samples, target, mixture, seed: int):
    reference, large = target
    return check_samples(samples, reference, large, mixture.means, failure_prob=SHARE,
                         rng=np.random.default_rng(seed), allowance=LEARNED)


@pytest.mark.parametrize("sampler", ["annealed Langevin", "reverse SDE"])
def test_samples_with_the_learned_score_pass_the_loose_two_sample_test(
        sampler, trained_score, score_mixture, target):
    sigmas = trained_score.config.sigmas
    samples = _langevin(trained_score.score, sigmas, seed=51) if sampler == "annealed Langevin" \
        else _sde(trained_score.score, score_mixture, sigmas, seed=52)
    result = _check(samples, target, score_mixture, seed=53)
    assert result.passed, result.summary()


@pytest.mark.parametrize("sampler", ["annealed Langevin", "reverse SDE"])
def test_the_learned_score_scaled_by_0_8_fails_the_loose_test(
        sampler, trained_score, score_mixture, target):
    """Power: the same test at the same allowance rejects s_θ × 0.8."""
    scaled = lambda x, sigma: 0.8 * trained_score.score(x, sigma)  # noqa: E731
    sigmas = trained_score.config.sigmas
    samples = _langevin(scaled, sigmas, seed=54) if sampler == "annealed Langevin" \
        else _sde(scaled, score_mixture, sigmas, seed=55)
    result = _check(samples, target, score_mixture, seed=56)
    assert not result.passed, result.summary()


# --------------------------------------------------------------------------------------------
# the figures


def test_question_4_figures_show_the_field_and_samples_on_the_mixture_and_the_text(
        tmp_path, trained_score, trained_text_score, score_mixture, text_cloud):
    from models.figures_score import Panel, question4_figures
    from models.samplers import tweedie_denoise

    panels = []
    for seed, (name, data, result) in enumerate(
            (("mixture", score_mixture.sample(3000, np.random.default_rng(0))[0], trained_score),
             ("CS446", text_cloud, trained_text_score))):
        sigmas = result.config.sigmas
        x = sample_from_noise(result.score, sigmas, 1000, generator=torch.Generator().manual_seed(seed))
        samples = tweedie_denoise(result.score, x, float(sigmas[-1])).numpy()
        panels.append(Panel(name, data, result, samples))
    paths = question4_figures(tmp_path, panels=panels, dpi=60)
    assert set(paths) == {"4.b", "4.c"}
    for path in paths.values():
        assert path.stat().st_size > 20_000
    # the text samples lie on the glyphs: most are inside the letters' bounding box
    text = panels[1].samples
    lo, hi = text_cloud.min(axis=0), text_cloud.max(axis=0)
    assert np.mean(np.all((text > lo - 0.2) & (text < hi + 0.2), axis=1)) > 0.95
