"""Random-point evaluation: seeded, domain-aware, index-aware, and unknown functions behave as
random functions."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from grading.answers.notation import Namespace
from grading.answers.numeric import NotEvaluable, Point, compare, evaluate
from grading.answers.parse import parse_latex

NS = Namespace({"sigma": "positive", "y": "unit_interval", "x": "binary"})


def read(text: str) -> sp.Basic:
    return parse_latex(text, namespace=NS)


def test_a_point_is_the_same_for_the_same_seed_and_number() -> None:
    first, second = Point.numbered(NS, 7, 3), Point.numbered(NS, 7, 3)
    expr = read(r"\sigma + \mu")
    assert evaluate(expr, first) == evaluate(expr, second)
    assert evaluate(expr, first) != evaluate(expr, Point.numbered(NS, 7, 4))


@given(st.integers(0, 10_000))
def test_declared_kinds_are_sampled_inside_their_domain(seed: int) -> None:
    point = Point.numbered(NS, seed, 0)
    assert evaluate(read(r"\sigma"), point) > 0
    assert 0 < evaluate(read(r"y_1"), point) < 1
    assert evaluate(read(r"x_1"), point) in (0, 1)


def test_a_sum_with_a_symbolic_bound_is_written_out_for_a_small_bound() -> None:
    expr = read(r"\sum_{j=1}^{G} 1")
    values = {int(evaluate(expr, Point.numbered(NS, 0, n))) for n in range(30)}
    assert values == {1, 2, 3, 4}


def test_an_entry_tied_to_the_index_differs_per_index() -> None:
    G = sp.Symbol("G", integer=True, positive=True)
    tied, constant = read(r"\sum_{j=1}^{G} \mu_j"), read(r"G \mu_1")
    for number in range(20):
        point = Point.numbered(NS, 0, number)
        tied_value = evaluate(tied, point)
        if point.values[G] >= 2:
            assert tied_value != evaluate(constant, point)
            return
    raise AssertionError("no point with G >= 2 in 20 draws")


def test_kl_is_a_random_function_of_its_ordered_arguments() -> None:
    point = Point.numbered(NS, 0, 0)
    assert evaluate(read(r"KL(p\|q)"), point) != evaluate(read(r"KL(q\|p)"), point)
    assert evaluate(read(r"KL(p\|q)"), point) == evaluate(read(r"\mathrm{KL}(p, q)"), point)


def test_a_density_is_positive_and_the_same_at_the_same_argument() -> None:
    point = Point.numbered(NS, 0, 0)
    value = evaluate(read(r"p_{data}(x)"), point)
    assert value > 0
    assert evaluate(read(r"p_{data}(x)"), point) == value


def test_compare_reports_a_counterexample_with_both_values() -> None:
    result = compare(read(r"\sigma^2"), read(r"\sigma"), NS, seed=0)
    assert result.agree is False
    assert "sigma" in result.counterexample
    sigma = mpmath.mpf(result.counterexample["sigma"])
    assert mpmath.almosteq(mpmath.mpf(result.reference_value), sigma**2, 1e-9)


def test_compare_agrees_on_an_identity_sympy_leaves_unsimplified() -> None:
    result = compare(read(r"\log(y(1-y))"), read(r"\log y + \log(1-y)"), NS, seed=0)
    assert result.agree is True
    assert result.points == 12


def test_points_where_the_reference_is_complex_are_outside_the_domain() -> None:
    result = compare(read(r"\log \mu"), read(r"\log \mu"), NS, seed=0)
    assert result.agree is True


def test_an_integral_cannot_be_evaluated_and_says_so() -> None:
    t = sp.Symbol("t", real=True)
    with pytest.raises(NotEvaluable):
        evaluate(sp.Integral(t, (t, 0, 1)), Point.numbered(NS, 0, 0))
    result = compare(sp.Integral(t, (t, 0, 1)), sp.Rational(1, 2), NS)
    assert result.agree is None
    assert "Integral" in result.reason
