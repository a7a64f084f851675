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
    "Role",
    "ROLES",
    "SCALES",
    "role_meaning",
    "Mistake",
    "CODE_SPECS",
    "spec",
    "references",
    "mistakes",
    "to_scale",
    "from_scale",
    "input_strategy",
    "total_points",
]


@dataclass(frozen=True)
class Property:
    """One graded property of a function: a sentence, the points, the check that decides it."""

    name: str
    points: float
    check: str  # key of the check in grading.code.checks


SCALES = ("variance", "log_variance", "standard_deviation")
"""How a course may pass a Gaussian's spread: σ², log σ² or σ (the meaning ``scale``)."""


def role_meaning(meaning: str) -> str:
    """The meaning as a role names it: any parameterisation of the spread is ``scale``."""
    return "scale" if meaning in SCALES else meaning


@dataclass(frozen=True)
class FunctionSpec:
    """A function the students implement, as one offering of the course asks for it.

    ``role`` names the check (:data:`ROLES`; the project's own names by default), ``where``
    where it lives (``name``, or ``Class.name`` for a static method or a method, which is
    called with a stand-in ``self`` holding ``self_attributes``), ``arguments`` the student's
    argument names in call order with their meanings (``Role.meanings``), ``input_dtypes``
    the dtypes it is called with (the first for the values, all for the dtype property),
    ``output_dtype`` ``"same"`` (the input's) or ``"float"`` (any floating dtype), ``sign``
    an ELBO's (``"loss"``: −ELBO, minimised; ``"objective"``: the ELBO, maximised) and
    ``forms`` the containers an array argument may be passed in, tried in order (``tensor``,
    ``numpy``, ``list``).
    """

    name: str
    part: str
    signature: str
    summary: str
    properties: tuple[Property, ...]
    role: str = ""
    where: str = ""
    arguments: tuple[tuple[str, str], ...] = ()
    input_dtypes: tuple[str, ...] = ("float64", "float32")
    output_dtype: str = "same"
    sign: str = "loss"
    self_attributes: tuple[tuple[str, str], ...] = ()
    forms: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def points(self) -> float:
        return sum(p.points for p in self.properties)

    @property
    def check(self) -> str:
        """The role whose check grades it."""
        return self.role or self.name

    @property
    def location(self) -> str:
        return self.where or self.name

    @property
    def dtype(self) -> str:
        """The dtype of the arrays it is called with for its values."""
        return self.input_dtypes[0]

    def argument(self, meaning: str) -> str:
        """The student's name of the argument with this meaning (``scale``: any of SCALES)."""
        for name, has in self.arguments:
            if role_meaning(has) == meaning:
                return name
        return meaning

    @property
    def scale(self) -> str:
        """How the Gaussian's spread is passed (one of SCALES), log_variance if not at all."""
        return next((m for _, m in self.arguments if m in SCALES), "log_variance")

    def accepts_dtype(self, returned: str, given: str) -> bool:
        return returned == given if self.output_dtype == "same" else \
            returned in ("float32", "float64", "float16", "bfloat16")

    def form(self, meaning: str) -> tuple[str, ...]:
        """The containers the argument with this meaning may come in, in order."""
        name = self.argument(meaning)
        return dict(self.forms).get(name, ("tensor",))


@dataclass(frozen=True)
class Mistake:
    """A known mistake: the feedback and what a submission making it returns."""

    feedback: str
    returns: Callable[..., np.ndarray]


@dataclass(frozen=True)
class Role:
    """What a graded function computes, whatever a course calls it: the meanings of its
    arguments (canonical order; ``scale`` is one of SCALES; ``optional`` ones may be absent
    from a course's signature) and its graded properties with their default points."""

    name: str
    summary: str
    meanings: tuple[str, ...]
    properties: tuple[Property, ...]
    optional: tuple[str, ...] = ("generator",)


def _deterministic(extreme: str) -> tuple[Property, ...]:
    return (
        Property("agrees with the derived closed form on ordinary inputs", 1.0, "agreement"),
        Property(f"agrees on extreme but valid inputs ({extreme})", 0.5, "agreement_extreme"),
        Property("returns one value per row, in the input's dtype", 0.5, "dtype"),
    )


ROLES: dict[str, Role] = {role.name: role for role in (
    Role("log_normal_diag", "log-density of a diagonal Gaussian, summed over coordinates",
         ("point", "mean", "scale"),
         _deterministic("|x − μ| up to 2000, log-variance in [−20, 20], up to 64 coordinates"),
         ()),
    Role("log_bernoulli", "Bernoulli log-likelihood Σ_j x_j log y_j + (1 − x_j) log(1 − y_j)",
         ("data", "probabilities"), _deterministic("y within 1e-4 of 0 or 1, up to 400 pixels"),
         ()),
    Role("sample_normal", "reparameterized sample μ + σ·ε of a diagonal Gaussian",
         ("mean", "scale", "generator"),
         (Property("has the law N(μ, σ²) with independent coordinates", 1.0, "normal_law"),
          Property("is reparameterized: gradients reach μ and the scale", 1.0,
                   "reparameterized"))),
    Role("sample_bernoulli", "independent Bernoulli(y_j) pixels as 0.0/1.0",
         ("probabilities", "generator"),
         (Property("returns 0/1 values of y's shape and a float dtype", 0.5, "binary"),
          Property("has P(x_j = 1) = y_j with independent pixels", 0.5, "bernoulli_law"))),
    Role("elbo_loss", "single-sample ELBO of an encoder and a decoder, averaged over the batch",
         ("data", "encoder", "decoder", "generator"),
         (Property("returns a scalar", 0.5, "elbo_scalar"),
          Property("matches the ELBO in expectation", 1.5, "elbo_expectation"))),
    Role("elbo_of_sample", "the ELBO of a given sample z ~ q(z|x): the batch mean of "
                           "log p(x|z) + log p(z) − log q(z|x), p(z) = N(0, I)",
         ("latent_sample", "mean", "scale", "data", "probabilities"),
         (Property("returns a scalar", 0.5, "elbo_scalar"),
          Property("equals the batch mean of log p(x|z) + log p(z) − log q(z|x)", 1.5,
                   "elbo_value")), ()),
    Role("dsm_loss", "denoising score matching with λ(σ) = σ², averaged over the batch",
         ("score", "data", "noise_level", "generator"),
         (Property("returns a scalar", 0.5, "dsm_scalar"),
          Property("matches the denoising score-matching objective in expectation", 3.5,
                   "dsm_expectation"))),
    Role("dsm_loss_drawing_sigma", "denoising score matching, σ drawn for each example "
                                   "uniformly from the levels, λ(σ) = σ², averaged",
         ("score", "data", "noise_levels"),
         (Property("returns a scalar", 0.5, "dsm_scalar"),
          Property("draws σ uniformly from the levels, independently for each example", 1.0,
                   "dsm_sigma_draw"),
          Property("matches the denoising score-matching objective in expectation", 2.5,
                   "dsm_expectation")), ()),
    Role("langevin_step", "one Langevin update x + α s(x, σ) + √(2α) ε",
         ("score", "points", "noise_level", "step_size", "generator"),
         (Property("returns x's shape and dtype", 0.5, "langevin_shape"),
          Property("one step has the law N(x + α s(x, σ), 2α I)", 3.5, "langevin_law"))),
    Role("annealed_langevin", "annealed Langevin dynamics with α_i = η σ_i²/σ_L² from given "
                              "starting points",
         ("score", "points", "noise_levels", "step_scale", "steps", "generator"),
         (Property("returns x's shape and dtype", 0.5, "annealed_shape"),
          Property("its samples match a reference run of the algorithm (two-sample test)", 3.5,
                   "annealed_law"))),
    Role("langevin_sampler", "annealed Langevin dynamics from its own start x₀ ~ N(0, I), "
                             "α_i = η σ_i²/σ_L²; the samples or the trajectory",
         ("score", "sample_count", "noise_levels", "steps", "step_scale", "trajectory"),
         (Property("returns n × 2 samples, and the trajectory as n × (L·T) × 2", 0.5,
                   "sampler_shape"),
          Property("starts from x₀ ~ N(0, I)", 1.0, "sampler_start"),
          Property("its samples match a reference run of the algorithm (two-sample test)", 2.5,
                   "annealed_law")), ("trajectory",)),
)}


def _own(name: str, part: str, signature: str, arguments: tuple[tuple[str, str], ...],
         points: tuple[float, ...] | None = None) -> FunctionSpec:
    """A function of the project's own interface (the ``genverify`` profile)."""
    role = ROLES[name]
    properties = role.properties if points is None else tuple(
        Property(p.name, q, p.check) for p, q in zip(role.properties, points))
    return FunctionSpec(name, part, signature, role.summary, properties, role=name,
                        arguments=arguments)


CODE_SPECS: tuple[FunctionSpec, ...] = (
    _own("log_normal_diag", "2", "log_normal_diag(x, mu, logvar) -> Tensor[batch]",
         (("x", "point"), ("mu", "mean"), ("logvar", "log_variance"))),
    _own("log_bernoulli", "2", "log_bernoulli(x, y) -> Tensor[batch]",
         (("x", "data"), ("y", "probabilities"))),
    _own("sample_normal", "2", "sample_normal(mu, logvar, generator=None) -> Tensor[batch, d]",
         (("mu", "mean"), ("logvar", "log_variance"), ("generator", "generator"))),
    _own("sample_bernoulli", "2", "sample_bernoulli(y, generator=None) -> Tensor[batch, G]",
         (("y", "probabilities"), ("generator", "generator"))),
    _own("elbo_loss", "2", "elbo_loss(x, encoder, decoder, generator=None) -> Tensor[]",
         (("x", "data"), ("encoder", "encoder"), ("decoder", "decoder"),
          ("generator", "generator"))),
    _own("dsm_loss", "4", "dsm_loss(score, x, sigma, generator=None) -> Tensor[]",
         (("score", "score"), ("x", "data"), ("sigma", "noise_level"),
          ("generator", "generator"))),
    _own("langevin_step", "4", "langevin_step(score, x, sigma, alpha, generator=None) -> "
                               "Tensor[n, 2]",
         (("score", "score"), ("x", "points"), ("sigma", "noise_level"),
          ("alpha", "step_size"), ("generator", "generator"))),
    _own("annealed_langevin", "4", "annealed_langevin(score, x, sigmas, eta, steps, "
                                   "generator=None) -> Tensor[n, 2]",
         (("score", "score"), ("x", "points"), ("sigmas", "noise_levels"),
          ("eta", "step_scale"), ("steps", "steps"), ("generator", "generator"))),
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


def to_scale(scale: str, logvar: np.ndarray) -> np.ndarray:
    """The Gaussian's spread as a course passes it (one of SCALES), from log σ²."""
    logvar = np.asarray(logvar, dtype=np.float64)
    return {"variance": np.exp, "log_variance": lambda v: v,
            "standard_deviation": lambda v: np.exp(v / 2)}[scale](logvar)


def from_scale(scale: str, value: np.ndarray) -> np.ndarray:
    """log σ² from the spread as a course passes it (the inverse of :func:`to_scale`)."""
    value = np.asarray(value, dtype=np.float64)
    with np.errstate(all="ignore"):
        return {"variance": np.log, "log_variance": lambda v: v,
                "standard_deviation": lambda v: 2 * np.log(v)}[scale](value)


_SCALE_WORDS = {"variance": "the variance σ²", "log_variance": "the log-variance log σ²",
                "standard_deviation": "the standard deviation σ"}


def _scale_mistakes(scale: str, name: str) -> tuple[tuple[str, Callable[[np.ndarray],
                                                                        np.ndarray]], ...]:
    """(feedback, effective log σ² from the true one) of the ways a spread is misread."""
    found: list[tuple[str, Callable[[np.ndarray], np.ndarray]]] = []
    for other in SCALES:  # reading the argument as another parameterisation
        if other != scale:
            found.append((f"treats {name} as {_SCALE_WORDS[other]} (it is "
                          f"{_SCALE_WORDS[scale]})",
                          lambda v, other=other: from_scale(other, to_scale(scale, v))))
    if scale == "log_variance":
        found += [(f"uses exp({name}) as the standard deviation; it is the variance (σ = "
                   f"exp({name}/2))", lambda v: 2 * v),
                  (f"uses exp({name}/2) as the variance; it is the standard deviation",
                   lambda v: v / 2)]
    elif scale == "variance":
        found += [(f"uses √{name} = σ where the variance belongs", lambda v: v / 2)]
    else:
        found += [(f"uses {name}² where the standard deviation σ belongs", lambda v: 2 * v)]
    return tuple(found)


def _log_normal_mistakes(r: SimpleNamespace, scale: str = "log_variance",
                         name: str = "logvar") -> tuple[Mistake, ...]:
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
        *(Mistake(feedback, with_logvar(effective))
          for feedback, effective in _scale_mistakes(scale, name)),
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
def mistakes(name: str, scale: str = "log_variance", argument: str = "logvar"
             ) -> tuple[Mistake, ...]:
    """The known mistakes of a deterministic function (its role), most specific first, in
    terms of the canonical arguments (x, μ, log σ²); ``scale`` and ``argument`` say how the
    course passes the spread, for the feedback."""
    r = references()
    if name == "log_normal_diag":
        return _log_normal_mistakes(r, scale, argument)
    return _log_bernoulli_mistakes(r)


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
