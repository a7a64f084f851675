"""Random-point evaluation: seeded, domain-aware, index-aware, and unknown functions behave as
random functions."""

from __future__ import annotations

import mpmath
import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from grading.answers.notation import Expectation, Namespace, Normal, Sampled
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


def test_an_explicit_integral_is_computed_but_a_double_integral_is_not() -> None:
    # changed by issue 10: integrals with an explicit integrand are now computed
    t, u = sp.Symbol("t", real=True), sp.Symbol("u", real=True)
    assert compare(sp.Integral(t, (t, 0, 1)), sp.Rational(1, 2), NS).agree is True
    assert compare(sp.Integral(sp.exp(-t**2), (t, -sp.oo, sp.oo)), sp.sqrt(sp.pi), NS).agree
    assert compare(sp.Integral(sp.exp(-t**2), (t, -sp.oo, sp.oo)), sp.pi, NS).agree is False
    with pytest.raises(NotEvaluable):
        evaluate(sp.Integral(t * u, (t, 0, 1), (u, 0, 1)), Point.numbered(NS, 0, 0))


X = sp.Symbol("w", real=True)  # "x" is binary in NS
P = sp.Function("p", positive=True)
T = sp.Symbol("t", real=True)


def test_a_point_where_only_the_answer_is_undefined_is_never_a_counterexample() -> None:
    partial = compare(sp.log(X**2) / 2, sp.log(X), NS)
    assert partial.agree is None and "part of the domain" in partial.reason
    nowhere = compare(X**2 + 1, sp.sqrt(-X**2 - 1), NS)
    assert nowhere.agree is None and "not real anywhere the reference is" in nowhere.reason
    # near miss: both sides defined everywhere, different for x < 0
    assert compare(X, sp.sqrt(X**2), NS).agree is False


def test_a_counterexample_is_a_point_where_both_sides_are_real() -> None:
    result = compare(sp.log(X**2), 2 * sp.log(X) + 1, NS)
    assert result.agree is False
    assert mpmath.mpf(result.counterexample["w"]) > 0


def test_an_exact_tiny_difference_is_a_counterexample() -> None:
    near = sp.Rational(99999999, 10**8) * X
    assert compare(near, sp.Rational(99999998, 99999999) * X, NS).agree is False
    assert compare(near, sp.Rational(2 * 99999999, 2 * 10**8) * X, NS).agree is True


def test_a_decimal_is_compared_to_the_digits_written() -> None:
    rounded = compare(sp.log(2), sp.Float("0.6931"), NS)
    assert rounded.agree is True and rounded.precision == "the 4 digits given"
    assert compare(sp.log(2), sp.Float("0.69314"), NS).agree is True  # truncated
    assert compare(sp.log(2), sp.Float("0.6932"), NS).agree is False
    assert compare(sp.log(2), sp.Float("0.693147180559945"), NS).agree is True
    assert compare(sp.log(2), sp.Float("0.693147180558"), NS).agree is False
    exact = compare(X**2 / 2, sp.Float("0.5") * X**2, NS)
    assert exact.agree is True and "read exactly" in exact.note
    assert compare(X**2 / 3, sp.Float("0.3333") * X**2, NS).agree is True
    assert compare(X**2 / 3, sp.Float("0.3334") * X**2, NS).agree is False


def test_a_derivative_of_an_unknown_function_is_itself_a_random_function() -> None:
    score = sp.Derivative(sp.log(P(X)), X)
    assert compare(score, sp.Derivative(P(X), X) / P(X), NS).agree is True
    assert compare(score, sp.Derivative(P(X), X), NS).agree is False
    assert compare(sp.Derivative(X**3, X), 3 * X**2, NS).agree is True
    assert compare(sp.Derivative(X**3, X), 3 * X, NS).agree is False


def test_an_integral_of_a_density_is_one_and_other_integrals_never_give_a_false_counterexample(
) -> None:
    assert compare(sp.Integral(P(T), (T, -sp.oo, sp.oo)), sp.Integer(1), NS).agree is True
    first_moment = compare(sp.Integral(T * P(T), (T, -sp.oo, sp.oo)), sp.Integer(0), NS)
    # not a stand-in's artefact: a concrete density with a non-zero mean is the counterexample
    assert first_moment.agree is False and "p(t) =" in str(first_moment.counterexample)
    renamed = compare(sp.Integral(P(T) * sp.log(P(T)), (T, -sp.oo, sp.oo)),
                      sp.Integral(P(X) * sp.log(P(X)), (X, -sp.oo, sp.oo)), NS)
    assert renamed.agree is True
    # a cross-entropy is free: its sign flipped is a genuine counterexample
    assert compare(sp.Integral(P(T) * sp.log(P(T)), (T, -sp.oo, sp.oo)),
                   -sp.Integral(P(T) * sp.log(P(T)), (T, -sp.oo, sp.oo)), NS).agree is False


def test_a_kl_of_two_normals_and_a_gaussian_expectation_are_computed() -> None:
    mu, s = sp.Symbol("mu", real=True), sp.Symbol("sigma", positive=True)
    kl = sp.Function("KL")(Normal(mu, s**2), Normal(0, 1))
    closed = (s**2 + mu**2 - 1 - sp.log(s**2)) / 2
    assert compare(kl, closed, NS).agree is True
    assert compare(kl, (s**2 + mu**2 - 1 + sp.log(s**2)) / 2, NS).agree is False
    z = sp.Symbol("z", real=True)
    second_moment = Expectation(z**2, Sampled(z, Normal(mu, s**2)))
    assert compare(second_moment, mu**2 + s**2, NS).agree is True
    assert compare(second_moment, mu**2 + s, NS).agree is False


def test_a_likelihood_summed_over_the_latent_states_is_not_normalised_over_them() -> None:
    from grading.answers.equivalence import check_equivalence

    bayes = r"\frac{p_\theta(x|z)p(z)}{\sum_{z'}p_\theta(x|z')p(z')}"
    assert check_equivalence(bayes, r"\frac{p_\theta(x,z)}{\sum_{z'}p_\theta(x,z')}").kind.value \
        == "equivalent"
    assert check_equivalence(bayes, r"\frac{p_\theta(x|z)p(z)}{\sum_{z'}p_\theta(x|z')}"
                             ).kind.value == "not_equivalent"


# -- tests that kill mutants (issue 13) --------------------------------------------------------


def test_a_disagreement_that_vanishes_at_60_digits_is_a_precision_artefact() -> None:
    # (1 + w/10^18)^2 - 1 loses 18 of its 30 digits to cancellation: at 30 digits the two
    # sides differ by ~1e-12 relative, at 60 digits they agree; that is no counterexample
    result = compare(10**20 * ((1 + X / 10**18) ** 2 - 1), 200 * X + X**2 / 10**16, NS)
    assert result.agree is not False, result


def test_a_reference_defined_on_a_sliver_of_the_domain_is_undecided_not_equivalent() -> None:
    sliver = sp.sqrt(X - sp.Rational(19, 10))  # real for w > 1.9 only: ~1 point in 40
    result = compare(sliver, sliver * (sp.cos(X) ** 2 + sp.sin(X) ** 2), NS)
    assert result.agree is None
    assert f"only {result.points} of 80 random points" in result.reason


def test_a_reference_defined_nowhere_is_undecided_even_for_one_point() -> None:
    nowhere = sp.sqrt(-1 - X**2)
    result = compare(nowhere, nowhere * (sp.cos(X) ** 2 + sp.sin(X) ** 2), NS, points=1)
    assert result.agree is None
    assert "no point among 80 random points" in result.reason


def test_the_note_says_which_side_has_the_decimals() -> None:
    answer = compare(sp.log(2), sp.Float("0.6932"), NS)
    assert answer.note == "the answer is a decimal"
    reference = compare(sp.Float("0.6931") * X, sp.log(2) * X, NS)
    assert reference.agree is True and reference.note == "the reference has decimals"


def test_integrals_and_expectations_equal_for_actual_densities_are_equal_by_instances() -> None:
    from grading.answers.equivalence import Kind, check_equivalence

    # the integrands differ as written (cos² + sin² is not simplified), so their stand-ins
    # differ; concrete densities show they are equal (8 agreeing draws: 4 instances × 2)
    for reference, answer in [
        (r"\int p(x) \log((\cos x)^2 + (\sin x)^2 + x^2) dx", r"\int p(x) \log(1 + x^2) dx"),
        (r"\mathbb{E}_{q}[(\cos z)^2 + (\sin z)^2]", "1"),
        (r"\mathbb{E}_{q}[\exp((\cos z)^2 + (\sin z)^2)]", r"\exp(1)"),  # one expectation
        (r"\mathrm{KL}(q(z|x)\|p(z)) - \int q(z|x) \log p(z)\,dz",
         r"\mathrm{KL}(q(z|x)\|p(z)) - \int q(z|x) \log (p(z) ((\cos z)^2 + (\sin z)^2))\,dz"),
    ]:
        verdict = check_equivalence(reference, answer)
        assert verdict.kind is Kind.EQUIVALENT, verdict.reason
        assert "concrete instances" in verdict.reason
        assert verdict.method == "numeric (8 random points, 9 digits)"


def test_a_divergence_and_the_integrals_of_its_definition_are_not_free_of_each_other() -> None:
    # KL(q(z)‖p(z)) is ∫ q log q − ∫ q log p: a disagreement of their stand-ins is no
    # counterexample; concrete densities decide (and catch a wrong factor)
    kl = read(r"\mathrm{KL}(q(z)\|p(z))")
    definition = compare(kl, read(r"\int q(z)\log q(z)\,dz - \int q(z) \log p(z)\,dz"), NS)
    assert definition.agree is True and "concrete instances" in definition.note
    doubled = compare(kl, read(r"\int q(z)\log q(z)\,dz - 2\int q(z) \log p(z)\,dz"), NS)
    assert doubled.agree is False


def test_a_comparison_stops_at_its_deadline_before_the_next_point(monkeypatch) -> None:
    import itertools

    from grading.answers import numeric
    from grading.isolation import DeadlineExceeded

    evaluated: list[Point] = []
    original = numeric.evaluate

    def counting(expr: sp.Basic, point: Point, *args, **kwargs):
        evaluated.append(point)
        return original(expr, point, *args, **kwargs)

    monkeypatch.setattr(numeric, "evaluate", counting)
    checks = itertools.count()

    def two_points_of_time() -> None:
        if next(checks) == 2:
            raise DeadlineExceeded

    expr = read(r"\sigma^2 + \mu")
    with pytest.raises(DeadlineExceeded):
        compare(expr, expr, NS, points=5, deadline_check=two_points_of_time)
    assert len(evaluated) == 4  # both sides at two points, none at the third
    evaluated.clear()
    assert compare(expr, expr, NS, points=5, deadline_check=lambda: None).agree is True
    assert len(evaluated) == 10  # the twin: without a deadline, five points
