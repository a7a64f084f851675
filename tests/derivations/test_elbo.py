"""The derived ELBO results against textbook forms typed here independently, against SciPy, and
against Monte Carlo.

Textbook forms: Bishop, PRML (2.115)–(2.117) for the linear-Gaussian model (marginal
N(b, s² + a²), posterior covariance Σ = (1 + a²/s²)⁻¹ and mean Σ a (x − b)/s²); Kingma &
Welling (2014), eq. (10) and appendix B, for the ELBO as reconstruction minus KL; Bishop (10.2)–
(10.4) for log p(x) = ELBO + KL(q‖p(z|x)).

Statistics (the Monte Carlo tests at the end). The false-failure budget of this file is 1e-6
(Bonferroni over all its random assertions): ``EXAMPLES`` Hypothesis examples in each of two
tests, two z-tests per example in the first (type I errors) and one rejection per example in
the second (a type II error: the check fails to reject a wrong formula), so each of the
3 · EXAMPLES assertions may fail by bad luck with probability 1e-6 / (3 · EXAMPLES).
The z-test is |x̄ − value| ≤ z_{1−α/2} · se with se the sample standard error
(``numerics.tolerance.check_close``); the estimator is a quadratic in a Gaussian, and with
n = 10⁵ samples its mean is close enough to normal for the stated tail (CLT). In the twin the
mutant sits ≥ z + 5.4 standard errors away, so the normal approximation is not strained there.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
import sympy as sp
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import integrate, stats

from derivations import elbo, kl
from derivations.core import Step
from numerics.estimates import Estimate
from numerics.tolerance import CheckResult, check_close, power, samples_for_power
from tests.strategies import means, scales, seeds

x, z, a, b, m = sp.symbols("x z a b m", real=True)
s, v = sp.symbols("s v", positive=True)

# Bishop (2.113)–(2.117) with Λ = 1, μ₀ = 0, A = a, L = 1/s²
TEXTBOOK_POSTERIOR_VARIANCE = 1 / (1 + a**2 / s**2)
TEXTBOOK_POSTERIOR_MEAN = TEXTBOOK_POSTERIOR_VARIANCE * a * (x - b) / s**2
TEXTBOOK_EVIDENCE_VARIANCE = s**2 + a**2
TEXTBOOK_LOG_EVIDENCE = -(x - b) ** 2 / (2 * TEXTBOOK_EVIDENCE_VARIANCE) \
    - sp.log(2 * sp.pi * TEXTBOOK_EVIDENCE_VARIANCE) / 2


def textbook_kl(m1: sp.Expr, s1: sp.Expr, m2: sp.Expr, s2: sp.Expr) -> sp.Expr:
    """KL(N(m1, s1²)‖N(m2, s2²)), Kingma & Welling appendix B."""
    return sp.log(s2 / s1) + (s1**2 + (m1 - m2) ** 2) / (2 * s2**2) - sp.Rational(1, 2)


# reconstruction − KL: E_q[log N(x; a z + b, s²)] = −½ log(2πs²) − ((x − b − a m)² + a²v²)/(2s²)
TEXTBOOK_RECONSTRUCTION = -sp.log(2 * sp.pi * s**2) / 2 \
    - ((x - b - a * m) ** 2 + a**2 * v**2) / (2 * s**2)
TEXTBOOK_ELBO = TEXTBOOK_RECONSTRUCTION - (m**2 + v**2 - 1 - sp.log(v**2)) / 2

BUILDERS = [elbo.jensen_bound, elbo.discrete_identity, elbo.completing_the_square,
            elbo.quadratic_expectation, elbo.evidence, elbo.log_evidence, elbo.posterior_mean,
            elbo.posterior_variance, elbo.posterior, elbo.elbo_linear_gaussian,
            elbo.prior_and_entropy_terms, elbo.single_sample_expectation,
            elbo.evidence_identity, elbo.prior_as_q_gap, elbo.optimal_q]

POINTS = [  # (x, a, b, s, m, v)
    (0.7, 1.3, -0.4, 0.8, 0.2, 0.5),
    (-1.5, -0.6, 0.9, 1.7, -1.1, 1.4),
    (2.2, 0.25, 0.0, 0.4, 0.9, 0.3),
]


def same(left: sp.Expr, right: sp.Expr) -> bool:
    return sp.simplify(sp.expand_log(left - right, force=True)) == 0


def value(expr: sp.Expr, point: tuple[float, ...]) -> float:
    return float(expr.subs(dict(zip((x, a, b, s, m, v), point))))


# -- every derivation verifies ----------------------------------------------------------------


@pytest.mark.parametrize("build", BUILDERS, ids=lambda build: build.__name__)
def test_each_elbo_derivation_verifies_and_names_its_homework_part(build):
    derivation = build()
    verification = derivation.verify()
    assert verification.ok, verification.first_failure
    assert derivation.part in ("1.c", "1.e", "1.f", "1.i")


def test_the_exported_constants_keep_their_argument_order():
    order = {name: [str(arg) for arg in getattr(elbo, name).variables] for name in (
        "EVIDENCE_LINEAR_GAUSSIAN", "LOG_EVIDENCE_LINEAR_GAUSSIAN",
        "POSTERIOR_MEAN_LINEAR_GAUSSIAN",
        "POSTERIOR_VARIANCE_LINEAR_GAUSSIAN", "POSTERIOR_LOG_DENSITY_LINEAR_GAUSSIAN",
        "ELBO_LINEAR_GAUSSIAN", "ELBO_GAP_STANDARD_NORMAL_Q", "OPTIMAL_Q")}
    assert order == {
        "EVIDENCE_LINEAR_GAUSSIAN": ["x", "a", "b", "s"],
        "LOG_EVIDENCE_LINEAR_GAUSSIAN": ["x", "a", "b", "s"],
        "POSTERIOR_MEAN_LINEAR_GAUSSIAN": ["x", "a", "b", "s"],
        "POSTERIOR_VARIANCE_LINEAR_GAUSSIAN": ["a", "s"],
        "POSTERIOR_LOG_DENSITY_LINEAR_GAUSSIAN": ["z", "x", "a", "b", "s"],
        "ELBO_LINEAR_GAUSSIAN": ["x", "a", "b", "s", "m", "v"],
        "ELBO_GAP_STANDARD_NORMAL_Q": ["x", "a", "b", "s"],
        "OPTIMAL_Q": ["ell_k", "pi_k", "ell", "pi"],
    }


# -- the linear-Gaussian model against Bishop and SciPy ----------------------------------------


def test_the_posterior_is_bishops_linear_gaussian_posterior():
    assert same(elbo.POSTERIOR_MEAN_LINEAR_GAUSSIAN(x, a, b, s), TEXTBOOK_POSTERIOR_MEAN)
    assert same(elbo.POSTERIOR_VARIANCE_LINEAR_GAUSSIAN(a, s), TEXTBOOK_POSTERIOR_VARIANCE)
    for point in POINTS:
        zed = 0.3
        mean = value(TEXTBOOK_POSTERIOR_MEAN, point)
        variance = value(TEXTBOOK_POSTERIOR_VARIANCE, point)
        derived = value(elbo.POSTERIOR_LOG_DENSITY_LINEAR_GAUSSIAN(zed, x, a, b, s), point)
        expected = stats.norm.logpdf(zed, mean, math.sqrt(variance))
        assert math.isclose(derived, expected, rel_tol=1e-12)


def test_the_evidence_is_bishops_marginal_and_scipys_integral_of_the_joint():
    assert same(elbo.LOG_EVIDENCE_LINEAR_GAUSSIAN(x, a, b, s), TEXTBOOK_LOG_EVIDENCE)
    for xx, aa, bb, ss, _, _ in POINTS:
        point = (xx, aa, bb, ss, 0, 1)
        marginal = stats.norm.pdf(xx, bb, math.sqrt(aa**2 + ss**2))
        derived = value(elbo.EVIDENCE_LINEAR_GAUSSIAN(x, a, b, s), point)
        assert math.isclose(derived, marginal, rel_tol=1e-12)

        def joint_density(zz: float) -> float:
            return stats.norm.pdf(xx, aa * zz + bb, ss) * stats.norm.pdf(zz)

        joint, error = integrate.quad(joint_density, -np.inf, np.inf, epsabs=0, epsrel=1e-12)
        assert abs(joint - marginal) <= 10 * error + 1e-13


def test_the_elbo_is_the_textbook_reconstruction_minus_kl():
    assert same(elbo.ELBO_LINEAR_GAUSSIAN(x, a, b, s, m, v), TEXTBOOK_ELBO)
    assert same(elbo.ELBO_LINEAR_GAUSSIAN(x, a, b, s, m, v),
                TEXTBOOK_RECONSTRUCTION - textbook_kl(m, v, 0, 1))


def test_the_prior_and_entropy_terms_average_to_minus_the_textbook_kl():
    assert same(elbo.prior_and_entropy_terms().result, -textbook_kl(m, v, 0, 1))


def test_the_single_sample_estimator_averages_to_the_textbook_elbo():
    assert same(elbo.single_sample_expectation().result, TEXTBOOK_ELBO)


def test_log_evidence_is_the_elbo_plus_the_kl_to_the_posterior_for_every_q():
    gap = textbook_kl(m, v, TEXTBOOK_POSTERIOR_MEAN, sp.sqrt(TEXTBOOK_POSTERIOR_VARIANCE))
    identity = TEXTBOOK_LOG_EVIDENCE - elbo.ELBO_LINEAR_GAUSSIAN(x, a, b, s, m, v) - gap
    for point in POINTS:
        assert abs(value(identity, point)) < 1e-12


def test_with_q_the_prior_the_gap_is_kl_from_prior_to_posterior_and_positive_unless_a_is_zero():
    gap = elbo.ELBO_GAP_STANDARD_NORMAL_Q(x, a, b, s)
    textbook = textbook_kl(0, 1, TEXTBOOK_POSTERIOR_MEAN, sp.sqrt(TEXTBOOK_POSTERIOR_VARIANCE))
    assert same(gap, textbook)
    for point in POINTS:
        assert value(gap, point) > 0
        assert abs(value(gap, (point[0], 0.0, *point[2:]))) < 1e-14


def test_the_optimal_q_is_bayes_posterior_and_attains_the_log_evidence():
    ell = np.array([0.2, 1.5, 0.7, 0.05])  # p(x|z_k)
    pi = np.array([0.4, 0.1, 0.3, 0.2])  # p(z_k)
    optimal = elbo.OPTIMAL_Q
    ell_k, pi_k, ells, pis = optimal.variables
    body = optimal.expr.subs(elbo.K, len(ell)).doit()
    entries = {**{ells[k + 1]: ell[k] for k in range(4)}, **{pis[k + 1]: pi[k] for k in range(4)}}
    q_star = np.array([float(body.subs({**entries, ell_k: ell[k], pi_k: pi[k]})) for k in range(4)])
    bayes = ell * pi / np.sum(ell * pi)
    assert np.allclose(q_star, bayes, rtol=1e-12, atol=0)

    def objective(q: np.ndarray) -> float:  # Σ q log p(x|z) − KL(q‖p(z))
        return float(np.sum(q * np.log(ell)) - np.sum(q * np.log(q / pi)))

    assert math.isclose(objective(q_star), math.log(np.sum(ell * pi)), rel_tol=1e-12)
    for other in (pi, np.full(4, 0.25), ell / ell.sum(), 0.9 * q_star + 0.1 * pi):
        assert objective(other) < objective(q_star)


def test_jensen_bound_and_the_discrete_identity_hold_at_points_of_the_simplex():
    rng = np.random.default_rng(20240601)  # fixed, stated; the checks are exact inequalities
    split_form = sp.lambdify(elbo._Q + elbo._ELL + elbo._PI, elbo.jensen_bound().result, "numpy")
    for _ in range(20):
        q, pi = rng.dirichlet(np.ones(3)), rng.dirichlet(np.ones(3))
        ell = rng.uniform(0.01, 2.0, 3)
        w = ell * pi
        split = float(split_form(*q, *ell, *pi))
        textbook = np.sum(q * np.log(ell)) - np.sum(q * np.log(q / pi))
        assert math.isclose(split, textbook, rel_tol=1e-12)
        assert np.log(w.sum()) >= split
        posterior = w / w.sum()
        gap = np.sum(q * np.log(q / posterior))
        assert math.isclose(np.log(w.sum()), split + gap, rel_tol=1e-12)


# -- mistyped textbook forms are told apart ---------------------------------------------------


WRONG = {  # name: (derived, mistyped textbook form), built on use
    "posterior variance, s for s²": lambda: (elbo.POSTERIOR_VARIANCE_LINEAR_GAUSSIAN(a, s),
                                             s / (a**2 + s**2)),
    "posterior mean, sign flipped": lambda: (elbo.POSTERIOR_MEAN_LINEAR_GAUSSIAN(x, a, b, s),
                                             -TEXTBOOK_POSTERIOR_MEAN),
    "evidence variance, a for a²": lambda: (elbo.LOG_EVIDENCE_LINEAR_GAUSSIAN(x, a, b, s),
                                            TEXTBOOK_LOG_EVIDENCE.subs(a**2, a)),
    "ELBO, KL sign flipped": lambda: (elbo.ELBO_LINEAR_GAUSSIAN(x, a, b, s, m, v),
                                      TEXTBOOK_RECONSTRUCTION + textbook_kl(m, v, 0, 1)),
    "ELBO, factor ½ lost on a²v²/s²": lambda: (elbo.ELBO_LINEAR_GAUSSIAN(x, a, b, s, m, v),
                                               TEXTBOOK_ELBO - a**2 * v**2 / (2 * s**2)),
    "gap, KL arguments swapped": lambda: (
        elbo.ELBO_GAP_STANDARD_NORMAL_Q(x, a, b, s),
        textbook_kl(TEXTBOOK_POSTERIOR_MEAN, sp.sqrt(TEXTBOOK_POSTERIOR_VARIANCE), 0, 1)),
}


@pytest.mark.parametrize("pair", WRONG.values(), ids=WRONG.keys())
def test_a_mistyped_textbook_form_disagrees_with_the_derived_one(pair):
    derived, wrong = pair()  # a point where the two differ proves them different
    assert any(abs(value(derived - wrong, point)) > 1e-6 for point in POINTS)


def test_a_q_that_ignores_the_prior_is_not_the_optimal_q():
    ell, pi = np.array([0.2, 1.5, 0.7]), np.array([0.6, 0.1, 0.3])
    ell_k, pi_k, ells, pis = elbo.OPTIMAL_Q.variables
    body = elbo.OPTIMAL_Q.expr.subs(elbo.K, 3).doit()
    entries = {**{ells[k + 1]: ell[k] for k in range(3)}, **{pis[k + 1]: pi[k] for k in range(3)}}
    derived = np.array([float(body.subs({**entries, ell_k: ell[k], pi_k: pi[k]}))
                        for k in range(3)])
    assert not np.allclose(derived, ell / ell.sum(), rtol=1e-3)


# -- a corrupted step inside a derivation is caught and named ----------------------------------


def first_failure(build, index: int, expr: sp.Basic, rel: str | None = None) -> int | None:
    derivation = build()
    original = derivation.steps[index]
    step = Step(expr, original.reason, rel or original.rel, wrt=original.wrt, subs=original.subs,
                change=original.change, by=original.by)
    failure = derivation.replace_step(index, step).verify().first_failure
    return None if failure is None else failure.index


def test_jensens_inequality_in_the_wrong_direction_is_caught_at_its_step():
    derivation = elbo.jensen_bound()
    assert first_failure(elbo.jensen_bound, 2, derivation.steps[2].expr, rel="<=") == 2


def test_a_split_with_the_kl_sign_flipped_is_caught_at_its_step():
    q, ell, pi = elbo._Q, elbo._ELL, elbo._PI
    wrong = sum(qk * sp.log(lk) + qk * sp.log(qk / pk) for qk, lk, pk in zip(q, ell, pi))
    assert first_failure(elbo.jensen_bound, 4, wrong) == 4


def test_a_lost_factor_of_two_in_the_discrete_identity_is_caught():
    derivation = elbo.discrete_identity()
    assert first_failure(elbo.discrete_identity, 1, 2 * derivation.steps[1].expr) == 1


def test_a_lost_factor_in_the_gaussian_integral_of_the_evidence_is_caught():
    derivation = elbo.evidence()
    assert first_failure(elbo.evidence, 4, derivation.steps[4].expr / 2) == 4


def test_a_marginal_variance_with_a_for_a_squared_is_caught():
    derivation = elbo.log_evidence()
    wrong = derivation.result.subs(a**2, a)
    assert first_failure(elbo.log_evidence, 2, wrong) == 2


def test_a_posterior_mean_with_the_wrong_sign_is_caught_at_the_solution():
    derivation = elbo.posterior_mean()
    (unknown, mode) = derivation.steps[2].expr.args
    assert first_failure(elbo.posterior_mean, 2, sp.Eq(unknown, -mode)) == 2


def test_a_posterior_variance_with_s_for_s_squared_is_caught():
    assert first_failure(elbo.posterior_variance, 1, s / (a**2 + s**2)) == 1


def test_an_elbo_with_the_kl_sign_flipped_is_caught_at_its_step():
    derivation = elbo.elbo_linear_gaussian()
    wrong = derivation.result + 2 * kl.KL_GAUSSIAN(m, v, 0, 1)
    assert first_failure(elbo.elbo_linear_gaussian, 3, wrong) == 3


def test_a_single_sample_expectation_that_lost_the_entropy_term_is_caught():
    derivation = elbo.single_sample_expectation()
    entropy = sp.log(2 * sp.pi * sp.E * v**2) / 2  # E_q[−log q(z|x)]
    assert first_failure(elbo.single_sample_expectation, 3, derivation.result - entropy) == 3


def test_prior_and_entropy_terms_equal_to_plus_kl_are_caught():
    assert first_failure(elbo.prior_and_entropy_terms, 3, kl.KL_GAUSSIAN(m, v, 0, 1)) == 3


def test_an_identity_with_the_kl_arguments_swapped_is_caught():
    derivation = elbo.evidence_identity()
    mean = elbo.posterior_mean().result
    sd = sp.sqrt(elbo.posterior_variance().result)
    wrong = elbo.elbo_linear_gaussian().result + kl.KL_GAUSSIAN(mean, sd, m, v)
    assert derivation.steps[1].expr != wrong
    assert first_failure(elbo.evidence_identity, 1, wrong) == 1


def test_the_elbo_claimed_above_the_log_evidence_is_caught():
    derivation = elbo.evidence_identity()
    assert first_failure(elbo.evidence_identity, 2, derivation.steps[2].expr, rel="<=") == 2


def test_a_negative_gap_for_q_the_prior_is_refused():
    relation = elbo.prior_as_q_gap().steps[4].expr
    assert first_failure(elbo.prior_as_q_gap, 4, sp.Lt(relation.lhs, 0)) == 4


def test_a_stationary_point_with_the_multiplier_sign_flipped_is_caught():
    derivation = elbo.optimal_q()
    gradient = derivation.steps[3].expr.lhs
    wrong = sp.Eq(gradient + 2 * elbo.lam, 0)
    assert first_failure(elbo.optimal_q, 3, wrong) == 3


def test_a_claimed_minimum_of_the_lagrangian_is_refused():
    term = elbo.optimal_q().steps[2].expr
    assert first_failure(elbo.optimal_q, 5, sp.diff(term, elbo.q_k, 2) > 0) == 5


def test_a_multiplier_that_does_not_normalise_q_is_caught():
    derivation = elbo.optimal_q()
    (unknown, multiplier) = derivation.steps[7].expr.args
    assert first_failure(elbo.optimal_q, 7, sp.Eq(unknown, 2 * multiplier)) == 7


# -- Monte Carlo: the single-sample estimator against the closed forms -------------------------

FILE_BUDGET = 1e-6  # false-failure probability of this whole file
EXAMPLES = 10  # Hypothesis examples in each of the two statistical tests
ASSERTIONS = 3 * EXAMPLES  # 2 z-tests per example (identity test) + 1 rejection per example (twin)
N_IDENTITY = 100_000


def single_sample_estimate(xx: float, aa: float, bb: float, ss: float, mm: float, vv: float,
                           n: int, seed: int) -> Estimate:
    """log p(x|z) + log p(z) − log q(z|x) at z ~ q = N(m, v²): n draws, by SciPy's densities."""
    rng = np.random.default_rng(seed)
    zz = mm + vv * rng.standard_normal(n)
    samples = (stats.norm.logpdf(xx, aa * zz + bb, ss) + stats.norm.logpdf(zz)
               - stats.norm.logpdf(zz, mm, vv))
    return Estimate.from_samples(samples)


def estimator_sd(xx: float, aa: float, bb: float, ss: float, mm: float, vv: float) -> float:
    """The exact standard deviation of one sample: with z = m + v t the sample is
    α + β t + γ t², β = r a v/s² − m v, γ = ½ − v²/2 − a²v²/(2s²), r = x − b − a m, so its
    variance is β² + 2γ² (t ~ N(0, 1): Var t = 1, Var t² = 2, Cov(t, t²) = 0)."""
    r = xx - bb - aa * mm
    beta = r * aa * vv / ss**2 - mm * vv
    gamma = 0.5 - vv**2 / 2 - aa**2 * vv**2 / (2 * ss**2)
    return math.sqrt(beta**2 + 2 * gamma**2)


def z_test(estimate: Estimate, claimed: float) -> CheckResult:
    """The file's z-test of a Monte Carlo estimate against a claimed value.

    The standard error is widened by a floating-point floor of 1e-12 · (1 + |claimed|): at
    q = p(z|x) (a = 0, m = 0, v = 1) every sample is the same number and the standard error is
    0, so the float64 rounding of the samples and of the closed form (~1e-16 relative) must not
    count as an error. The floor is deterministic and 10¹² times smaller than the mutant's δ.
    """
    floor = 1e-12 * (1 + abs(claimed))
    widened = Estimate(estimate.mean, math.hypot(estimate.standard_error, floor), estimate.n)
    return check_close(widened, claimed, failure_prob=FILE_BUDGET, n_assertions=ASSERTIONS)


def elbo_value(*point: float) -> float:
    return float(elbo.ELBO_LINEAR_GAUSSIAN(*point))


def identity_value(xx: float, aa: float, bb: float, ss: float, mm: float, vv: float) -> float:
    """log p(x) − KL(q‖p(z|x)), from the other exported closed forms."""
    mean = elbo.POSTERIOR_MEAN_LINEAR_GAUSSIAN(xx, aa, bb, ss)
    sd = sp.sqrt(elbo.POSTERIOR_VARIANCE_LINEAR_GAUSSIAN(aa, ss))
    gap = kl.KL_GAUSSIAN(mm, vv, mean, sd)
    return float(elbo.LOG_EVIDENCE_LINEAR_GAUSSIAN(xx, aa, bb, ss) - gap)


@settings(max_examples=EXAMPLES)
@given(xx=means(3.0), aa=means(2.0), bb=means(2.0), ss=scales(-1.0, 1.0), mm=means(2.0),
       vv=scales(-1.0, 1.0), seed=seeds())
def test_the_single_sample_estimator_averages_to_the_elbo_and_to_log_evidence_minus_the_gap(
        xx, aa, bb, ss, mm, vv, seed):
    """Two z-tests at α = 1e-6/(3 · EXAMPLES) each (z ≈ 5.5). Power: an error of z · se is
    detected with probability ½, one of (z + 5.4) · se ≈ 11 se with probability ≥ 1 − 3.3e-8;
    se (printed on failure) is about σ/√n with n = 10⁵."""
    estimate = single_sample_estimate(xx, aa, bb, ss, mm, vv, N_IDENTITY, seed)
    z_test(estimate, elbo_value(xx, aa, bb, ss, mm, vv)).raise_if_failed()
    z_test(estimate, identity_value(xx, aa, bb, ss, mm, vv)).raise_if_failed()


@settings(max_examples=EXAMPLES)
@given(xx=means(3.0), aa=means(1.5), bb=means(2.0), ss=scales(-0.7, 0.7),
       mm=st.tuples(st.sampled_from([-1.0, 1.0]), st.floats(1.0, 2.0)).map(lambda p: p[0] * p[1]),
       vv=scales(-1.0, 0.4), seed=seeds())
def test_an_elbo_with_the_kl_sign_flipped_is_rejected_by_the_same_check(
        xx, aa, bb, ss, mm, vv, seed):
    """The mutant E_q[log p(x|z)] + KL(q‖p(z)) is off by δ = 2 KL(q‖N(0, 1)) ≥ m² ≥ 1 (|m| ≥ 1).
    n is chosen from the exact standard deviation of the estimator so that the z-test rejects
    the mutant with probability ≥ 1 − 1e-6/(3 · EXAMPLES) (10 % more samples than the normal
    approximation asks, for the estimated standard error)."""
    point = (xx, aa, bb, ss, mm, vv)
    wrong = elbo_value(*point) + 2 * float(kl.KL_GAUSSIAN(mm, vv, 0, 1))
    delta = wrong - elbo_value(*point)
    sd = estimator_sd(*point)
    miss = FILE_BUDGET / ASSERTIONS
    n = math.ceil(1.1 * samples_for_power(sd, delta, FILE_BUDGET, 1 - miss,
                                          n_assertions=ASSERTIONS))
    assert power(delta, sd / math.sqrt(n), FILE_BUDGET, n_assertions=ASSERTIONS) >= 1 - miss
    estimate = single_sample_estimate(*point, n, seed)
    assert not z_test(estimate, wrong).passed
