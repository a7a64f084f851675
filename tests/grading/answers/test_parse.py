"""The public parsing API: auto-detection, the rendered reading, and errors with positions."""

from __future__ import annotations

import pytest
import sympy as sp

from grading.answers.limits import ParseError
from grading.answers.parse import looks_like_latex, parse_answer, parse_latex, parse_plain, render_latex


def test_a_backslash_or_a_brace_means_latex() -> None:
    assert looks_like_latex(r"\sigma^2")
    assert looks_like_latex("x^{2}")
    assert not looks_like_latex("sigma**2 + x_j")


def test_plain_text_reads_multi_letter_names_as_one_symbol() -> None:
    assert parse_answer("sigma^2") == parse_latex(r"\sigma^2")


def test_juxtaposed_single_letters_fall_back_to_latex_multiplication() -> None:
    x = sp.Symbol("x", real=True)
    assert parse_answer("2x(1-x)") == 2 * x * (1 - x)


def test_an_unknown_word_in_broken_plain_text_reports_the_plain_error() -> None:
    with pytest.raises(ParseError, match="plain-text"):
        parse_answer("2sigma")


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
