"""The step checker: every relation it accepts can also be refused, and the culprit is named."""

from __future__ import annotations

import subprocess
import sys

import pytest
import sympy as sp

import derivations
from derivations.core import Derivation, Step

x, t, mu = sp.symbols("x t mu", real=True)
sigma, a, b = sp.symbols("sigma a b", positive=True)


def chain(*steps: Step, **kw) -> Derivation:
    return Derivation("test chain", "0", (Step(steps[0].expr, "start", "def"), *steps[1:]), **kw)


def test_a_true_algebraic_chain_verifies_symbolically():
    verification = chain(Step((x + 1) ** 2, ""), Step(x**2 + 2 * x + 1, "expand")).verify()
    assert verification.ok
    assert verification.steps[1].method == "symbolic"


@pytest.mark.parametrize("wrong", [x**2 + 2 * x - 1, x**2 + x + 1, 2 * (x**2 + 2 * x + 1)],
                         ids=["sign", "factor 2 lost", "factor 2 added"])
def test_a_wrong_algebraic_step_is_refused_and_named(wrong):
    d = chain(Step((x + 1) ** 2, ""), Step(x**2 + 2 * x + 1, "expand"), Step(wrong, "wrong"))
    verification = d.verify()
    assert not verification.ok
    assert verification.first_failure.index == 2
    assert "differ" in verification.first_failure.detail


def test_an_identity_simplification_cannot_settle_is_settled_at_random_points():
    lhs = sp.cos(x) ** 2 - sp.sin(x) ** 2
    verification = chain(Step(lhs, ""), Step(sp.cos(2 * x), "double angle")).verify()
    assert verification.ok
    assert verification.steps[1].method.startswith("numeric")


def test_a_near_identity_is_refused_at_random_points():
    lhs = sp.cos(x) ** 2 - sp.sin(x) ** 2
    wrong = sp.cos(2 * x) + sp.Rational(1, 10**9) * x
    assert not chain(Step(lhs, ""), Step(wrong, "almost")).verify().ok


def test_sigma_for_sigma_squared_is_refused():
    right = sp.log(sigma**2) / 2
    assert chain(Step(sp.log(sigma), ""), Step(right, "")).verify().ok
    assert not chain(Step(sp.log(sigma), ""), Step(sp.log(sigma) / 2, "")).verify().ok


def test_an_inequality_in_the_right_direction_holds_and_the_reversed_one_is_refused():
    amgm = chain(Step((a + b) / 2, ""), Step(sp.sqrt(a * b), "AM–GM", ">="))
    assert amgm.verify().ok
    reversed_ = chain(Step((a + b) / 2, ""), Step(sp.sqrt(a * b), "reversed", "<"))
    assert reversed_.verify().first_failure.index == 1


def test_a_relation_that_must_hold_is_checked_on_the_domain():
    assert chain(Step(x, ""), Step(sp.exp(x) >= 1 + x, "tangent line", "holds")).verify().ok
    assert not chain(Step(x, ""), Step(sp.exp(x) >= 1 + 2 * x, "wrong", "holds")).verify().ok


def test_a_solution_is_substituted_into_the_previous_equation():
    equation = sp.Eq(a * x - b, 0)
    assert chain(Step(equation, ""), Step(sp.Eq(x, b / a), "solve", "solves")).verify().ok
    wrong = chain(Step(equation, ""), Step(sp.Eq(x, a / b), "swapped", "solves")).verify()
    assert wrong.first_failure.index == 1


def test_a_stationarity_condition_must_be_the_derivative_of_the_previous_line():
    objective = a * sp.log(x) - b * x
    right = Step(sp.Eq(a / x - b, 0), "d/dx", "stationary", wrt=x)
    wrong = Step(sp.Eq(a / x + b, 0), "sign", "stationary", wrt=x)
    domain = {x: (0.1, 3)}
    assert chain(Step(objective, ""), right, domain=domain).verify().ok
    assert not chain(Step(objective, ""), wrong, domain=domain).verify().ok


def test_a_change_of_variables_carries_its_jacobian():
    density = sp.exp(-((x - mu) ** 2) / (2 * sigma**2)) / sp.sqrt(2 * sp.pi * sigma**2)
    start = sp.Integral(x * density, (x, -sp.oo, sp.oo))
    phi = sp.exp(-(t**2) / 2) / sp.sqrt(2 * sp.pi)
    right = sp.Integral((mu + sigma * t) * phi, (t, -sp.oo, sp.oo))
    no_jacobian = sp.Integral((mu + sigma * t) * phi / sigma, (t, -sp.oo, sp.oo))
    change = (x, mu + sigma * t, t)
    assert chain(Step(start, ""), Step(right, "x = μ + σt", change=change)).verify().ok
    assert not chain(Step(start, ""), Step(no_jacobian, "no dx/dt", change=change)).verify().ok


def test_a_lemma_must_verify_and_appear_in_the_previous_line():
    lemma = chain(Step(sp.log(a * b), ""), Step(sp.log(a) + sp.log(b), "log of a product"))
    bad_lemma = chain(Step(sp.log(a * b), ""), Step(sp.log(a) * sp.log(b), "wrong"))
    c = sp.Symbol("c", positive=True)
    start = Step(sp.log(c * x**2) + 1, "", "def")
    applied = Step(sp.log(c) + sp.log(x**2) + 1, "by the lemma", by=lemma, subs={a: c, b: x**2})
    assert Derivation("uses", "0", (start, applied)).verify().ok
    bad = Step(sp.log(c) * sp.log(x**2) + 1, "by a wrong lemma", by=bad_lemma, subs={a: c, b: x**2})
    assert "does not verify" in Derivation("uses", "0", (start, bad)).verify().first_failure.detail
    absent = Step(sp.log(c) + 1, "not there", by=lemma, subs={a: c, b: c})
    assert "no instance" in Derivation("uses", "0", (start, absent)).verify().first_failure.detail


def test_sums_with_a_symbolic_bound_are_checked_for_several_lengths():
    j, n = sp.Idx("j"), sp.Symbol("n", integer=True, positive=True)
    y = sp.IndexedBase("y", positive=True)
    product = sp.log(sp.Product(y[j], (j, 1, n)))
    assert chain(Step(product, ""), Step(sp.Sum(sp.log(y[j]), (j, 1, n)), "log of a product")).verify().ok
    assert not chain(Step(product, ""), Step(sp.log(sp.Sum(y[j], (j, 1, n))), "log of a sum")).verify().ok


def test_a_derivation_must_start_from_a_definition():
    with pytest.raises(ValueError, match="starts from a 'def' step"):
        Derivation("no start", "0", (Step(x, "not a definition"),))


def test_a_failure_can_be_raised_as_an_error_naming_the_step():
    failing = chain(Step(x, ""), Step(2 * x, "doubled")).verify()
    with pytest.raises(derivations.DerivationError, match="step 1 'doubled'"):
        failing.raise_for_failure()


def test_every_derivation_of_the_package_verifies_and_has_a_homework_part():
    built = derivations.all_derivations()
    assert len({d.name for d in built}) == len(built)
    for d in built:
        verification = d.verify()
        assert verification.ok, verification.first_failure
        assert d.part


def test_importing_a_derivation_module_derives_nothing_until_a_result_is_used():
    code = (
        "import derivations.kl as kl\n"
        "assert kl.general.cache_info().currsize == 0\n"
        "kl.KL_EQUAL_VARIANCE\n"
        "assert kl.general.cache_info().currsize == 1\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# -- soundness guards: each test fails if its guard is removed -------------------------------

y = sp.symbols("y", real=True)
p, q = sp.symbols("p q", positive=True)


@pytest.mark.parametrize("start, step", [
    (sp.log(x**2), 2 * sp.log(x)),
    (sp.log(x * y), sp.log(x) + sp.log(y)),
    (sp.sqrt(x**2), x),
], ids=["log of a square", "log of a product", "root of a square"])
def test_a_step_that_fails_where_one_side_is_not_real_is_refused(start, step):
    verification = chain(Step(start, ""), Step(step, "log rules")).verify()
    assert not verification.ok
    assert "not real" in verification.first_failure.detail or \
        "differ" in verification.first_failure.detail
    positive = {x: p, y: q}  # the twin: declared positive, the identity holds
    assert chain(Step(start.subs(positive), ""), Step(step.subs(positive), "")).verify().ok


def test_a_strict_inequality_with_a_gap_identically_zero_is_refused():
    gap = (x + 1) ** 2 - x**2 - 2 * x - 1
    assert not chain(Step(x, ""), Step(gap > 0, "strict", "holds")).verify().ok
    assert chain(Step(x, ""), Step(gap >= 0, "not strict", "holds")).verify().ok
    assert not chain(Step(gap, ""), Step(sp.Integer(0), "strict", ">")).verify().ok
    assert chain(Step(gap, ""), Step(sp.Integer(0), "not strict", ">=")).verify().ok


def test_integrals_over_different_ranges_are_not_compared_as_one():
    same = chain(Step(sp.Integral(x * t, (t, 0, 1)), ""), Step(x / 2, "integrate"))
    assert same.verify().ok
    stretched = chain(Step(sp.Integral(x * t, (t, 0, 1)), ""),
                      Step(sp.Integral(x * t, (t, 0, 2)), "same integrand, other range"))
    assert not stretched.verify().ok
    moved = chain(Step(sp.Integral(x * t**2, (t, 0, 1)) + sp.Integral(t, (t, 0, 1)), ""),
                  Step(sp.Integral(x * t**2 + t, (t, 0, 1)), "linearity"))
    assert moved.verify().ok  # the twin: one range, merged


def test_a_substitution_that_changes_nothing_is_refused():
    refused = chain(Step(x**2, ""), Step(x**2, "put mu = 0", subs={mu: 0})).verify()
    assert not refused.ok and "changes nothing" in refused.first_failure.detail
    assert chain(Step(x**2 + mu, ""), Step(x**2, "put mu = 0", subs={mu: 0})).verify().ok


def test_a_derivation_with_an_inequality_has_no_closed_form():
    exact = Derivation("exact", "0", (Step(x**2 + 2 * x + 1, "", "def"),
                                      Step((x + 1) ** 2, "factor")), args=(x,))
    assert exact.closed_form(3) == 16
    bound = exact.replace_step(1, Step((x + 1) ** 2, "weakened", ">="))
    assert bound.verify().ok  # a true bound ...
    with pytest.raises(derivations.core.DerivationError, match="is an inequality"):
        bound.closed_form  # ... is not a closed form


# -- tests that kill mutants (issue 13): each fails when one token of the checker changes -----

f = sp.Function("f")
u = sp.Symbol("u", real=True)


def test_a_step_with_an_unknown_relation_or_a_solves_step_without_an_equation_is_refused():
    with pytest.raises(ValueError, match="unknown relation"):
        Step(x, "", "=>")
    with pytest.raises(ValueError, match="Eq\\(unknown, value\\)"):
        Step(x - 1, "", "solves")
    with pytest.raises(ValueError, match="wrt="):
        Step(sp.Eq(x, 0), "", "stationary")


def test_the_log_of_a_positive_product_is_proved_a_sum_of_logs_for_every_length():
    k, n = sp.Idx("k"), sp.Symbol("n", integer=True, positive=True)
    z = sp.IndexedBase("z", positive=True)
    step = chain(Step(sp.log(sp.Product(z[k], (k, 1, n))), ""),
                 Step(sp.Sum(sp.log(z[k]), (k, 1, n)), "log of a product")).verify().steps[1]
    assert step.ok and step.method.startswith("symbolic")  # not only at sampled lengths


def test_integrals_of_an_unknown_function_are_merged_by_linearity():
    one = sp.Integral(f(u), (u, 0, 1))
    merged = chain(Step(sp.Integral(2 * f(u), (u, 0, 1)) + 3 * one, ""), Step(5 * one, "linearity"))
    assert merged.verify().steps[1].method == "symbolic (integrands or summands agree)"
    wrong = chain(Step(sp.Integral(2 * f(u), (u, 0, 1)) + 3 * one, ""), Step(6 * one, "wrong"))
    assert not wrong.verify().ok


def test_integrands_that_agree_only_numerically_prove_the_integrals_equal():
    double_angle = chain(Step(sp.Integral(sp.cos(f(u)) ** 2 - sp.sin(f(u)) ** 2, (u, 0, 1)), ""),
                         Step(sp.Integral(sp.cos(2 * f(u)), (u, 0, 1)), "double angle"))
    step = double_angle.verify().steps[1]
    assert step.ok and step.method.startswith("numeric on the integrands")
    wrong = chain(Step(sp.Integral(sp.cos(f(u)) ** 2 - sp.sin(f(u)) ** 2, (u, 0, 1)), ""),
                  Step(sp.Integral(sp.cos(f(u)), (u, 0, 1)), "not the double angle"))
    assert not wrong.verify().ok


def test_a_step_on_a_domain_that_cannot_be_sampled_is_refused_not_accepted():
    lhs = sp.cos(x) ** 2 - sp.sin(x) ** 2
    empty = chain(Step(lhs, ""), Step(sp.cos(2 * x), "double angle"), domain={x: (0, 1)},
                  where=x > 2)  # no drawn point satisfies the constraint
    verification = empty.verify()
    assert not verification.ok and "could not sample the domain" in verification.first_failure.detail


def test_a_change_of_variables_is_applied_to_integrals_of_an_unknown_function():
    scaled = Step(sp.Integral(a * f(a * t), (t, 0, 1 / a)), "x = a t", change=(x, a * t, t))
    assert chain(Step(sp.Integral(f(x), (x, 0, 1)), ""), scaled).verify().ok
    no_jacobian = Step(sp.Integral(f(a * t), (t, 0, 1 / a)), "no dx/dt", change=(x, a * t, t))
    assert not chain(Step(sp.Integral(f(x), (x, 0, 1)), ""), no_jacobian).verify().ok


def test_a_relation_that_is_not_real_on_part_of_the_domain_does_not_hold():
    verification = chain(Step(x, ""), Step(sp.sqrt(x) >= 0, "a root is non-negative",
                                           "holds")).verify()
    assert not verification.ok and "not real" in verification.first_failure.detail
    assert chain(Step(p, ""), Step(sp.sqrt(p) >= 0, "", "holds")).verify().ok  # the twin


def test_an_integer_symbol_that_is_not_a_bound_is_drawn_as_a_number():
    n = sp.Symbol("n", integer=True)  # not declared positive: not a sum's bound
    lhs = (sp.cos(x) ** 2 - sp.sin(x) ** 2) * n  # n stays in the difference of the sides
    assert chain(Step(lhs, ""), Step(sp.cos(2 * x) * n, "double angle")).verify().ok
    assert not chain(Step(lhs, ""), Step(sp.cos(2 * x) * n**2, "wrong")).verify().ok


def test_an_integral_without_free_symbols_is_computed_exactly():
    gauss = chain(Step(sp.Integral(sp.exp(-(x**2)), (x, -sp.oo, sp.oo)), ""),
                  Step(sp.sqrt(sp.pi), "Gaussian integral"))
    assert gauss.verify().steps[1].method == "symbolic"


def test_a_sum_whose_bound_is_not_a_sampled_size_is_refused_without_an_error():
    k, n = sp.Symbol("k", integer=True), sp.Symbol("n", integer=True)  # n not declared positive
    verification = chain(Step(sp.Sum(k, (k, 1, n)), ""), Step(n * (n + 1) / 2, "Gauss")).verify()
    assert not verification.ok and "could not sample" in verification.first_failure.detail


def test_a_symbol_inside_and_outside_an_unknown_function_is_drawn():
    f = sp.Function("f")
    u = sp.Symbol("u", real=True)
    step = chain(Step(f(x) * (sp.cos(x) ** 2 - sp.sin(x) ** 2), ""),
                 Step(f(x) * sp.cos(2 * x), "double angle")).verify()
    assert step.ok, step.first_failure
    wrong = chain(Step(f(x) * (sp.cos(x) ** 2 - sp.sin(x) ** 2), ""),
                  Step(f(x) * sp.cos(x), "wrong")).verify()
    assert not wrong.ok and "differ" in wrong.first_failure.detail
    merged = chain(Step(sp.Integral(f(u) * (sp.cos(u) ** 2 - sp.sin(u) ** 2), (u, 0, 1)), ""),
                   Step(sp.Integral(f(u) * sp.cos(2 * u), (u, 0, 1)), "double angle"))
    assert merged.verify().ok  # a verdict, not a NameError


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("false, true", [
    (x**2 <= 4, x**2 >= 0),
    (sigma <= 4, sigma > 0),
    (sp.tanh(sigma) <= sp.Rational(99, 100), sp.tanh(sigma) < 1),
    (sp.log(sigma) >= -sp.Rational(7, 5), sp.log(sigma) <= sigma - 1),
], ids=["x squared at most 4", "sigma at most 4", "tanh below 0.99", "log above -1.4"])
def test_a_relation_true_only_at_moderate_scales_is_refused_for_every_seed(seed, false, true):
    # Undeclared symbols are drawn at a wide scale too, one point per stratum of magnitudes
    # e^-3..e^3, so the refusal does not depend on the seed; the twin is a true relation.
    assert not chain(Step(x, ""), Step(false, "only near 1", "holds")).verify(seed=seed).ok
    assert chain(Step(x, ""), Step(true, "everywhere", "holds")).verify(seed=seed).ok



def test_a_tight_relation_is_decided_by_its_gap_not_by_rounding():
    # At the wide scale 1 - tanh(sigma) falls below the tolerance (4e-13 at sigma = 14.6) but is
    # positive; exp(x^2)(cosh^2 - sinh^2) - exp(x^2) is 0 but its 30-digit rounding error is
    # e^400-sized. The gap is evaluated again at 90 digits: a real gap keeps its value.
    cosh2_sinh2 = sp.exp(x**2) * (sp.cosh(x) ** 2 - sp.sinh(x) ** 2)
    for seed in range(4):
        assert chain(Step(x, ""), Step(sp.tanh(sigma) < 1, "", "holds")).verify(seed=seed).ok
        assert chain(Step(x, ""), Step(cosh2_sinh2 >= sp.exp(x**2), "", "holds")
                     ).verify(seed=seed).ok
        # twins: a gap of -1 under the same rounding, and a strict relation with no gap
        assert not chain(Step(x, ""), Step(cosh2_sinh2 >= sp.exp(x**2) + 1, "", "holds")
                         ).verify(seed=seed).ok
        assert not chain(Step(x, ""), Step(cosh2_sinh2 > sp.exp(x**2), "", "holds")
                         ).verify(seed=seed).ok


def test_a_gap_lost_to_rounding_at_30_digits_is_found_at_a_higher_precision():
    # (1 + e^(-x^2)) e^(x^2) - e^(x^2) = 1, but for x in (8.5, 9) the 30-digit sum 1 + e^(-x^2)
    # rounds to 1 and the gap to 0 (or to rounding error of e^81-sized terms)
    cancelled = (1 + sp.exp(-x**2)) * sp.exp(x**2)
    near_nine = {x: (8.5, 9.0)}
    assert chain(Step(x, ""), Step(cancelled > sp.exp(x**2), "", "holds"), domain=near_nine
                 ).verify().ok
    assert chain(Step(x, ""), Step(cancelled >= sp.exp(x**2) + 1, "", "holds"),
                 domain=near_nine).verify().ok
    # twins: the gap is exactly 1, so these are false at every point
    assert not chain(Step(x, ""), Step(cancelled > sp.exp(x**2) + 1, "", "holds"),
                     domain=near_nine).verify().ok
    assert not chain(Step(x, ""), Step(cancelled >= sp.exp(x**2) + 2, "", "holds"),
                     domain=near_nine).verify().ok


def test_a_relation_between_integrals_is_decided_by_quadrature():
    half = sp.Integral(x**2 * t, (t, 0, 1))  # = x^2 / 2
    assert chain(Step(x, ""), Step(half >= 0, "", "holds")).verify().ok
    assert chain(Step(x, ""), Step(half >= x**2 / 2, "", "holds")).verify().ok
    # twins: the gap is identically 0, or -x^2/2
    assert not chain(Step(x, ""), Step(half > x**2 / 2, "", "holds")).verify().ok
    assert not chain(Step(x, ""), Step(half >= x**2, "", "holds")).verify().ok


def test_integrands_are_compared_with_a_real_variable_and_summands_with_an_integer_index():
    # written with a variable and an index of no declared kind, as a student would
    u, j = sp.Symbol("u"), sp.Symbol("j")
    xs, n = sp.IndexedBase("x"), sp.Symbol("n", integer=True, positive=True)
    integrals = chain(Step(sp.Integral(sp.sqrt(u**2) * x, (u, -1, 1)), ""),
                      Step(sp.Integral(sp.Abs(u) * x, (u, -1, 1)), "sqrt(u^2) = |u|"))
    sums = chain(Step(sp.Sum((-1) ** (2 * j) * xs[j], (j, 1, n)), ""),
                 Step(sp.Sum(xs[j], (j, 1, n)), "(-1)^(2j) = 1"))
    for verification in (integrals.verify(), sums.verify()):
        assert verification.ok
        assert verification.steps[1].method == "symbolic (integrands or summands agree)"
    # twin: the same integrands do not agree where the variable may be negative
    assert not chain(Step(sp.Integral(sp.sqrt(u**2) * x, (u, -1, 1)), ""),
                     Step(sp.Integral(u * x, (u, -1, 1)), "sqrt(u^2) = u")).verify().ok


def test_an_applied_function_can_be_given_its_own_domain():
    D = sp.Function("D")
    assert chain(Step(x, ""), Step(D(x) * (1 - D(x)) >= 0, "a probability", "holds"),
                 domain={D(x): (0, 1)}).verify().ok
    refused = chain(Step(x, ""), Step(D(x) * (1 - D(x)) >= 0, "undeclared", "holds")).verify()
    assert not refused.ok and "D(x)=" in refused.first_failure.detail  # the point is shown


def test_a_value_with_an_imaginary_part_from_rounding_alone_is_real():
    # log(e^{ix}) = ix for |x| < pi; the 30-digit difference has real and imaginary parts of
    # rounding size, which is no evidence that a side is not real
    assert chain(Step(sp.I * x, ""), Step(sp.log(sp.exp(sp.I * x)), "log of exp")).verify().ok
    assert not chain(Step(sp.I * x, ""), Step(sp.log(sp.exp(2 * sp.I * x)), "")).verify().ok
