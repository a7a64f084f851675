"""Caps on untrusted answers: explosive inputs end with a clear verdict, fast, in bounded memory.

The 5-second bound is the contract of the issue, measured with ``time.perf_counter`` only as
an upper sanity bound.
"""

from __future__ import annotations

import time

import pytest
import sympy as sp

from grading.answers import limits
from grading.answers.equivalence import Kind, check_equivalence
from grading.answers.limits import ParseError
from grading.answers.parse import parse_answer, parse_latex, parse_plain

CONTRACT_SECONDS = 5.0

BOMBS = {
    "power tower": "9^{9^{9^9}}",
    "plain power tower": "9**9**9**9",
    "huge factorial": "(10^8)!",
    "100 nested brackets": "(" * 100 + "x" + ")" * 100,
    "100 nested latex groups": r"\left(" * 100 + "x" + r"\right)" * 100,
    "100 nested fractions": r"\frac{1}{" * 100 + "x" + "}" * 100,
    "a 1 MB string": "x+" * 500_000,
    "a long number": "1" * 5_000,
    "nested square roots": r"\sqrt{" * 80 + "x" + "}" * 80,
}


@pytest.mark.parametrize("name", sorted(BOMBS))
def test_explosive_answers_end_with_a_clear_verdict_within_five_seconds(name: str) -> None:
    start = time.perf_counter()
    verdict = check_equivalence("x", BOMBS[name])
    elapsed = time.perf_counter() - start
    assert elapsed < CONTRACT_SECONDS
    assert verdict.kind is Kind.PARSE_ERROR, verdict.reason
    assert verdict.position is not None
    assert verdict.reason


def test_a_long_chain_of_signs_is_read_without_recursion() -> None:
    start = time.perf_counter()
    verdict = check_equivalence("x", "-" * 9_000 + "x")
    assert time.perf_counter() - start < CONTRACT_SECONDS
    assert verdict.kind is Kind.EQUIVALENT, verdict.reason


def test_the_power_tower_names_the_exponent_that_is_too_large() -> None:
    with pytest.raises(ParseError, match="exponent 387420489 is too large") as error:
        parse_latex("9^{9^{9^9}}")
    assert error.value.position == 4


def test_a_huge_factorial_is_refused_at_the_bang() -> None:
    with pytest.raises(ParseError, match="factorial") as error:
        parse_answer("(10^8)!")
    assert error.value.position == 6


def test_a_moderate_factorial_and_power_are_computed_exactly() -> None:
    assert parse_latex("5!") == 120
    assert parse_latex("2^{10}") == 1024
    assert parse_plain("2**100") == sp.Integer(2) ** 100


def test_an_exact_power_with_too_many_digits_is_refused() -> None:
    with pytest.raises(ParseError, match="digits"):
        parse_latex("10^{100000}")


def test_a_symbolic_base_may_have_a_large_exponent_but_not_an_exploding_one() -> None:
    assert parse_latex("x^{1000}") == sp.Symbol("x", real=True) ** 1000
    with pytest.raises(ParseError):
        parse_latex("x^{10^{7}}")


def test_nesting_deeper_than_the_limit_is_refused_and_within_it_is_read() -> None:
    depth = limits.MAX_DEPTH // 2
    assert parse_latex("(" * depth + "x" + ")" * depth) == sp.Symbol("x", real=True)
    with pytest.raises(ParseError, match="nested"):
        parse_latex("(" * (limits.MAX_DEPTH + 1) + "x" + ")" * (limits.MAX_DEPTH + 1))


def test_an_answer_over_the_length_limit_is_refused_at_the_limit() -> None:
    with pytest.raises(ParseError) as error:
        parse_answer("x" * (limits.MAX_LENGTH + 1))
    assert error.value.position == limits.MAX_LENGTH


def test_a_parse_error_carries_message_and_position() -> None:
    error = ParseError("something odd", 7)
    assert (error.message, error.position) == ("something odd", 7)
    assert "character 7" in str(error)
