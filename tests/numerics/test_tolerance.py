"""The statistical assertion helpers: correct values pass, wrong values fail, powers are right.

False-failure budget of this file: 1e-6. Random assertions (E = Hypothesis max_examples, 25
under the "ci" profile; the arithmetic follows the loaded profile):

* z-test: a correct mean passes (E) and a shifted mean fails (E);
* Hoeffding and Bernstein: a correct mean passes (2E), a shifted mean fails (2E);
* KS and DKWM: the true CDF passes (2E), a shifted CDF fails (2E);

R = 10E = 250 assertions. Each gets α = 1e-6 / (R · 10) = 4e-10 (the extra factor 10 covers
the t-versus-normal tail of the z-test with an estimated standard error at n = 1000: at
z ≈ 6.3 the t_999 tail is 1.6 times the normal one). The "fails" assertions are the twins:
their shift is chosen so that the check misses it with probability ≤ α as well — for the
z-test by ``detectable_error`` (normal approximation, power 1 − α), for Hoeffding and DKW
rigorously (an error ε_check + ε_miss can only be missed if the sample mean / the empirical
CDF is off by ε_miss, which Hoeffding / DKW bound by α). Everything else is deterministic.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from scipy import stats

from numerics.estimates import Estimate
from numerics.tolerance import (
    StatisticalCheckFailed,
    assert_bounded_mean,
    assert_close,
    assert_distribution,
    bernstein_epsilon,
    check_bounded_mean,
    check_close,
    check_distribution,
    detectable_cdf_distance,
    detectable_error,
    dkwm_epsilon,
    hoeffding_epsilon,
    ks_threshold,
    power,
    samples_for_power,
    tolerance,
    z_quantile,
)
from tests.strategies import means, probabilities, scales, seeds

FILE_BUDGET = 1e-6
E = settings().max_examples
R = 10 * E
ALPHA = FILE_BUDGET / (R * 10)
N = 1000


# -- z-test -----------------------------------------------------------------------------------


@given(seed=seeds(), mu=means(), sigma=scales())
def test_z_test_passes_the_mean_of_normal_samples(seed, mu, sigma):
    x = np.random.default_rng(seed).normal(mu, sigma, N)
    assert_close(Estimate.from_samples(x), mu, failure_prob=ALPHA)


@given(seed=seeds(), mu=means(), sigma=scales())
def test_z_test_rejects_a_mean_shifted_by_its_detectable_error(seed, mu, sigma):
    x = np.random.default_rng(seed).normal(mu, sigma, N)
    shift = detectable_error(sigma / math.sqrt(N), ALPHA, power=1 - ALPHA)
    with pytest.raises(StatisticalCheckFailed):
        assert_close(Estimate.from_samples(x), mu + shift, failure_prob=ALPHA)


def test_tolerance_is_the_bonferroni_split_normal_quantile():
    assert z_quantile(0.05) == pytest.approx(1.959964, abs=1e-6)
    assert z_quantile(0.05, n_assertions=5) == pytest.approx(stats.norm.isf(0.005))
    assert tolerance(2.0, 1e-6, 10) == pytest.approx(2.0 * stats.norm.isf(5e-8))


def test_failure_message_quotes_estimate_standard_error_tolerance_and_budget():
    estimate = Estimate(mean=2.5, standard_error=0.1, n=400)
    with pytest.raises(StatisticalCheckFailed) as failure:
        assert_close(estimate, 1.0, failure_prob=1e-6, n_assertions=4)
    message = str(failure.value)
    z = stats.norm.isf(1e-6 / 4 / 2)
    for quoted in ("2.5", "0.1", "n = 400", f"{z * 0.1:.3g}", "1e-06", "4 assertion"):
        assert quoted in message


def test_an_array_estimate_counts_one_assertion_per_entry():
    se = np.full(100, 1.0)
    z_single, z_split = stats.norm.isf(0.01 / 2), stats.norm.isf(0.01 / 200)
    # every entry off by 1.2 z_single: beyond one assertion's tolerance, within the split one
    assert check_close(Estimate(np.full(100, 1.2 * z_single), se, 50), 0.0,
                       failure_prob=0.01).passed
    assert not check_close(Estimate(1.2 * z_single, 1.0, 50), 0.0, failure_prob=0.01).passed
    mean = np.zeros(100)
    mean[37] = z_split * 1.01
    fails = check_close(Estimate(mean, se, 50), 0.0, failure_prob=0.01)
    assert not fails.passed and "(37,)" in fails.detail


def test_difference_of_independent_estimates_is_checked_against_the_combined_error():
    a, b = Estimate(1.0, 0.3, 100), Estimate(0.0, 0.4, 100)  # |diff| 1.0, combined se 0.5
    assert check_close(a, b, failure_prob=0.01).passed  # tolerance 2.58 · 0.5 = 1.29
    assert not check_close(a, Estimate(0.0, 0.1, 100), failure_prob=0.01).passed  # 2.58 · 0.316


def test_a_zero_variance_estimate_allows_only_floating_point_rounding():
    exact = Estimate(0.0, 0.0, 100)  # e.g. KL(q‖q) from two identical log-densities
    assert check_close(exact, 1.1e-16, failure_prob=1e-6).passed
    assert not check_close(exact, 1e-10, failure_prob=1e-6).passed


def test_a_nan_estimate_never_passes():
    assert not check_close(Estimate(float("nan"), 1.0, 10), 0.0, failure_prob=0.5).passed


def test_power_and_detectable_error_and_samples_for_power_agree():
    se, alpha = 0.01, 1e-6
    for wanted in (0.5, 0.9, 1 - 1e-6):
        error = detectable_error(se, alpha, power=wanted)
        assert power(error, se, alpha) == pytest.approx(wanted, abs=1e-6)
    n = samples_for_power(standard_deviation=2.0, error=0.1, failure_prob=alpha, power=0.99)
    assert power(0.1, 2.0 / math.sqrt(n), alpha) >= 0.99
    assert power(0.1, 2.0 / math.sqrt(n - 1), alpha) < 0.99 + 1e-9
    assert power(0.0, se, alpha) == pytest.approx(alpha)  # no error: rejects at rate α


# -- bounded means ----------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["hoeffding", "bernstein"])
@given(seed=seeds(), p=probabilities(0.05))
def test_bounded_checks_pass_the_mean_of_bernoulli_samples(method, seed, p):
    x = np.random.default_rng(seed).random(N) < p
    assert_bounded_mean(x, p, lower=0.0, upper=1.0, failure_prob=ALPHA, method=method)


@pytest.mark.parametrize("method", ["hoeffding", "bernstein"])
@given(seed=seeds(), p=probabilities(0.05))
def test_bounded_checks_reject_a_mean_off_by_the_check_and_miss_widths(method, seed, p):
    # the check's ε is at most the Bernstein bound with the largest variance 1/4·n/(n−1),
    # and Hoeffding's own: an error of that plus the Hoeffding width at ALPHA is missed only
    # if |x̄ − p| ≥ Hoeffding width, which has probability ≤ ALPHA.
    check_width = max(hoeffding_epsilon(N, ALPHA), bernstein_epsilon(N, 0.25 * N / (N - 1), ALPHA))
    shift = check_width + hoeffding_epsilon(N, ALPHA)
    x = np.random.default_rng(seed).random(N) < p
    claimed = p + shift if p + shift <= 1 else p - shift
    assert not check_bounded_mean(x, claimed, lower=0.0, upper=1.0, failure_prob=ALPHA,
                                  method=method).passed


def test_bounded_check_refuses_samples_outside_the_stated_range():
    with pytest.raises(ValueError, match="outside"):
        check_bounded_mean([0.5, 1.5], 1.0, lower=0, upper=1, failure_prob=0.01)


def test_hoeffding_and_bernstein_widths_follow_their_formulas():
    assert hoeffding_epsilon(200, 0.01, width=2.0) == pytest.approx(2 * math.sqrt(math.log(200) / 400))
    v, n, a = 0.04, 500, 1e-3
    expected = math.sqrt(2 * v * math.log(4 / a) / n) + 7 * math.log(4 / a) / (3 * (n - 1))
    assert bernstein_epsilon(n, v, a) == pytest.approx(expected)
    assert bernstein_epsilon(10_000, 0.001, 1e-6) < hoeffding_epsilon(10_000, 1e-6)  # small variance


# -- whole distributions ----------------------------------------------------------------------


@pytest.mark.parametrize("method", ["ks", "dkwm"])
@given(seed=seeds(), mu=means(), sigma=scales())
def test_distribution_check_passes_samples_of_the_stated_normal(method, seed, mu, sigma):
    x = np.random.default_rng(seed).normal(mu, sigma, N)
    assert_distribution(x, stats.norm(mu, sigma).cdf, failure_prob=ALPHA, method=method)


@pytest.mark.parametrize("method", ["ks", "dkwm"])
@given(seed=seeds(), mu=means(), sigma=scales())
def test_distribution_check_rejects_a_normal_shifted_by_the_detectable_distance(method, seed, mu,
                                                                                sigma):
    # the KS threshold is below the DKWM ε, so DKWM's detectable distance serves both:
    # a CDF off by δ ≥ ε_check + ε_DKW(ALPHA) is missed with probability ≤ ALPHA.
    delta = 1.01 * max(detectable_cdf_distance(N, ALPHA, 1 - ALPHA), 2 * dkwm_epsilon(N, ALPHA))
    shift = 2 * stats.norm.ppf(0.5 + delta / 2) * sigma  # sup|Φ(x) − Φ(x − s)| = 2Φ(s/2) − 1
    x = np.random.default_rng(seed).normal(mu, sigma, N)
    assert not check_distribution(x, stats.norm(mu + shift, sigma).cdf, failure_prob=ALPHA,
                                  method=method).passed


def test_ks_threshold_is_exact_and_below_dkwm():
    n, alpha = 300, 1e-4
    t = ks_threshold(n, alpha)
    assert stats.kstwo.sf(t, n) == pytest.approx(alpha, rel=1e-3)
    assert t < dkwm_epsilon(n, alpha)
    assert dkwm_epsilon(n, alpha) == pytest.approx(math.sqrt(math.log(2 / alpha) / (2 * n)))


# -- exact checks that kill mutants (issue 13); deterministic, no false-failure budget spent ------


def test_a_zero_variance_estimate_may_differ_by_64_ulps_of_its_magnitude_and_no_more():
    eps = float(np.finfo(np.float64).eps)
    exact = Estimate.exact(1.0)
    assert check_close(exact, 1.0 + 63 * eps, failure_prob=0.05).passed
    assert not check_close(exact, 1.0 + 65 * eps, failure_prob=0.05).passed


def test_two_independent_estimates_are_compared_by_their_difference():
    five = Estimate(5.0, 0.01, 100)
    assert check_close(five, Estimate(5.0, 0.01, 100), failure_prob=0.05).passed
    assert not check_close(five, Estimate(6.0, 0.01, 100), failure_prob=0.05).passed
    assert check_close(five, Estimate(5.0, 0.01, 100), failure_prob=0.05).statistic == 0.0


def test_an_exactly_matching_entry_with_an_unknown_standard_error_is_not_the_worst_entry():
    estimate = Estimate(np.array([1.0, 2.0]), np.array([np.nan, 0.1]), 1)
    result = check_close(estimate, np.array([1.0, 2.1]), failure_prob=0.05)
    assert result.passed
    assert result.statistic == pytest.approx(0.1)
    assert "at entry (1,)" in result.detail


def test_detectable_error_defaults_to_power_one_half():
    assert detectable_error(2.0, 0.05) == pytest.approx(2 * z_quantile(0.05))


@pytest.mark.parametrize("bad_power", [0.0, 1.0, -0.1, 1.5])
def test_detectable_error_refuses_a_power_outside_the_open_unit_interval(bad_power):
    with pytest.raises(ValueError, match="power"):
        detectable_error(1.0, 0.05, power=bad_power)


def test_the_empirical_bernstein_bound_refuses_fewer_than_two_samples():
    with pytest.raises(ValueError, match="n ≥ 2"):
        bernstein_epsilon(1, 0.0, 0.05)


def test_bounded_mean_thresholds_use_the_width_of_the_range_and_the_unbiased_variance():
    x = np.array([2.1, 2.2, 2.35, 2.5, 2.5, 2.65, 2.8, 2.9, 2.95, 2.05])
    hoeffding = check_bounded_mean(x, 2.5, lower=2.0, upper=3.0, failure_prob=0.05,
                                   method="hoeffding")
    assert hoeffding.threshold == pytest.approx(hoeffding_epsilon(10, 0.05, width=1.0))
    bernstein = check_bounded_mean(x, 2.5, lower=2.0, upper=3.0, failure_prob=0.05)
    assert bernstein.threshold == pytest.approx(
        bernstein_epsilon(10, float(np.var(x, ddof=1)), 0.05, width=1.0))
    assert bernstein.statistic == pytest.approx(abs(float(x.mean()) - 2.5))


@pytest.mark.parametrize("method", ["hoeffding", "bernstein"])
def test_a_mean_exactly_at_the_bounded_mean_threshold_passes(method):
    x = np.zeros(10)  # sample variance exactly 0
    eps = (hoeffding_epsilon(10, 0.05) if method == "hoeffding"
           else bernstein_epsilon(10, 0.0, 0.05))
    result = check_bounded_mean(x, eps, lower=0.0, upper=1.0, failure_prob=0.05, method=method)
    assert result.statistic == result.threshold
    assert result.passed


def test_the_distribution_statistic_is_the_one_sample_ks_statistic():
    assert check_distribution([0.9, 0.95], stats.uniform.cdf,
                              failure_prob=0.05).statistic == pytest.approx(0.9)
    assert check_distribution([0.05, 0.1], stats.uniform.cdf,
                              failure_prob=0.05).statistic == pytest.approx(0.9)
    x = np.random.default_rng(20261205).normal(size=50)
    assert check_distribution(x, stats.norm.cdf, failure_prob=0.05).statistic == pytest.approx(
        stats.kstest(x, stats.norm.cdf).statistic)


def test_each_distribution_method_uses_its_own_threshold():
    x = np.linspace(0.01, 0.99, 40)
    ks = check_distribution(x, stats.uniform.cdf, failure_prob=0.05, n_assertions=2)
    dkwm = check_distribution(x, stats.uniform.cdf, failure_prob=0.05, n_assertions=2,
                              method="dkwm")
    assert ks.threshold == pytest.approx(ks_threshold(40, 0.05, 2))
    assert dkwm.threshold == pytest.approx(dkwm_epsilon(40, 0.05, 2))


def test_each_check_records_the_failure_probability_it_spends():
    x = np.linspace(0.01, 0.99, 40)
    assert check_close(Estimate(0.5, 0.1, 40), 0.5, failure_prob=0.04,
                       n_assertions=4).failure_prob == pytest.approx(0.01)
    assert check_bounded_mean(x, 0.5, lower=0.0, upper=1.0, failure_prob=0.04,
                              n_assertions=4).failure_prob == pytest.approx(0.01)
    assert check_distribution(x, stats.uniform.cdf, failure_prob=0.04,
                              n_assertions=4).failure_prob == pytest.approx(0.01)


def test_the_detectable_cdf_distance_adds_the_ks_threshold_and_the_dkw_miss_margin():
    assert detectable_cdf_distance(200, 1e-3, 0.9) == pytest.approx(
        ks_threshold(200, 1e-3) + dkwm_epsilon(200, 0.1))
    assert detectable_cdf_distance(200, 1e-3, 0.9) > ks_threshold(200, 1e-3)
