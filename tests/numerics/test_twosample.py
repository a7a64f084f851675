"""Two-sample tests: samples of one distribution pass (calibration), and shifted, scaled or
re-weighted samples fail (power).

Budget (false failures ≤ 1e-6 for this FILE). E = Hypothesis max_examples (25 under "ci");
the energy tests run E_ENERGY = 10 examples (they cost an eigen-decomposition each).
Random assertions:
* calibration: energy 1-D and 2-D (2·E_ENERGY), sliced KS 1-D and 2-D (2E), mode weights (E);
* power: energy 1-D and 2-D (2·E_ENERGY), sliced KS shift 1-D, scale 1-D, shift 2-D (3E),
  mode weights (E);
* rejection rates over many null trials, permutation and spectral energy tests and the
  sliced KS test in one and two dimensions (4);
R = 4·E_ENERGY + 7E + 4 = 219. Each assertion gets ALPHA = 1e-6 / R = 4.6e-9: a calibration
check runs at failure_prob = ALPHA, and a power check must miss with probability ≤ ALPHA.

Calibration arithmetic: the sliced KS threshold is exact for n = m and the binomial
intervals are exact (modes 20σ apart: a sample lands nearer another mode with probability
≤ K·Φ(−10) ≈ 2e-23, negligible), so those fail with probability ≤ ALPHA. The spectral energy
threshold bounds the tail of the limit law (Chernoff); the plug-in eigenvalues and finite n
make it an approximation, which is checked here at α = 0.05 (rejection rate over 200 null
trials, for which it is far below α) and was checked at 0.2, 0.05, 0.01 over 500–1000 trials
on normal, mixture and t₃ samples (observed ≤ 0.018, 0.004, 0.002).

Power arithmetic (rigorous, per example):
* energy, shift 10σ, n = m = 200: E(P, Q) ≥ 2·10 − 2E|X − X'| (Jensen), = 17.74 in 1-D
  (E|X − X'| = 2/√π) and 16.45 in 2-D (√π). Ê is (4/√n)-Lipschitz in each Gaussian sample
  vector, L = √(16/n + 16/m) = 0.4, so Ê ≥ E − L√(2 log(2/ALPHA)) = E − 2.52 with probability
  ≥ 1 − ALPHA/2. The threshold is ≤ the Laurent–Massart bound (4/n)(D_max/2)(2√x + 2x),
  x = log(1/ALPHA), with D_max ≤ 10 + 2·7 (1-D; P(max |z| > 7) ≤ 400·2.6e-12) or 10 + 2·7.5
  (2-D; P(max ‖z‖ > 7.5) ≤ 400·e^{−28}) with probability ≥ 1 − ALPHA/2: thresholds ≤ 11.3 and
  11.8 < 15.2 and 13.9.
* KS: with Δ = sup|F − G| the statistic is ≥ Δ − sup|F_n − F| − sup|G_m − G|; DKW bounds
  each by ε(n, ALPHA/2), so the check fails whenever Δ > threshold + 2ε — asserted per case.
* mode weights: Hoeffding bounds the chance that the count of a mode with true weight 0.5
  stays inside the acceptance interval of a claimed 0.3 — asserted per case.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats

from numerics.tolerance import dkwm_epsilon
from numerics.twosample import (
    energy_distance,
    energy_test,
    ks_two_sample_threshold,
    mode_weight_test,
    nearest_mode_counts,
    sliced_ks_test,
)
from tests.strategies import means, scales, seeds

E = settings().max_examples
E_ENERGY = 10
R = 4 * E_ENERGY + 7 * E + 4
ALPHA = 1e-6 / R
DIRECTION_SEED = 20240611  # the slice directions: fixed, so the power arithmetic can use them

energy_examples = settings(max_examples=E_ENERGY)


def normal_samples(seed: int, n: int, shape: tuple[int, ...] = ()) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, *shape)), rng.standard_normal((n, *shape))


# -- energy distance --------------------------------------------------------------------------


def test_energy_distance_is_the_unbiased_u_statistic_computed_by_hand():
    # x = (0, 1), y = (3, 5): 2·mean|x − y| = 2·(3 + 5 + 2 + 4)/4 = 7; the within-sample means
    # over pairs i ≠ j are |0 − 1| = 1 and |3 − 5| = 2: Ê = 7 − 1 − 2 = 4
    assert energy_distance([0.0, 1.0], [3.0, 5.0]) == pytest.approx(4.0)
    # twin: the biased V-statistic (pairs i = j included) would give 7 − 1/2 − 1 = 5.5
    assert energy_distance([0.0, 1.0], [3.0, 5.0]) != pytest.approx(5.5)


def test_energy_test_statistic_equals_energy_distance_in_two_dimensions():
    rng = np.random.default_rng(4)
    x, y = rng.standard_normal((40, 2)), rng.standard_normal((30, 2)) + 0.5
    assert energy_test(x, y, failure_prob=0.01).statistic == pytest.approx(energy_distance(x, y),
                                                                          rel=1e-12)


@energy_examples
@given(seed=seeds(), mu=means(), sigma=scales(-1, 1))
def test_energy_test_passes_two_samples_of_one_normal(seed, mu, sigma):
    x, y = normal_samples(seed, 200)
    energy_test(mu + sigma * x, mu + sigma * y, failure_prob=ALPHA).raise_if_failed()


@energy_examples
@given(seed=seeds())
def test_energy_test_passes_two_samples_of_one_2d_mixture(seed):
    rng = np.random.default_rng(seed)
    modes = np.array([[0.0, 0.0], [3.0, 0.0], [0.0, 3.0]])
    x = modes[rng.integers(0, 3, 200)] + 0.5 * rng.standard_normal((200, 2))
    y = modes[rng.integers(0, 3, 200)] + 0.5 * rng.standard_normal((200, 2))
    energy_test(x, y, failure_prob=ALPHA).raise_if_failed()


@energy_examples
@given(seed=seeds())
def test_energy_test_rejects_a_normal_shifted_by_ten_sigma(seed):
    x, y = normal_samples(seed, 200)
    result = energy_test(x, y + 10.0, failure_prob=ALPHA)
    assert not result.passed and result.statistic > 15.2 - 1e-9


@energy_examples
@given(seed=seeds())
def test_energy_test_rejects_a_2d_normal_shifted_by_ten_sigma(seed):
    x, y = normal_samples(seed, 200, (2,))
    assert not energy_test(x, y + np.array([10.0, 0.0]), failure_prob=ALPHA).passed


def test_energy_permutation_test_rejects_at_the_nominal_rate_or_less():
    # the permutation test is exact: P(p ≤ α) ≤ α under the null. 200 null trials at α = 0.05:
    # the rejection count is stochastically ≤ Binomial(200, 0.05); fail only above its
    # 1 − ALPHA quantile.
    rng = np.random.default_rng(11)
    rejections = sum(not energy_test(rng.standard_normal(15), rng.standard_normal(15),
                                     failure_prob=0.05, method="permutation", rng=rng,
                                     permutations=39).passed for _ in range(200))
    assert rejections <= stats.binom.isf(ALPHA, 200, 0.05)


def test_energy_spectral_test_rejects_at_the_nominal_rate_or_less():
    rng = np.random.default_rng(12)
    rejections = sum(not energy_test(rng.standard_normal(15), rng.standard_normal(15),
                                     failure_prob=0.05).passed for _ in range(200))
    assert rejections <= stats.binom.isf(ALPHA, 200, 0.05)


def test_permutation_p_value_is_minimal_for_separated_samples_and_alpha_must_be_resolvable():
    rng = np.random.default_rng(3)
    x, y = rng.standard_normal(30), rng.standard_normal(30) + 10
    # any relabelling that mixes the groups lowers Ê; one that keeps them has probability
    # 2/C(60, 30) per permutation
    result = energy_test(x, y, failure_prob=0.05, method="permutation", rng=rng, permutations=99)
    assert not result.passed and result.p_value == pytest.approx(1 / 100)
    with pytest.raises(ValueError, match="cannot resolve"):
        energy_test(x, y, failure_prob=1e-6, method="permutation", rng=rng, permutations=99)
    with pytest.raises(ValueError, match="Generator"):
        energy_test(x, y, failure_prob=0.05, method="permutation")


# -- sliced Kolmogorov–Smirnov ----------------------------------------------------------------


def test_equal_size_ks_threshold_is_exact_against_scipy():
    n = 80
    for alpha in (0.05, 1e-3, 1e-6):
        t = ks_two_sample_threshold(n, n, alpha)
        h = round(t * n + 0.5)  # the smallest rejected D is h/n
        x = np.arange(n, dtype=float)
        # samples whose D is exactly h/n: shift one sample by h ranks
        p_reject = stats.ks_2samp(x, x + h - 0.5, method="exact").pvalue
        p_accept = stats.ks_2samp(x, x + h - 1.5, method="exact").pvalue
        assert p_reject <= alpha < p_accept


@given(seed=seeds(), mu=means(), sigma=scales())
def test_sliced_ks_passes_two_samples_of_one_normal(seed, mu, sigma):
    x, y = normal_samples(seed, 500)
    sliced_ks_test(mu + sigma * x, mu + sigma * y, failure_prob=ALPHA).raise_if_failed()


@given(seed=seeds())
def test_sliced_ks_passes_two_samples_of_one_2d_normal(seed):
    x, y = normal_samples(seed, 500, (2,))
    sliced_ks_test(x, y, failure_prob=ALPHA,
                   rng=np.random.default_rng(DIRECTION_SEED)).raise_if_failed()


def _ks_power_holds(delta: float, n: int, per_slice: float) -> bool:
    return delta > ks_two_sample_threshold(n, n, per_slice) + 2 * dkwm_epsilon(n, ALPHA / 2)


@given(seed=seeds())
def test_sliced_ks_rejects_a_normal_shifted_by_one_and_a_half_sigma(seed):
    n, shift = 500, 1.5
    assert _ks_power_holds(2 * stats.norm.cdf(shift / 2) - 1, n, ALPHA)  # Δ = 2Φ(δ/2) − 1
    x, y = normal_samples(seed, n)
    assert not sliced_ks_test(x, y + shift, failure_prob=ALPHA).passed


@given(seed=seeds())
def test_sliced_ks_rejects_a_normal_scaled_tenfold(seed):
    n, scale = 1000, 10.0
    # Δ = Φ(x*) − Φ(x*/s) at x*² = 2 log s / (1 − 1/s²), where the densities cross
    crossing = math.sqrt(2 * math.log(scale) / (1 - 1 / scale**2))
    assert _ks_power_holds(stats.norm.cdf(crossing) - stats.norm.cdf(crossing / scale), n, ALPHA)
    x, y = normal_samples(seed, n)
    assert not sliced_ks_test(x, scale * y, failure_prob=ALPHA).passed


@given(seed=seeds())
def test_sliced_ks_rejects_a_2d_normal_shifted_along_one_axis(seed):
    n, shift, slices = 1000, 2.0, 16
    directions = np.random.default_rng(DIRECTION_SEED).standard_normal((slices, 2))
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    along = shift * np.max(np.abs(directions[:, 0]))  # the shift seen by the best slice
    assert _ks_power_holds(2 * stats.norm.cdf(along / 2) - 1, n, ALPHA / slices)
    x, y = normal_samples(seed, n, (2,))
    assert not sliced_ks_test(x, y + np.array([shift, 0.0]), failure_prob=ALPHA,
                              directions=directions).passed


def test_the_sliced_ks_test_rejects_at_the_nominal_rate_or_less():
    # one slice (1-D): the equal-size threshold is exact, so under the null P(reject) ≤ α;
    # 200 null trials at α = 0.05 give a count stochastically ≤ Binomial(200, 0.05). A test
    # whose real rate were 6α (0.3) would give ~60 rejections, far above the bound (~30).
    rng = np.random.default_rng(13)
    rejections = sum(not sliced_ks_test(rng.standard_normal(30), rng.standard_normal(30),
                                        failure_prob=0.05).passed for _ in range(200))
    assert rejections <= stats.binom.isf(ALPHA, 200, 0.05)
    # 16 slices in 2-D, Bonferroni over them: still at most the nominal rate
    rng = np.random.default_rng(14)
    rejections = sum(not sliced_ks_test(rng.standard_normal((30, 2)),
                                        rng.standard_normal((30, 2)), failure_prob=0.05,
                                        rng=rng).passed for _ in range(200))
    assert rejections <= stats.binom.isf(ALPHA, 200, 0.05)


def test_sliced_ks_needs_a_generator_for_random_slices_and_matching_dimensions():
    x = np.zeros((5, 2))
    with pytest.raises(ValueError, match="Generator"):
        sliced_ks_test(x, x, failure_prob=0.01)
    with pytest.raises(ValueError, match="the samples differ in dimension"):
        sliced_ks_test(x, np.zeros((5, 3)), failure_prob=0.01, rng=np.random.default_rng(0))


# -- mode weights -----------------------------------------------------------------------------

MODES = np.array([[0.0, 0.0], [20.0, 0.0], [0.0, 20.0]])


def mixture(seed: int, n: int, weights) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return MODES[rng.choice(len(MODES), size=n, p=weights)] + rng.standard_normal((n, 2))


@st.composite
def weights(draw):
    raw = [draw(st.floats(0.1, 1.0)) for _ in range(len(MODES))]
    return [w / sum(raw) for w in raw]


@given(seed=seeds(), w=weights())
def test_mode_weight_test_passes_samples_of_the_stated_mixture(seed, w):
    mode_weight_test(mixture(seed, 1000, w), MODES, w, failure_prob=ALPHA).raise_if_failed()


@given(seed=seeds())
def test_mode_weight_test_rejects_swapped_weights(seed):
    n, true, claimed = 1000, [0.5, 0.3, 0.2], [0.3, 0.5, 0.2]
    upper = stats.binom.isf(ALPHA / 6, n, 0.3)  # mode 0's interval under the claim ends here
    assert math.exp(-2 * n * (0.5 - upper / n) ** 2) <= ALPHA  # Hoeffding: count_0 ≤ upper
    assert not mode_weight_test(mixture(seed, n, true), MODES, claimed, failure_prob=ALPHA).passed


def test_nearest_mode_counts_and_torch_inputs():
    points = torch.tensor([[0.1, 0.0], [19.0, 1.0], [0.0, 21.0], [1.0, 1.0]])
    assert nearest_mode_counts(points, MODES).tolist() == [2, 1, 1]
    result = mode_weight_test(points, MODES, [0.5, 0.25, 0.25], failure_prob=0.5)
    assert "counts [2, 1, 1]" in result.detail
    with pytest.raises(ValueError, match="sum to 1"):
        mode_weight_test(points, MODES, [0.5, 0.5, 0.5], failure_prob=0.1)


# -- exact checks that kill mutants (issue 13); deterministic: they spend no part of the budget --


@pytest.mark.parametrize("counts", [[50, 0, 0], [47, 3, 0], [40, 5, 5]])
def test_the_mode_weight_statistic_is_the_worst_deviation_over_its_interval_half_width(counts):
    # narrow intervals (a half-width below one count) included: w = 0.998 with n = 50
    points = np.repeat(MODES, counts, axis=0)
    w, alpha = np.array([0.998, 0.001, 0.001]), 0.5
    result = mode_weight_test(points, MODES, w, failure_prob=alpha)
    tail, expected = alpha / 6, 50 * w
    lower, upper = stats.binom.ppf(tail, 50, w), stats.binom.isf(tail, 50, w)
    c = np.array(counts)
    half = np.where(c >= expected, upper - expected, expected - lower)
    inside = (c >= lower) & (c <= upper)
    # an interval that ends on the expected count's side has no half-width: 0 inside, ∞ outside
    ratios = [abs(ci - e) / h if h > 0 else (0.0 if ok else math.inf)
              for ci, e, h, ok in zip(c, expected, half, inside)]
    assert result.statistic == pytest.approx(max(ratios))
    assert result.passed == bool(np.all(inside))


def test_samples_of_more_than_two_dimensions_are_refused_by_shape():
    with pytest.raises(ValueError, match="shape"):
        energy_test(np.zeros((5, 2, 2)), np.zeros((5, 2, 2)), failure_prob=0.05)


def test_the_permutation_null_is_the_energy_distance_of_each_relabelling():
    x = np.random.default_rng(31).standard_normal(12)
    y = np.random.default_rng(32).standard_normal(9) + 0.3
    pooled = np.concatenate([x, y])
    in_x = np.arange(21) < 12
    # (permutations, α, k): reject iff fewer than k = ⌊α(B + 1)⌋ null statistics reach Ê
    for permutations, alpha, k in ((199, 0.05, 10), (99, 0.01, 1), (130, 0.1, 13)):
        replay = np.random.default_rng(7)  # the same relabellings as the test's generator
        null = []
        for _ in range(permutations):
            labels = replay.permutation(in_x)
            null.append(energy_distance(pooled[labels], pooled[~labels]))
        result = energy_test(x, y, failure_prob=alpha, method="permutation",
                             rng=np.random.default_rng(7), permutations=permutations)
        assert result.statistic == pytest.approx(energy_distance(x, y), rel=1e-12)
        assert result.threshold == pytest.approx(sorted(null, reverse=True)[k - 1], rel=1e-9)
        assert result.p_value == pytest.approx(
            (1 + sum(t >= result.statistic for t in null)) / (1 + permutations))


def test_a_permutation_p_value_equal_to_alpha_rejects():
    x = np.random.default_rng(5).standard_normal(10)
    result = energy_test(x, x[::-1] + 10, failure_prob=0.05, method="permutation",
                         rng=np.random.default_rng(6), permutations=19)
    assert result.p_value == 0.05 and not result.passed


def test_the_permutation_test_uses_200_permutations_by_default():
    x = np.random.default_rng(8).standard_normal(6)
    result = energy_test(x, x + 0.1, failure_prob=0.05, method="permutation",
                         rng=np.random.default_rng(9))
    assert "from 200 permutations" in result.detail


def test_two_points_per_sample_are_enough_for_the_energy_test_and_one_is_not():
    assert energy_test([0.0, 1.0], [0.5, 1.5], failure_prob=0.05).statistic == pytest.approx(
        energy_distance([0.0, 1.0], [0.5, 1.5]))
    with pytest.raises(ValueError, match="two points"):
        energy_test([0.0], [0.5, 1.5], failure_prob=0.05)
    with pytest.raises(ValueError, match="two points"):
        energy_test([0.0, 1.0], [0.5], failure_prob=0.05)


def test_identical_constant_samples_pass_the_spectral_energy_test_with_a_zero_threshold():
    result = energy_test(np.zeros(10), np.zeros(12), failure_prob=0.05)
    assert result.passed and result.threshold == 0.0 and result.statistic == 0.0


@pytest.mark.parametrize("n", [20, 60])  # the dense and the iterative (eigsh) branch
def test_the_centred_kernel_spectrum_is_its_top_eigenvalues_and_the_square_sum_of_the_rest(n):
    from scipy.spatial.distance import cdist

    from numerics.twosample import TOP_EIGENVALUES, _centred_kernel_spectrum

    points = np.random.default_rng(n).standard_normal((n, 2))
    distances = cdist(points, points)
    centring = np.eye(n) - 1.0 / n
    eigenvalues = np.sort(np.linalg.eigvalsh(-0.5 * centring @ distances @ centring / n))[::-1]
    top, rest_sq = _centred_kernel_spectrum(distances)
    assert top == pytest.approx(eigenvalues[:TOP_EIGENVALUES], abs=1e-9)
    assert rest_sq == pytest.approx(float(np.sum(eigenvalues[TOP_EIGENVALUES:] ** 2)), rel=1e-6)


def test_the_weighted_chi2_threshold_is_the_chernoff_bound_minimised_over_s():
    from scipy.optimize import minimize_scalar

    from numerics.twosample import _weighted_chi2_threshold

    top, rest = np.array([1.0, 0.5, 0.2]), np.full(20, 0.2)  # the rest: 20 eigenvalues ≤ 0.2
    rest_sq, x = float(np.sum(rest**2)), math.log(1 / 1e-3)

    def minimum(cumulant) -> float:
        found = minimize_scalar(lambda s: (cumulant(s) + x) / s, bounds=(1e-9, 0.5 - 1e-12),
                                method="bounded", options={"xatol": 1e-13})
        return float(found.fun)

    def exact(s, lambdas):
        return float(np.sum(-0.5 * np.log1p(-2 * s * lambdas) - s * lambdas))

    bound = minimum(lambda s: exact(s, top) + s * s * rest_sq / (1 - 2 * s * 0.2))
    threshold = _weighted_chi2_threshold(top, rest_sq, 1e-3)
    assert threshold == pytest.approx(bound, rel=1e-10)
    # valid: never below the Chernoff bound computed with every eigenvalue
    assert threshold >= minimum(lambda s: exact(s, np.concatenate([top, rest])))


@pytest.mark.parametrize("scale", [1e-6, 1e-3, 1e3, 1e6])
def test_the_weighted_chi2_threshold_scales_with_the_eigenvalues(scale):
    # Q = Σ λ_l (Z_l² − 1) scales with λ, so its (1 − α) Chernoff threshold does too
    from numerics.twosample import _weighted_chi2_threshold

    top, rest_sq = np.array([1.0, 0.5, 0.2]), 20 * 0.2**2
    scaled = _weighted_chi2_threshold(scale * top, scale**2 * rest_sq, 1e-3)
    assert scaled == pytest.approx(scale * _weighted_chi2_threshold(top, rest_sq, 1e-3), rel=1e-10)
    # twin: the threshold of other eigenvalues is not that
    other = _weighted_chi2_threshold(scale * np.array([1.0, 0.3, 0.1]), scale**2 * rest_sq, 1e-3)
    assert other != pytest.approx(scaled, rel=1e-3)


def test_an_equal_size_ks_level_that_is_exactly_attainable_gives_that_rejection_region():
    from numerics.twosample import _equal_size_ks_tail

    for h in (5, 8, 12):
        assert ks_two_sample_threshold(20, 20, _equal_size_ks_tail(20, h)) == (h - 0.5) / 20


def test_the_unequal_size_ks_threshold_is_the_scaled_kolmogorov_limit():
    for n, m in ((400, 401), (100, 150), (1000, 700)):
        assert ks_two_sample_threshold(n, m, 1e-3) == pytest.approx(
            stats.kstwobign.isf(1e-3) * math.sqrt((n + m) / (n * m)))
    # for nearly equal sizes the limit is close to the exact equal-size threshold
    assert ks_two_sample_threshold(400, 401, 1e-3) == pytest.approx(
        ks_two_sample_threshold(400, 400, 1e-3), rel=0.05)


def test_the_sliced_ks_test_uses_16_random_slices_by_default():
    x = np.random.default_rng(10).standard_normal((40, 2))
    result = sliced_ks_test(x, x[::-1], failure_prob=0.05, rng=np.random.default_rng(11))
    assert "max over 16 slice(s)" in result.detail


def test_the_mode_weight_test_needs_one_weight_per_mode():
    points = np.array([[0.1, 0.0], [19.0, 1.0], [0.0, 21.0]])
    with pytest.raises(ValueError, match="one weight per mode"):
        mode_weight_test(points, MODES, [0.5, 0.5], failure_prob=0.1)


def test_the_mode_weight_statistic_is_the_worst_deviation_relative_to_its_half_interval():
    n, w, alpha = 300, np.array([0.5, 0.3, 0.2]), 0.01
    lower = stats.binom.ppf(alpha / 6, n, w)
    upper = stats.binom.isf(alpha / 6, n, w)
    # the worst mode is below its expected count in the first sample, above it in the second
    for true in ([0.4, 0.35, 0.25], [0.6, 0.25, 0.15]):
        counts = nearest_mode_counts(mixture(21, n, true), MODES)
        half = np.where(counts >= n * w, upper - n * w, n * w - lower)
        result = mode_weight_test(mixture(21, n, true), MODES, w, failure_prob=alpha)
        assert result.statistic == pytest.approx(float(np.max(np.abs(counts - n * w) / half)))
        assert result.threshold == 1.0
        assert result.passed == (result.statistic <= 1.0)


def test_a_mode_of_weight_one_or_zero_matched_exactly_has_statistic_zero():
    points = np.tile(MODES[0], (50, 1))
    result = mode_weight_test(points, MODES, [1.0, 0.0, 0.0], failure_prob=0.01)
    assert result.passed and result.statistic == 0.0
