"""The evidence lower bound (ELBO): Jensen's bound, its split, its gap, and the optimal q.

Parts 1.c, 1.e, 1.f and 1.i of the homework:

* Jensen (1.c), on a discrete latent with three states: log p(x) = log E_q[p(x, z)/q(z)]
  ≥ E_q[log p(x, z)/q(z)] = E_q[log p(x|z)] − KL(q‖p(z)); and exactly,
  log p(x) = ELBO + KL(q‖p(z|x)).
* The linear-Gaussian latent model z ~ N(0, 1), x|z ~ N(a z + b, s²), q(z|x) = N(m, v²),
  where every term has a closed form. Completing the square in z gives
  ``EVIDENCE_LINEAR_GAUSSIAN(x, a, b, s)`` = p(x) and
  ``LOG_EVIDENCE_LINEAR_GAUSSIAN(x, a, b, s)`` = log N(x; b, a² + s²); the mode and the
  curvature of log p(x, z) in z give
  ``POSTERIOR_MEAN_LINEAR_GAUSSIAN(x, a, b, s)`` = a(x − b)/(a² + s²) and
  ``POSTERIOR_VARIANCE_LINEAR_GAUSSIAN(a, s)`` = s²/(a² + s²), and Bayes gives
  ``POSTERIOR_LOG_DENSITY_LINEAR_GAUSSIAN(z, x, a, b, s)``. log p(x|z) is a quadratic in z,
  and the expectation of a quadratic under N(m, v²) follows from the moments of N(0, 1)
  (z = m + v t), so ``ELBO_LINEAR_GAUSSIAN(x, a, b, s, m, v)`` = E_q[log p(x|z)] − KL(q‖p(z)),
  with the KL of :mod:`derivations.kl`. Then log p(x) = ELBO + KL(q‖p(z|x)) for every (m, v),
  tight at q = p(z|x) (1.c). Two lemmas serve these steps: completing the square, and the
  expectation of a quadratic under N(m, v²).
* 1.e: E_q[log p(z) − log q(z|x)] = −KL(q‖p(z)), so the single-sample estimator
  log p(x|z) + log p(z) − log q(z|x) has the same expectation as the split form (both shown).
* 1.f: with q := N(0, 1) the gap is KL(p(z)‖p(z|x)) =
  ``ELBO_GAP_STANDARD_NORMAL_Q(x, a, b, s)``, positive whenever a ≠ 0.
* 1.i: maximising Σ_z q(z) log p(x|z) − KL(q‖p(z)) subject to Σ_z q(z) = 1 with a Lagrange
  multiplier gives ``OPTIMAL_Q(ell_k, pi_k, ell, pi)`` = ℓ_k π_k / Σ_j ℓ_j π_j = p(z_k|x), where
  ℓ_k = p(x|z_k) and π_k = p(z_k) of state k, and ``ell``, ``pi`` (IndexedBase) hold all K
  states (the sum runs over their last axis).

Source: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014), §2.2; Bishop, PRML §2.3.3
(linear-Gaussian model), §10.1 (the ELBO decomposition); Blei, Kucukelbir & McAuliffe,
"Variational Inference: A Review for Statisticians" (2017), §2.2.
"""

from __future__ import annotations

import random

import sympy as sp

from derivations import kl
from derivations.core import Derivation, Step, derivation, lazy_exports
from derivations.gaussian import normal_pdf, standard_normal_moment

# -- the discrete latent (Jensen, the exact identity, part 1.i) --------------------------------

q1, q2, q3 = sp.symbols("q_1 q_2 q_3", positive=True)  # q(z_k): a distribution on 3 states
w1, w2, w3 = sp.symbols("w_1 w_2 w_3", positive=True)  # p(x, z_k)
ell1, ell2, ell3 = sp.symbols("ell_1 ell_2 ell_3", positive=True)  # p(x|z_k)
pi1, pi2, pi3 = sp.symbols("pi_1 pi_2 pi_3", positive=True)  # p(z_k): a distribution
_Q, _W, _ELL, _PI = (q1, q2, q3), (w1, w2, w3), (ell1, ell2, ell3), (pi1, pi2, pi3)
_U, _V = sp.symbols("u_1:4", real=True), sp.symbols("v_1:4", real=True)


def _softmax(logits: tuple[sp.Symbol, ...]) -> list[sp.Expr]:
    total = sum(sp.exp(u) for u in logits)
    return [sp.exp(u) / total for u in logits]


# q and p(z) are distributions: checked at points of the simplex, drawn as softmax(u)
_ON_THE_SIMPLEX = {**dict(zip(_Q, _softmax(_U))), **dict(zip(_PI, _softmax(_V)))}

K = sp.Symbol("K", integer=True, positive=True)  # number of states in part 1.i
i, j = sp.Idx("i"), sp.Idx("j")
qs, ells, pis = sp.IndexedBase("q"), sp.IndexedBase("ell"), sp.IndexedBase("pi")
q_k, ell_k, pi_k = sp.symbols("q_k ell_k pi_k", positive=True)  # one state k
lam = sp.Symbol("lambda", real=True)  # the Lagrange multiplier of Σ q = 1
_POSITIVE_ENTRIES = {qs: (0.05, 3.0), ells: (0.05, 3.0), pis: (0.05, 3.0)}

# -- the linear-Gaussian latent model ----------------------------------------------------------

x, z, t = sp.symbols("x z t", real=True)
a, b, m = sp.symbols("a b m", real=True)  # x|z ~ N(a z + b, s²); q(z|x) = N(m, v²)
s, v = sp.symbols("s v", positive=True)
c0, c1 = sp.symbols("c_0 c_1", real=True)  # a quadratic c₂z² + c₁z + c₀
c2 = sp.Symbol("c_2", negative=True)


def _nonzero_slope(rng: random.Random) -> float:
    """a with 0.1 ≤ |a| ≤ 2, for the checker: the gap of part 1.f is positive only for a ≠ 0."""
    return rng.choice((-1.0, 1.0)) * rng.uniform(0.1, 2.0)


def _likelihood() -> sp.Expr:
    return normal_pdf(x, a * z + b, s)


def _prior() -> sp.Expr:
    return normal_pdf(z, 0, 1)


def _q() -> sp.Expr:
    return normal_pdf(z, m, v)


def _quadratic_coefficients(expr: sp.Expr) -> dict[sp.Symbol, sp.Expr]:
    """{c₀, c₁, c₂} of an expression quadratic in z."""
    polynomial = sp.Poly(sp.expand(expr), z)
    if polynomial.degree() > 2:
        raise ValueError(f"not quadratic in z: {expr}")
    return {c: polynomial.coeff_monomial(z**k) for k, c in enumerate((c0, c1, c2))}


def _log_expanded(density: sp.Expr) -> sp.Expr:
    return sp.expand(sp.expand_log(sp.log(density), force=True))


# ==============================================================================================
# Jensen's bound and the exact identity on a discrete latent (1.c)


@derivation
def jensen_bound() -> Derivation:
    marginal = sp.log(sum(_W))
    as_expectation = sp.log(sp.Add(*(sp.Mul(qk, wk / qk, evaluate=False)
                                     for qk, wk in zip(_Q, _W)), evaluate=False))
    bound = sum(qk * sp.log(wk / qk) for qk, wk in zip(_Q, _W))
    joint = {wk: lk * pk for wk, lk, pk in zip(_W, _ELL, _PI)}
    factorised = bound.subs(joint)
    split = sum(qk * sp.log(lk) for qk, lk in zip(_Q, _ELL)) - \
        sum(qk * sp.log(qk / pk) for qk, pk in zip(_Q, _PI))
    return Derivation(
        "Jensen's bound on the log-evidence, split into reconstruction and KL",
        "1.c",
        (
            Step(marginal, "log p(x) = log Σ_z p(x, z), three latent states, w_k = p(x, z_k)",
                 "def"),
            Step(as_expectation, "multiply and divide by q(z_k) > 0: log E_q[p(x, z)/q(z)]"),
            Step(bound, "Jensen: log is concave, log E_q[r] ≥ E_q[log r]", ">="),
            Step(factorised, "p(x, z) = p(x|z) p(z)", subs=joint),
            Step(split, "log of a product: E_q[log p(x|z)] − Σ q log(q/p(z)) = "
                        "E_q[log p(x|z)] − KL(q‖p(z))"),
        ),
        args=(*_Q, *_ELL, *_PI),
        given=_ON_THE_SIMPLEX,
    )


@derivation
def discrete_identity() -> Derivation:
    evidence = sum(_W)
    posterior = [wk / evidence for wk in _W]  # Bayes: p(z_k|x) = p(x, z_k)/p(x)
    elbo = sum(qk * sp.log(wk / qk) for qk, wk in zip(_Q, _W))
    gap = sum(qk * sp.log(qk / pk) for qk, pk in zip(_Q, posterior))
    return Derivation(
        "log-evidence = ELBO + KL(q‖posterior), discrete latent",
        "1.c",
        (
            Step(elbo + gap, "ELBO + KL(q‖p(z|x)) with p(z_k|x) = p(x, z_k)/Σ_j p(x, z_j)",
                 "def"),
            Step(sum(_Q) * sp.log(evidence), "the log-ratios add up: log(w/q) + log(q p(x)/w) "
                                             "= log p(x)"),
            Step(sp.log(evidence), "Σ_k q(z_k) = 1", subs={q3: 1 - q1 - q2}),
        ),
        args=(*_Q, *_W),
        given={qk: _ON_THE_SIMPLEX[qk] for qk in _Q},
    )


# ==============================================================================================
# the linear-Gaussian model: evidence and posterior by completing the square (1.c)


def _exponent(density: sp.Expr) -> sp.Expr:
    """The argument of the exponential in a Gaussian density."""
    (power,) = density.atoms(sp.exp)
    return power.args[0]


@derivation
def completing_the_square() -> Derivation:
    quadratic = c2 * z**2 + c1 * z + c0
    return Derivation(
        "completing the square",
        "1.c",
        (
            Step(quadratic, "a quadratic in z with c₂ < 0", "def"),
            Step(c2 * (z + c1 / (2 * c2)) ** 2 + c0 - c1**2 / (4 * c2),
                 "complete the square"),
        ),
        args=(z, c2, c1, c0),
    )


@derivation
def quadratic_expectation() -> Derivation:
    phi = normal_pdf(t, 0, 1)
    coefficients = (c0, c1, c2)
    standardised = sp.Poly(sp.expand((c2 * z**2 + c1 * z + c0).subs(z, m + v * t)), t)
    by_power = [standardised.coeff_monomial(t**k) for k in range(3)]
    everywhere = (t, -sp.oo, sp.oo)
    return Derivation(
        "the expectation of a quadratic under N(m, v²)",
        "1.c",
        (
            Step(sp.Integral(normal_pdf(z, m, v) * (c2 * z**2 + c1 * z + c0), (z, -sp.oo, sp.oo)),
                 "E_q[c₀ + c₁z + c₂z²] for q = N(m, v²)", "def"),
            Step(sp.Integral(phi * standardised.as_expr(), everywhere),
                 "standardise z = m + v t, t ~ N(0, 1) (the reparameterisation)",
                 change=(z, m + v * t, t)),
            Step(sum(e * sp.Integral(t**k * phi, everywhere) for k, e in enumerate(by_power)),
                 "linearity: a combination of moments of N(0, 1)"),
            Step(sum(e * standard_normal_moment(k) for k, e in enumerate(by_power)),
                 "the moments of N(0, 1): E[1] = 1, E[t] = 0, E[t²] = 1"),
        ),
        args=(m, v, *coefficients),
    )


def _expect_quadratic(expr: sp.Expr, **parameters: sp.Expr) -> tuple[sp.Expr, sp.Expr, dict]:
    """(E_q[expr] as an integral, its value, the instance) by ``quadratic_expectation``;
    ``parameters`` may replace m and v of q = N(m, v²)."""
    lemma = quadratic_expectation()
    instance = {**{m: parameters.get("mean", m), v: parameters.get("sd", v)},
                **_quadratic_coefficients(expr)}
    return lemma.steps[0].expr.subs(instance), lemma.result.subs(instance), instance


@derivation
def evidence() -> Derivation:
    joint = _likelihood() * _prior()
    normaliser = joint.xreplace({power: 1 for power in joint.atoms(sp.exp)})
    exponent = _exponent(_likelihood()) + _exponent(_prior())
    polynomial = sp.Poly(sp.expand(exponent), z)
    coefficients = {c: sp.factor(polynomial.coeff_monomial(z**k))
                    for c, k in ((c2, 2), (c1, 1), (c0, 0))}
    square = completing_the_square()
    quadratic = square.steps[0].expr.subs(coefficients)
    completed = square.result.subs(coefficients)
    mean = (-c1 / (2 * c2)).subs(coefficients)
    variance = (-1 / (2 * c2)).subs(coefficients)
    rest = (c0 - c1**2 / (4 * c2)).subs(coefficients)
    sd = sp.sqrt(variance)
    density_integral, one, at_posterior = _expect_quadratic(sp.Integer(1), mean=mean, sd=sd)
    factor = normaliser * sp.exp(rest) * sp.sqrt(2 * sp.pi * variance)
    everywhere = (z, -sp.oo, sp.oo)
    return Derivation(
        "evidence of the linear-Gaussian model",
        "1.c",
        (
            Step(sp.Integral(joint, everywhere),
                 "p(x) = ∫ p(x|z) p(z) dz, z ~ N(0, 1), x|z ~ N(a z + b, s²)", "def"),
            Step(sp.Integral(normaliser * sp.exp(quadratic), everywhere),
                 "the product of the two densities: exp of a quadratic in z"),
            Step(sp.Integral(normaliser * sp.exp(completed), everywhere),
                 "complete the square in z", by=square, subs=coefficients),
            Step(factor * density_integral,
                 "a Gaussian density in z, N(z; μ, V), times a factor free of z"),
            Step(factor * one, "a density integrates to one", by=quadratic_expectation(),
                 subs=at_posterior),
        ),
        args=(x, a, b, s),
    )


@derivation
def log_evidence() -> Derivation:
    density = evidence().result
    expanded = _log_expanded(density)
    # a quadratic in x: read off the mean and the variance of p(x)
    in_x = sp.Poly(expanded, x)
    d2, d1 = in_x.coeff_monomial(x**2), in_x.coeff_monomial(x)
    variance = sp.factor(-1 / (2 * d2))
    mean = sp.factor(d1 * variance)
    return Derivation(
        "log-evidence of the linear-Gaussian model",
        "1.c",
        (
            Step(sp.log(density), "log p(x), p(x) derived above", "def"),
            Step(expanded, "log of the product"),
            Step(-((x - mean) ** 2) / (2 * variance) - sp.log(2 * sp.pi * variance) / 2,
                 "a quadratic in x: p(x) = N(x; b, a² + s²)"),
        ),
        args=(x, a, b, s),
    )


def _log_joint() -> sp.Expr:
    return sp.log(_likelihood()) + sp.log(_prior())


@derivation
def posterior_mean() -> Derivation:
    log_joint = _log_joint()
    gradient = sp.expand(sp.diff(_log_expanded(_likelihood() * _prior()), z))
    slope, intercept = sp.Poly(gradient, z).all_coeffs()  # linear in z
    mode = -intercept / slope
    return Derivation(
        "posterior mean of the linear-Gaussian model",
        "1.c",
        (
            Step(log_joint, "log p(z|x) = log p(x|z) + log p(z) − log p(x); p(x) is free of z",
                 "def"),
            Step(sp.Eq(gradient, 0), "a Gaussian's mean is its mode: ∂/∂z log p(x, z) = 0",
                 "stationary", wrt=z),
            Step(sp.Eq(z, sp.factor(mode)), "solve the linear equation in z", "solves"),
        ),
        args=(x, a, b, s),
    )


@derivation
def posterior_variance() -> Derivation:
    log_joint = _log_joint()
    curvature = sp.diff(_log_expanded(_likelihood() * _prior()), z, 2)
    return Derivation(
        "posterior variance of the linear-Gaussian model",
        "1.c",
        (
            Step(-1 / sp.Derivative(log_joint, (z, 2)),
                 "log N(z; μ, V) = −(z − μ)²/(2V) + const, so V = −1/∂²_z log p(z|x) "
                 "= −1/∂²_z log p(x, z)", "def"),
            Step(sp.factor(-1 / curvature), "the curvature of the quadratic in z"),
        ),
        args=(a, s),
    )


def _posterior_parameters() -> tuple[sp.Expr, sp.Expr]:
    """(mean, standard deviation) of p(z|x), as derived."""
    return posterior_mean().result, sp.sqrt(posterior_variance().result)


@derivation
def posterior() -> Derivation:
    mean, sd = _posterior_parameters()
    return Derivation(
        "posterior of the linear-Gaussian model",
        "1.c",
        (
            Step(_log_joint() - sp.log(evidence().result),
                 "Bayes: log p(z|x) = log p(x|z) + log p(z) − log p(x), p(x) derived above", "def"),
            Step(sp.log(normal_pdf(z, mean, sd)),
                 "the posterior is N(z; μ, V) with the mean and variance derived above"),
        ),
        args=(z, x, a, b, s),
    )


# ==============================================================================================
# expectations under q by the moments of N(0, 1) (1.c, 1.e)


def _kl_to_prior() -> sp.Expr:
    """KL(N(m, v²)‖N(0, 1)), derived in derivations.kl."""
    return kl.KL_GAUSSIAN(m, v, 0, 1)


@derivation
def elbo_linear_gaussian() -> Derivation:
    kl_term = _kl_to_prior()
    integral, value, instance = _expect_quadratic(_log_expanded(_likelihood()))
    closed = value - kl_term
    return Derivation(
        "ELBO of the linear-Gaussian model",
        "1.c",
        (
            Step(sp.Integral(_q() * sp.log(_likelihood()), (z, -sp.oo, sp.oo)) - kl_term,
                 "the split of 1.c: ELBO = E_q[log p(x|z)] − KL(q‖p(z)), q = N(m, v²), "
                 "p(x|z) = N(x; a z + b, s²), the KL derived in derivations.kl", "def"),
            Step(integral - kl_term, "log of the Gaussian likelihood: a quadratic in z"),
            Step(closed, "the expectation of a quadratic under q", by=quadratic_expectation(),
                 subs=instance),
            Step(sp.collect(sp.expand(closed), s), "collect"),
        ),
        args=(x, a, b, s, m, v),
    )


@derivation
def prior_and_entropy_terms() -> Derivation:
    integral, value, instance = _expect_quadratic(_log_expanded(_prior()) - _log_expanded(_q()))
    return Derivation(
        "E_q[log p(z) − log q(z|x)] = −KL(q‖p(z))",
        "1.e",
        (
            Step(sp.Integral(_q() * (sp.log(_prior()) - sp.log(_q())), (z, -sp.oo, sp.oo)),
                 "the prior and entropy terms of the single-sample estimator "
                 "log p(x|z) + log p(z) − log q(z|x), in expectation", "def"),
            Step(integral, "logs of the two Gaussian densities: a quadratic in z"),
            Step(value, "the expectation of a quadratic under q", by=quadratic_expectation(),
                 subs=instance),
            Step(-_kl_to_prior(),
                 "= −KL(N(m, v²)‖N(0, 1)), the KL derived in derivations.kl: by linearity the "
                 "single-sample estimator and the split form have the same expectation"),
        ),
        args=(m, v),
    )


@derivation
def single_sample_expectation() -> Derivation:
    estimator = sp.log(_likelihood()) + sp.log(_prior()) - sp.log(_q())
    quadratic = _log_expanded(_likelihood()) + _log_expanded(_prior()) - _log_expanded(_q())
    integral, value, instance = _expect_quadratic(quadratic)
    return Derivation(
        "the single-sample estimator has the ELBO as its expectation",
        "1.e",
        (
            Step(sp.Integral(_q() * estimator, (z, -sp.oo, sp.oo)),
                 "E_q[log p(x|z) + log p(z) − log q(z|x)], the single-sample form of Question 2",
                 "def"),
            Step(integral, "logs of the three Gaussian densities: a quadratic in z"),
            Step(value, "the expectation of a quadratic under q", by=quadratic_expectation(),
                 subs=instance),
            Step(elbo_linear_gaussian().result,
                 "= E_q[log p(x|z)] − KL(q‖p(z)), the split form: the same expectation (the two "
                 "estimators differ only in variance)"),
        ),
        args=(x, a, b, s, m, v),
    )


# ==============================================================================================
# the exact identity, its gap, and q := N(0, 1) (1.c, 1.f)


def _kl_to_posterior() -> sp.Expr:
    mean, sd = _posterior_parameters()
    return kl.KL_GAUSSIAN(m, v, mean, sd)


@derivation
def evidence_identity() -> Derivation:
    mean, sd = _posterior_parameters()
    elbo = elbo_linear_gaussian().result
    log_p = log_evidence().result
    at_posterior = {m: mean, v: sd}
    return Derivation(
        "log-evidence = ELBO + KL(q‖posterior), linear-Gaussian model",
        "1.c",
        (
            Step(log_p, "log p(x), derived above", "def"),
            Step(elbo + _kl_to_posterior(),
                 "= ELBO(q) + KL(q(z|x)‖p(z|x)) for every q = N(m, v²): the gap of the bound"),
            Step(elbo, "KL ≥ 0 (1.d): the ELBO is a lower bound", ">="),
            Step(sp.Eq(_kl_to_posterior().subs(at_posterior), 0, evaluate=False),
                 "the gap vanishes at q := p(z|x) (KL(q‖q) = 0, 1.g): the bound is tight there",
                 "holds"),
        ),
        args=(x, a, b, s, m, v),
    )


@derivation
def prior_as_q_gap() -> Derivation:
    gap = _kl_to_posterior()
    prior_q = {m: 0, v: 1}
    at_prior = gap.subs(prior_q)
    simplified = sp.factor_terms(sp.expand(sp.expand_log(at_prior, force=True)))
    return Derivation(
        "the ELBO gap with q := N(0, 1)",
        "1.f",
        (
            Step(log_evidence().result - elbo_linear_gaussian().result,
                 "the gap log p(x) − ELBO, both derived above", "def"),
            Step(gap, "is KL(q‖p(z|x)) (the identity of 1.c)"),
            Step(at_prior, "q := N(0, 1) = p(z): it ignores x", subs=prior_q),
            Step(simplified, "expand the logarithms"),
            Step(sp.Gt(simplified, 0), "positive when a ≠ 0: the bound is never tight", "holds"),
            Step(sp.Eq(simplified.subs(a, 0), 0, evaluate=False),
                 "zero only if a = 0, where x carries no information about z", "holds"),
        ),
        args=(x, a, b, s),
        domain={a: _nonzero_slope},
    )


# ==============================================================================================
# part 1.i: the optimal q by a Lagrange multiplier


@derivation
def optimal_q() -> Derivation:
    objective = sp.Sum(qs[j] * sp.log(ells[j]) - qs[j] * sp.log(qs[j] / pis[j]), (j, 1, K))
    constraint = sp.Sum(qs[j], (j, 1, K))
    lagrangian = objective + lam - lam * constraint  # L = objective + λ(1 − Σ_j q_j)
    separable = sp.Sum(qs[j] * sp.log(ells[j]) - qs[j] * sp.log(qs[j] / pis[j]) - lam * qs[j],
                       (j, 1, K)) + lam
    term = q_k * sp.log(ell_k) - q_k * sp.log(q_k / pi_k) - lam * q_k
    gradient = sp.expand(sp.expand_log(sp.diff(term, q_k), force=True))
    log_q = sp.expand(gradient + sp.log(q_k))  # gradient = log_q − log q_k
    if log_q.has(q_k):
        raise ValueError(f"the stationarity condition is not linear in log q_k: {gradient}")
    stationary_q = sp.exp(log_q)
    each = {qs[j]: stationary_q.subs({ell_k: ells[j], pi_k: pis[j]})}
    normaliser = sp.Symbol("S", positive=True)
    total = sp.Sum(ells[i] * pis[i], (i, 1, K))
    # SymPy's subs leaves a summation index alone, so the stationary values enter by xreplace
    constraint_at = (constraint - 1).xreplace(each)
    common = stationary_q / (ell_k * pi_k)  # the factor e^{−1−λ} shared by all q_j
    # e^{−1−λ} S = 1 is linear in λ after the logarithm
    condition = sp.expand(sp.expand_log(sp.log(common * normaliser), force=True))
    multiplier = (-condition.subs(lam, 0) / condition.coeff(lam)).subs(normaliser, total)
    optimum = stationary_q.subs(lam, multiplier)
    return Derivation(
        "the q maximising the ELBO is the posterior",
        "1.i",
        (
            Step(lagrangian, "Lagrangian of Σ_z q log p(x|z) − KL(q‖p(z)) with Σ_z q = 1; "
                             "ℓ_j = p(x|z_j), π_j = p(z_j)", "def"),
            Step(separable, "a sum of terms, one per state: ∂L/∂q_k involves the k-th term only"),
            Step(term, "the k-th term of L", "def"),
            Step(sp.Eq(gradient, 0), "stationary point: ∂L/∂q_k = 0", "stationary", wrt=q_k),
            Step(sp.Eq(q_k, stationary_q), "solve for q_k", "solves"),
            Step(sp.diff(term, q_k, 2) < 0, "∂²L/∂q_k² = −1/q_k < 0 and L is a sum of one-state "
                                            "terms: a maximum", "holds"),
            Step(constraint_at, "the constraint Σ_j q_j − 1 = 0 with every q_j at its stationary "
                                "value ℓ_j π_j e^{−1−λ} (above)", "def"),
            Step(sp.Eq(lam, multiplier), "eliminate λ", "solves"),
            Step(stationary_q, "the stationary q_k", "def"),
            Step(optimum, "with λ eliminated: q*_k = p(x|z_k) p(z_k) / Σ_j p(x|z_j) p(z_j) "
                          "= p(z_k|x) (Bayes)", subs={lam: multiplier}),
            Step(sp.Eq(sp.Sum(optimum.subs({ell_k: ells[j], pi_k: pis[j]}), (j, 1, K)), 1),
                 "q* is a distribution", "holds"),
        ),
        args=(ell_k, pi_k, ells, pis),
        domain=_POSITIVE_ENTRIES,
    )


__getattr__ = lazy_exports(
    __name__,
    {
        "EVIDENCE_LINEAR_GAUSSIAN": lambda: evidence().closed_form,
        "LOG_EVIDENCE_LINEAR_GAUSSIAN": lambda: log_evidence().closed_form,
        "POSTERIOR_MEAN_LINEAR_GAUSSIAN": lambda: posterior_mean().closed_form,
        "POSTERIOR_VARIANCE_LINEAR_GAUSSIAN": lambda: posterior_variance().closed_form,
        "POSTERIOR_LOG_DENSITY_LINEAR_GAUSSIAN": lambda: posterior().closed_form,
        "ELBO_LINEAR_GAUSSIAN": lambda: elbo_linear_gaussian().closed_form,
        "ELBO_GAP_STANDARD_NORMAL_Q": lambda: prior_as_q_gap().closed_form,
        "OPTIMAL_Q": lambda: optimal_q().closed_form,
    },
)
