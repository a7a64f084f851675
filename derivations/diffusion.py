"""Closed forms behind score-based diffusion (Question 4), each derived step by step.

Results (``x`` is where a score is evaluated, ``sigma`` the std of the added noise):

* ``GAUSSIAN_SCORE(x, mu, sigma)`` = ∂_x log N(x; μ, σ²) = −(x − μ)/σ², by differentiating the
  log-density of ``derivations.gaussian``.
* ``NOISED_GAUSSIAN_DENSITY(x, mu, tau, sigma)`` = N(x; μ, τ² + σ²): the density of
  x = u + σε, u ~ N(μ, τ²), by completing the square in the convolution integral's exponent.
  The same square gives the posterior N(u; c, v) with c = (σ²μ + τ²x)/(τ² + σ²).
* ``NOISED_MIXTURE_DENSITY(x, w, m, s, sigma)`` = Σ_k w_k N(x; m_k, s_k² + σ²) and
  ``NOISED_MIXTURE_SCORE(x, w, m, s, sigma)`` = Σ_k w_k N_k (m_k − x)/(s_k² + σ²) / Σ_k w_k N_k
  for a 1-D mixture of K Gaussians (``w``, ``m``, ``s`` are ``IndexedBase`` s over k = 1..K).
  The score does not change when the weights are scaled, so they need not sum to one.
* ``NOISED_MIXTURE_SCORE_2D``: a pair of closed forms (the two coordinates of the score
  vector), each a ``Lambda`` of ``(x_1, x_2, w, m_1, m_2, s, sigma)`` for a 2-D mixture of
  isotropic components N(m_k, s_k² I): with the responsibilities
  r_k = w_k N_k(x)/Σ_j w_j N_j(x) built from the 2-D densities,
  ∇ log p_σ = Σ_k r_k (m_k − x)/(s_k² + σ²).
* Tweedie: for x̃ = x + σε, ``TWEEDIE_POSTERIOR_MEAN(x_tilde, mu, tau, sigma)`` = E[x|x̃] for
  x ~ N(μ, τ²), derived from the Gaussian posterior and shown equal to x̃ + σ² ∇ log p_σ(x̃);
  in general (``tweedie_identity``) σ² ∇p_σ(x̃) = ∫ p(x) (x − x̃) N(x̃; x, σ²) dx gives
  E[x|x̃] = x̃ + σ² ∇ log p_σ(x̃); and the minimiser of denoising score matching
  E‖s(x̃) − ∇_x̃ log p(x̃|x)‖² is E[∇_x̃ log p(x̃|x) | x̃] = ∇ log p_σ(x̃) (``dsm_minimiser``).
* ``LANGEVIN_STEP(x, score, alpha, epsilon)`` = x + α·score + √(2α)·ε, the homework's update;
  its increments have drift E[Δ]/α = score and diffusion E[Δ²]/(2α) → 1 as α → 0, so its
  continuous limit is dX = ∇log p dt + √2 dW, whose Fokker–Planck equation
  ∂p/∂t = −∂_x(p ∂_x log p) + ∂_x² p vanishes for every positive p: p is stationary.
* DDPM: x_t = √(1 − β_t) x_{t−1} + √β_t ε composes to q(x_t|x_0) = N(√ᾱ_t x_0, 1 − ᾱ_t),
  ᾱ_t = ∏_{i≤t} (1 − β_i): ``DDPM_MARGINAL_MEAN(x_0, beta)``, ``DDPM_MARGINAL_VARIANCE(beta)``,
  ``DDPM_ALPHA_BAR(beta)`` (``beta`` an ``IndexedBase`` over steps 1..t); shown for two and
  three steps and by induction.

Sources: Hyvärinen (2005) and Vincent (2011) for score matching; Efron (2011) for Tweedie's
formula; Song & Ermon (2019) for annealed Langevin dynamics; Risken, *The Fokker–Planck
Equation*, ch. 4 (Kramers–Moyal); Ho, Jain & Abbeel (2020), eq. (4), for the DDPM marginal.
"""

from __future__ import annotations

import functools

import sympy as sp

from derivations.core import Derivation, Step, derivation, lazy_exports
from derivations.gaussian import log_density, normal_pdf, standard_normal_moment

x, u, mu = sp.symbols("x u mu", real=True)  # u: the clean variable under the integral
x_tilde = sp.Symbol("x_tilde", real=True)
tau, sigma = sp.symbols("tau sigma", positive=True)
x_1, x_2 = sp.symbols("x_1 x_2", real=True)

k = sp.Idx("k")
K = sp.Symbol("K", integer=True, positive=True)  # number of mixture components
w = sp.IndexedBase("w", positive=True)
m, m_1, m_2 = (sp.IndexedBase(n, real=True) for n in ("m", "m_1", "m_2"))
s = sp.IndexedBase("s", positive=True)

# Tweedie and denoising score matching: the values at one x̃
grad_p = sp.Symbol("g", real=True)  # ∇p_σ(x̃)
p_sigma = sp.Symbol("P", positive=True)  # p_σ(x̃)
posterior_mean = sp.Symbol("e", real=True)  # E[x|x̃]
s_theta = sp.Symbol("s_theta", real=True)  # the score model's output at x̃
g_1, g_2 = sp.Symbol("g_1", real=True), sp.Symbol("g_2", positive=True)  # E[G|x̃], E[G²|x̃]
G = sp.Symbol("G", real=True)  # ∇_x̃ log p(x̃|x), a random variable given x̃

# Langevin dynamics and Fokker–Planck
score, epsilon = sp.symbols("score epsilon", real=True)
alpha = sp.Symbol("alpha", positive=True)
M_1, M_2 = sp.Symbol("M_1", real=True), sp.Symbol("M_2", positive=True)  # E[ε], E[ε²]
p = sp.Function("p", positive=True)
x_0 = sp.Symbol("x_0", real=True)
p_0 = sp.Symbol("p_0", positive=True)
p_1, p_2 = sp.symbols("p_1 p_2", real=True)

# DDPM
beta = sp.IndexedBase("beta", positive=True)
beta_t = sp.Symbol("beta_t", positive=True)
a, v = sp.Symbol("a", real=True), sp.Symbol("v", positive=True)  # x_{t−1}|x_0 ~ N(a, v)
i = sp.Idx("i")
t = sp.Symbol("t", integer=True, positive=True)

_EVERYWHERE = (u, -sp.oo, sp.oo)
_PROBABILITY = (0.05, 0.95)


def _moments_of(density: sp.Expr, variable: sp.Symbol) -> tuple[sp.Expr, sp.Expr]:
    """(mean, variance) of a Gaussian density in ``variable``, read off its log:
    (log f)″ = −1/variance and mean = x + variance·(log f)′."""
    log_f = sp.expand(sp.expand_log(sp.log(density), force=True))
    variance = sp.cancel(-1 / sp.diff(log_f, variable, 2))
    mean = sp.cancel(variable + variance * sp.diff(log_f, variable))
    return mean, variance


@functools.cache
def _joint_factors() -> dict[str, sp.Expr]:
    """Complete the square in u of the exponent of N(u; μ, τ²) N(x; u, σ²):
    A u² + B u + C = A (u − c)² + R with c = −B/(2A), v = −1/(2A), R = C − B²/(4A); then the
    joint is N(x; M, V) N(u; c, v) with M, V read off e^R."""
    joint = sp.powsimp(normal_pdf(u, mu, tau) * normal_pdf(x, u, sigma))
    (power,) = joint.atoms(sp.exp)
    exponent = power.args[0]
    A, B, C = sp.Poly(sp.expand(exponent), u).all_coeffs()
    c = sp.factor(-B / (2 * A))
    post_var = sp.factor(-1 / (2 * A))
    remainder = sp.factor(C - B**2 / (4 * A))
    marginal_mean, marginal_var = _moments_of(sp.exp(remainder), x)
    return {
        "joint": joint,
        "exponent": exponent,
        "posterior_mean": c,
        "posterior_variance": post_var,
        "marginal": normal_pdf(x, marginal_mean, sp.sqrt(marginal_var)),
        "posterior": normal_pdf(u, c, sp.sqrt(post_var)),
    }


# --------------------------------------------------------------------------------------------
# the score of a Gaussian, and of a Gaussian after Gaussian noise


@derivation
def gaussian_score() -> Derivation:
    log_n = log_density()
    expanded = log_n.result
    derivative = sp.diff(expanded, x)
    return Derivation(
        "score of a Gaussian",
        "4",
        (
            Step(sp.Derivative(log_n.steps[0].expr, x), "the score ∂_x log N(x; μ, σ²)", "def"),
            Step(sp.Derivative(expanded, x), "the log-density, expanded (derived above)",
                 by=log_n),
            Step(derivative, "differentiate term by term"),
            Step(sp.factor(derivative), "collect: −(x − μ)/σ²"),
        ),
        args=(x, mu, sigma),
    )


@derivation
def gaussian_slope() -> Derivation:
    density = normal_pdf(x, mu, sigma)
    return Derivation(
        "slope of a Gaussian density",
        "4",
        (
            Step(sp.diff(density, x), "∂_x N(x; μ, σ²)", "def"),
            Step(density * gaussian_score().result, "= N(x; μ, σ²)·∂_x log N: the density times "
                                                    "the Gaussian score"),
        ),
        args=(x, mu, sigma),
    )


def _exponent_of(density: sp.Expr) -> sp.Expr:
    """The argument of the (single) exp in a Gaussian density."""
    (power,) = density.atoms(sp.exp)
    return power.args[0]


@functools.cache
def _exponential_of_sum() -> Derivation:
    """The lemma e^(a + b) = e^a e^b (a helper for splitting a joint density)."""
    first, second = sp.symbols("a b", real=True)
    return Derivation(
        "exponential of a sum",
        "4",
        (
            Step(sp.exp(first + second), "e^(a + b)", "def"),
            Step(sp.exp(first) * sp.exp(second), "= e^a e^b"),
        ),
    )


@derivation
def gaussian_normalisation() -> Derivation:
    center, scale = sp.Symbol("m_0", real=True), sp.Symbol("s_0", positive=True)
    t_ = sp.Symbol("t", real=True)
    standard = sp.Integral(normal_pdf(t_, 0, 1), (t_, -sp.oo, sp.oo))
    return Derivation(
        "a Gaussian density integrates to one",
        "4",
        (
            Step(sp.Integral(normal_pdf(u, center, scale), _EVERYWHERE), "∫ N(u; m_0, s_0²) du",
                 "def"),
            Step(standard, "u = m_0 + s_0 t", change=(u, center + scale * t_, t_)),
            Step(standard_normal_moment(0), "∫ φ(t) dt = E[t⁰] = 1 (standard-normal moments, "
                                            "integrated in derivations.gaussian)",
                 subs={standard: standard_normal_moment(0)}),
        ),
        args=(center, scale),
    )


@derivation
def gaussian_factorisation() -> Derivation:
    """N(u; μ, τ²) N(x; u, σ²) = N(x; μ, τ² + σ²) N(u; c, v): completing the square in u."""
    f = _joint_factors()
    joint, exponent, marginal, posterior = f["joint"], f["exponent"], f["marginal"], f["posterior"]
    posterior_exponent, marginal_exponent = _exponent_of(posterior), _exponent_of(marginal)
    completed = posterior_exponent + marginal_exponent
    scale = 2 * sigma**2 * tau**2 * (sigma**2 + tau**2)  # clears every denominator
    polynomial = sp.Eq(sp.cancel(scale * exponent),
                       sp.cancel(scale * posterior_exponent) + sp.cancel(scale * marginal_exponent),
                       evaluate=False)
    split = {sp.Symbol("a", real=True): posterior_exponent,
             sp.Symbol("b", real=True): marginal_exponent}
    return Derivation(
        "Gaussian joint of a value and its noised copy factorises",
        "4",
        (
            Step(joint, "N(u; μ, τ²)·N(x; u, σ²): the joint density of u ~ N(μ, τ²) and "
                        "x = u + σε", "def"),
            Step(polynomial, "complete the square in u: the exponent is "
                             "−(u − c)²/(2v) − (x − μ)²/(2(τ² + σ²)) with "
                             "c = (σ²μ + τ²x)/(τ² + σ²), v = τ²σ²/(τ² + σ²) "
                             "(both sides times 2σ²τ²(σ² + τ²))", "holds"),
            Step(joint.subs(exponent, completed), "so", subs={exponent: completed}),
            Step(marginal * posterior, "e^(a + b) = e^a e^b and 2πτσ = √(2π(τ² + σ²))·√(2πv): "
                                       "the joint is N(x; μ, τ² + σ²)·N(u; c, v)",
                 by=_exponential_of_sum(), subs=split),
        ),
        args=(u, x, mu, tau, sigma),
    )


@derivation
def gaussian_convolution() -> Derivation:
    f = _joint_factors()
    marginal, posterior = f["marginal"], f["posterior"]
    normalisation = gaussian_normalisation()
    center, scale = normalisation.args
    instance = {center: f["posterior_mean"], scale: sp.sqrt(f["posterior_variance"])}
    if normalisation.steps[0].expr.subs(instance) != sp.Integral(posterior, _EVERYWHERE):
        raise AssertionError("the normalisation lemma does not instantiate")  # pragma: no cover
    return Derivation(
        "Gaussian noise added to a Gaussian",
        "4",
        (
            Step(sp.Integral(f["joint"], _EVERYWHERE),
                 "x = u + σε with u ~ N(μ, τ²), ε ~ N(0, 1) independent: p_σ(x) is the "
                 "convolution ∫ N(u; μ, τ²) N(x; u, σ²) du", "def"),
            Step(sp.Integral(sp.Mul(marginal, posterior, evaluate=False), _EVERYWHERE),
                 "the joint factorises (completing the square, above)",
                 by=gaussian_factorisation()),
            Step(marginal * sp.Integral(posterior, _EVERYWHERE),
                 "the first factor does not depend on u"),
            Step(marginal, "a Gaussian density integrates to one", by=normalisation,
                 subs=instance),
        ),
        args=(x, mu, tau, sigma),
    )


def _noised_component(point: sp.Expr, mean: sp.Expr, std: sp.Expr) -> sp.Expr:
    """N(point; mean, std² + σ²), instantiated from the derived Gaussian convolution."""
    return gaussian_convolution().result.subs({x: point, mu: mean, tau: std}, simultaneous=True)


@derivation
def noised_mixture() -> Derivation:
    component = gaussian_convolution()
    integrals = sp.Sum(w[k] * component.steps[0].expr.subs({mu: m[k], tau: s[k]}), (k, 1, K))
    return Derivation(
        "Gaussian mixture after Gaussian noise",
        "4",
        (
            Step(integrals, "p(u) = Σ_k w_k N(u; m_k, s_k²); x = u + σε: p_σ(x) = ∫ p(u) "
                            "N(x; u, σ²) du = Σ_k w_k ∫ N(u; m_k, s_k²) N(x; u, σ²) du "
                            "(linearity)", "def"),
            Step(sp.Sum(w[k] * _noised_component(x, m[k], s[k]), (k, 1, K)),
                 "each component: Gaussian noise added to a Gaussian (derived above)",
                 by=component, subs={mu: m[k], tau: s[k]}),
        ),
        args=(x, w, m, s, sigma),
    )


def _component_scores(point: sp.Expr, mean: sp.Expr, std: sp.Expr) -> sp.Expr:
    """∂ log N(point; mean, std² + σ²)/∂point, from the derived Gaussian score."""
    return gaussian_score().result.subs(
        {x: point, mu: mean, sigma: sp.sqrt(std**2 + sigma**2)}, simultaneous=True)


def _slope_instance(point: sp.Symbol, mean: sp.Expr, std: sp.Expr) -> tuple[dict, sp.Expr, sp.Expr]:
    """The slope lemma at N(point; mean, std² + σ²): the substitution, the density, its slope."""
    mapping = {x: point, mu: mean, sigma: sp.sqrt(std**2 + sigma**2)}
    lemma = gaussian_slope()
    density = normal_pdf(x, mu, sigma).subs(mapping, simultaneous=True)
    return mapping, density, lemma.steps[0].expr.subs(mapping, simultaneous=True)


@derivation
def noised_mixture_score() -> Derivation:
    """∂_x log p_σ = ∂_x p_σ / p_σ with
    ∂_x p_σ = Σ_k w_k ∂_x N_k = Σ_k w_k N_k (m_k − x)/(s_k² + σ²)."""
    derived = noised_mixture().result
    mapping, component, slope = _slope_instance(x, m[k], s[k])
    density = sp.Sum(w[k] * component, (k, 1, K))
    weighted_scores = sp.Sum(w[k] * component * _component_scores(x, m[k], s[k]), (k, 1, K))
    return Derivation(
        "score of a noised Gaussian mixture",
        "4",
        (
            Step(derived.function, "the noised mixture's k-th term (derived above)", "def"),
            Step(w[k] * component, "= w_k N(x; m_k, s_k² + σ²)"),
            Step(sp.Sum(sp.Mul(w[k], slope, evaluate=False), (k, 1, K)),
                 "∂_x p_σ: a finite sum is differentiated term by term", "def"),
            Step(weighted_scores, "∂_x N_k = N_k ∂_x log N_k, with the Gaussian score "
                                  "(m_k − x)/(s_k² + σ²)", by=gaussian_slope(), subs=mapping),
            Step(weighted_scores / density, "the score ∂_x log p_σ = ∂_x p_σ / p_σ (chain rule): "
                                            "Σ_k r_k (m_k − x)/(s_k² + σ²) with the "
                                            "responsibilities r_k = w_k N_k / Σ_j w_j N_j", "def"),
        ),
        args=(x, w, m, s, sigma),
        domain={m: (-2.0, 2.0), s: (0.3, 2.0)},
    )


@derivation
def noised_mixture_score_2d() -> Derivation:
    first = _slope_instance(x_1, m_1[k], s[k])
    second = _slope_instance(x_2, m_2[k], s[k])
    component = first[1] * second[1]
    derived = _noised_component(x_1, m_1[k], s[k]) * _noised_component(x_2, m_2[k], s[k])
    density = sp.Sum(w[k] * component, (k, 1, K))
    steps = [
        Step(derived, "an isotropic Gaussian N(m_k, s_k² I) is the product of its coordinates, "
                      "and noise of std σ on each coordinate gives N(x_i; m_ik, s_k² + σ²) "
                      "(derived above)", "def"),
        Step(component, "= N(x_1; m_1k, s_k² + σ²)·N(x_2; m_2k, s_k² + σ²)"),
    ]
    for coordinate, mean, (mapping, own, slope), (_, other, _) in (
            (x_1, m_1, first, second), (x_2, m_2, second, first)):
        weighted_scores = sp.Sum(
            w[k] * component * _component_scores(coordinate, mean[k], s[k]), (k, 1, K))
        steps += [
            Step(sp.Sum(sp.Mul(w[k], other, slope, evaluate=False), (k, 1, K)),
                 f"∂p_σ/∂{coordinate}, p_σ = Σ_k w_k N(x; m_k, (s_k² + σ²) I), term by term; only "
                 f"the {coordinate} factor of N_k depends on {coordinate}", "def"),
            Step(weighted_scores, "∂N = N (m_k − x)/(s_k² + σ²) in that coordinate (the slope of "
                                  "a Gaussian)", by=gaussian_slope(), subs=mapping),
            Step(weighted_scores / density,
                 f"the score's {coordinate} coordinate ∂ log p_σ = ∂p_σ / p_σ: the "
                 "responsibilities r_k = w_k N_k / Σ_j w_j N_j use the 2-D densities", "def"),
        ]
    return Derivation(
        "score of a noised 2-D isotropic Gaussian mixture",
        "4.b",
        tuple(steps),
        args=(x_1, x_2, w, m_1, m_2, s, sigma),
        domain={m_1: (-2.0, 2.0), m_2: (-2.0, 2.0), s: (0.3, 2.0)},
    )


# --------------------------------------------------------------------------------------------
# Tweedie's formula and denoising score matching


@derivation
def tweedie_gaussian() -> Derivation:
    factorisation = gaussian_factorisation()
    on_noisy = {x: x_tilde}
    evidence = gaussian_convolution().result.subs(on_noisy)
    bayes = sp.Mul(factorisation.steps[0].expr.subs(on_noisy), 1 / evidence, evaluate=False)
    posterior = _joint_factors()["posterior"].subs(on_noisy)
    log_posterior = sp.expand(sp.expand_log(sp.log(posterior), force=True))
    slope = sp.diff(log_posterior, u)
    (mode,) = sp.solve(slope, u)
    marginal_score = _component_scores(x_tilde, mu, tau)
    return Derivation(
        "Tweedie's formula for a Gaussian prior",
        "4",
        (
            Step(bayes, "Bayes: p(u|x̃) = N(u; μ, τ²) N(x̃; u, σ²)/p_σ(x̃), with "
                        "p_σ = N(μ, τ² + σ²) (Gaussian noise added to a Gaussian)", "def"),
            Step(posterior, "the joint factorises as p_σ(x̃)·N(u; c, v) (completing the square): "
                            "p(u|x̃) = N(u; c, v), c = (σ²μ + τ²x̃)/(τ² + σ²)",
                 by=factorisation, subs=on_noisy),
            Step(log_posterior, "the mean of a Gaussian is its mode: maximise the log-posterior",
                 "def"),
            Step(sp.Eq(slope, 0), "first-order condition", "stationary", wrt=u),
            Step(sp.Eq(u, mode), "E[u|x̃] = c", "solves"),
            Step(x_tilde + sigma**2 * marginal_score,
                 "= x̃ + σ² ∂ log p_σ(x̃), the Gaussian score of p_σ = N(μ, τ² + σ²): Tweedie"),
        ),
        args=(x_tilde, mu, tau, sigma),
    )


@derivation
def tweedie_identity() -> Derivation:
    """For any prior density p: σ² ∇p_σ(x̃) = p_σ(x̃) (E[x|x̃] − x̃), hence Tweedie."""
    kernel = normal_pdf(x_tilde, u, sigma)
    kernel_score = gaussian_score().result.subs({x: x_tilde, mu: u}, simultaneous=True)
    identity = sp.Eq(sigma**2 * grad_p, p_sigma * (posterior_mean - x_tilde))
    (solution,) = sp.solve(identity, posterior_mean)
    return Derivation(
        "Tweedie's formula for any prior",
        "4",
        (
            Step(sigma**2 * sp.Integral(p(u) * sp.diff(kernel, x_tilde), _EVERYWHERE),
                 "σ² ∇p_σ(x̃), p_σ(x̃) = ∫ p(u) N(x̃; u, σ²) du: differentiate under the integral",
                 "def"),
            Step(sigma**2 * sp.Integral(p(u) * kernel * kernel_score, _EVERYWHERE),
                 "∇_x̃ N(x̃; u, σ²) = N · (u − x̃)/σ², the Gaussian score"),
            Step(sp.Integral(u * p(u) * kernel, _EVERYWHERE)
                 - x_tilde * sp.Integral(p(u) * kernel, _EVERYWHERE), "linearity"),
            Step(identity, "∫ p(u) N du = p_σ(x̃) =: P and ∫ u p(u) N du = P·E[x|x̃] (Bayes: "
                           "p(u|x̃) = p(u) N(x̃; u, σ²)/P); with g := ∇p_σ(x̃), e := E[x|x̃] the "
                           "line above reads σ² g = P (e − x̃)", "def"),
            Step(sp.Eq(posterior_mean, solution),
                 "E[x|x̃] = x̃ + σ² ∇p_σ/p_σ = x̃ + σ² ∇ log p_σ(x̃)", "solves"),
        ),
        args=(x_tilde, sigma, grad_p, p_sigma),
    )


@derivation
def dsm_minimiser() -> Derivation:
    """E[(s − G)²|x̃] is minimised by s = E[G|x̃]; for the Gaussian kernel that is ∇ log p_σ."""
    expanded = sp.Poly(sp.expand((s_theta - G) ** 2), G)
    moments = {0: sp.Integer(1), 1: g_1, 2: g_2}
    objective = sp.Add(*(coefficient * moments[power]
                         for (power,), coefficient in expanded.terms()))
    slope = sp.diff(objective, s_theta)
    (minimiser,) = sp.solve(slope, s_theta)
    kernel_score = gaussian_score().result.subs({mu: x, x: x_tilde}, simultaneous=True)
    if sp.Poly(kernel_score, x).degree() != 1:  # pragma: no cover - a guard on the derivation
        raise ValueError("the kernel score must be linear in x for E to pass inside")
    conditional = kernel_score.subs(x, posterior_mean)
    tweedie = tweedie_identity().result
    return Derivation(
        "denoising score matching is minimised by the score",
        "4",
        (
            Step(objective, "J(s) = E[(s − G)² | x̃] with G = ∇_x̃ log N(x̃; x, σ²): expand the "
                            "square, g_k = E[G^k | x̃]; the DSM loss averages J over x̃, so it is "
                            "minimised at every x̃", "def"),
            Step(sp.diff(objective, s_theta, 2) > 0, "J″(s) = 2 > 0: convex", "holds"),
            Step(sp.Eq(slope, 0), "first-order condition", "stationary", wrt=s_theta),
            Step(sp.Eq(s_theta, minimiser), "s*(x̃) = E[∇_x̃ log p(x̃|x) | x̃]", "solves"),
            Step(conditional, "G = (x − x̃)/σ² is linear in x: E[G|x̃] = (E[x|x̃] − x̃)/σ²",
                 subs={g_1: conditional}),
            Step(conditional.subs(posterior_mean, tweedie),
                 "Tweedie: E[x|x̃] = x̃ + σ² ∇p_σ/p_σ", subs={posterior_mean: tweedie}),
            Step(grad_p / p_sigma,
                 "s* = ∇p_σ/p_σ = ∇ log p_σ(x̃): the score of the noised density"),
        ),
        args=(x_tilde, sigma, grad_p, p_sigma),
    )


# --------------------------------------------------------------------------------------------
# Langevin dynamics and its Fokker–Planck equation


def langevin_update(position: sp.Expr, drift: sp.Expr, step: sp.Expr, noise: sp.Expr) -> sp.Expr:
    """x + α s + √(2α) ε: the homework's (unadjusted) Langevin update (4.c), a definition."""
    return position + step * drift + sp.sqrt(2 * step) * noise


def _expectation_over_noise(expr: sp.Expr) -> sp.Expr:
    """E over ε ~ N(0, 1) of a polynomial in ε, with E[ε^j] kept as M_j (M_0 = 1)."""
    moments = {0: sp.Integer(1), 1: M_1, 2: M_2}
    polynomial = sp.Poly(sp.expand(expr), epsilon)
    return sp.Add(*(c * moments[power] for (power,), c in polynomial.terms()))


@derivation
def langevin_limit() -> Derivation:
    update = langevin_update(x, score, alpha, epsilon)
    increment = update - x
    drift = _expectation_over_noise(increment) / alpha
    diffusion = _expectation_over_noise(increment**2) / (2 * alpha)
    moments = {M_1: standard_normal_moment(1), M_2: standard_normal_moment(2)}
    at_moments = sp.expand(diffusion.subs(moments))
    return Derivation(
        "Langevin update: drift is the score, diffusion 1",
        "4.c",
        (
            Step(update, "the Langevin update x′ = x + α s(x) + √(2α) ε, ε ~ N(0, 1)", "def"),
            Step(drift, "drift b = E[x′ − x]/α, with M_j = E[ε^j]", "def"),
            Step(drift.subs(moments), "E[ε] = 0: the drift is the score", subs=moments),
            Step(diffusion, "diffusion D = E[(x′ − x)²]/(2α)", "def"),
            Step(at_moments, "E[ε] = 0, E[ε²] = 1", subs=moments),
            Step(at_moments.subs(alpha, 0), "continuous limit α → 0 (a polynomial in α): D = 1, "
                                            "so x′ is the Euler–Maruyama step of "
                                            "dX = s(X) dt + √2 dW", subs={alpha: 0}),
        ),
        args=(x, score, alpha),
    )


@derivation
def fokker_planck_stationarity() -> Derivation:
    limit = langevin_limit()
    drift = limit.steps[2].expr.subs(score, sp.Derivative(sp.log(p(x)), x))
    diffusion = limit.result
    right_side = -sp.Derivative(drift * p(x), x) + sp.Derivative(diffusion * p(x), (x, 2))
    taylor = p_0 + p_1 * (x - x_0) + p_2 * (x - x_0) ** 2 / 2
    jet = {p: sp.Lambda(x, taylor)}
    specialised = right_side.subs(jet)
    log_t = sp.log(taylor)
    product_rule = -(sp.diff(taylor, x) * sp.diff(log_t, x) + taylor * sp.diff(log_t, x, 2)) \
        + sp.diff(taylor, x, 2)
    at_point = product_rule.subs(x, x_0)
    return Derivation(
        "Langevin dynamics leaves p stationary (Fokker–Planck)",
        "4.c",
        (
            Step(right_side, "Fokker–Planck for dX = b dt + √(2D) dW: "
                             "∂p/∂t = −∂_x(b p) + ∂_x²(D p), "
                             "with the Langevin limit's b = ∂_x log p and D = 1, for a general "
                             "positive p", "def"),
            Step(specialised, "a second-order operator: its value at x0 depends on p only "
                              "through p(x0) = p_0 > 0, p′(x0) = p_1, p″(x0) = p_2, so p may be "
                              "replaced by its Taylor polynomial T at x0", subs=jet),
            Step(product_rule, "product rule: −(T′ (log T)′ + T (log T)″) + T″"),
            Step(at_point, "at x = x0: T = p_0, T′ = p_1, T″ = p_2", subs={x: x_0}),
            Step(sp.Integer(0), "−(p_1²/p_0 + p_2 − p_1²/p_0) + p_2 = 0: ∂p/∂t = 0 for every "
                                "p_0 > 0, p_1, p_2 and x0 — p is stationary"),
        ),
        args=(x, x_0, p_0, p_1, p_2),
    )


# --------------------------------------------------------------------------------------------
# the DDPM forward marginal


@derivation
def ddpm_step() -> Derivation:
    convolution = gaussian_convolution().result
    scaled = {mu: sp.sqrt(1 - beta_t) * a, tau: sp.sqrt((1 - beta_t) * v), sigma: sp.sqrt(beta_t)}
    return Derivation(
        "one DDPM step on a Gaussian",
        "4",
        (
            Step(convolution, "x_t = y + √β ε with y independent of ε: Gaussian noise added to a "
                              "Gaussian (derived above)", "def"),
            Step(convolution.subs(scaled, simultaneous=True),
                 "y = √(1 − β) x_{t−1}, x_{t−1}|x_0 ~ N(a, v): y ~ N(√(1 − β) a, (1 − β) v)",
                 subs=scaled),
        ),
        args=(x, a, v, beta_t),
        domain={beta_t: _PROBABILITY},
    )


def _step_maps() -> tuple[sp.Lambda, sp.Lambda]:
    """(a, β) ↦ mean and (v, β) ↦ variance of x_t|x_0 after one step, read off ddpm_step."""
    mean, variance = _moments_of(ddpm_step().result, x)
    return sp.Lambda((a, beta_t), mean), sp.Lambda((v, beta_t), variance)


def alpha_bar(steps: sp.Expr) -> sp.Product:
    """ᾱ_t = ∏_{i=1}^{t} (1 − β_i) (the DDPM notation)."""
    return sp.Product(1 - beta[i], (i, 1, steps))


def _explicit_alpha_bar(steps: int) -> sp.Expr:
    return sp.Mul(*(1 - beta[n] for n in range(1, steps + 1)))


@derivation
def ddpm_marginal_mean() -> Derivation:
    mean_map, _ = _step_maps()
    two = mean_map(mean_map(x_0, beta[1]), beta[2])
    three = mean_map(two, beta[3])
    induction = mean_map(sp.sqrt(alpha_bar(t - 1)) * x_0, beta[t])
    return Derivation(
        "DDPM forward marginal: mean",
        "4",
        (
            Step(two, "two steps from x_0: each multiplies the mean by √(1 − β) (one DDPM step)",
                 "def"),
            Step(sp.sqrt(_explicit_alpha_bar(2)) * x_0, "= √((1 − β_1)(1 − β_2)) x_0"),
            Step(three, "three steps", "def"),
            Step(sp.sqrt(_explicit_alpha_bar(3)) * x_0, "= √((1 − β_1)(1 − β_2)(1 − β_3)) x_0"),
            Step(induction, "induction: x_{t−1}|x_0 has mean √ᾱ_{t−1} x_0 (at t = 1 the empty "
                            "product ᾱ_0 = 1); one more step", "def"),
            Step(sp.sqrt(alpha_bar(t)) * x_0, "√(1 − β_t) √ᾱ_{t−1} = √ᾱ_t"),
        ),
        args=(x_0, beta),
        domain={beta: _PROBABILITY},
    )


@derivation
def ddpm_marginal_variance() -> Derivation:
    _, variance_map = _step_maps()
    two = variance_map(variance_map(0, beta[1]), beta[2])
    three = variance_map(two, beta[3])
    induction = variance_map(1 - alpha_bar(t - 1), beta[t])
    return Derivation(
        "DDPM forward marginal: variance",
        "4",
        (
            Step(two, "two steps from x_0 (variance 0): each maps v to (1 − β) v + β "
                      "(one DDPM step)", "def"),
            Step(1 - _explicit_alpha_bar(2), "= 1 − (1 − β_1)(1 − β_2)"),
            Step(three, "three steps", "def"),
            Step(1 - _explicit_alpha_bar(3), "= 1 − (1 − β_1)(1 − β_2)(1 − β_3)"),
            Step(induction, "induction: x_{t−1}|x_0 has variance 1 − ᾱ_{t−1} (at t = 1: 0); "
                            "one more step", "def"),
            Step(1 - alpha_bar(t), "(1 − β_t)(1 − ᾱ_{t−1}) + β_t = 1 − ᾱ_t"),
        ),
        args=(beta,),
        domain={beta: _PROBABILITY},
    )


__getattr__ = lazy_exports(
    __name__,
    {
        "GAUSSIAN_SCORE": lambda: gaussian_score().closed_form,
        "NOISED_GAUSSIAN_DENSITY": lambda: gaussian_convolution().closed_form,
        "NOISED_MIXTURE_DENSITY": lambda: noised_mixture().closed_form,
        "NOISED_MIXTURE_SCORE": lambda: noised_mixture_score().closed_form,
        "NOISED_MIXTURE_SCORE_2D": lambda: tuple(
            sp.Lambda(noised_mixture_score_2d().args, noised_mixture_score_2d().steps[n].expr)
            for n in (4, 7)),
        "TWEEDIE_POSTERIOR_MEAN": lambda: tweedie_gaussian().closed_form,
        "LANGEVIN_STEP": lambda: sp.Lambda((x, score, alpha, epsilon),
                                           langevin_limit().steps[0].expr),
        "DDPM_ALPHA_BAR": lambda: sp.Lambda((beta,), alpha_bar(t)),
        "DDPM_MARGINAL_MEAN": lambda: ddpm_marginal_mean().closed_form,
        "DDPM_MARGINAL_VARIANCE": lambda: ddpm_marginal_variance().closed_form,
    },
)
