"""The Gaussian density, its logarithm, and the moments of the standard normal.

Results (as used by the VAE of Question 2):

* ``GAUSSIAN_LOG_DENSITY(x, mu, sigma)`` = log N(x; μ, σ²), from the logarithm of the density;
* ``GAUSSIAN_LOG_DENSITY_LOGVAR(x, mu, logvar)``, the same with σ² = exp(logvar), as an
  encoder that outputs a log-variance needs it;
* ``DIAGONAL_GAUSSIAN_LOG_DENSITY(x, mu, logvar)``: the sum over the d coordinates of a
  diagonal Gaussian, because the density of independent coordinates is their product.

``standard_normal_moment(k)`` integrates t^k φ(t); the KL derivations use it to take
expectations of polynomials. Source: any probability text, e.g. Bishop, PRML §2.3.
"""

from __future__ import annotations

import functools

import sympy as sp

from derivations.core import Derivation, Step, constant_integral, derivation, lazy_exports

x, mu, t = sp.symbols("x mu t", real=True)
sigma = sp.Symbol("sigma", positive=True)
logvar = sp.Symbol("logvar", real=True)
j = sp.Idx("j")
d = sp.Symbol("d", integer=True, positive=True)
xs, mus, logvars = (sp.IndexedBase(n, real=True) for n in ("x", "mu", "logvar"))


def normal_pdf(x: sp.Expr, mean: sp.Expr, std: sp.Expr) -> sp.Expr:
    """The density N(x; mean, std²) — the definition every derivation starts from."""
    return sp.exp(-((x - mean) ** 2) / (2 * std**2)) / sp.sqrt(2 * sp.pi * std**2)


@functools.cache
def standard_normal_moment(k: int) -> sp.Expr:
    """E[t^k] for t ~ N(0, 1), by integration."""
    return constant_integral(sp.Integral(t**k * normal_pdf(t, 0, 1), (t, -sp.oo, sp.oo)))


@derivation
def log_density() -> Derivation:
    density = normal_pdf(x, mu, sigma)
    expanded = sp.expand(sp.expand_log(sp.log(density), force=True))
    return Derivation(
        "Gaussian log-density",
        "2",
        (
            Step(sp.log(density), "log of the density N(x; μ, σ²)", "def"),
            Step(expanded, "log of a product and of exp; σ > 0"),
        ),
        args=(x, mu, sigma),
    )


@derivation
def log_density_logvar() -> Derivation:
    in_sigma = log_density().result
    in_logvar = sp.expand(sp.expand_log(in_sigma.subs(sigma, sp.exp(logvar / 2)), force=True))
    return Derivation(
        "Gaussian log-density in the log-variance",
        "2",
        (
            Step(in_sigma, "log N(x; μ, σ²), derived above", "def"),
            Step(in_logvar, "σ = exp(logvar / 2)", subs={sigma: sp.exp(logvar / 2)}),
        ),
        args=(x, mu, logvar),
    )


@derivation
def diagonal_log_density() -> Derivation:
    coordinate = log_density_logvar().result.subs({x: xs[j], mu: mus[j], logvar: logvars[j]})
    product = sp.Product(
        normal_pdf(xs[j], mus[j], sp.exp(logvars[j] / 2)), (j, 1, d)
    )
    return Derivation(
        "diagonal Gaussian log-density",
        "2",
        (
            Step(sp.log(product), "independent coordinates: the density is a product", "def"),
            Step(sp.Sum(sp.log(product.function), (j, 1, d)), "log of a product is a sum of logs"),
            Step(sp.Sum(coordinate, (j, 1, d)), "each term is the univariate log-density"),
        ),
        args=(xs, mus, logvars),
    )


__getattr__ = lazy_exports(
    __name__,
    {
        "GAUSSIAN_LOG_DENSITY": lambda: log_density().closed_form,
        "GAUSSIAN_LOG_DENSITY_LOGVAR": lambda: log_density_logvar().closed_form,
        "DIAGONAL_GAUSSIAN_LOG_DENSITY": lambda: diagonal_log_density().closed_form,
    },
)
