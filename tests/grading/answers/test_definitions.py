"""The definitions the engine knows: every rule meets its equivalent spellings in one canonical
form, and a near-miss twin of each stays different (no false positive)."""

from __future__ import annotations

import time

import pytest
import sympy as sp

from grading.answers.definitions import bound_symbol, expand_definitions, prepare
from grading.answers.notation import Expectation, Given, Namespace, Normal, Sampled
from grading.answers.parse import parse_answer

NS = Namespace()
x, z, t = sp.symbols("x z t", real=True)
mu, mu_1, mu_2, mu_p, mu_phi = sp.symbols("mu mu_1 mu_2 mu_p mu_phi", real=True)
sigma, sigma_1, sigma_2 = sp.symbols("sigma sigma_1 sigma_2", positive=True)
p, q, q_phi, p_theta, p_data, p_G, D = (NS.function(n) for n in
                                        ("p", "q", "q_phi", "p_theta", "p_data", "p_G", "D"))
KL, JSD = NS.function("KL"), NS.function("JSD")
P, Q = NS.symbol("p"), NS.symbol("q")  # bare names, as the parser reads them
P_DATA, P_GEN = NS.symbol("p_data"), NS.symbol("p_G")
EVERYWHERE_X, EVERYWHERE_Z, EVERYWHERE_T = ((v, -sp.oo, sp.oo) for v in (x, z, t))

q_zx, p_z, p_x_z, p_z_x = q(Given(z, x)), p(z), p(Given(x, z)), p(Given(z, x))


def canonical(expr: sp.Basic, **options: object) -> sp.Basic:
    """What the engine's fast path compares."""
    return sp.expand(sp.expand_log(expand_definitions(expr, **options)))


def same(a: sp.Basic, b: sp.Basic, **options: object) -> bool:
    return canonical(a, **options) == canonical(b, **options)


def kl_integral(first: sp.Expr, second: sp.Expr, limits: tuple) -> sp.Integral:
    return sp.Integral(first * sp.log(first / second), limits)


# -- the Gaussian KL ---------------------------------------------------------------------------

def test_the_kl_of_two_normals_is_the_derived_closed_form_in_the_variances() -> None:
    textbook = sp.log(sigma_2 / sigma_1) + (sigma_1**2 + (mu_1 - mu_2) ** 2) / (2 * sigma_2**2) \
        - sp.Rational(1, 2)  # typed here only, as the independent second route
    assert same(KL(Normal(mu_1, sigma_1**2), Normal(mu_2, sigma_2**2)), textbook)


def test_the_gaussian_kl_near_miss_swapped_arguments_stays_different() -> None:
    forward = KL(Normal(mu_1, sigma_1**2), Normal(mu_2, sigma_2**2))
    assert not same(forward, KL(Normal(mu_2, sigma_2**2), Normal(mu_1, sigma_1**2)))


def test_a_variance_symbol_enters_as_its_square_root() -> None:
    v1, v2 = sp.symbols("v_1 v_2", positive=True)
    closed = expand_definitions(KL(Normal(0, v1), Normal(0, v2)))
    assert sp.expand(closed - (sp.log(v2) / 2 - sp.log(v1) / 2 + v1 / (2 * v2)
                               - sp.Rational(1, 2))) == 0


def test_part_1h_equal_variances_give_the_squared_mean_gap_over_two_sigma_squared() -> None:
    kl = KL(Normal(mu_phi, sigma**2), Normal(mu_p, sigma**2))
    assert same(kl, (mu_phi - mu_p) ** 2 / (2 * sigma**2))
    assert not same(kl, (mu_phi - mu_p) ** 2 / (2 * sigma))  # σ vs σ²


def test_the_kl_of_a_normal_to_itself_is_zero_and_to_the_prior_is_the_vae_term() -> None:
    assert canonical(KL(Normal(mu, sigma**2), Normal(mu, sigma**2))) == 0
    vae = (mu**2 + sigma**2 - 1 - sp.log(sigma**2)) / 2
    assert same(KL(Normal(mu, sigma**2), Normal(0, 1)), vae)
    assert not same(KL(Normal(mu, sigma**2), Normal(0, 1)), vae + sp.log(sigma) / 2)


# -- KL as a divergence, an integral, an expectation -------------------------------------------

KL_Q_PRIOR = KL(q_zx, p_z)


@pytest.mark.parametrize("spelling", [
    kl_integral(q_zx, p_z, EVERYWHERE_Z),
    sp.Integral(q_zx * sp.log(q_zx) - q_zx * sp.log(p_z), EVERYWHERE_Z),
    Expectation(sp.log(q_zx / p_z), Sampled(z, q_zx)),
    Expectation(sp.log(q_zx) - sp.log(p_z), q_zx),
    Expectation(sp.log(q_zx) - sp.log(p_z), Q),  # E_q with q(z|x) in the body
    -Expectation(sp.log(p_z / q_zx), Sampled(z, Q)),
], ids=["integral", "integral-split", "E_z~q(z|x)", "E_q(z|x)", "E_q", "minus-E_z~q"])
def test_every_spelling_of_the_kl_meets_the_divergence(spelling: sp.Basic) -> None:
    assert same(spelling, KL_Q_PRIOR)


def test_the_integration_variable_is_a_dummy() -> None:
    assert same(kl_integral(q(Given(t, x)), p(t), EVERYWHERE_T), KL_Q_PRIOR)
    assert expand_definitions(kl_integral(q(Given(t, x)), p(t), EVERYWHERE_T)).has(
        bound_symbol(0, t))


def test_a_factor_that_is_not_bound_by_the_integral_is_not_renamed() -> None:
    # near miss: p(z) outside the scope of dt is a constant, not the prior at t
    assert not same(kl_integral(q(Given(t, x)), p_z, EVERYWHERE_T), KL_Q_PRIOR)


def test_swapped_kl_arguments_stay_different() -> None:
    assert not same(KL(p_z, q_zx), KL_Q_PRIOR)
    assert not same(Expectation(sp.log(q_zx / p_z), Sampled(z, p_z)), KL_Q_PRIOR)


def test_a_sign_error_in_the_log_ratio_stays_different() -> None:
    assert not same(Expectation(sp.log(p_z / q_zx), Sampled(z, q_zx)), KL_Q_PRIOR)


def test_the_kl_of_a_distribution_to_itself_is_zero() -> None:
    assert canonical(KL(q_zx, q_zx)) == 0
    assert canonical(KL(Q, Q)) == 0


def test_a_bare_kl_and_its_bare_expectation_meet_without_choosing_a_variable() -> None:
    bare = KL(Q, P)
    assert same(Expectation(sp.log(Q) - sp.log(P), Q), bare)
    assert same(Expectation(sp.log(Q / P), Q), bare)
    assert not same(Expectation(sp.log(P) - sp.log(Q), Q), bare)
    assert not same(Expectation(sp.log(Q) - sp.log(P), P), bare)  # E over the wrong one
    assert not canonical(bare).has(sp.Integral)  # no variable was invented


def test_a_bare_kl_is_not_read_as_a_conditional_one_unless_the_context_says_so() -> None:
    assert not same(KL(Q, P), KL_Q_PRIOR)
    assert canonical(KL(Q, P), context=[KL_Q_PRIOR]) == canonical(KL_Q_PRIOR)


def test_kl_over_two_different_variables_is_left_unexpanded() -> None:
    odd = KL(q_zx, p_x_z)  # q over z, p over x: no certain reading
    assert expand_definitions(odd) == odd


def test_a_parsed_kl_and_its_parsed_expectation_meet() -> None:
    spellings = [r"KL(q(z|x)\|p(z))", r"\mathbb{E}_{z\sim q(z|x)}[\log \frac{q(z|x)}{p(z)}]",
                 r"\mathbb{E}_{q(z|x)}[\log q(z|x) - \log p(z)]"]
    forms = {canonical(parse_answer(s)) for s in spellings}
    assert len(forms) == 1
    assert canonical(parse_answer(r"\mathbb{E}_{q}[\log q - \log p]")) == \
        canonical(parse_answer(r"KL(q\|p)"))


def test_a_parsed_integral_meets_the_kl() -> None:
    integral = parse_answer(r"\int q(z|x)\log\frac{q(z|x)}{p(z)}dz")
    assert same(integral, KL_Q_PRIOR)
    assert not same(parse_answer(r"\int q(z|x)\log\frac{p(z)}{q(z|x)}dz"), KL_Q_PRIOR)


# -- expectation subscripts --------------------------------------------------------------------

def test_every_subscript_for_the_encoder_is_the_same_expectation() -> None:
    body = sp.log(p_theta(Given(x, z)))
    encoder = q_phi(Given(z, x))
    written = [Expectation(body, encoder), Expectation(body, Sampled(z, encoder)),
               Expectation(body, NS.symbol("q_phi")), Expectation(body, Sampled(z, Q))]
    context = [KL(encoder, p_z)]
    forms = {canonical(e, context=context) for e in written}
    assert len(forms) == 1
    assert forms == {canonical(sp.Integral(encoder * body, EVERYWHERE_Z))}


def test_a_bare_subscript_with_nothing_to_resolve_it_stays_an_expectation() -> None:
    e = Expectation(sp.log(p_x_z), Q)  # is q over z? nothing says so
    assert not same(e, sp.log(p_x_z))
    assert canonical(e).has(Expectation)


def test_an_expectation_over_the_wrong_distribution_stays_different() -> None:
    body = sp.log(p_x_z)
    assert not same(Expectation(body, q_zx), Expectation(body, p_z))
    assert not same(Expectation(body, Sampled(z, q_zx)), Expectation(body, Sampled(x, q_zx)))


def test_a_bare_density_name_in_a_body_that_nothing_calls_a_distribution_is_left_alone() -> None:
    # is p the prior at z, or a constant? E_{q(z|x)}[log q - log p] keeps its form
    e = Expectation(sp.log(Q) - sp.log(P), q_zx)
    assert not same(e, KL_Q_PRIOR)
    assert not same(e, Expectation(sp.log(Q), q_zx) - sp.log(P))


# -- linearity and E[c] = c --------------------------------------------------------------------

def test_an_expectation_of_what_does_not_depend_on_the_sampled_variable_is_itself() -> None:
    assert same(Expectation(sp.log(p(x)), Sampled(z, q_zx)), sp.log(p(x)))
    assert not same(Expectation(sp.log(p(x)), Sampled(x, p(x))), sp.log(p(x)))  # depends on x


def test_expectations_are_linear_with_constants_out() -> None:
    f = sp.log(p_x_z)
    lhs = Expectation(2 * mu * f + 3 + sp.log(p(x)), Sampled(z, q_zx))
    rhs = 2 * mu * Expectation(f, q_zx) + 3 + sp.log(p(x))
    assert same(lhs, rhs)
    assert not same(lhs, rhs - 3)
    assert not same(lhs, mu * Expectation(f, q_zx) + 3 + sp.log(p(x)))


def test_an_expectation_under_a_normal_is_an_integral_against_its_density() -> None:
    e = canonical(Expectation(z**2 + 5, Sampled(z, Normal(mu, sigma**2))))
    assert e.has(sp.Integral) and (e - 5).has(sp.Integral)
    assert canonical(Expectation(sp.Integer(7) + mu, Sampled(z, Normal(0, 1)))) == 7 + mu
    assert same(Expectation(z, Sampled(z, Normal(0, 1))), Expectation(t, Sampled(t, Normal(0, 1))))
    assert not same(Expectation(z, Sampled(z, Normal(0, 1))),
                    Expectation(z, Sampled(z, Normal(0, 2))))


def test_a_density_integrates_to_one_over_its_own_variable_only() -> None:
    assert canonical(sp.Integral(q_zx, EVERYWHERE_Z)) == 1
    assert canonical(sp.Integral(q_zx, EVERYWHERE_X)) != 1
    assert canonical(sp.Integral(q_zx, (z, 0, 1))) != 1  # not over the whole line


# -- the latent-variable model -----------------------------------------------------------------

def test_the_joint_factorises_as_likelihood_times_prior_inside_logs() -> None:
    assert same(sp.log(p(x, z)), sp.log(p_x_z) + sp.log(p_z))
    assert same(sp.log(p(z, x)), sp.log(p_x_z) + sp.log(p_z))
    assert not same(sp.log(p(x, z)), sp.log(p_x_z) + sp.log(p(x)))


def test_bayes_writes_the_posterior_through_likelihood_prior_and_evidence() -> None:
    assert same(sp.log(p_z_x), sp.log(p_x_z) + sp.log(p_z) - sp.log(p(x)))
    assert same(sp.log(p_z_x) + sp.log(p(x)), sp.log(p(x, z)))
    assert not same(sp.log(p_z_x), sp.log(p_x_z) + sp.log(p_z) + sp.log(p(x)))


def test_the_encoder_is_never_factorised() -> None:
    assert not same(sp.log(q(x, z)), sp.log(q(Given(x, z))) + sp.log(q(z)))


def test_marginalising_the_joint_over_the_latent_gives_the_evidence() -> None:
    assert same(sp.Integral(p(x, z), EVERYWHERE_Z), p(x))
    assert not same(sp.Integral(p(x, z), EVERYWHERE_X), p(x))  # over the data: the prior
    assert same(sp.Integral(p(x, z), EVERYWHERE_X), p_z)


# -- the ELBO identities of 1.c ----------------------------------------------------------------

EVIDENCE_MINUS_GAP = sp.log(p(x)) - KL(q_zx, p_z_x)
SPLIT = Expectation(sp.log(p_x_z), Q) - KL(q_zx, p_z)
SINGLE_SAMPLE = Expectation(sp.log(p(x, z)) - sp.log(q_zx), Q)


def test_the_three_forms_of_the_elbo_are_one() -> None:
    forms = {canonical(e) for e in (EVIDENCE_MINUS_GAP, SPLIT, SINGLE_SAMPLE)}
    assert len(forms) == 1


def test_elbo_near_misses_stay_different() -> None:
    assert not same(sp.log(p(x)) + KL(q_zx, p_z_x), SPLIT)  # sign of the gap
    assert not same(sp.log(p(x)) - KL(p_z_x, q_zx), SPLIT)  # swapped KL
    assert not same(Expectation(sp.log(p_x_z), p_z) - KL(q_zx, p_z), SPLIT)  # E over the prior
    assert not same(Expectation(sp.log(p_x_z), Q) + KL(q_zx, p_z), SPLIT)  # sign of the KL
    assert not same(Expectation(sp.log(p(x, z)) + sp.log(q_zx), Q), SINGLE_SAMPLE)


def test_the_homework_notation_with_theta_and_phi_gives_the_same_identity() -> None:
    encoder = q_phi(Given(z, x))
    bound = Expectation(sp.log(p_theta(Given(x, z))), Q) - KL(encoder, p_z)  # E_q, q = q_φ
    gap = KL(encoder, p_theta(Given(z, x)))
    assert same(sp.log(p_theta(x)) - gap, bound)
    assert not same(sp.log(p_theta(x)) + gap, bound)


def test_parsed_elbo_forms_meet() -> None:
    a = parse_answer(r"\log p(x) - KL(q(z|x)\|p(z|x))")
    b = parse_answer(r"\mathbb{E}_{q}[\log p(x|z)] - KL(q(z|x)\|p(z))")
    c = parse_answer(r"\mathbb{E}_{z\sim q_\phi(z|x)}[\log p(x, z) - \log q_\phi(z|x)]")
    assert canonical(a) == canonical(b)
    phi = parse_answer(r"\log p(x) - KL(q_\phi(z|x)\|p(z|x))")
    assert canonical(c) == canonical(phi)


# -- the JSD and the GAN identity of 3.d -------------------------------------------------------

def test_the_jsd_is_symmetric() -> None:
    assert same(JSD(p_data(x), p_G(x)), JSD(p_G(x), p_data(x)))
    assert same(JSD(P_DATA, P_GEN), JSD(P_GEN, P_DATA))
    assert same(JSD(Q, P), JSD(P, Q))  # even when left in the bare form


def test_the_jsd_is_half_the_kls_to_the_mixture() -> None:
    m = (p_data(x) + p_G(x)) / 2
    halves = KL(p_data(x), m) / 2 + KL(p_G(x), m) / 2
    assert same(JSD(p_data(x), p_G(x)), halves)
    assert not same(JSD(p_data(x), p_G(x)), KL(p_data(x), m) + KL(p_G(x), m))  # factor 2
    assert not same(JSD(p_data(x), p_G(x)), KL(p_data(x), p_G(x)))
    bare_m = (Q + P) / 2
    assert same(JSD(Q, P), KL(Q, bare_m) / 2 + KL(P, bare_m) / 2)


def _value_at_d_star(variable: sp.Symbol) -> sp.Integral:
    """V(D*, G) with D* = p_data/(p_data + p_G) written out (3.c into 3.b)."""
    d, g = p_data(variable), p_G(variable)
    return sp.Integral(d * sp.log(d / (d + g)) + g * sp.log(g / (d + g)),
                       (variable, -sp.oo, sp.oo))


def test_the_value_at_the_optimal_discriminator_is_minus_log_4_plus_twice_the_jsd() -> None:
    value = _value_at_d_star(x)
    assert same(value, -sp.log(4) + 2 * JSD(P_DATA, P_GEN))
    assert same(value, -sp.log(4) + 2 * JSD(p_data(x), p_G(x)))
    assert same(_value_at_d_star(t), -2 * sp.log(2) + 2 * JSD(P_GEN, P_DATA))
    m = (p_data(x) + p_G(x)) / 2
    written_out = 2 * (sp.Integral(p_data(x) * sp.log(p_data(x) / m), EVERYWHERE_X) / 2
                       + sp.Integral(p_G(x) * sp.log(p_G(x) / m), EVERYWHERE_X) / 2) - sp.log(4)
    assert same(value, written_out)


def test_the_gan_identity_near_misses_stay_different() -> None:
    value = _value_at_d_star(x)
    assert not same(value, -sp.log(2) + 2 * JSD(P_DATA, P_GEN))  # log 2 vs log 4
    assert not same(value, sp.log(4) - 2 * JSD(P_DATA, P_GEN))  # the homework's sign: −V
    assert not same(value, -sp.log(4) + JSD(P_DATA, P_GEN))  # factor 2
    assert not same(value, -sp.log(4) + 2 * KL(P_DATA, P_GEN))  # KL is not JSD


def test_the_jsd_meets_integrals_whatever_their_variables_are_called() -> None:
    context = [_value_at_d_star(x), _value_at_d_star(t)]  # p_data(x) and p_data(t): both fine
    assert same(-sp.log(4) + 2 * JSD(P_DATA, P_GEN), _value_at_d_star(t), context=context)


def test_an_expectation_under_p_g_of_a_function_of_the_noise_has_no_certain_reading() -> None:
    G = NS.function("G")
    e = Expectation(sp.log(1 - D(G(z))), P_GEN)  # over x = G(z), or over z? not certain
    assert canonical(e).has(Expectation)
    assert not same(e, sp.Integral(p_G(z) * sp.log(1 - D(G(z))), EVERYWHERE_Z))
    assert canonical(Expectation(sp.log(D(x)) + x, P_DATA)).has(Expectation)


def test_the_gan_value_function_as_expectations_meets_its_integral() -> None:
    integral = sp.Integral(p_data(x) * sp.log(D(x)) + p_G(x) * sp.log(1 - D(x)), EVERYWHERE_X)
    expectations = Expectation(sp.log(D(x)), P_DATA) + Expectation(sp.log(1 - D(x)), P_GEN)
    assert same(integral, expectations)
    swapped = Expectation(sp.log(D(x)), P_GEN) + Expectation(sp.log(1 - D(x)), P_DATA)
    assert not same(integral, swapped)


# -- the canonical form itself -----------------------------------------------------------------

def test_logs_of_rationals_are_written_in_primes() -> None:
    assert expand_definitions(sp.log(4) - 2 * sp.log(2)) == 0
    assert expand_definitions(sp.log(sp.Rational(3, 4))) == sp.log(3) - 2 * sp.log(2)


def test_an_expression_without_definitions_is_left_as_it_is() -> None:
    expr = sp.exp(-(x - mu) ** 2 / (2 * sigma**2)) / sigma + sp.log(x**2 + 1) * p(x)
    assert expand_definitions(expr) == expr


def test_a_sum_index_is_a_dummy_and_a_factor_free_of_it_moves_out() -> None:
    j, i = sp.symbols("j i", integer=True)
    n = sp.Symbol("N", integer=True, positive=True)
    y = sp.IndexedBase("y", positive=True)
    assert expand_definitions(sp.Sum(mu * y[j], (j, 1, n))) == \
        expand_definitions(mu * sp.Sum(y[i], (i, 1, n)))
    assert expand_definitions(sp.Sum(mu * y[j], (j, 1, n))) != \
        expand_definitions(mu * sp.Sum(y[i], (i, 0, n)))
    assert expand_definitions(sp.Sum(mu, (j, 1, n))) == mu * n


def test_a_typical_answer_is_rewritten_in_a_few_milliseconds() -> None:
    prepare()
    for e in (EVIDENCE_MINUS_GAP, SPLIT, SINGLE_SAMPLE, _value_at_d_star(x)):
        expand_definitions(e)  # warm SymPy's caches as the worker does after one answer
    start = time.perf_counter()
    for e in (EVIDENCE_MINUS_GAP, SPLIT, SINGLE_SAMPLE, _value_at_d_star(x)):
        expand_definitions(e)
    assert (time.perf_counter() - start) / 4 < 0.05


@pytest.mark.parametrize("expr", [EVIDENCE_MINUS_GAP, SPLIT, SINGLE_SAMPLE, KL(Q, P),
                                  -sp.log(4) + 2 * JSD(P_DATA, P_GEN),
                                  KL(Normal(mu_1, sigma_1**2), Normal(mu_2, sigma_2**2))],
                         ids=["gap", "split", "single-sample", "bare-kl", "gan", "gaussian-kl"])
def test_the_canonical_form_is_a_fixed_point(expr: sp.Basic) -> None:
    once = expand_definitions(expr)
    assert expand_definitions(once) == once


def test_a_joint_inside_a_sum_over_the_latent_states_factorises_like_one_outside() -> None:
    from grading.answers.parse import parse_answer

    joint = expand_definitions(parse_answer(r"\sum_{z'} p_\theta(x, z')"))
    factorised = expand_definitions(parse_answer(r"\sum_{z'} p_\theta(x|z')p(z')"))
    assert joint == factorised
    other = expand_definitions(parse_answer(r"\sum_{z'} p_\theta(x|z')"))  # the twin: no prior
    assert joint != other
