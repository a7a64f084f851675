"""Concrete random instances of unknown functions: faithful (a density integrates to one, one
name's conditional and marginals obey Bayes' rule), refused where they would not be, and a
witness that turns "undecided" into a verdict with concrete densities."""

from __future__ import annotations

import random

import mpmath
import pytest
import sympy as sp

from grading.answers.equivalence import Kind, check_equivalence
from grading.answers.instances import compile_numeric, instantiate
from grading.answers.notation import Given, Namespace

NS = Namespace()
x, z, t = (sp.Symbol(name, real=True) for name in ("x", "z", "t"))
p, q, f, K = (sp.Function(name, positive=True) for name in ("p", "q", "f", "K"))


def value(expr: sp.Basic, at: dict[sp.Symbol, float] | None = None) -> mpmath.mpf:
    with mpmath.workdps(20):
        return compile_numeric(expr, mpmath.mpf(10) ** -12)(
            {s: mpmath.mpf(v) for s, v in (at or {}).items()})


def concrete(*sides: sp.Basic, seed: int = 0):
    instance = instantiate(sides[0], sides[-1], NS, random.Random(seed))
    assert instance is not None
    return instance


@pytest.mark.parametrize("seed", range(3))
def test_a_density_used_alone_integrates_to_one(seed: int) -> None:
    instance = concrete(sp.Integral(p(x), (x, -sp.oo, sp.oo)), sp.Integer(1), seed=seed)
    assert abs(value(instance.reference) - 1) < 1e-12


@pytest.mark.parametrize("seed", range(3))
def test_one_names_conditional_and_marginals_obey_bayes_and_marginalisation(seed: int) -> None:
    bayes = p(Given(z, x)) - p(Given(x, z)) * p(z) / p(x)
    marginal = sp.Integral(p(Given(x, z)) * p(z), (z, -sp.oo, sp.oo)) - p(x)
    for identity in (bayes, marginal):
        instance = concrete(identity, sp.Integer(0), seed=seed)
        at = {x: 0.37, z: -0.81}
        assert abs(value(instance.reference, at)) < 1e-12
        twin = concrete(identity + p(x) / 10, sp.Integer(0), seed=seed)  # a wrong identity
        assert abs(value(twin.reference, at)) > 1e-3


def test_a_name_used_in_shapes_no_single_model_explains_is_refused() -> None:
    y = sp.Symbol("y", real=True)
    assert instantiate(p(Given(x, z)) + p(y), sp.Integer(0), NS, random.Random(0)) is None
    assert instantiate(sp.Integral(K(x, z), (x, -sp.oo, sp.oo)), sp.Integer(0), NS,
                       random.Random(0)) is None


def test_the_instance_says_which_functions_it_chose() -> None:
    instance = concrete(p(x) + q(x), sp.Integer(0))
    assert set(instance.description) == {"p", "q"} and "N(t;" in instance.description["p"]


@pytest.mark.parametrize("reference, answer", [
    (r"\mathrm{KL}(p\|q)", r"\mathbb{E}_{p}[\log p - \log q]"),
    (r"\int p(x)\,dx", "1"),
    (r"\mathbb{E}_{z\sim q}[\log p(x|z)]", r"\int q(z)\log p(x|z)\,dz"),
    (r"\log p(x) - \mathrm{KL}(q(z|x)\|p(z|x))",
     r"\mathbb{E}_{q(z|x)}[\log p(x|z)] - \mathrm{KL}(q(z|x)\|p(z))"),
])
def test_equivalent_answers_about_unknown_densities_are_equivalent(reference: str,
                                                                  answer: str) -> None:
    verdict = check_equivalence(reference, answer, timeout=20)
    assert verdict.kind is Kind.EQUIVALENT, verdict.reason


@pytest.mark.parametrize("reference, answer", [
    (r"\mathrm{KL}(p\|q)", r"\mathrm{KL}(q\|p)"),
    (r"\int t\,p(t)\,dt", "0"),
    (r"\int p(x)\,dx", r"\int p(x)^2\,dx"),
    (r"\mathbb{E}_{z\sim\mathcal{N}(0,1)}[f(z)]", r"\mathbb{E}_{z\sim\mathcal{N}(0,2)}[f(z)]"),
    (r"\mathrm{JSD}(p\|q)", r"2\,\mathrm{JSD}(p\|q)"),
])
def test_a_difference_through_unknown_densities_has_a_concrete_counterexample(
        reference: str, answer: str) -> None:
    verdict = check_equivalence(reference, answer, timeout=20)
    assert verdict.kind is Kind.NOT_EQUIVALENT, verdict.reason
    assert "made concrete" in verdict.reason
