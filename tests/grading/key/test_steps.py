"""Derivation answers: lines split into relations, given a finite meaning by the model, and
verified step by step by the derivation core (grading/key/steps.py)."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest
import sympy as sp

from derivations.core import Derivation
from grading.key.registry import Status, grade, question
from grading.key.steps import build_derivation, split_lines

CORRECT = tomllib.loads((Path(__file__).parents[1] / "data" / "answers_correct.toml").read_text(
    encoding="utf-8"))  # the same lines as the example submission: graded once per session
JENSEN, LAGRANGE, EULER_LAGRANGE = CORRECT["1.c"], CORRECT["1.i"], CORRECT["3.c"]
GAUSSIAN_KL = [
    "KL(q\\|p) = \\mathbb{E}_{x\\sim q}\\left[\\log q(x) - \\log p(x)\\right]",
    "= \\mathbb{E}_{x\\sim q}\\left[\\frac{(x-\\mu_p)^2 - (x-\\mu_\\phi)^2}{2\\sigma^2}\\right]",
    "= \\frac{(\\mu_\\phi-\\mu_p)^2}{2\\sigma^2}",
]
JENSEN_SHANNON = [
    "V = \\mathbb{E}_{x\\sim p_{data}}\\left[\\log\\frac{p_{data}}{p_{data}+p_G}\\right] "
    "+ \\mathbb{E}_{x\\sim p_G}\\left[\\log\\frac{p_G}{p_{data}+p_G}\\right]",
    "= KL\\left(p_{data}\\|\\frac{p_{data}+p_G}{2}\\right) "
    "+ KL\\left(p_G\\|\\frac{p_{data}+p_G}{2}\\right) - \\log 4",
    "= 2\\,\\mathrm{JSD}(p_{data}\\|p_G) - \\log 4",
]


def _replaced(lines: list[str], index: int, old: str, new: str) -> list[str]:
    changed = list(lines)
    assert old in changed[index]
    changed[index] = changed[index].replace(old, new)
    return changed


# -- lines ------------------------------------------------------------------------------------


def test_a_line_splits_at_its_top_level_relations_only():
    (line,) = split_lines(["A = \\sum_{j=1}^{G} x_j \\geq B \\le C"])
    assert line.sides == ("A", "\\sum_{j=1}^{G} x_j", "B", "C")
    assert line.relations == ("", "=", ">=", "<=")


def test_a_line_that_starts_with_a_relation_continues_the_previous_one():
    first, second = split_lines(["a = b", "\\geq c  % Jensen: log is concave"])
    assert second.sides == ("c",) and second.relations == (">=",)
    assert second.reason == "Jensen: log is concave"


def test_the_reason_of_a_line_may_be_written_as_text():
    (line,) = split_lines(["= b \\quad \\text{(linearity)}"])
    assert line.sides == ("b",) and line.reason == "(linearity)"


def test_derivative_lines_name_their_variable_and_order():
    first, second, third = split_lines([
        "\\frac{\\partial \\mathcal{L}}{\\partial q(z)} = g = 0",
        "\\partial_{D}: g = 0",
        "\\frac{\\partial^2 V}{\\partial D^2} = h < 0"])
    assert (first.tag, first.wrt, first.sides) == ("derivative", "q(z)", ("g", "0"))
    assert (second.tag, second.wrt, second.sides) == ("derivative", "D", ("g", "0"))
    assert (third.tag, third.wrt, third.relations[-1]) == ("second", "D", "<")


def test_an_implication_after_a_constraint_keeps_the_constraint():
    (line,) = split_lines(["\\sum_z q(z) = 1 \\Rightarrow \\lambda = c"])
    assert line.tag == "implies" and line.constraint == "\\sum_z q(z) = 1"
    assert line.sides == ("\\lambda", "c")


def test_the_lines_become_a_derivation_of_the_core_one_step_per_relation():
    derivation, origin, _ = build_derivation(question("1.c"), split_lines(JENSEN))
    assert isinstance(derivation, Derivation)
    assert [s.rel for s in derivation.steps] == ["def", "=", "=", "=", ">=", "=", "="]
    assert origin == [1, 1, 2, 3, 4, 5, 6]


# -- the model gives densities and expectations a meaning --------------------------------------


def test_an_expectation_becomes_a_sum_over_the_states_weighted_by_q():
    q = question("1.c")
    model = q.model.bind(q.namespace)
    expectation = model.rewrite(q.namespace and _parse(q, "\\mathbb{E}_{q}[\\log p(x|z)]"))
    table_q, table_ell = sp.IndexedBase("q", positive=True), sp.IndexedBase("ell", positive=True)
    k = sp.Symbol("k", integer=True, positive=True)
    by_hand = sp.Sum(table_q[k] / sp.Sum(table_q[k], (k, 1, 3)) * sp.log(table_ell[k]),
                     (k, 1, 3))
    assert sp.simplify((expectation - by_hand).doit()) == 0


def test_the_evidence_is_not_the_prior_evaluated_at_x():
    """p(z) is a table over the states; p(x) is the marginal Σ_z p(x|z) p(z), not p at x."""
    q = question("1.c")
    model = q.model.bind(q.namespace)
    evidence = model.rewrite(_parse(q, "p_\\theta(x)"))
    assert evidence.has(sp.IndexedBase("ell", positive=True))
    assert evidence != model.rewrite(_parse(q, "p(z)"))


def _parse(q, text):
    from grading.key.registry import parse

    return parse(q, text)


# -- whole derivations -------------------------------------------------------------------------


def test_jensens_bound_written_out_verifies():
    result = grade("1.c", JENSEN)
    assert result.status is Status.CORRECT and result.points == 3.5


def test_jensens_step_written_as_an_equality_is_named_as_the_first_invalid_line():
    result = grade("1.c", _replaced(JENSEN, 3, "\\geq", "="))
    assert result.status is Status.PARTIAL and result.line == 4
    assert "line 4" in result.feedback and "never uses >=" in result.feedback


def test_a_derivation_that_does_not_start_from_the_evidence_is_caught():
    result = grade("1.c", _replaced(JENSEN, 0, "\\log p_\\theta(x) =", "\\log p(x|z) ="))
    assert result.points < 3.5 and "start" in result.feedback


def test_a_wrong_final_line_earns_nothing():
    result = grade("1.c", _replaced(JENSEN, 5, "- KL", "+ KL"))
    assert result.status is Status.INCORRECT and result.points == 0


def test_the_lagrangian_stationary_point_and_multiplier_verify():
    assert grade("1.i", LAGRANGE).status is Status.CORRECT


def test_a_wrong_multiplier_is_named_by_its_line():
    result = grade("1.i", _replaced(LAGRANGE, 3, "\\lambda = 1 - \\log", "\\lambda = -\\log"))
    assert result.line == 4 and result.status is Status.PARTIAL


def test_euler_lagrange_for_the_discriminator_verifies_with_its_second_variation():
    assert grade("3.c", EULER_LAGRANGE).status is Status.CORRECT


def test_a_second_variation_of_the_wrong_sign_is_caught():
    result = grade("3.c", _replaced(EULER_LAGRANGE, 3, "< 0", "> 0"))
    assert result.line == 4 and result.points < 3.5


def test_the_discriminator_may_be_written_without_its_argument():
    lines = ["L = p_{data}\\log D + p_G\\log(1 - D)",
             "\\partial_D: \\frac{p_{data}}{D} - \\frac{p_G}{1 - D} = 0",
             "\\Rightarrow D = \\frac{p_{data}}{p_{data} + p_G}"]
    assert grade("3.c", lines).status is Status.CORRECT
    wrong = _replaced(lines, 1, "- \\frac{p_G}", "+ \\frac{p_G}")  # a sign error in ∂L/∂D
    assert grade("3.c", wrong).line == 2


def test_the_gaussian_kl_worked_out_verifies_by_the_moments_of_the_normal():
    assert grade("1.h", GAUSSIAN_KL).status is Status.CORRECT
    result = grade("1.h", _replaced(GAUSSIAN_KL, 2, "2\\sigma^2", "\\sigma^2"))
    assert result.status is Status.PARTIAL and result.line == 3
    # showing work never costs points: the derivation earns what its last line earns alone
    alone = grade("1.h", "\\frac{(\\mu_\\phi-\\mu_p)^2}{\\sigma^2}")
    assert result.points == alone.points == 1.75 and "last line is not the answer" in \
        result.feedback


def test_a_derivation_ending_in_a_wrong_answer_without_credit_earns_nothing():
    result = grade("1.h", _replaced(GAUSSIAN_KL, 2, "2\\sigma^2", "3\\sigma^3"))
    assert result.status is Status.INCORRECT and result.points == 0


def test_a_one_line_claim_of_a_bound_earns_the_bare_answer_credit_only():
    claim = ("\\log p_\\theta(x) \\geq \\mathbb{E}_{q_\\phi(z|x)}[\\log p_\\theta(x|z)] "
             "- \\mathrm{KL}(q_\\phi(z|x)\\|p(z))")
    result = grade("1.c", claim)
    assert result.status is Status.PARTIAL and result.points == 1.75
    assert "a claim, not a derivation" in result.feedback
    assert grade("1.c", JENSEN).status is Status.CORRECT  # the twin: the steps shown


def test_the_jensen_shannon_form_of_the_generator_objective_verifies():
    assert grade("3.d", JENSEN_SHANNON).status is Status.CORRECT
    result = grade("3.d", _replaced(JENSEN_SHANNON, 1, "\\log 4", "\\log 2"))
    assert result.line == 2 and result.status is Status.PARTIAL


def test_a_bare_final_answer_is_checked_as_an_expression_with_named_mistakes():
    result = grade("1.h", "\\frac{(\\mu_\\phi-\\mu_p)^2}{\\sigma^2}")
    assert result.mistake == "factor_two" and result.points == 1.75


def test_an_unreadable_line_is_reported_with_its_number():
    result = grade("3.c", [EULER_LAGRANGE[0], "= \\frac{p_{data}(x)}{"])
    assert result.status is Status.UNPARSABLE and result.line == 2


_REARRANGED = ["L = p_{data}\\log D + p_G\\log(1 - D)",
               "\\partial_D: \\frac{p_{data}}{D} - \\frac{p_G}{1 - D} = 0",
               "p_{data}(1-D) = p_G D",
               "D = \\frac{p_{data}}{p_{data} + p_G}"]


def test_an_equation_rearranged_after_the_stationary_condition_is_a_valid_step() -> None:
    assert grade("3.c", _REARRANGED).status is Status.CORRECT


def test_a_rearrangement_with_a_different_solution_is_caught_and_named_by_line() -> None:
    wrong = [*_REARRANGED[:2], "p_{data}(1-D) = 2 p_G D", _REARRANGED[3]]
    result = grade("3.c", wrong)
    assert result.status is not Status.CORRECT
    assert "line 3" in result.feedback
    for internal in ("TypeError", "Equality", "Traceback"):
        assert internal not in result.feedback


@pytest.mark.parametrize("spelling", ["≥", ">=", "\\ge", "\\geqslant"])
def test_every_spelling_of_greater_or_equal_is_the_relation_of_a_jensen_line(spelling):
    (line,) = split_lines([f"a {spelling} b"])
    assert line.sides == ("a", "b") and line.relations == ("", ">=")
    result = grade("1.c", _replaced(JENSEN, 3, "\\geq", spelling))
    assert result.status is Status.CORRECT, result.feedback


@pytest.mark.parametrize("spelling", ["≤", "<=", "\\le", "\\leqslant"])
def test_every_spelling_of_less_or_equal_in_a_jensen_line_is_the_wrong_direction(spelling):
    (line,) = split_lines([f"a {spelling} b"])
    assert line.relations == ("", "<=")
    result = grade("1.c", _replaced(JENSEN, 3, "\\geq", spelling))
    assert result.status is not Status.CORRECT and result.points < 3.5


def test_1i_must_start_from_the_question_s_objective_and_constraint():
    invented = list(LAGRANGE)
    invented[0] = invented[0].replace(r"+ \lambda", r"+ 1 + \lambda")  # not the question's
    result = grade("1.i", invented)
    assert result.status is Status.PARTIAL and result.points == 1.75
    assert "does not start from the question's expression" in result.feedback
    assert grade("1.i", LAGRANGE).status is Status.CORRECT  # the twin


def test_1i_accepts_either_sign_convention_of_the_multiplier():
    other = [
        r"\mathcal{L}(q, \lambda) = \sum_z q(z)\log p_\theta(x|z) - \sum_z q(z)\log\frac{q(z)}{p(z)}"
        r" + \lambda\left(1 - \sum_z q(z)\right)",
        r"\frac{\partial \mathcal{L}}{\partial q(z)} = \log p_\theta(x|z) - \log q(z) - 1 + \log p(z)"
        r" - \lambda = 0",
        r"\Rightarrow q(z) = p_\theta(x|z)\,p(z)\,e^{-\lambda - 1}",
        r"\sum_z q(z) = 1 \Rightarrow \lambda = \log\sum_z p_\theta(x|z)\,p(z) - 1",
        r"q^*(z) = \frac{p_\theta(x|z)\,p(z)}{\sum_k p_\theta(x|k)\,p(k)} = p_\theta(z|x)",
    ]
    assert grade("1.i", other).status is Status.CORRECT, grade("1.i", other).feedback


# -- "⇒ A ≥ B": the chain's conclusion restated (found in write-ups, issue 14) -----------------

_CONCLUSION = r"\log p_\theta(x) \geq \mathbb{E}_{q_\phi(z|x)}[\log p_\theta(x|z)] " \
              r"- \mathrm{KL}(q_\phi(z|x)\|p(z))"


@pytest.mark.parametrize("arrow", [r"\implies", r"\Rightarrow", r"\therefore", r"\Longrightarrow"])
def test_a_chain_ending_in_its_conclusion_restated_after_an_arrow_verifies(arrow):
    result = grade("1.c", [*JENSEN, f"{arrow} {_CONCLUSION}"])
    assert result.status is Status.CORRECT, result.feedback


def test_a_restated_conclusion_with_the_wrong_relation_is_not_accepted():
    result = grade("1.c", [*JENSEN, r"\implies " + _CONCLUSION.replace(r"\geq", r"\leq")])
    assert result.status is not Status.CORRECT and "line" in result.feedback
    assert "do not show this relation" in result.feedback


def test_a_restated_conclusion_with_a_wrong_side_is_caught():
    result = grade("1.c", [*JENSEN, r"\implies " + _CONCLUSION.replace("- \\mathrm{KL}",
                                                                         "+ \\mathrm{KL}")])
    assert result.status is not Status.CORRECT and result.points < 3.5


@pytest.mark.parametrize("label", ["D*(x)", "D^*(x)", "D^{*}(x)", "D*"])
def test_the_optimum_written_with_a_plain_star_is_a_label(label):
    result = grade("3.c", f"{label} = p_data(x) / (p_data(x) + p_G(x))")
    assert result.status is Status.CORRECT, result.feedback


def test_a_star_between_a_name_and_an_expression_stays_a_product():  # the twin
    from grading.key.steps import _starred

    assert _starred("sigma*(x - mu)") == "sigma*(x - mu)"
    assert _starred("2*(x)") == "2*(x)" and _starred("D*(x) + 1") == "D*(x) + 1"
    assert grade("3.c", "D*(x) = 2 p_data(x) / (p_data(x) + p_G(x))").points < 3.5


@pytest.mark.parametrize(("part", "answer"), [
    ("3.d", r"-\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_G) \geq -\log 4"),
    ("1.h", "KL(q||p) = (mu_phi - mu_p)^2/(2 sigma^2) >= 0"),
])
def test_a_true_bound_stated_after_the_answer_is_a_remark_on_it(part, answer):
    assert grade(part, answer).status is Status.CORRECT


@pytest.mark.parametrize(("part", "answer"), [
    ("1.h", "KL(q||p) = (mu_phi - mu_p)^2/(2 sigma^2) >= 1"),  # a false bound
    ("1.h", "KL(q||p) = (mu_phi - mu_p)^2/(sigma^2) >= 0"),  # a wrong answer before it
])
def test_a_false_bound_or_a_wrong_answer_before_a_bound_loses_points(part, answer):
    assert grade(part, answer).points < 3.5
