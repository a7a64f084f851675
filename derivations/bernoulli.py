"""The Bernoulli decoder: likelihood, log-likelihood and the logits form (parts 1.a and 2).

A decoder that outputs a probability y_j for each of the G pixels of a binary image x models
the pixels as independent Bernoulli variables given z. From the pmf of one pixel (y if x = 1,
1 − y if x = 0), written as y^x (1 − y)^(1 − x):

* ``BERNOULLI_LIKELIHOOD(x, y)`` = ∏_{j=1}^{G} y_j^{x_j} (1 − y_j)^{1 − x_j}  (part 1.a);
* ``BERNOULLI_LOG_LIKELIHOOD(x, y)`` = Σ_j x_j log y_j + (1 − x_j) log(1 − y_j);
* ``BERNOULLI_LOG_PIXEL(x, y)`` = x log y + (1 − x) log(1 − y), one pixel;
* ``BERNOULLI_LOG_PIXEL_LOGITS(x, l)`` = x l − log(1 + e^l) with y = sigmoid(l): the form a
  network that outputs logits uses; it equals minus the binary cross-entropy with logits,
  max(l, 0) − x l + log(1 + e^{−|l|}) (the overflow-free form PyTorch evaluates).

``x``, ``y`` of the first two are ``IndexedBase`` s (an image and its probabilities, the
product/sum runs over their last axis); the last two take plain symbols (elementwise).
Source: Kingma & Welling, "Auto-Encoding Variational Bayes" (2014), appendix C.1; Bishop,
PRML §2.1.
"""

from __future__ import annotations

import random

import sympy as sp

from derivations.core import Derivation, Step, derivation, lazy_exports

x = sp.Symbol("x", real=True)  # one pixel, in {0, 1} (the log forms hold for real x)
y = sp.Symbol("y", positive=True)  # its Bernoulli probability, in (0, 1)
l = sp.Symbol("l", real=True)  # noqa: E741 - the logit of y
j = sp.Idx("j")
G = sp.Symbol("G", integer=True, positive=True)  # number of pixels
xs, ys = sp.IndexedBase("x"), sp.IndexedBase("y")

_PROBABILITY = (0.01, 0.99)
_UNIT = (0.0, 1.0)
_LOGIT = (-30.0, 30.0)


def _binary(rng: random.Random) -> int:
    """A pixel value for the checker: the pmf's cases are defined at x ∈ {0, 1} only."""
    return rng.choice((0, 1))


def _pmf_cases(pixel: sp.Expr, probability: sp.Expr) -> sp.Piecewise:
    """The definition of the Bernoulli pmf: y at x = 1, 1 − y at x = 0."""
    return sp.Piecewise((probability, sp.Eq(pixel, 1)), (1 - probability, sp.Eq(pixel, 0)))


def _pmf_power(pixel: sp.Expr, probability: sp.Expr) -> sp.Expr:
    return probability**pixel * (1 - probability) ** (1 - pixel)


@derivation
def pixel_pmf() -> Derivation:
    power = _pmf_power(x, y)
    return Derivation(
        "Bernoulli pmf of one pixel in power form",
        "1.a",
        (
            Step(_pmf_cases(x, y), "p(x|z) of one pixel: y if x = 1, 1 − y if x = 0", "def"),
            Step(power, "one formula for both cases: y^x (1 − y)^(1 − x)"),
            Step(sp.Eq(power.subs(x, 1), y, evaluate=False), "at x = 1: y¹ (1 − y)⁰ = y", "holds"),
            Step(sp.Eq(power.subs(x, 0), 1 - y, evaluate=False), "at x = 0: y⁰ (1 − y)¹ = 1 − y",
                 "holds"),
        ),
        args=(x, y),
        domain={x: _binary, y: _PROBABILITY},
    )


@derivation
def likelihood() -> Derivation:
    pmf = pixel_pmf()
    per_pixel = {x: xs[j], y: ys[j]}
    return Derivation(
        "Bernoulli decoder likelihood",
        "1.a",
        (
            Step(sp.Product(_pmf_cases(xs[j], ys[j]), (j, 1, G)),
                 "pixels are independent given z, pixel j is Bernoulli(y_j): "
                 "p(x|z) = ∏_j p(x_j|z)", "def"),
            Step(sp.Product(pmf.result.subs(per_pixel), (j, 1, G)),
                 "each factor in power form", by=pmf, subs=per_pixel),
        ),
        args=(xs, ys),
        domain={xs: _binary, ys: _PROBABILITY},
    )


@derivation
def log_pixel() -> Derivation:
    power = _pmf_power(x, y)
    return Derivation(
        "Bernoulli log-pmf of one pixel",
        "2",
        (
            Step(sp.log(power), "log of the pixel pmf y^x (1 − y)^(1 − x)", "def"),
            Step(x * sp.log(y) + (1 - x) * sp.log(1 - y), "log of a product of powers; 0 < y < 1"),
        ),
        args=(x, y),
        domain={x: _UNIT, y: _PROBABILITY},
    )


@derivation
def log_likelihood() -> Derivation:
    pixel = log_pixel()
    per_pixel = {x: xs[j], y: ys[j]}
    product = likelihood().result
    return Derivation(
        "Bernoulli decoder log-likelihood",
        "2",
        (
            Step(sp.log(product), "log p(x|z) of the Bernoulli decoder, derived above", "def"),
            Step(sp.Sum(sp.log(product.function), (j, 1, G)), "the log of a product is the sum of "
                                                                "the logs (every factor > 0)"),
            Step(sp.Sum(pixel.result.subs(per_pixel), (j, 1, G)), "each term is the pixel log-pmf",
                 by=pixel, subs=per_pixel),
        ),
        args=(xs, ys),
        domain={xs: _UNIT, ys: _PROBABILITY},
    )


@derivation
def log_pixel_logits() -> Derivation:
    in_probability = log_pixel().result
    sigmoid = 1 / (1 + sp.exp(-l))
    in_logits = in_probability.subs(y, sigmoid)
    softplus = sp.log(1 + sp.exp(l))
    # log σ(l) = l − softplus(l), log(1 − σ(l)) = −softplus(l): e^{−l}/(1 + e^{−l}) = 1/(1 + e^l)
    separated = x * (l - softplus) + (1 - x) * (-softplus)
    collected = sp.collect(sp.expand(separated), softplus)
    stable_bce = sp.Max(l, 0) - x * l + sp.log(1 + sp.exp(-sp.Abs(l)))
    return Derivation(
        "Bernoulli log-pmf in the logits",
        "2",
        (
            Step(in_probability, "log p(x|z) of one pixel, derived above", "def"),
            Step(in_logits, "the decoder outputs a logit: y = sigmoid(l) = 1/(1 + e^{−l})",
                 subs={y: sigmoid}),
            Step(separated, "log σ(l) = l − log(1 + e^l), log(1 − σ(l)) = −log(1 + e^l)"),
            Step(collected, "collect: the x-terms of log(1 + e^l) cancel"),
            Step(sp.Eq(collected, -stable_bce),
                 "= −BCE with logits, max(l, 0) − x l + log(1 + e^{−|l|}): "
                 "log(1 + e^l) = max(l, 0) + log(1 + e^{−|l|})", "holds"),
        ),
        args=(x, l),
        domain={x: _UNIT, l: _LOGIT},
    )


__getattr__ = lazy_exports(
    __name__,
    {
        "BERNOULLI_LIKELIHOOD": lambda: likelihood().closed_form,
        "BERNOULLI_LOG_LIKELIHOOD": lambda: log_likelihood().closed_form,
        "BERNOULLI_LOG_PIXEL": lambda: log_pixel().closed_form,
        "BERNOULLI_LOG_PIXEL_LOGITS": lambda: log_pixel_logits().closed_form,
    },
)
