"""Named feedback: each common mistake is recognised, and an unrelated error gets none."""

from __future__ import annotations

import pytest

from grading.answers.feedback import MISTAKES, Mistake, diagnose
from grading.answers.notation import Namespace
from grading.answers.parse import parse_latex

NS = Namespace({"sigma": "positive", "y": "unit_interval", "x": "binary"})

CASES = [
    ("sign_flipped", r"-\frac{x-\mu}{\sigma^2}", r"\frac{x-\mu}{\sigma^2}"),
    ("factor_two", r"\frac{(\mu_1-\mu_2)^2}{2\sigma^2}", r"\frac{(\mu_1-\mu_2)^2}{\sigma^2}"),
    ("factor_half", r"\mu^2 + \sigma^2", r"\frac{\mu^2 + \sigma^2}{2}"),
    ("sigma_vs_sigma_squared", r"\mu + \sigma\epsilon", r"\mu + \sigma^2\epsilon"),
    ("sigma_vs_sigma_squared", r"\frac{1}{2}(\sigma^2 - \log\sigma^2)",
     r"\frac{1}{2}(\sigma - \log\sigma)"),
    ("kl_arguments_swapped", r"\mathrm{KL}(q\|p) - \log 2", r"\mathrm{KL}(p\|q) - \log 2"),
    ("missing_product", r"\prod_{j=1}^{G} y_j^{x_j}(1-y_j)^{1-x_j}",
     r"y_j^{x_j}(1-y_j)^{1-x_j}"),
    ("missing_product", r"\prod_{j=1}^{G} y_j^{x_j}(1-y_j)^{1-x_j}",
     r"y_k^{x_k}(1-y_k)^{1-x_k}"),
    ("missing_sum", r"\sum_{j=1}^{G} x_j \log y_j", r"x_j \log y_j"),
    ("log_of_sum", r"\sum_{i=1}^{n} \log p(z_i)", r"\log\sum_{i=1}^{n} p(z_i)"),
    ("log_of_sum", r"\log a + \log b", r"\log(a + b)"),
    ("term_sign_flipped", r"\log 4 - 2\mathrm{KL}(p\|q)", r"-\log 4 - 2\mathrm{KL}(p\|q)"),
    ("term_sign_flipped", r"\log 4 - 2\mathrm{KL}(p\|q)", r"\log 4 + 2\mathrm{KL}(p\|q)"),
    ("term_factor", r"\log 4 - 2\mathrm{KL}(p\|q)", r"\log 4 - \mathrm{KL}(p\|q)"),
    ("wrong_log_constant", r"\log 4 - 2\mathrm{KL}(p\|q)", r"\log 2 - 2\mathrm{KL}(p\|q)"),
    ("swapped_numerator", r"\frac{a}{a + b}", r"\frac{b}{a + b}"),
]


@pytest.mark.parametrize("name, reference, answer", CASES)
def test_each_common_mistake_is_named(name: str, reference: str, answer: str) -> None:
    mistake = diagnose(parse_latex(reference, namespace=NS), parse_latex(answer, namespace=NS), NS)
    assert isinstance(mistake, Mistake)
    assert mistake.name == name
    assert mistake.message


def test_every_named_mistake_is_covered_by_a_case() -> None:
    assert {name for name, _, _ in CASES} == set(MISTAKES)


def test_an_unrelated_error_gets_no_named_mistake() -> None:
    reference = parse_latex(r"\frac{(\mu_1-\mu_2)^2}{2\sigma^2}", namespace=NS)
    answer = parse_latex(r"\frac{\mu_1^2-\mu_2^2}{2\sigma^2}", namespace=NS)
    assert diagnose(reference, answer, NS) is None


def test_a_mistake_serialises_to_plain_data() -> None:
    assert Mistake("sign_flipped", "m").to_dict() == {"name": "sign_flipped", "message": "m"}
