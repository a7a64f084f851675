"""Plain ASCII answers: the AST allow-list reads the course's formulas and runs nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
import sympy as sp
from hypothesis import given
from hypothesis import strategies as st

from grading.answers.equivalence import Kind, check_equivalence
from grading.answers.limits import ParseError
from grading.answers.notation import Given, Namespace
from grading.answers.parse import parse_latex, parse_plain


def r(name: str) -> sp.Symbol:
    """The symbol the readers build for ``name`` (real, or its conventional domain)."""
    return Namespace().symbol(name)


def test_python_powers_and_caret_powers_read_the_same() -> None:
    assert parse_plain("sigma**2/2 + log(sigma)") == parse_plain("sigma^2/2 + log(sigma)")
    assert parse_plain("sigma^2") == r("sigma") ** 2


def test_caret_is_right_associative_like_a_power_tower() -> None:
    assert parse_plain("x^2^3") == r("x") ** 8


def test_plain_names_match_the_latex_names() -> None:
    pairs = [("mu_phi", r"\mu_\phi"), ("p_data", r"p_{data}"), ("alpha_bar_t", r"\bar{\alpha}_t"),
             ("y_hat_j", r"\hat{y}_j"), ("sigma", r"\sigma")]
    for plain, latex in pairs:
        assert parse_plain(plain) == parse_latex(latex), plain


def test_log_in_plain_text_is_the_natural_logarithm() -> None:
    assert parse_plain("log(x)") == sp.log(r("x")) == parse_plain("ln(x)")


def test_a_plain_log_with_a_base_is_not_natural() -> None:
    assert parse_plain("log(100, 10)") == 2


def test_a_density_applied_to_its_argument_is_a_function() -> None:
    value = parse_plain("p_data(x)/(p_data(x) + p_G(x))")
    assert value == parse_latex(r"\frac{p_{data}(x)}{p_{data}(x)+p_G(x)}")


def test_a_conditional_bar_in_plain_text() -> None:
    assert parse_plain("q_phi(z|x)").args == (Given(r("z"), r("x")),)


def test_a_starred_name_is_written_with_a_star_suffix() -> None:
    assert parse_plain("D_star(x)") == parse_latex(r"D^*(x)")


def test_sums_in_plain_text_tie_entries_to_the_index() -> None:
    first = parse_plain("Sum(x_j*log(y_j), (j, 1, G))")
    second = parse_plain("sum(x_j*log(y_j), j, 1, G)")
    assert first == second == parse_latex(r"\sum_{j=1}^{G} x_j \log y_j")


def test_decimals_are_exact_rationals() -> None:
    assert parse_plain("0.25*x") == r("x") / 4


def test_kl_takes_its_arguments_in_order() -> None:
    assert parse_plain("KL(q, p)") != parse_plain("KL(p, q)")
    assert parse_plain("KL(q, p)") == parse_latex(r"\mathrm{KL}(q\|p)")


def test_a_near_miss_plain_answer_is_rejected() -> None:
    verdict = check_equivalence(r"\frac{\sigma^2}{2} + \log\sigma", "sigma**2/2 + log(sigma**2)",
                                assumptions={"sigma": "positive"})
    assert verdict.kind is Kind.NOT_EQUIVALENT


def test_a_syntax_error_carries_its_position() -> None:
    with pytest.raises(ParseError) as error:
        parse_plain("sigma + * 2")
    assert error.value.position == 8


# -- security: nothing in an answer runs ------------------------------------------------------

INJECTIONS = [
    "__import__('os').system('touch {marker}')",
    "().__class__.__bases__[0].__subclasses__()",
    "lambda: 1",
    "(lambda: __import__('os').system('touch {marker}'))()",
    "open('{marker}', 'w')",
    "eval(\"__import__('os').system('touch {marker}')\")",
    "exec('import os')",
    "[c for c in ().__class__.__base__.__subclasses__()]",
    "x.__dict__",
    "f'{{1}}'",
    "x if 1 else y",
    "(x := 1)",
]


@pytest.mark.parametrize("template", INJECTIONS)
def test_code_in_an_answer_is_refused_with_a_parse_error_and_runs_nothing(
        template: str, tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    text = template.format(marker=marker)
    with pytest.raises(ParseError):
        parse_plain(text)
    verdict = check_equivalence("x", text)
    assert verdict.kind is Kind.PARSE_ERROR
    assert verdict.position is not None
    assert not marker.exists()


def test_the_classic_os_system_payload_creates_no_file() -> None:
    marker = Path("/tmp/pwned")
    existed = marker.exists()
    verdict = check_equivalence("x", "__import__('os').system('touch /tmp/pwned')")
    assert verdict.kind is Kind.PARSE_ERROR
    assert marker.exists() == existed  # nothing was created by the check


def test_dunder_and_underscore_names_are_refused() -> None:
    for text in ("__builtins__", "_x + 1", "a__b"):
        with pytest.raises(ParseError):
            parse_plain(text)


def test_strings_are_not_numbers() -> None:
    with pytest.raises(ParseError, match="only numbers"):
        parse_plain("'1' + x")


@given(st.lists(st.sampled_from(list("xyz_ab0123456789+-*/^().,|' ") +
                                ["__", "lambda", "import", "log(", "Sum("]),
               max_size=40).map("".join))
def test_any_plain_text_is_either_read_or_refused_with_a_parse_error(text: str) -> None:
    try:
        value = parse_plain(text)
    except ParseError as error:
        assert error.position >= 0
    else:
        assert isinstance(value, sp.Basic)


def test_deep_nesting_is_refused_before_python_parses_it_so_later_answers_still_parse():
    """CPython 3.11 leaves ast.parse broken after a RecursionError inside it; never get there."""
    import ast

    from grading.answers.parse import ParseError, parse_plain

    for hostile in ("(" * 5000 + "x" + ")" * 5000, "-" * 5000 + "x", "x" + "**x" * 3000):
        with pytest.raises(ParseError):
            parse_plain(hostile)
    assert isinstance(ast.parse("def f(x):\n    return x\n"), ast.Module)
    assert parse_plain("sigma**2/2") is not None
