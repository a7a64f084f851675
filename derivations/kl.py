"""The Kullback–Leibler divergence between Gaussians, by integrating the log-ratio.

KL(q‖p) = ∫ q(x) log(q(x)/p(x)) dx. For q = N(μ1, σ1²), p = N(μ2, σ2²) the log-ratio is a
quadratic in x; with x = μ1 + σ1 t the integral becomes a combination of standard-normal
moments (1, 0, 1), which gives ``KL_GAUSSIAN(mu_1, sigma_1, mu_2, sigma_2)``. Specialised:

* ``KL_STANDARD_NORMAL(mu, sigma)`` = ½(μ² + σ² − 1 − log σ²), the VAE's prior term;
* ``KL_STANDARD_NORMAL_LOGVAR(mu, logvar)``, the same with σ² = exp(logvar);
* ``KL_EQUAL_VARIANCE(mu_q, mu_p, sigma)`` = (μ_q − μ_p)²/(2σ²), homework part 1.h;
* ``KL_DIAGONAL(mu, sigma, m, s)``: a sum of coordinate KLs for diagonal Gaussians;
* KL(q‖q) = 0 (part 1.g); KL ≥ 0 with equality iff q = p, and KL is not symmetric (part 1.d).

Source: Kullback & Leibler (1951); Kingma & Welling, "Auto-Encoding Variational Bayes",
appendix B.
"""

from __future__ import annotations

import sympy as sp

from derivations.core import Derivation, Step, derivation, lazy_exports
from derivations.gaussian import normal_pdf, standard_normal_moment

x, t = sp.symbols("x t", real=True)
mu_1, mu_2, mu, mu_q, mu_p = sp.symbols("mu_1 mu_2 mu mu_q mu_p", real=True)
sigma_1, sigma_2, sigma = sp.symbols("sigma_1 sigma_2 sigma", positive=True)
logvar = sp.Symbol("logvar", real=True)
r = sp.Symbol("r", positive=True)  # the variance ratio σ1²/σ2²
j = sp.Idx("j")
d = sp.Symbol("d", integer=True, positive=True)
mus, ms = sp.IndexedBase("mu", real=True), sp.IndexedBase("m", real=True)
sigmas, ss = sp.IndexedBase("sigma", positive=True), sp.IndexedBase("s", positive=True)
_SIGMA_DOMAIN = (0.3, 3.0)  # quadrature stays accurate at 30 digits on this range


def _kl_integral(q: sp.Expr, p: sp.Expr, variable: sp.Symbol) -> sp.Integral:
    return sp.Integral(q * (sp.log(q) - sp.log(p)), (variable, -sp.oo, sp.oo))


@derivation
def general() -> Derivation:
    q, p = normal_pdf(x, mu_1, sigma_1), normal_pdf(x, mu_2, sigma_2)
    log_ratio = sp.expand(sp.expand_log(sp.log(q) - sp.log(p), force=True))
    standardised = sp.Poly(sp.expand(log_ratio.subs(x, mu_1 + sigma_1 * t)), t)
    phi = normal_pdf(t, 0, 1)
    by_moment = {k: sp.Integral(t**k * phi, (t, -sp.oo, sp.oo)) for k in range(standardised.degree() + 1)}
    linear = sp.Add(*(c * by_moment[k] for (k,), c in standardised.terms()))
    evaluated = sp.Add(*(c * standard_normal_moment(k) for (k,), c in standardised.terms()))
    return Derivation(
        "Gaussian KL divergence",
        "1.d",
        (
            Step(_kl_integral(q, p, x), "definition of KL(q‖p) for q = N(μ1, σ1²), p = N(μ2, σ2²)", "def"),
            Step(sp.Integral(q * log_ratio, (x, -sp.oo, sp.oo)), "the log-ratio of two Gaussians is quadratic in x"),
            Step(sp.Integral(phi * standardised.as_expr(), (t, -sp.oo, sp.oo)), "change of variable x = μ1 + σ1 t",
                 change=(x, mu_1 + sigma_1 * t, t)),
            Step(linear, "linearity: a combination of moments of N(0, 1)"),
            Step(evaluated, "moments of N(0, 1): E[1] = 1, E[t] = 0, E[t²] = 1"),
        ),
        args=(mu_1, sigma_1, mu_2, sigma_2),
        domain={sigma_1: _SIGMA_DOMAIN, sigma_2: _SIGMA_DOMAIN},
    )


@derivation
def standard_normal_prior() -> Derivation:
    kl = general().result
    prior = sp.expand(kl.subs({mu_1: mu, sigma_1: sigma, mu_2: 0, sigma_2: 1}))
    in_variance = sp.expand(prior.subs(sp.log(sigma), sp.log(sigma**2) / 2))
    return Derivation(
        "KL to the standard-normal prior",
        "1.d",
        (
            Step(kl, "Gaussian KL, derived above", "def"),
            Step(prior, "p(z) = N(0, 1): μ2 = 0, σ2 = 1",
                 subs={mu_1: mu, sigma_1: sigma, mu_2: 0, sigma_2: 1}),
            Step(in_variance, "log σ = ½ log σ²"),
            Step(sp.factor_terms(in_variance), "collect ½"),
        ),
        args=(mu, sigma),
    )


@derivation
def standard_normal_prior_logvar() -> Derivation:
    in_sigma = standard_normal_prior().result
    in_logvar = sp.expand(sp.expand_log(in_sigma.subs(sigma, sp.exp(logvar / 2)), force=True))
    return Derivation(
        "KL to the standard-normal prior in the log-variance",
        "2",
        (
            Step(in_sigma, "KL(N(μ, σ²)‖N(0, 1)), derived above", "def"),
            Step(in_logvar, "σ² = exp(logvar)", subs={sigma: sp.exp(logvar / 2)}),
        ),
        args=(mu, logvar),
    )


@derivation
def equal_variance() -> Derivation:
    kl = general().result
    same = kl.subs({mu_1: mu_q, mu_2: mu_p, sigma_1: sigma, sigma_2: sigma})
    return Derivation(
        "KL between Gaussians of equal variance",
        "1.h",
        (
            Step(kl, "Gaussian KL, derived above", "def"),
            Step(same, "q = N(μ_φ, σ²), p = N(μ_p, σ²)",
                 subs={mu_1: mu_q, mu_2: mu_p, sigma_1: sigma, sigma_2: sigma}),
            Step(sp.factor(same), "log(σ/σ) = 0 and σ²/σ² = 1"),
        ),
        args=(mu_q, mu_p, sigma),
    )


@derivation
def diagonal() -> Derivation:
    kl = general().result
    coordinate = kl.subs({mu_1: mus[j], sigma_1: sigmas[j], mu_2: ms[j], sigma_2: ss[j]})
    q, p = normal_pdf(x, mus[j], sigmas[j]), normal_pdf(x, ms[j], ss[j])
    return Derivation(
        "KL between diagonal Gaussians",
        "1.d",
        (
            Step(sp.Sum(_kl_integral(q, p, x), (j, 1, d)),
                 "log q(z) − log p(z) = Σ_j (log q_j(z_j) − log p_j(z_j)) for independent "
                 "coordinates; the other marginals integrate to one", "def"),
            Step(sp.Sum(coordinate, (j, 1, d)), "each term is a univariate Gaussian KL",
                 by=general(), subs={mu_1: mus[j], sigma_1: sigmas[j], mu_2: ms[j], sigma_2: ss[j]}),
        ),
        args=(mus, sigmas, ms, ss),
        domain={sigmas: _SIGMA_DOMAIN, ss: _SIGMA_DOMAIN},
    )


@derivation
def self_divergence() -> Derivation:
    kl = general().result
    return Derivation(
        "KL of a distribution to itself",
        "1.g",
        (
            Step(kl, "Gaussian KL, derived above", "def"),
            Step(kl.subs({mu_2: mu_1, sigma_2: sigma_1}), "p = q", subs={mu_2: mu_1, sigma_2: sigma_1}),
            Step(sp.Integer(0), "the log-ratio vanishes"),
        ),
        args=(mu_1, sigma_1),
    )


@derivation
def nonnegativity() -> Derivation:
    """KL = f(r) + (μ1 − μ2)²/(2σ2²) with f(r) = (r − 1 − log r)/2, r = σ1²/σ2².

    f is strictly convex with its only stationary point at r = 1, where f = 0; so KL ≥ 0, with
    equality exactly when r = 1 and μ1 = μ2, i.e. q = p.
    """
    kl = general().result
    f = (r - 1 - sp.log(r)) / 2
    split = f.subs(r, sigma_1**2 / sigma_2**2) + (mu_1 - mu_2) ** 2 / (2 * sigma_2**2)
    return Derivation(
        "KL is non-negative, zero only for equal distributions",
        "1.d",
        (
            Step(kl, "Gaussian KL, derived above", "def"),
            Step(split, "split into a variance part f(σ1²/σ2²) and a mean part"),
            Step(sp.diff(f, r, 2) > 0, "f''(r) = 1/(2r²) > 0: f is strictly convex", "holds"),
            Step(f, "the variance part as a function of r", "def"),
            Step(sp.Eq(sp.diff(f, r), 0), "a convex f is minimal where f'(r) = 0", "stationary", wrt=r),
            Step(sp.Eq(r, 1), "r = 1: equal variances", "solves"),
            Step(f.subs(r, 1), "f(1) = 0, so f ≥ 0 with equality iff σ1 = σ2", "def"),
            Step(sp.Integer(0), "log 1 = 0"),
            Step(kl >= 0, "hence KL ≥ 0 (the mean part is a square)", "holds"),
        ),
        args=(mu_1, sigma_1, mu_2, sigma_2),
    )


@derivation
def asymmetry() -> Derivation:
    kl = general().result
    forward = kl.subs({mu_1: 0, sigma_1: 1, mu_2: 0, sigma_2: 2})
    backward = kl.subs({mu_1: 0, sigma_1: 2, mu_2: 0, sigma_2: 1})
    return Derivation(
        "KL is not symmetric",
        "1.d",
        (
            Step(forward, "KL(N(0, 1)‖N(0, 4))", "def"),
            Step(forward < backward, "is smaller than KL(N(0, 4)‖N(0, 1))", "holds"),
        ),
    )


__getattr__ = lazy_exports(
    __name__,
    {
        "KL_GAUSSIAN": lambda: general().closed_form,
        "KL_STANDARD_NORMAL": lambda: standard_normal_prior().closed_form,
        "KL_STANDARD_NORMAL_LOGVAR": lambda: standard_normal_prior_logvar().closed_form,
        "KL_EQUAL_VARIANCE": lambda: equal_variance().closed_form,
        "KL_DIAGONAL": lambda: diagonal().closed_form,
    },
)
