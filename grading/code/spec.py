"""The functions the homework's coding parts ask for: names, signatures, properties, points.

Students hand in Python files that define these functions (torch tensors in, torch tensors
out; every random function takes an optional ``torch.Generator``). Shapes: ``batch`` rows,
``d`` coordinates (latent or data), ``G`` pixels.

Question 2 (VAE)::

    log_normal_diag(x, mu, logvar) -> Tensor[batch]
        x, mu, logvar: Tensor[batch, d]. Σ_j log N(x_j; mu_j, exp(logvar_j)): the log-density
        of a diagonal Gaussian whose variance is exp(logvar), one value per row.
    log_bernoulli(x, y) -> Tensor[batch]
        x: Tensor[batch, G] of 0.0/1.0, y: Tensor[batch, G] of probabilities in (0, 1).
        Σ_j x_j log y_j + (1 − x_j) log(1 − y_j). Clamping y to [1e-7, 1 − 1e-7] is accepted.
    sample_normal(mu, logvar, generator=None) -> Tensor[batch, d]
        A reparameterized sample mu + exp(logvar / 2)·ε, ε ~ N(0, I) (e.g.
        ``torch.randn(mu.shape, generator=generator, dtype=mu.dtype)``): differentiable in mu
        and logvar.
    sample_bernoulli(y, generator=None) -> Tensor[batch, G]
        Independent pixels x_j ~ Bernoulli(y_j), as 0.0/1.0 in y's dtype.
    elbo_loss(x, encoder, decoder, generator=None) -> Tensor[]
        encoder(x) -> (mu, logvar), each Tensor[batch, k]; decoder(z) -> y, Tensor[batch, G]
        of Bernoulli probabilities. The negative single-sample ELBO averaged over the batch:
        −(1/batch) Σ_b [log p(x_b|z_b) + log p(z_b) − log q(z_b|x_b)], z_b ~ q(z|x_b) =
        N(mu_b, exp(logvar_b)) one reparameterized sample per example, p(z) = N(0, I).

Question 4 (score-based diffusion)::

    dsm_loss(score, x, sigma, generator=None) -> Tensor[]
        score(x_noisy: Tensor[batch, 2], sigma: Tensor[batch]) -> Tensor[batch, 2];
        x: Tensor[batch, 2] data; sigma: Tensor[batch], the noise level of each example.
        (1/batch) Σ_b ½ σ_b² ‖score(x_b + σ_b ε_b, σ_b) + ε_b/σ_b‖², ε_b ~ N(0, I): denoising
        score matching with λ(σ) = σ².
    langevin_step(score, x, sigma, alpha, generator=None) -> Tensor[n, 2]
        score(x, sigma) with sigma a float; x: Tensor[n, 2]. One Langevin update
        x + alpha·score(x, sigma) + sqrt(2·alpha)·ε, ε ~ N(0, I).
    annealed_langevin(score, x, sigmas, eta, steps, generator=None) -> Tensor[n, 2]
        x: Tensor[n, 2] starting points; sigmas: Tensor[L], decreasing. For each level i in
        order: alpha_i = eta·σ_i²/σ_L², then ``steps`` Langevin updates with score(·, σ_i).
        Returns the final points.

What is checked (``CODE_SPECS``; the points are the course's to change): deterministic
functions agree with the closed forms derived in :mod:`derivations` (through
:mod:`numerics.bridge`) on Hypothesis-drawn inputs, ordinary and extreme-but-valid ones, and
keep the input's dtype; samplers pass calibrated tests of their law (KS, binomial, moment
and two-sample tests, each with a stated false-failure probability); the reparameterized
sample's gradients reach mu and logvar; the two losses match their expectation (the ELBO's
from the derived KL and Gauss–Hermite quadrature of log p(x|z), the DSM loss's by quadrature
of its definition with the derived noised-mixture score); the annealed sampler, run with the
analytic score of a mixture, is compared with a reference run of the homework's algorithm
(the derived ``LANGEVIN_STEP``). Known mistakes are recognised by the mutants below and named
in the feedback.

References are derived, never typed: :func:`references` lambdifies
``DIAGONAL_GAUSSIAN_LOG_DENSITY``, ``BERNOULLI_LOG_LIKELIHOOD``, ``BERNOULLI_LOG_PIXEL``,
``BERNOULLI_LOG_PIXEL_LOGITS`` (overflow-free, for the quadrature of E_q[log p(x|z)]),
``KL_STANDARD_NORMAL_LOGVAR``, ``NOISED_MIXTURE_SCORE_2D`` and ``LANGEVIN_STEP``. Mutants are
*compositions* of the derived references (e.g. "missing ½ on the quadratic term" is
2·log N(x) − log N(μ), since log N(μ) is the normaliser alone), so they too inherit no typed
formula.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import numpy as np

__all__ = [
    "Property",
    "FunctionSpec",
    "Mistake",
    "CODE_SPECS",
    "spec",
    "references",
    "mistakes",
    "input_strategy",
    "total_points",
]


@dataclass(frozen=True)
class Property:
    """One graded property of a function: a sentence, the points, the check that decides it."""

    name: str
    points: float
    check: str  # key of the check in grading.code.checks


@dataclass(frozen=True)
class FunctionSpec:
    """A function the students implement."""

    name: str
    part: str
    signature: str
    summary: str
    properties: tuple[Property, ...]

    @property
    def points(self) -> float:
        return sum(p.points for p in self.properties)


@dataclass(frozen=True)
class Mistake:
    """A known mistake: the feedback and what a submission making it returns."""

    feedback: str
    returns: Callable[..., np.ndarray]


def _deterministic(name: str, part: str, signature: str, summary: str,
                   extreme: str) -> FunctionSpec:
    return FunctionSpec(name, part, signature, summary, (
        Property("agrees with the derived closed form on ordinary inputs", 1.0, "agreement"),
        Property(f"agrees on extreme but valid inputs ({extreme})", 0.5, "agreement_extreme"),
        Property("returns one value per row, in the input's dtype (float32 and float64)", 0.5,
                 "dtype"),
    ))


CODE_SPECS: tuple[FunctionSpec, ...] = (
    _deterministic(
        "log_normal_diag", "2", "log_normal_diag(x, mu, logvar) -> Tensor[batch]",
        "log-density of a diagonal Gaussian N(mu, diag(exp(logvar))), summed over coordinates",
        "|x − μ| up to 2000, log-variance in [−20, 20], up to 64 coordinates"),
    _deterministic(
        "log_bernoulli", "2", "log_bernoulli(x, y) -> Tensor[batch]",
        "Bernoulli log-likelihood Σ_j x_j log y_j + (1 − x_j) log(1 − y_j)",
        "y within 1e-4 of 0 or 1, up to 400 pixels"),
    FunctionSpec(
        "sample_normal", "2", "sample_normal(mu, logvar, generator=None) -> Tensor[batch, d]",
        "reparameterized sample mu + exp(logvar/2)·ε",
        (Property("has the law N(μ, exp(logvar)) with independent coordinates", 1.0,
                  "normal_law"),
         Property("is reparameterized: gradients reach μ and logvar", 1.0, "reparameterized"))),
    FunctionSpec(
        "sample_bernoulli", "2", "sample_bernoulli(y, generator=None) -> Tensor[batch, G]",
        "independent Bernoulli(y_j) pixels as 0.0/1.0",
        (Property("returns 0/1 values of y's shape and dtype", 0.5, "binary"),
         Property("has P(x_j = 1) = y_j with independent pixels", 0.5, "bernoulli_law"))),
    FunctionSpec(
        "elbo_loss", "2", "elbo_loss(x, encoder, decoder, generator=None) -> Tensor[]",
        "negative single-sample ELBO averaged over the batch",
        (Property("returns a scalar", 0.5, "elbo_scalar"),
         Property("matches the negative ELBO in expectation", 1.5, "elbo_expectation"))),
    FunctionSpec(
        "dsm_loss", "4", "dsm_loss(score, x, sigma, generator=None) -> Tensor[]",
        "denoising score matching loss with λ(σ) = σ², averaged over the batch",
        (Property("returns a scalar", 0.5, "dsm_scalar"),
         Property("matches the denoising score-matching objective in expectation", 3.5,
                  "dsm_expectation"))),
    FunctionSpec(
        "langevin_step", "4", "langevin_step(score, x, sigma, alpha, generator=None) -> "
                              "Tensor[n, 2]",
        "one Langevin update x + α s(x, σ) + √(2α) ε",
        (Property("returns x's shape and dtype", 0.5, "langevin_shape"),
         Property("one step has the law N(x + α s(x, σ), 2α I)", 3.5, "langevin_law"))),
    FunctionSpec(
        "annealed_langevin", "4", "annealed_langevin(score, x, sigmas, eta, steps, "
                                  "generator=None) -> Tensor[n, 2]",
        "annealed Langevin dynamics with α_i = η σ_i²/σ_L²",
        (Property("returns x's shape and dtype", 0.5, "annealed_shape"),
         Property("its samples match a reference run of the algorithm (two-sample test)", 3.5,
                  "annealed_law"))),
)


def spec(name: str) -> FunctionSpec:
    """The spec of the function called ``name``."""
    for candidate in CODE_SPECS:
        if candidate.name == name:
            return candidate
    raise KeyError(name)


def total_points(specs: tuple[FunctionSpec, ...] = CODE_SPECS) -> float:
    return sum(s.points for s in specs)


# --------------------------------------------------------------------------------------------
# references, derived


def _magnitude(expr: Any) -> Any:
    """|·| pushed through sums and products: a bound on the size of every intermediate sum.

    Rounding errors of a floating-point evaluation are at most a small multiple of machine
    epsilon times this magnitude (the running-error bound of summation), so a tolerance of
    rtol·(|value| + magnitude) is fair to any correct way of computing the value.
    """
    import sympy as sp

    if isinstance(expr, (sp.Add, sp.Mul)):
        return expr.func(*(_magnitude(a) for a in expr.args))
    if isinstance(expr, sp.Sum):
        return sp.Sum(_magnitude(expr.function), *expr.limits)
    if isinstance(expr, sp.Pow) and expr.exp.is_number:
        return sp.Pow(_magnitude(expr.base), expr.exp)
    if isinstance(expr, sp.exp):
        return expr
    return sp.Abs(expr)


def _magnitude_form(closed_form: Any) -> Any:
    import sympy as sp

    return sp.Lambda(closed_form.variables, _magnitude(closed_form.expr))


@functools.cache
def references() -> SimpleNamespace:
    """NumPy functions of the derived closed forms (built on first use, then cached)."""
    from derivations.bernoulli import (BERNOULLI_LOG_LIKELIHOOD, BERNOULLI_LOG_PIXEL,
                                       BERNOULLI_LOG_PIXEL_LOGITS)
    from derivations.diffusion import LANGEVIN_STEP, NOISED_MIXTURE_SCORE_2D
    from derivations.gaussian import DIAGONAL_GAUSSIAN_LOG_DENSITY
    from derivations.kl import KL_STANDARD_NORMAL_LOGVAR
    from numerics.bridge import to_numpy

    score_1, score_2 = (to_numpy(form) for form in NOISED_MIXTURE_SCORE_2D)

    def mixture_score(x: np.ndarray, weights: np.ndarray, means: np.ndarray,
                      stds: np.ndarray, sigma: Any) -> np.ndarray:
        """∇ log p_σ(x) of Σ_k w_k N(m_k, s_k² I) noised by σ; x: (n, 2), means: (K, 2)."""
        sigma = np.asarray(sigma, dtype=np.float64)
        args = (x[:, 0], x[:, 1], weights, means[:, 0], means[:, 1], stds, sigma)
        return np.stack([score_1(*args), score_2(*args)], axis=-1)

    return SimpleNamespace(
        log_normal_diag=to_numpy(DIAGONAL_GAUSSIAN_LOG_DENSITY),
        log_normal_diag_magnitude=to_numpy(_magnitude_form(DIAGONAL_GAUSSIAN_LOG_DENSITY)),
        log_bernoulli=to_numpy(BERNOULLI_LOG_LIKELIHOOD),
        log_bernoulli_magnitude=to_numpy(_magnitude_form(BERNOULLI_LOG_LIKELIHOOD)),
        log_bernoulli_pixel=to_numpy(BERNOULLI_LOG_PIXEL),
        log_bernoulli_pixel_logits=to_numpy(BERNOULLI_LOG_PIXEL_LOGITS),
        kl_standard_normal_logvar=to_numpy(KL_STANDARD_NORMAL_LOGVAR),
        mixture_score=mixture_score,
        langevin_step=to_numpy(LANGEVIN_STEP),
    )


# --------------------------------------------------------------------------------------------
# known mistakes, as compositions of the references


def _log_normal_mistakes(r: SimpleNamespace) -> tuple[Mistake, ...]:
    f = r.log_normal_diag

    def normaliser(x: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
        return f(mu, mu, logvar)  # the quadratic term vanishes at x = μ

    def with_logvar(transform: Callable[[np.ndarray], np.ndarray]) -> Callable[..., np.ndarray]:
        def returns(x: np.ndarray, mu: np.ndarray, logvar: np.ndarray) -> np.ndarray:
            with np.errstate(all="ignore"):
                return f(x, mu, transform(logvar))
        return returns

    d = lambda a: a.shape[-1]  # noqa: E731
    return (
        Mistake("treats logvar as the variance σ² (it is log σ²: the variance is exp(logvar))",
                with_logvar(np.log)),
        Mistake("treats logvar as the standard deviation σ (the variance is exp(logvar))",
                with_logvar(lambda v: 2 * np.log(np.abs(v)))),
        Mistake("uses exp(logvar) as the standard deviation; it is the variance (σ = "
                "exp(logvar/2))", with_logvar(lambda v: 2 * v)),
        Mistake("uses exp(logvar/2) as the variance; it is the standard deviation",
                with_logvar(lambda v: v / 2)),
        Mistake("is missing the ½ in front of the quadratic term (x − μ)²/σ²",
                lambda x, mu, v: 2 * f(x, mu, v) - normaliser(x, mu, v)),
        Mistake("is missing the ½ in front of log(2πσ²)",
                lambda x, mu, v: f(x, mu, v) + normaliser(x, mu, v)),
        Mistake("has the wrong sign on the quadratic term",
                lambda x, mu, v: 2 * normaliser(x, mu, v) - f(x, mu, v)),
        Mistake("drops the constant −½ log 2π of each coordinate",
                lambda x, mu, v: f(x, mu, v) - f(0 * x, 0 * mu, 0 * v)),
        Mistake("drops the normaliser −½ log(2πσ²) altogether",
                lambda x, mu, v: f(x, mu, v) - normaliser(x, mu, v)),
        Mistake("averages over the coordinates instead of summing",
                lambda x, mu, v: f(x, mu, v) / d(x)),
        Mistake("returns the negative log-density", lambda x, mu, v: -f(x, mu, v)),
        Mistake("returns the density, not its logarithm",
                lambda x, mu, v: np.exp(f(x, mu, v))),
    )


def _log_bernoulli_mistakes(r: SimpleNamespace) -> tuple[Mistake, ...]:
    f, pixel = r.log_bernoulli, r.log_bernoulli_pixel
    G = lambda a: a.shape[-1]  # noqa: E731
    return (
        Mistake("returns the binary cross-entropy (the negative log-likelihood): wrong sign",
                lambda x, y: -f(x, y)),
        Mistake("averages over the pixels instead of summing",
                lambda x, y: f(x, y) / G(x)),
        Mistake("drops the (1 − x) log(1 − y) term",
                lambda x, y: np.sum(x * pixel(np.ones_like(y), y), axis=-1)),
        Mistake("drops the x log y term",
                lambda x, y: np.sum((1 - x) * pixel(np.zeros_like(y), y), axis=-1)),
        Mistake("uses 1 − y as the probability of a 1 (y and 1 − y swapped)",
                lambda x, y: f(x, 1 - y)),
        Mistake("returns the likelihood, not its logarithm", lambda x, y: np.exp(f(x, y))),
    )


@functools.cache
def mistakes(name: str) -> tuple[Mistake, ...]:
    """The known mistakes of a deterministic function, most specific first."""
    r = references()
    return {"log_normal_diag": _log_normal_mistakes, "log_bernoulli": _log_bernoulli_mistakes
            }[name](r)


# --------------------------------------------------------------------------------------------
# inputs, drawn by Hypothesis in the harness


def input_strategy(name: str, extreme: bool = False) -> Any:
    """A Hypothesis strategy of input dicts ``{argument: float64 array}`` for a function."""
    from hypothesis import strategies as st
    from hypothesis.extra import numpy as hnp

    def matrix(rows: int, cols: int, elements: Any) -> Any:
        return hnp.arrays(np.float64, (rows, cols), elements=elements, fill=elements)

    if name == "log_normal_diag":
        bound, low, high = (1000.0, -20.0, 20.0) if extreme else (5.0, -4.0, 4.0)
        max_d = 64 if extreme else 8
        location = st.floats(-bound, bound, allow_nan=False, allow_infinity=False)
        log_variance = st.floats(low, high, allow_nan=False, allow_infinity=False)

        @st.composite
        def inputs(draw: Any) -> dict[str, np.ndarray]:
            batch = draw(st.integers(1, 4 if extreme else 6))
            d = draw(st.integers(1, max_d))
            return {"x": draw(matrix(batch, d, location)),
                    "mu": draw(matrix(batch, d, location)),
                    "logvar": draw(matrix(batch, d, log_variance))}

        return inputs()
    if name == "log_bernoulli":
        low = 1e-4 if extreme else 0.02
        probability = st.floats(low, 1 - low, allow_nan=False)
        if extreme:
            probability = st.one_of(st.sampled_from([low, 1 - low, 0.5]), probability)
        pixel = st.sampled_from([0.0, 1.0])

        @st.composite
        def inputs(draw: Any) -> dict[str, np.ndarray]:
            batch = draw(st.integers(1, 4 if extreme else 6))
            G = draw(st.integers(1, 400 if extreme else 10))
            return {"x": draw(matrix(batch, G, pixel)),
                    "y": draw(matrix(batch, G, probability))}

        return inputs()
    raise KeyError(f"{name} is not a deterministic function of the spec")
