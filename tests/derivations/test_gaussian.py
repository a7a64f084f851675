"""The derived Gaussian log-densities against the textbook form, typed here independently."""

from __future__ import annotations

import math

import pytest
import sympy as sp

from derivations import gaussian
from derivations.core import Step

x, mu = sp.symbols("x mu", real=True)
sigma = sp.Symbol("sigma", positive=True)
logvar = sp.Symbol("logvar", real=True)

TEXTBOOK = -sp.log(2 * sp.pi) / 2 - sp.log(sigma) - (x - mu) ** 2 / (2 * sigma**2)
TEXTBOOK_LOGVAR = -(sp.log(2 * sp.pi) + logvar + (x - mu) ** 2 * sp.exp(-logvar)) / 2


def test_the_log_density_is_the_textbook_form():
    derived = gaussian.GAUSSIAN_LOG_DENSITY
    assert sp.simplify(derived(x, mu, sigma) - TEXTBOOK) == 0


def test_the_log_density_in_the_log_variance_is_the_textbook_form():
    derived = gaussian.GAUSSIAN_LOG_DENSITY_LOGVAR
    assert sp.simplify(derived(x, mu, logvar) - TEXTBOOK_LOGVAR) == 0


@pytest.mark.parametrize("wrong", [TEXTBOOK_LOGVAR.subs(logvar, 2 * logvar),
                                   TEXTBOOK_LOGVAR + logvar / 2,
                                   -TEXTBOOK_LOGVAR],
                         ids=["variance for log-variance", "½ log σ² lost", "sign"])
def test_a_mistyped_log_density_is_told_apart(wrong):
    assert sp.simplify(gaussian.GAUSSIAN_LOG_DENSITY_LOGVAR(x, mu, logvar) - wrong) != 0


def test_the_diagonal_log_density_sums_the_coordinates():
    xs, mus, logvars = gaussian.DIAGONAL_GAUSSIAN_LOG_DENSITY.variables
    values = [(0.5, -0.2, 0.3), (1.5, 1.0, -1.0)]
    body = gaussian.DIAGONAL_GAUSSIAN_LOG_DENSITY.expr.subs(gaussian.d, 2).doit()
    point = {}
    for k, (a, b, c) in enumerate(values, start=1):
        point.update({xs[k]: a, mus[k]: b, logvars[k]: c})
    textbook = sum(-0.5 * (math.log(2 * math.pi) + c + (a - b) ** 2 * math.exp(-c)) for a, b, c in values)
    assert float(body.subs(point)) == pytest.approx(textbook, rel=1e-12)


def test_the_standard_normal_moments_are_one_zero_one():
    assert [gaussian.standard_normal_moment(k) for k in range(3)] == [1, 0, 1]


def test_every_gaussian_derivation_verifies_and_a_wrong_step_is_named():
    for build in (gaussian.log_density, gaussian.log_density_logvar, gaussian.diagonal_log_density):
        assert build().verify().ok
    derivation = gaussian.log_density()
    wrong = Step(derivation.result.subs(sigma, sigma**2), "σ² for σ")
    assert derivation.replace_step(1, wrong).verify().first_failure.index == 1
