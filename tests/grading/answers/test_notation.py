"""Names, assumption kinds and the operators SymPy lacks."""

from __future__ import annotations

import pytest
import sympy as sp

from grading.answers.notation import (CONVENTIONS, Expectation, Namespace, base_letter,
                                      conventional_kind, describe_kind, pretty_name)
from grading.answers.parse import parse_answer


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


# -- conventional domains ----------------------------------------------------------------------


def _names(text: str) -> set[str]:
    expr = parse_answer(text)
    labels = {str(b.label) for b in expr.atoms(sp.IndexedBase)}
    return {s.name for s in expr.free_symbols if isinstance(s, sp.Symbol)} - labels


# every spelling the parser gives a scale or a schedule, checked through the parser's own names
@pytest.mark.parametrize(("spelling", "kind"), [
    ("\\sigma", "positive"), ("σ", "positive"), ("sigma", "positive"),
    ("\\sigma_j", "positive"), ("σ_j", "positive"), ("sigma_j", "positive"),
    ("\\sigma_i^2", "positive"), ("\\sigma_t", "positive"), ("\\sigma_{min}", "positive"),
    ("\\sigma_{\\text{min}}", "positive"), ("sigma_min", "positive"), ("\\sigma_{t-1}", "positive"),
    ("\\sigma_\\phi", "positive"), ("\\hat\\sigma", "positive"), ("\\tilde\\sigma", "positive"),
    ("\\sigma'", "positive"), ("\\sigma^*", "positive"), ("\\tau", "positive"),
    ("std", "positive"), ("\\eta", "positive"),
    ("\\bar{\\alpha}_t", "unit_interval"), ("alpha_bar_t", "unit_interval"),
    ("alphabar", "unit_interval"), ("alpha_bar", "unit_interval"),
    ("\\bar{\\alpha}_{t-1}", "unit_interval"), ("\\beta_t", "unit_interval"),
    ("beta_t", "unit_interval"), ("\\alpha_t", "positive"), ("\\alpha_i", "positive"),
    ("\\bar\\beta", "positive"), ("y_j", "unit_interval"), ("\\hat{y}_j", "unit_interval"),
    ("\\hat y", "unit_interval"), ("pi_k", "unit_interval"), ("p", "unit_interval"),
    ("p_{data}", "positive"), ("p_G", "positive"),
])
def test_the_parser_names_of_a_conventional_quantity_get_its_domain(spelling, kind) -> None:
    (name,) = _names(spelling)
    assert conventional_kind(name) == kind
    assert Namespace().kind(name) == kind
    assert parse_answer(spelling).free_symbols.pop().is_positive


# near misses: names that look like a scale or a probability but are not one
@pytest.mark.parametrize("spelling", [
    "\\epsilon", "ε", "\\varepsilon", "epsilon", "\\epsilon_\\theta", "\\lambda", "s", "\\mu",
    "x", "\\alpha", "\\beta", "y", "q", "D", "\\Sigma", "sigmoid", "sigmas", "stdev", "tau2",
])
def test_a_name_without_a_convention_stays_real(spelling) -> None:
    (name,) = _names(spelling)
    assert conventional_kind(name) is None
    assert Namespace().kind(name) == "real"
    symbol = parse_answer(spelling).free_symbols.pop()
    assert symbol.is_real and symbol.is_positive is None


def test_the_noise_epsilon_takes_negative_values_where_sigma_cannot() -> None:
    expr = parse_answer("\\sqrt{\\epsilon^2} - \\epsilon")
    assert sp.simplify(expr) != 0  # ε real: |ε| - ε is not zero
    assert sp.simplify(parse_answer("\\sqrt{\\sigma^2} - \\sigma")) == 0  # σ > 0


def test_entries_of_a_sum_follow_the_subscripted_spelling() -> None:
    expr = parse_answer("\\sum_j y_j")
    (entry,) = expr.atoms(sp.Indexed)
    assert entry.is_positive and Namespace().kind("y", entry=True) == "unit_interval"
    assert Namespace().kind("y") == "real"  # the bare name is any variable


def test_an_explicit_kind_wins_over_the_convention_for_every_variant_of_its_base() -> None:
    ns = Namespace({"sigma": "real", "y": "positive", "p": "real"})
    assert [ns.kind(n) for n in ("sigma", "sigma_j", "sigmahat", "sigma'", "y_j", "p")] == \
        ["real", "real", "real", "real", "positive", "real"]
    assert not ns.symbol("sigma").is_positive and ns.symbol("sigma").is_real
    assert Namespace({"mu": "real"}).kind("sigma_j") == "positive"  # others keep theirs


def test_an_interval_for_a_base_reaches_its_variants() -> None:
    assert Namespace({"sigma": (0.5, 2.0)}).kind("sigmahat") == (0.5, 2.0)


def test_conventions_can_be_turned_off() -> None:
    ns = Namespace(conventions=False)
    assert ns.kind("sigma") == "real" and not ns.symbol("sigma").is_positive
    assert Namespace({"sigma": "positive"}, conventions=False).kind("sigma") == "positive"


def test_every_row_of_the_table_states_its_source_and_a_known_kind() -> None:
    from grading.answers.notation import KINDS

    assert len({row.name for row in CONVENTIONS}) == len(CONVENTIONS)
    for row in CONVENTIONS:
        assert row.source and all(k is None or k in KINDS for k in (row.bare, row.variants))


def test_kinds_and_names_read_as_a_reader_writes_them() -> None:
    assert [describe_kind(k) for k in ("positive", "probability", "real", (0.5, 2.0))] == \
        ["> 0", "∈ (0, 1)", "real", "∈ (0.5, 2)"]
    assert [pretty_name(n) for n in ("sigma", "alphabar_t", "yhat_j", "sigma_phi", "sigma_min",
                                     "p_data", "D^*", "sigmoid")] == \
        ["σ", "α\u0304_t", "y\u0302_j", "σ_φ", "σ_min", "p_data", "D^*", "sigmoid"]
