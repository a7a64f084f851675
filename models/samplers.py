"""Samplers driven by a score s(x, σ): annealed Langevin dynamics and a reverse VE-SDE.

* :func:`annealed_langevin` — the homework's sampler (Song & Ermon 2019, Algorithm 1): for
  σ_1 > … > σ_L and T steps per level, x ← x + α_i s(x, σ_i) + √(2α_i) ε with
  α_i = η σ_i²/σ_L². At each level this is the unadjusted Langevin algorithm (ULA) for p_{σ_i},
  so the samples approximate p_{σ_L} = p_data ⊛ N(0, σ_L² I).
* :func:`reverse_sde` — the variance-exploding SDE of Song et al., "Score-Based Generative
  Modeling through Stochastic Differential Equations" (2021), eq. 30–31:
  σ(t) = σ_min (σ_max/σ_min)^t, dx = g(t) dw with g(t)² = dσ²/dt = 2σ(t)² log(σ_max/σ_min); its
  reverse dx = −g² ∇log p_t dt + g dw̄ is integrated by Euler–Maruyama from t = 1 to t = 0,
  so the samples approximate p_{σ_min}.

Both return float64 tensors and draw every random number from an explicit torch.Generator.
:func:`check_samples` is the calibrated comparison with exact samples of the target: the
energy test (spectral threshold) and the sliced KS test of :mod:`numerics.twosample`, the
mode weights by an exact binomial test, and the variance per mode (cells of the nearest mode)
and pooled over the modes against the exact sample's, by z-tests. A learned score is allowed
stated slacks (``allowance``); see the tests.

Bias of annealed Langevin (recorded by ``benchmarks/train_score.py``, tested in
``tests/models/test_samplers.py``). ULA with step α on a Gaussian of variance v is the AR(1)
chain x' = (1 − α/v) x + √(2α) ε, whose stationary variance is v/(1 − α/(2v)): an excess of
α/(2v − α). The course's settings are not stated in the homework; :data:`COURSE_SETTINGS`
assumes NCSN's (Song & Ermon 2019: T = 100 steps per level, ε/σ_L² = 2·10⁻⁵/0.01² = 0.2)
carried to this project's ladder (L = 10, σ 3 → 0.1): η = 0.2·σ_L² = 2·10⁻³. Then

* on a Gaussian target N(μ, 0.1²) the last level (v = 0.02) ends 5.3 % too wide, exactly the
  ULA recursion (test: measured variance = recursion within z·se, and > v by > 6 se);
* on the Question 4 mixture (component variances s_k² + σ_L² = 0.21, 0.10, 0.37 per
  direction, ULA excess +0.5, +1.0, +0.3 %) 100,000 samples with the exact score show a
  per-mode excess variance of +1.7 ± 0.5 %, +1.5 ± 0.7 %, +1.1 ± 0.7 % and, pooled over the
  modes (which also feels the mode weights), +2.5 ± 0.4 %: a bias of a few per cent, below
  what the two-sample checks resolve with 5,000 samples (se ≈ 2 %).

A step ten times larger (η = 0.02) makes the first levels unstable (α_i/v_i → η/σ_L² = 2). The
starting distribution of the reverse SDE matters too: N(0, σ_max² I) instead of the exact
p_{σ_max} shifts the mode weights by a few per cent (σ_max = 3 is not ≫ the spread of the
data), so the tests start it from p_{σ_max}.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

__all__ = [
    "LangevinSettings",
    "COURSE_SETTINGS",
    "annealed_langevin",
    "reverse_sde",
    "tweedie_denoise",
    "Allowance",
    "EXACT",
    "SampleCheck",
    "check_samples",
    "cell_probabilities",
    "excess_variance",
    "ENERGY_POINTS",
]

ScoreFunction = Callable[[torch.Tensor, float], torch.Tensor]  # (x (n, d), σ) -> (n, d)


@dataclass(frozen=True)
class LangevinSettings:
    """η (the step at the last level, α_L = η) and T, the steps per level."""

    eta: float
    steps_per_level: int


# NCSN's ratio ε/σ_L² = 0.2 (ε = 2e-5 at σ_L = 0.01) carried to σ_L = 0.1, and T = 100.
COURSE_SETTINGS = LangevinSettings(eta=2e-3, steps_per_level=100)


def annealed_langevin(score: ScoreFunction, sigmas: Sequence[float], initial: torch.Tensor, *,
                      eta: float, steps_per_level: int,
                      generator: torch.Generator) -> torch.Tensor:
    """Annealed Langevin dynamics from ``initial`` (n, d) over the ladder σ_1 > … > σ_L.

    x ← x + α_i s(x, σ_i) + √(2α_i) ε, α_i = η σ_i²/σ_L², ``steps_per_level`` steps per level.
    """
    sigmas = [float(s) for s in sigmas]
    last = sigmas[-1]
    x = initial.double().clone()
    for sigma in sigmas:
        alpha = eta * sigma**2 / last**2
        noise_scale = math.sqrt(2 * alpha)
        for _ in range(steps_per_level):
            noise = torch.randn(x.shape, generator=generator, dtype=torch.float64)
            x = x + alpha * score(x, sigma).double() + noise_scale * noise
    return x


def sample_from_noise(score: ScoreFunction, sigmas: Sequence[float], n: int, *,
                      generator: torch.Generator,
                      settings: LangevinSettings = COURSE_SETTINGS) -> torch.Tensor:
    """``n`` 2-D samples: x₀ ~ N(0, σ_1² I) (float64, from ``generator``), then
    :func:`annealed_langevin` over ``sigmas`` with ``settings``."""
    start = float(sigmas[0]) * torch.randn(n, 2, generator=generator, dtype=torch.float64)
    return annealed_langevin(score, sigmas, start, eta=settings.eta,
                             steps_per_level=settings.steps_per_level, generator=generator)


def reverse_sde(score: ScoreFunction, sigma_min: float, sigma_max: float,
                initial: torch.Tensor, *, steps: int, generator: torch.Generator) -> torch.Tensor:
    """Euler–Maruyama for the reverse VE SDE from t = 1 (σ_max) to t = 0 (σ_min).

    Step from t to t − Δt: x ← x + g(t)² s(x, σ(t)) Δt + g(t) √Δt z, with σ(t) and g(t) as in
    the module docstring. ``initial`` (n, d) should be a sample of p_{σ_max}; N(0, σ_max² I) is
    the usual stand-in when σ_max ≫ the spread of the data.
    """
    log_ratio = math.log(sigma_max / sigma_min)
    dt = 1.0 / steps
    x = initial.double().clone()
    for i in range(steps):
        t = 1.0 - i * dt
        sigma = sigma_min * (sigma_max / sigma_min) ** t
        g2 = 2 * sigma**2 * log_ratio
        noise = torch.randn(x.shape, generator=generator, dtype=torch.float64)
        x = x + g2 * score(x, sigma).double() * dt + math.sqrt(g2 * dt) * noise
    return x


def tweedie_denoise(score: ScoreFunction, x: torch.Tensor, sigma: float) -> torch.Tensor:
    """E[x₀ | x̃ = x] = x̃ + σ² ∇log p_σ(x̃) (Tweedie), with the score for ∇log p_σ.

    The formula is ``derivations.diffusion.tweedie_identity`` (x̃ + σ² ∇p_σ/p_σ, i.e. with
    ∇p_σ = score and p_σ = 1), through the torch bridge. A last denoising step of the kind
    Song & Ermon (2020) recommend; it removes the σ_L-blur from samples of p_{σ_L} (for figures:
    the denoised samples are no longer samples of p_{σ_L}).
    """
    from derivations.diffusion import tweedie_identity
    from numerics.bridge import to_torch

    posterior_mean = to_torch(tweedie_identity().closed_form)  # (x̃, σ, ∇p_σ, p_σ)
    x = x.double()
    return posterior_mean(x, float(sigma), score(x, float(sigma)).double(), 1.0)


# --------------------------------------------------------------------------------------------
# comparison with exact samples of the target


def _nearest(points: np.ndarray, modes: np.ndarray) -> np.ndarray:
    distances = ((points[:, None, :] - modes[None, :, :]) ** 2).sum(axis=-1)
    return np.argmin(distances, axis=1)


def cell_probabilities(reference: np.ndarray, modes: np.ndarray):
    """P(nearest mode = k) under the target, from a LARGE exact sample: an Estimate per cell."""
    from numerics.estimates import Estimate

    cells = _nearest(np.asarray(reference, dtype=np.float64), np.asarray(modes, dtype=np.float64))
    indicators = (cells[:, None] == np.arange(len(modes))[None, :]).astype(np.float64)
    return Estimate.from_samples(indicators)


def _within_cell_spread(points: np.ndarray, modes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(nearest-mode cell of each point, its squared distance to its cell's mean)."""
    cells = _nearest(points, modes)
    spread = np.empty(len(points))
    for k in range(len(modes)):
        inside = cells == k
        if inside.sum() < 3:
            raise ValueError(f"fewer than 3 points near mode {k}: cannot estimate a variance")
        spread[inside] = ((points[inside] - points[inside].mean(axis=0)) ** 2).sum(axis=1)
    return cells, spread


def _ratio_minus_one(a, b):
    """a/b − 1 for independent Estimates, with the delta-method standard error."""
    ratio = np.asarray(a.mean) / np.asarray(b.mean)
    se = ratio * np.hypot(np.asarray(a.standard_error) / np.asarray(a.mean),
                          np.asarray(b.standard_error) / np.asarray(b.mean))
    return ratio - 1.0, se


def excess_variance(samples: np.ndarray, reference: np.ndarray, modes: np.ndarray):
    """Relative excess variance of ``samples`` over an exact ``reference``, per mode and pooled.

    Per mode k: tr Cov(samples in cell k) / tr Cov(reference in cell k) − 1, cells being those
    of the nearest mode for both samples alike (so truncation by the cells cancels); pooled:
    the same ratio for the mean squared distance to one's cell mean over all points. tr Cov is
    the mean squared distance to the cell's mean; the standard errors combine the two relative
    errors (delta method; the samples are independent). Returns (per_mode, pooled) Estimates.
    """
    from numerics.estimates import Estimate

    samples, reference = np.asarray(samples, np.float64), np.asarray(reference, np.float64)
    modes = np.asarray(modes, np.float64)
    (cells_a, spread_a), (cells_b, spread_b) = (_within_cell_spread(p, modes)
                                                for p in (samples, reference))
    per_mode = [_ratio_minus_one(Estimate.from_samples(spread_a[cells_a == k]),
                                 Estimate.from_samples(spread_b[cells_b == k]))
                for k in range(len(modes))]
    pooled = _ratio_minus_one(Estimate.from_samples(spread_a), Estimate.from_samples(spread_b))
    n = min(len(samples), len(reference))
    return (Estimate(np.array([m for m, _ in per_mode]), np.array([e for _, e in per_mode]), n),
            Estimate(float(pooled[0]), float(pooled[1]), n))


@dataclass(frozen=True)
class Allowance:
    """Slack granted to an approximate score, on top of the statistical tolerance.

    ``energy``: added to the energy test's threshold (Ê is in the data's units);
    ``ks``: added to the sliced KS threshold (a distance between CDFs);
    ``weight``: each mode's cell probability may be off by this much;
    ``variance``: each relative excess variance (per mode and pooled) may be off by this much.
    """

    energy: float = 0.0
    ks: float = 0.0
    weight: float = 0.0
    variance: float = 0.0


EXACT = Allowance()
ENERGY_POINTS = 2000  # the energy test is O(n²) in memory: it uses the first 2000 points


@dataclass(frozen=True)
class SampleCheck:
    """The five checks of :func:`check_samples` (each a numerics CheckResult)."""

    energy: object
    sliced_ks: object
    mode_weights: object
    variance_per_mode: object
    variance_pooled: object

    @property
    def checks(self) -> tuple:
        return (self.energy, self.sliced_ks, self.mode_weights, self.variance_per_mode,
                self.variance_pooled)

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)

    @property
    def failed(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.checks if not c.passed)

    def summary(self) -> str:
        return "\n".join(f"[{'pass' if c.passed else 'FAIL'}] {c.name}: {c.detail}"
                         for c in self.checks)


def check_samples(samples: torch.Tensor | np.ndarray, reference: np.ndarray,
                  large_reference: np.ndarray, modes: np.ndarray, *, failure_prob: float,
                  rng: np.random.Generator, allowance: Allowance = EXACT) -> SampleCheck:
    """Compare ``samples`` with exact draws of the target; each of 5 checks spends failure_prob/5.

    * energy test (spectral threshold, + ``allowance.energy``): the first
      :data:`ENERGY_POINTS` samples against as many points of ``reference``;
    * sliced KS test (16 random directions from ``rng``, + ``allowance.ks``): all samples
      against ``reference`` (of the same size);
    * mode weights: counts per nearest-mode cell against an exact binomial acceptance interval,
      for cell probabilities estimated from ``large_reference`` (±5 se, ± ``allowance.weight``);
    * variance per mode and pooled over the modes (:func:`excess_variance` against
      ``large_reference``): |excess| ≤ z·se + ``allowance.variance``, z for the check's budget
      (split over the modes for the per-mode check).

    A sample of the target fails with probability ≤ ``failure_prob`` (≈: the energy threshold
    and the z-tests are asymptotic). ``large_reference`` should be ≫ the samples.
    """
    from scipy import stats

    from numerics.tolerance import CheckResult, z_quantile
    from numerics.twosample import energy_test, nearest_mode_counts, sliced_ks_test

    x = samples.detach().double().numpy() if isinstance(samples, torch.Tensor) else \
        np.asarray(samples, dtype=np.float64)
    reference = np.asarray(reference, dtype=np.float64)
    if len(reference) != len(x):
        raise ValueError("the reference sample must have as many points as the samples")
    share = failure_prob / 5
    modes = np.asarray(modes, dtype=np.float64)

    energy = energy_test(x[:ENERGY_POINTS], reference[:ENERGY_POINTS], failure_prob=share)
    if allowance.energy:
        threshold = energy.threshold + allowance.energy
        energy = CheckResult(energy.name + f" + allowance {allowance.energy:g}",
                             energy.statistic <= threshold, energy.statistic, threshold,
                             share, energy.detail + f"; allowance {allowance.energy:g}")
    sliced = sliced_ks_test(x, reference, failure_prob=share, rng=rng)
    if allowance.ks:
        threshold = sliced.threshold + allowance.ks
        sliced = CheckResult(sliced.name + f" + allowance {allowance.ks:g}",
                             sliced.statistic <= threshold, sliced.statistic, threshold, share,
                             sliced.detail + f"; allowance {allowance.ks:g}")

    cells = cell_probabilities(large_reference, modes)
    counts = nearest_mode_counts(x, modes)
    n, k = len(x), len(modes)
    tail = share / (2 * k)
    slack = 5 * np.asarray(cells.standard_error) + allowance.weight
    low_p = np.clip(np.asarray(cells.mean) - slack, 0.0, 1.0)
    high_p = np.clip(np.asarray(cells.mean) + slack, 0.0, 1.0)
    lower = stats.binom.ppf(tail, n, low_p)
    upper = stats.binom.isf(tail, n, high_p)
    inside = (counts >= lower) & (counts <= upper)
    worst = int(np.argmax(np.abs(counts / n - np.asarray(cells.mean))))
    weights = CheckResult(
        "mode weights (binomial)", bool(np.all(inside)), float(counts[worst] / n),
        float(upper[worst] / n), share,
        f"counts {counts.tolist()} of n = {n}; cell probabilities "
        f"{np.round(cells.mean, 4).tolist()} (±5 se + allowance {allowance.weight:g}); "
        f"acceptance intervals {[(int(a), int(b)) for a, b in zip(lower, upper)]} at "
        f"α/(2K) = {tail:.3g} per tail")

    per_mode, pooled = excess_variance(x, large_reference, modes)
    z_mode, z_pooled = z_quantile(share, k), z_quantile(share)
    margin = z_mode * np.asarray(per_mode.standard_error) + allowance.variance
    off = np.abs(np.asarray(per_mode.mean))
    worst_v = int(np.argmax(off - margin))
    variance_per_mode = CheckResult(
        "variance per mode (z-test)", bool(np.all(off <= margin)), float(off[worst_v]),
        float(margin[worst_v]), share,
        f"excess variance per mode {np.round(per_mode.mean, 4).tolist()} ± se "
        f"{np.round(per_mode.standard_error, 4).tolist()}; allowed z {z_mode:.2f}·se + "
        f"{allowance.variance:g}")
    pooled_margin = z_pooled * pooled.standard_error + allowance.variance
    variance_pooled = CheckResult(
        "variance pooled over modes (z-test)", abs(pooled.mean) <= pooled_margin,
        abs(pooled.mean), pooled_margin, share,
        f"excess variance {pooled.mean:.4f} ± se {pooled.standard_error:.4f}; allowed "
        f"z {z_pooled:.2f}·se + {allowance.variance:g}")
    return SampleCheck(energy, sliced, weights, variance_per_mode, variance_pooled)
