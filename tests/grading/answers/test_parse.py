"""The public parsing API: auto-detection, the rendered reading, and errors with positions."""

from __future__ import annotations

import re

import pytest
import sympy as sp

from grading.answers.limits import ParseError
from grading.answers.parse import (looks_like_latex, parse_answer, parse_latex, parse_plain,
                                   parse_readings, render_latex)


def test_a_backslash_or_a_brace_means_latex() -> None:
    assert looks_like_latex(r"\sigma^2")
    assert looks_like_latex("x^{2}")
    assert not looks_like_latex("sigma**2 + x_j")


def test_plain_text_reads_multi_letter_names_as_one_symbol() -> None:
    assert parse_answer("sigma^2") == parse_latex(r"\sigma^2")


def test_juxtaposed_single_letters_fall_back_to_latex_multiplication() -> None:
    x = sp.Symbol("x", real=True)
    assert parse_answer("2x(1-x)") == 2 * x * (1 - x)


def test_plain_juxtaposition_multiplies_greek_words_and_letters() -> None:
    sigma, x, y, n = (sp.Symbol(name, real=True) for name in ("sigma", "x", "y", "n"))
    assert parse_answer("2sigma x", assumptions={"sigma": "real"}) == 2 * sigma * x
    assert parse_answer("2 x y") == 2 * x * y
    assert parse_answer("n log n") == n * sp.log(n)
    assert parse_answer("2 x y") != 2 * x  # the twin: nothing is dropped


@pytest.mark.parametrize("answer, names", [
    ("cosec(3x)", "unknown function 'cosec'"),
    ("2 foo x", "unknown name 'foo'"),
    ("x # the answer", "'#' starts a comment"),
    ("5!=5", "'!='"),
    (r"\frac{p_data(x)}{2}", "write p_{data}"),
    ("3x +", "ends"),
])
def test_what_cannot_be_read_faithfully_is_refused_with_what_to_write(answer: str,
                                                                      names: str) -> None:
    with pytest.raises(ParseError, match=re.escape(names)) as caught:
        parse_answer(answer)
    for internal in ("invalid decimal literal", "Perhaps you forgot", "TypeError", "ValueError",
                     "invalid syntax", "SyntaxError"):
        assert internal not in str(caught.value)


def test_scientific_notation_is_an_exact_decimal_not_euler_s_number() -> None:
    assert parse_answer("1e308*10") == sp.Integer(10) ** 309
    assert parse_answer("2.5e-3") == sp.Rational(1, 400)
    assert parse_answer("2.5e-3") != sp.Rational(1, 40)


@pytest.mark.parametrize("answer, readings", [
    (r"\sum_i x^i", {"x^i as a power", "x^i as the entry i of x"}),
    (r"x^T", {"^T as a transpose", "^T as the power T"}),
    ("x^T", {"^T as a transpose", "^T as the power T"}),
    (r"\sum_j a_j + b_j + c", {"the sum over j stops before the term without it",
                               "the sum over j runs to the end"}),
])
def test_ambiguous_notation_gives_every_reading_with_what_it_means(answer: str,
                                                                   readings: set[str]) -> None:
    found = parse_readings(answer)
    assert {r.description for r in found} == readings
    assert len({sp.srepr(r.expr) for r in found}) == len(readings)


@pytest.mark.parametrize("answer", [r"x^\top y", r"x^T y", r"\sum_j a_j + b_j", r"\sum_j a_j + 1",
                                    r"\log x^2", r"\sum_{i=1}^{N} x^{(i)}"])
def test_unambiguous_notation_has_one_reading(answer: str) -> None:
    (reading,) = parse_readings(answer)
    assert reading.description == ""


def test_the_rendered_reading_shows_a_misreading() -> None:
    assert render_latex(parse_answer(r"\log 2\pi\sigma^2")) == \
        r"\log{\left(2 \pi \sigma^{2} \right)}"
    assert render_latex(parse_answer(r"\log(2)\pi\sigma^2")) == \
        r"\pi \sigma^{2} \log{\left(2 \right)}"


def test_an_empty_answer_is_a_parse_error() -> None:
    for text in ("", "   ", "$ $"):
        with pytest.raises(ParseError):
            parse_answer(text)


def test_an_answer_must_be_text() -> None:
    with pytest.raises(ParseError, match="text"):
        parse_answer(42)  # type: ignore[arg-type]


def test_the_parsers_share_one_namespace_of_assumptions() -> None:
    spec = {"sigma": "positive"}
    assert parse_plain("sigma", assumptions=spec) == parse_latex(r"\sigma", assumptions=spec)
    assert parse_plain("sigma", assumptions=spec).is_positive


def test_explicit_symbols_are_used_as_given() -> None:
    s = sp.Symbol("s", positive=True, integer=True)
    assert parse_latex("s + 1", symbols={"s": s}) == s + 1


def test_math_delimiters_are_ignored() -> None:
    assert parse_answer(r"$\frac{1}{2}$") == sp.Rational(1, 2)
    assert parse_answer(r"\( x \)") == sp.Symbol("x", real=True)


_INTERNALS = ("Error:", "Traceback", "invalid decimal literal", "Perhaps you forgot",
              "invalid syntax", "unexpected EOF", "object has no attribute", "NoneType",
              "Python construct", "<class", "__")


@pytest.mark.parametrize("answer", [
    "3x)", "((x", "x +* y", "x ** ** 2", "2..3", "x[1]", "f(x=1)", "lambda x: x", "'abc'",
    "x if y else z", "a.b", "{1, 2}", r"\frac{1}{", r"\left( x", r"p(x|z|w)", r"\sum", "x²²²",
    r"\mathbb{Q}", r"x_{}", "1e", "5!=5", "#", "cosec(x)", r"\int p(x)", r"KL(p)", "½½",
])
def test_unreadable_answers_are_refused_in_words_never_with_python_internals(answer: str) -> None:
    try:
        read = parse_answer(answer)
    except ParseError as error:  # refused: in words of the answer
        assert not any(internal in str(error) for internal in _INTERNALS), str(error)
    else:  # read: a SymPy object, never an exception of another kind
        assert isinstance(read, sp.Basic)
