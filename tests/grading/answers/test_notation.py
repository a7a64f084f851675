"""Names, assumption kinds and the operators SymPy lacks."""

from __future__ import annotations

import pytest
import sympy as sp

from grading.answers.notation import Expectation, Namespace, base_letter


def test_an_unknown_symbol_is_real() -> None:
    assert Namespace().symbol("mu").is_real


def test_declared_kinds_become_sympy_assumptions() -> None:
    ns = Namespace({"sigma": "positive", "y": "unit_interval", "x": "binary", "n": "integer"})
    assert ns.symbol("sigma").is_positive
    assert ns.symbol("y").is_positive
    assert ns.symbol("x").is_integer and ns.symbol("x").is_nonnegative
    assert ns.symbol("n").is_integer


def test_an_entry_outside_a_sum_has_the_kind_of_its_base() -> None:
    assert Namespace({"y": "unit_interval"}).kind("y_j") == "unit_interval"


def test_aliases_resolve_to_their_kind() -> None:
    ns = Namespace({"p": "density", "y": "probability"})
    assert ns.kind("p") == "positive"
    assert ns.kind("y") == "unit_interval"


def test_an_unknown_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown assumption"):
        Namespace({"sigma": "big"})


def test_an_interval_is_a_kind() -> None:
    ns = Namespace({"t": (0.5, 2.0)})
    assert ns.kind("t") == (0.5, 2.0)
    assert ns.symbol("t").is_positive


def test_densities_are_positive_and_discriminators_lie_in_the_unit_interval() -> None:
    ns = Namespace()
    assert ns.function_kind("p_data") == "positive"
    assert ns.function_kind("q_phi") == "positive"
    assert ns.function_kind("D^*") == "unit_interval"
    assert ns.function("p_G")(sp.Symbol("x")).is_positive


def test_function_names_follow_the_first_letter_unless_listed() -> None:
    assert Namespace().is_function("p_data")
    assert not Namespace().is_function("sigma")
    assert not Namespace(functions={"D"}).is_function("p")


def test_the_base_letter_drops_subscript_modifier_and_star() -> None:
    assert [base_letter(n) for n in ("p_data", "yhat_j", "D^*", "alphabar_t")] == \
        ["p", "y", "D", "alpha"]


def test_an_expectation_is_linear_and_leaves_constants_out() -> None:
    a, b, q = sp.symbols("a b q")
    assert Expectation(3 * a + b, q) == 3 * Expectation(a, q) + Expectation(b, q)
    assert Expectation(sp.Integer(2)) == 2
