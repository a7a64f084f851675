"""The surface of an answer: look-alike characters read as what they look like, and the math
taken out of a sentence — or refused when the sentence holds two candidate answers."""

from __future__ import annotations

import pytest
import sympy as sp

from grading.answers.limits import ParseError
from grading.answers.parse import parse_answer
from grading.answers.surface import extract_math, normalise


@pytest.mark.parametrize("text, same_as", [
    ("１＋x", "1+x"),                      # full-width digits and operators
    ("a − b", "a - b"),                    # the minus sign
    ("a – b", "a - b"),                    # an en dash
    ("2 × x", "2*x"),
    ("2 · x", "2*x"),
    ("a ∗ b", "a*b"),
    ("x²", "x^2"),
    ("x⁻¹", "x^(-1)"),
    ("x₁ + x₂", "x_1 + x_2"),
    ("σ² + μ²", "sigma^2 + mu^2"),
    ("√(σ²)", "sqrt(sigma^2)"),
    ("a\u00a0+\u2009b", "a + b"),          # no-break and thin spaces
])
def test_look_alike_characters_read_as_what_they_look_like(text: str, same_as: str) -> None:
    assert parse_answer(text) == parse_answer(same_as)


def test_a_look_alike_twin_with_a_different_operator_reads_differently() -> None:
    assert parse_answer("a − b") != parse_answer("a + b")
    assert parse_answer("x³") != parse_answer("x^2")


def test_positions_after_normalising_point_into_what_the_student_wrote() -> None:
    with pytest.raises(ParseError) as caught:
        parse_answer("x² + )")
    assert caught.value.position == 5  # the ')' of the original text, not of "x^{2} + )"


@pytest.mark.parametrize("sentence, math", [
    ("The output dimension is 2.", "2"),
    ("0, because it is the same distribution", "0"),
    ("KL is 0 since q = p", "0"),
    ("The answer is $\\frac{1}{2}$.", "\\frac{1}{2}"),
    ("We get -log 4 + 2 JSD(p_data || p_G) at the optimum", "-log 4 + 2 JSD(p_data || p_G)"),
    ("(3) p(z|x), which is the true posterior", "p(z|x)"),
])
def test_the_math_is_taken_out_of_a_sentence(sentence: str, math: str) -> None:
    extracted, _, note = extract_math(normalise(sentence).text)
    assert extracted == math and math in note


@pytest.mark.parametrize("answer", ["x y", "2 x y", "n log n", "a x + b", "sigma_q / sigma_p",
                                    "\\frac{a}{b}", "-\\frac{x-\\mu}{\\sigma^2}"])
def test_math_alone_is_left_alone(answer: str) -> None:
    assert extract_math(answer) == (answer, 0, "")


@pytest.mark.parametrize("sentence", ["It is 2, or maybe 3", "either x or y",
                                      "$a$ and then $b$"])
def test_a_sentence_with_two_candidate_answers_is_refused_not_guessed(sentence: str) -> None:
    with pytest.raises(ParseError, match="two candidate|several formulas"):
        parse_answer(sentence)


def test_a_sentence_without_math_is_refused() -> None:
    with pytest.raises(ParseError):
        parse_answer("it is the same as the other one")


def test_the_number_in_a_sentence_is_the_answer_and_its_twin_differs() -> None:
    assert parse_answer("The output dimension is 2.") == 2
    assert parse_answer("The output dimension is 3.") != 2
    assert parse_answer("0, because it is the same distribution") == sp.Integer(0)
