"""Tolerances from a stated false-failure probability, and the power of the resulting checks.

A statistical assertion fails by bad luck with a probability we choose (``failure_prob``);
when a test makes ``m`` assertions the budget is split evenly (Bonferroni: by the union bound
the test then fails falsely with probability at most ``failure_prob``), α = failure_prob/m.

* z-test (large n, CLT): |x̄ − v| ≤ z_{1−α/2} · se, with z the standard normal quantile
  (plus a float64 rounding floor of 64 ε · max(1, |x̄|, |v|), so a zero-variance estimate
  still matches a closed form evaluated in floating point). An array estimate counts as one
  assertion per entry.
  Power: a true error δ is detected with probability Φ(|δ|/se − z) + Φ(−|δ|/se − z);
  the smallest error detected with probability ≥ power is (z_{1−α/2} + z_{power}) · se.
* Hoeffding (samples in [a, b]): P(|x̄ − μ| ≥ ε) ≤ 2 exp(−2nε²/(b − a)²), so
  ε = (b − a) √(log(2/α) / (2n)). Hoeffding (1963), Theorem 2.
* Empirical Bernstein (samples in [a, b], sample variance V): with probability ≥ 1 − α,
  |x̄ − μ| ≤ √(2 V log(4/α)/n) + 7 (b − a) log(4/α) / (3(n − 1)).
  Maurer & Pontil (2009), Theorem 4, applied to both tails with α/2 each.
* DKWM (a whole distribution): P(sup_x |F_n(x) − F(x)| > ε) ≤ 2 exp(−2nε²), so
  ε = √(log(2/α)/(2n)). Dvoretzky–Kiefer–Wolfowitz, with Massart's (1990) constant.
  The Kolmogorov–Smirnov check uses the exact finite-n distribution of sup|F_n − F| under
  the null (``scipy.stats.kstwo``), which is never looser than DKWM.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from numerics.estimates import Estimate

__all__ = [
    "CheckResult",
    "StatisticalCheckFailed",
    "z_quantile",
    "tolerance",
    "check_close",
    "assert_close",
    "power",
    "detectable_error",
    "samples_for_power",
    "hoeffding_epsilon",
    "bernstein_epsilon",
    "check_bounded_mean",
    "assert_bounded_mean",
    "dkwm_epsilon",
    "ks_threshold",
    "check_distribution",
    "assert_distribution",
    "detectable_cdf_distance",
]


class StatisticalCheckFailed(AssertionError):
    """A statistical check rejected: either a real error or, with the stated probability, luck."""


@dataclass(frozen=True)
class CheckResult:
    """The outcome of one statistical check.

    ``statistic`` is compared with ``threshold`` (the check passes when statistic ≤ threshold);
    ``failure_prob`` is the false-failure probability spent on this check.
    """

    name: str
    passed: bool
    statistic: float
    threshold: float
    failure_prob: float
    detail: str = ""
    p_value: float | None = None  # where the check computes one

    def __bool__(self) -> bool:
        return self.passed

    def raise_if_failed(self) -> CheckResult:
        if not self.passed:
            raise StatisticalCheckFailed(self.message())
        return self

    def message(self) -> str:
        verdict = "passed" if self.passed else "FAILED"
        return (f"{self.name} {verdict}: statistic {self.statistic:.6g} vs threshold "
                f"{self.threshold:.6g} (false-failure probability {self.failure_prob:.3g}). "
                f"{self.detail}")


ROUNDING = 64 * float(np.finfo(np.float64).eps)  # 1.4e-14: float64 evaluation error allowed


def _alpha(failure_prob: float, n_assertions: int) -> float:
    if not 0 < failure_prob < 1:
        raise ValueError(f"failure_prob must be in (0, 1), got {failure_prob}")
    if n_assertions < 1:
        raise ValueError("n_assertions must be at least 1")
    return failure_prob / n_assertions


def z_quantile(failure_prob: float, n_assertions: int = 1) -> float:
    """z_{1−α/2} with α = failure_prob / n_assertions (two-sided, Bonferroni-split)."""
    return float(stats.norm.isf(_alpha(failure_prob, n_assertions) / 2))


def tolerance(standard_error: Any, failure_prob: float, n_assertions: int = 1) -> Any:
    """z_{1−α/(2m)} · se: the half-width that a correct estimate exceeds with probability α/m."""
    return z_quantile(failure_prob, n_assertions) * np.asarray(standard_error, dtype=np.float64)


# --------------------------------------------------------------------------------------------
# z-tests of Monte Carlo estimates


def check_close(estimate: Estimate, value: Any, *, failure_prob: float,
                n_assertions: int = 1, name: str = "z-test") -> CheckResult:
    """Is ``value`` within the z-tolerance of ``estimate``? (No exception; see assert_close.)

    ``value`` may be a number, an array (elementwise; each entry is one assertion, so the
    budget failure_prob/n_assertions is split again over the entries) or another
    :class:`Estimate` (independent of the first; the standard errors combine).
    """
    if isinstance(value, Estimate):
        estimate, value = estimate - value, 0.0
    mean = np.asarray(estimate.mean, dtype=np.float64)
    se = np.asarray(estimate.standard_error, dtype=np.float64)
    target = np.asarray(value, dtype=np.float64)
    entries = int(np.broadcast(mean, se, target).size)
    z = z_quantile(failure_prob, n_assertions * entries)
    error = np.abs(mean - target)
    # plus a floating-point floor (not a statistical allowance): a zero-variance estimate, e.g.
    # KL(q‖q) from identical log-densities, must match a closed form evaluated in float64
    allowed = z * se + ROUNDING * np.maximum(1.0, np.maximum(np.abs(mean), np.abs(target)))
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(allowed > 0, error / allowed, np.where(error == 0, 0.0, np.inf))
    ratio = np.nan_to_num(ratio, nan=np.inf)  # a NaN estimate never passes
    worst = int(np.argmax(np.broadcast_to(ratio, np.broadcast(mean, se, target).shape)))
    pick = lambda a: float(np.broadcast_to(a, ratio.shape).flat[worst])  # noqa: E731
    passed = bool(np.all(ratio <= 1.0))
    where = f" at entry {tuple(int(i) for i in np.unravel_index(worst, ratio.shape))}" \
        if ratio.ndim else ""
    detail = (f"estimate {pick(mean):.8g} ± se {pick(se):.3g} (n = {estimate.n}) vs value "
              f"{pick(target):.8g}{where}: |error| {pick(error):.3g}, tolerance "
              f"{pick(allowed):.3g} = z {z:.3f} × se; budget {failure_prob:.3g} over "
              f"{n_assertions} assertion(s) × {entries} entr{'y' if entries == 1 else 'ies'}")
    return CheckResult(name, passed, pick(error), pick(allowed), failure_prob / n_assertions,
                       detail)


def assert_close(estimate: Estimate, value: Any, *, failure_prob: float,
                 n_assertions: int = 1) -> CheckResult:
    """Assert |mean − value| ≤ z_{1−α/(2m)} · se, α = failure_prob, m = n_assertions.

    Raises :class:`StatisticalCheckFailed` (an AssertionError) quoting the estimate, the
    standard error, the tolerance and the budget. See :func:`check_close` for arrays.
    """
    return check_close(estimate, value, failure_prob=failure_prob,
                       n_assertions=n_assertions).raise_if_failed()


def power(error: float, standard_error: float, failure_prob: float,
          n_assertions: int = 1) -> float:
    """P(the z-test rejects) when the true mean is off by ``error`` (normal approximation)."""
    z = z_quantile(failure_prob, n_assertions)
    shift = abs(error) / standard_error
    return float(stats.norm.cdf(shift - z) + stats.norm.cdf(-shift - z))


def detectable_error(standard_error: Any, failure_prob: float, power: float = 0.5,
                     n_assertions: int = 1) -> Any:
    """The smallest |error| the z-test detects with probability ≥ ``power``: (z_{1−α/2m} + z_power)·se."""
    if not 0 < power < 1:
        raise ValueError("power must be in (0, 1)")
    return (z_quantile(failure_prob, n_assertions) + float(stats.norm.ppf(power))) * \
        np.asarray(standard_error, dtype=np.float64)


def samples_for_power(standard_deviation: float, error: float, failure_prob: float,
                      power: float, n_assertions: int = 1) -> int:
    """The n for which the z-test on a mean of n samples (sd σ) detects ``error`` with ``power``.

    n = ⌈((z_{1−α/2m} + z_power) σ / error)²⌉.
    """
    factor = z_quantile(failure_prob, n_assertions) + float(stats.norm.ppf(power))
    return int(math.ceil((factor * standard_deviation / abs(error)) ** 2))


# --------------------------------------------------------------------------------------------
# bounded quantities


def hoeffding_epsilon(n: int, failure_prob: float, width: float = 1.0,
                      n_assertions: int = 1) -> float:
    """ε with P(|x̄ − μ| ≥ ε) ≤ α for n samples in an interval of length ``width``."""
    alpha = _alpha(failure_prob, n_assertions)
    return float(width * math.sqrt(math.log(2 / alpha) / (2 * n)))


def bernstein_epsilon(n: int, sample_variance: float, failure_prob: float, width: float = 1.0,
                      n_assertions: int = 1) -> float:
    """Empirical-Bernstein ε (Maurer & Pontil 2009, two-sided) for n samples in [a, a + width]."""
    if n < 2:
        raise ValueError("the empirical Bernstein bound needs n ≥ 2")
    log_term = math.log(4 / _alpha(failure_prob, n_assertions))
    return float(math.sqrt(2 * sample_variance * log_term / n)
                 + 7 * width * log_term / (3 * (n - 1)))


def check_bounded_mean(samples: Any, value: float, *, lower: float, upper: float,
                       failure_prob: float, n_assertions: int = 1,
                       method: str = "bernstein") -> CheckResult:
    """Is E[x] = ``value`` for samples known to lie in [lower, upper]? (distribution-free)

    ``method`` is "hoeffding" or "bernstein" (empirical Bernstein; tighter for small variance).
    """
    x = np.asarray(samples, dtype=np.float64).ravel()
    if x.size and (x.min() < lower or x.max() > upper):
        raise ValueError(f"samples outside the stated range [{lower}, {upper}]")
    n, width = x.size, upper - lower
    if method == "hoeffding":
        eps = hoeffding_epsilon(n, failure_prob, width, n_assertions)
    elif method == "bernstein":
        eps = bernstein_epsilon(n, float(x.var(ddof=1)), failure_prob, width, n_assertions)
    else:
        raise ValueError(f"unknown method {method!r}")
    error = abs(float(x.mean()) - value)
    detail = (f"mean {x.mean():.8g} of n = {n} samples in [{lower}, {upper}] vs value "
              f"{value:.8g}: |error| {error:.3g}, {method} ε {eps:.3g}; budget "
              f"{failure_prob:.3g} over {n_assertions} assertion(s)")
    return CheckResult(f"{method} bound", error <= eps, error, eps,
                       failure_prob / n_assertions, detail)


def assert_bounded_mean(samples: Any, value: float, *, lower: float, upper: float,
                        failure_prob: float, n_assertions: int = 1,
                        method: str = "bernstein") -> CheckResult:
    """:func:`check_bounded_mean`, raising :class:`StatisticalCheckFailed` on failure."""
    return check_bounded_mean(samples, value, lower=lower, upper=upper, failure_prob=failure_prob,
                              n_assertions=n_assertions, method=method).raise_if_failed()


# --------------------------------------------------------------------------------------------
# whole distributions


def dkwm_epsilon(n: int, failure_prob: float, n_assertions: int = 1) -> float:
    """ε with P(sup|F_n − F| > ε) ≤ α (DKW inequality with Massart's constant)."""
    return float(math.sqrt(math.log(2 / _alpha(failure_prob, n_assertions)) / (2 * n)))


def ks_threshold(n: int, failure_prob: float, n_assertions: int = 1) -> float:
    """The exact (1 − α) quantile of sup|F_n − F| for n samples from a continuous F."""
    return float(stats.kstwo.isf(_alpha(failure_prob, n_assertions), n))


def check_distribution(samples: Any, cdf: Callable[[np.ndarray], np.ndarray], *,
                       failure_prob: float, n_assertions: int = 1,
                       method: str = "ks") -> CheckResult:
    """Are 1-D ``samples`` drawn from the continuous distribution with this ``cdf``?

    Statistic D = sup_x |F_n(x) − F(x)|; threshold: the exact KS quantile (``method="ks"``)
    or the DKWM ε (``method="dkwm"``, slightly looser, distribution-free in closed form).
    """
    x = np.sort(np.asarray(samples, dtype=np.float64).ravel())
    n = x.size
    f = np.asarray(cdf(x), dtype=np.float64)
    ranks = np.arange(1, n + 1)
    statistic = float(max(np.max(ranks / n - f), np.max(f - (ranks - 1) / n)))
    if method == "ks":
        threshold = ks_threshold(n, failure_prob, n_assertions)
    elif method == "dkwm":
        threshold = dkwm_epsilon(n, failure_prob, n_assertions)
    else:
        raise ValueError(f"unknown method {method!r}")
    detail = (f"sup|F_n − F| = {statistic:.4g} over n = {n} samples vs {method} threshold "
              f"{threshold:.4g}; budget {failure_prob:.3g} over {n_assertions} assertion(s)")
    return CheckResult(f"{method} distribution test", statistic <= threshold, statistic,
                       threshold, failure_prob / n_assertions, detail)


def assert_distribution(samples: Any, cdf: Callable[[np.ndarray], np.ndarray], *,
                        failure_prob: float, n_assertions: int = 1,
                        method: str = "ks") -> CheckResult:
    """:func:`check_distribution`, raising :class:`StatisticalCheckFailed` on failure."""
    return check_distribution(samples, cdf, failure_prob=failure_prob,
                              n_assertions=n_assertions, method=method).raise_if_failed()


def detectable_cdf_distance(n: int, failure_prob: float, power: float,
                            n_assertions: int = 1) -> float:
    """A sup-distance between the true and the claimed CDF that the KS check detects with
    probability ≥ ``power``: ks_threshold(α) + dkwm_epsilon(1 − power).

    If sup|G − F| = δ for the true G, then D ≥ δ − sup|F_n − G|, and sup|F_n − G| ≤
    dkwm_epsilon(n, 1 − power) with probability ≥ power.
    """
    return ks_threshold(n, failure_prob, n_assertions) + dkwm_epsilon(n, 1 - power)
