"""Min–max answers for 3.a and 3.b: operators, players and objective (grading/key/structured.py)."""

from __future__ import annotations

import pytest

from grading.key.registry import Status, grade, question
from grading.key.structured import ProblemError, canonical, read_problem

COURSE_3A = "\\max_\\theta \\min_w -\\sum_x \\log D_w(x) - \\sum_z \\log(1 - D_w(G_\\theta(z)))"
EXPECTATION_3A = ("\\min_G \\max_D \\mathbb{E}_{x\\sim p_{data}}[\\log D(x)] + "
                  "\\mathbb{E}_{z\\sim p_z}[\\log(1 - D(G(z)))]")
INNER_3B = ("-\\mathbb{E}_{x\\sim p_{data}}[\\log D(x)] - "
            "\\mathbb{E}_{x\\sim p_G}[\\log(1 - D(x))]")


@pytest.mark.parametrize("text, operators", [
    ("\\max_\\theta \\min_w f", [("max", "theta"), ("min", "w")]),
    ("\\max_{p_G}\\min_{D} f", [("max", "p_G"), ("min", "D")]),
    ("\\underset{\\theta}{\\max}\\,\\underset{w}{\\min} f", [("max", "theta"), ("min", "w")]),
    ("\\max\\limits_{G} \\min\\limits_{D} f", [("max", "G"), ("min", "D")]),
    ("\\sup_{G} \\inf_{D} f", [("max", "G"), ("min", "D")]),
    ("max_theta min_w f", [("max", "theta"), ("min", "w")]),
])
def test_the_operators_and_their_variables_are_read(text, operators):
    problem = read_problem(question("3.a"), text)
    assert [(op, str(v)) for op, v in problem.operators] == operators
    assert str(problem.objective) == "f"


def test_an_operator_without_its_variable_is_a_clear_error():
    with pytest.raises(ProblemError, match="variable"):
        read_problem(question("3.a"), "\\max \\min_w f")
    result = grade("3.a", "\\max \\min_w f")
    assert result.status is Status.UNPARSABLE


def test_the_integral_and_the_expectation_forms_have_one_canonical_form():
    q = question("3.b")
    reference = canonical(q.reference_expr, q.namespace)
    written = canonical(read_problem(q, "\\max_{p_G}\\min_D " + INNER_3B), q.namespace)
    assert written == reference


def test_the_course_form_of_the_gan_cost_is_correct():
    assert grade("3.a", COURSE_3A).status is Status.CORRECT


def test_the_expectation_form_with_every_direction_flipped_is_correct():
    assert grade("3.a", EXPECTATION_3A).status is Status.CORRECT
    assert grade("3.a", "\\max_\\omega \\min_\\theta " + EXPECTATION_3A[15:]).status \
        is not Status.CORRECT  # players swapped


def test_flipped_directions_without_a_negated_objective_are_incorrect():
    result = grade("3.a", COURSE_3A.replace("\\max_\\theta \\min_w", "\\min_\\theta \\max_w"))
    assert result.status is Status.INCORRECT and result.mistake == "sign_flipped"


def test_the_players_in_the_wrong_order_are_incorrect():
    result = grade("3.a", COURSE_3A.replace("\\max_\\theta \\min_w", "\\min_w \\max_\\theta"))
    assert result.status is Status.INCORRECT and result.mistake == "players"


def test_one_direction_flipped_is_incorrect():
    result = grade("3.a", COURSE_3A.replace("\\max_\\theta \\min_w", "\\max_\\theta \\max_w"))
    assert result.status is Status.INCORRECT and result.mistake == "directions"


def test_the_objective_alone_is_incorrect_for_3b():
    result = grade("3.b", INNER_3B)
    assert result.status is Status.INCORRECT and result.points == 0
    assert result.mistake == "objective_only"


def test_the_whole_problem_in_terms_of_p_g_is_correct_for_3b():
    assert grade("3.b", "\\max_{p_G}\\min_D " + INNER_3B).status is Status.CORRECT
    value = ("\\mathbb{E}_{x\\sim p_{data}}[\\log D(x)] + "
             "\\mathbb{E}_{x\\sim p_G}[\\log(1 - D(x))]")
    assert grade("3.b", "\\min_{p_G}\\max_D " + value).status is Status.CORRECT


def test_the_two_densities_swapped_are_incorrect_for_3b():
    swapped = INNER_3B.replace("p_{data}", "TMP").replace("p_G", "p_{data}").replace("TMP", "p_G")
    result = grade("3.b", "\\max_{p_G}\\min_D " + swapped)
    assert result.status is Status.INCORRECT and result.mistake == "objective"


@pytest.mark.parametrize(("generator", "discriminator"), [
    ("G_\\theta", "D_w"), ("G_\\omega", "D_\\omega"), ("G", "D_w"), ("G_\\theta", "D")])
def test_the_players_may_be_named_by_their_networks_with_the_parameters(generator,
                                                                        discriminator):
    answer = (rf"\min_{{{generator}}} \max_{{{discriminator}}} "
              rf"\mathbb{{E}}_{{x\sim p_{{data}}}}[\log {discriminator}(x)] + "
              rf"\mathbb{{E}}_{{z\sim p_z}}[\log(1 - {discriminator}({generator}(z)))]")
    assert grade("3.a", answer).status is Status.CORRECT, answer


def test_networks_named_with_their_parameters_keep_their_order():  # the twin
    wrong = (r"\min_{D_w} \max_{G_\theta} \mathbb{E}_{x\sim p_{data}}[\log D_w(x)] + "
             r"\mathbb{E}_{z\sim p_z}[\log(1 - D_w(G_\theta(z)))]")
    result = grade("3.a", wrong)
    assert result.status is Status.INCORRECT and "max over G min over D" in result.feedback
    assert grade("3.b", r"\max_{p_{data}} \min_D -\int p_{data}(x)\log D(x) + "
                        r"p_G(x)\log(1-D(x))\,dx").status is Status.INCORRECT
