"""The built-in key covers every part of HOMEWORK.md, with references derived, not typed
(grading/key/homework.py). Typed textbook forms appear here only, as the second route."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest
import sympy as sp

import grading.key.homework as homework
from grading.key.registry import Status, grade, question, questions

DATA = Path(__file__).parents[1] / "data"

KINDS = {"1.a": "expression", "1.b": "number", "1.c": "derivation", "1.d": "choice",
         "1.e": "yes/no", "1.f": "yes/no", "1.g": "expression", "1.h": "derivation",
         "1.i": "derivation", "1.j": "choice", "2.e.i": "manual", "2.e.ii": "manual",
         "2.e.iii": "manual", "3.a": "structured", "3.b": "structured", "3.c": "derivation",
         "3.d": "derivation", "4.b": "manual", "4.c": "manual"}


def test_every_part_of_the_homework_is_in_the_key_with_its_kind():
    assert tuple(q.id for q in questions() if q.id in KINDS) == homework.PARTS
    assert {q.id: q.kind for q in questions() if q.id in KINDS} == KINDS


def test_the_points_total_82_of_which_33_are_figures_graded_by_a_person():
    parts = [question(part) for part in homework.PARTS]
    assert sum(q.points for q in parts) == 82 == homework.TOTAL_POINTS
    assert sum(q.points for q in parts if q.kind == "manual") == 33 == homework.MANUAL_POINTS
    assert all(q.points == 3.5 for q in parts if q.id[0] in "13")
    assert {q.id: q.points for q in parts if q.id[0] in "24"} == {
        "2.e.i": 3, "2.e.ii": 3, "2.e.iii": 3, "4.b": 12, "4.c": 12}


def test_no_builtin_reference_is_typed_as_latex():
    for part in homework.PARTS:
        q = question(part)
        for reference in (q.reference, q.start, *q.accept):
            if reference is not None:
                assert reference.latex is None, part
                assert reference.source is None or reference.source.startswith("derivations.")


def test_the_key_module_types_no_closed_form():
    """The only string literals that look like LaTeX are notation (patterns, option names)."""
    tree = ast.parse(inspect.getsource(homework))
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert "\\frac{(" not in node.value and "2\\sigma^2" not in node.value


# -- references agree with the textbook forms (typed here only) --------------------------------


def test_the_bernoulli_likelihood_is_the_product_of_pixel_pmfs():
    assert grade("1.a", "\\prod_{j=1}^{G} y_j^{x_j}(1-y_j)^{1-x_j}").status is Status.CORRECT
    assert grade("1.a", "\\prod_{j=1}^{G} \\hat{y}_j^{x_j}(1-\\hat{y}_j)^{1-x_j}").status \
        is Status.CORRECT
    assert grade("1.a", "\\exp\\left(\\sum_{j=1}^{G} x_j\\log y_j + (1-x_j)\\log(1-y_j)\\right)"
                 ).status is Status.CORRECT


def test_a_bernoulli_likelihood_with_y_and_one_minus_y_swapped_is_rejected():
    assert grade("1.a", "\\prod_{j=1}^{G} (1-y_j)^{x_j} y_j^{1-x_j}").points < 3.5


def test_the_encoder_outputs_two_numbers_for_a_fixed_covariance():
    assert question("1.b").reference_expr == 2  # the textbook answer, typed here
    assert grade("1.b", "4").points == 0


def test_the_self_divergence_is_zero_and_nothing_else_is():
    assert grade("1.g", "0").status is Status.CORRECT
    assert grade("1.g", "1").status is Status.INCORRECT


def test_the_optimal_discriminator_is_p_data_over_the_sum():
    p, q = sp.symbols("p_data p_G", positive=True)
    derived = question("3.c").accepted()[1][1]
    assert sp.simplify(derived - p / (p + q)) == 0
    assert sp.simplify(derived - q / (p + q)) != 0
    assert grade("3.c", "\\frac{p_{data}}{p_{data} + p_G}").status is Status.CORRECT
    assert grade("3.c", "\\frac{p_{data}(x)}{p_{data}(x) + p_G(x)}").status is Status.CORRECT
    assert grade("3.c", "\\frac{p_G(x)}{p_{data}(x) + p_G(x)}").status is Status.INCORRECT


def test_the_generator_objective_is_log_4_minus_twice_the_jsd_in_either_convention():
    assert grade("3.d", "\\log 4 - 2\\,\\mathrm{JSD}(p_{data}\\|p_G)").status is Status.CORRECT
    assert grade("3.d", "-\\log 4 + 2 JSD(p_{data}\\|p_G)").status is Status.CORRECT
    wrong = grade("3.d", "\\log 4 + 2\\,\\mathrm{JSD}(p_{data}\\|p_G)")
    assert wrong.status is Status.INCORRECT
    assert grade("3.d", "\\log 4 - \\mathrm{JSD}(p_{data}\\|p_G)").status is Status.PARTIAL


def test_the_optimal_q_is_the_posterior_however_it_is_written():
    for answer in ("p_\\theta(z|x)", "\\frac{p_\\theta(x|z)p(z)}{p_\\theta(x)}",
                   "\\frac{p(x|z)\\,p(z)}{\\sum_{k=1}^{K} p(x|k)\\,p(k)}"):
        result = grade("1.i", answer)
        assert result.points == 1.75, answer  # right, but 1.i asks for the steps
    assert grade("1.i", "p(z)").points == 0
    assert grade("1.i", "p_\\theta(x|z)").points == 0


def test_the_kl_of_equal_variance_gaussians_accepts_mu_q_for_mu_phi():
    assert grade("1.h", "\\frac{(\\mu_q - \\mu_p)^2}{2\\sigma^2}").status is Status.CORRECT


# -- evidence ----------------------------------------------------------------------------------


def test_every_option_and_yes_no_answer_names_a_derivation_that_exists():
    import importlib

    for q in questions():
        if q.id not in homework.PARTS:
            continue
        names = [*q.evidence, *(o.evidence for o in q.options if o.evidence)]
        for name in names:
            module, _, attribute = name.partition(":")
            assert hasattr(importlib.import_module(module), attribute), name


@pytest.mark.parametrize("name", ["derivations.kl:asymmetry", "derivations.elbo:optimal_q"])
def test_the_derivations_behind_the_choices_verify(name):
    import importlib

    module, _, attribute = name.partition(":")
    assert getattr(importlib.import_module(module), attribute)().verify().ok


# -- the example submissions -------------------------------------------------------------------


def test_the_complete_correct_submission_earns_every_automatic_point():
    from grading.submission import grade_file

    report = grade_file(DATA / "answers_correct.toml")
    assert [r.part for r in report.automatic if r.status is not Status.CORRECT] == []
    assert report.score == 82 - homework.MANUAL_POINTS == homework.AUTOMATIC_POINTS


@pytest.mark.parametrize("answer", [r"-\log 4 + 2\,\mathrm{JSD}", "-log 4 + 2 JSD",
                                    r"2\operatorname{JSD} - \log 4"])
def test_a_bare_jsd_in_3d_is_the_pair_the_question_names(answer: str) -> None:
    assert grade("3.d", answer).status is Status.CORRECT


def test_a_bare_jsd_with_the_wrong_factor_is_still_caught() -> None:
    assert grade("3.d", r"-\log 4 + \mathrm{JSD}").status is not Status.CORRECT


@pytest.mark.parametrize("part, answer", [
    ("3.c", r"\frac{p_r(x)}{p_r(x) + p_g(x)}"),              # the 2024 offering's notation
    ("3.c", r"\frac{p_r}{p_r+p_g}"),
    ("3.c", r"D^*(x) = \frac{p_{data}(x)}{p_{data}(x) + p_G(x)}"),  # the left side names it
    ("3.c", r"D^*_G(x)=\frac{p_{\text{data}}(x)}{p_{\text{data}}(x)+p_g(x)}"),
    ("3.c", r"\frac{p_{\text{data}}}{p_{\text{data}}+p_G}"),
    ("3.d", r"C(G) = -\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_G)"),
    ("3.d", r"-\log 4 + 2\,\mathrm{JSD}(p_r\|p_g)"),
])
def test_the_offerings_notation_and_a_named_left_side_are_read_as_written(part: str,
                                                                          answer: str) -> None:
    assert grade(part, answer).status is Status.CORRECT


@pytest.mark.parametrize("part, answer", [
    ("3.c", r"D^*(x) = \frac{p_G(x)}{p_{data}(x) + p_G(x)}"),
    ("3.c", r"\frac{p_g}{p_r+p_g}"),
    ("3.d", r"C(G) = \log 4 + 2\,\mathrm{JSD}(p_r\|p_g)"),
])
def test_a_wrong_answer_in_the_offerings_notation_is_still_wrong(part: str, answer: str) -> None:
    assert grade(part, answer).status is not Status.CORRECT


def test_1h_with_the_encoder_mean_written_as_a_function_of_x_is_correct() -> None:
    assert grade("1.h", r"\frac{(\mu_\phi(x)-\mu_p)^2}{2\sigma^2}").status is Status.CORRECT
    assert grade("1.h", r"\frac{(\mu_\phi(x)+\mu_p)^2}{2\sigma^2}").status is not Status.CORRECT


@pytest.mark.parametrize("answer, status", [
    ("The output dimension is 2.", Status.CORRECT),
    ("It is 2, because only the mean is produced", Status.CORRECT),
    ("The output dimension is 4.", Status.INCORRECT),
])
def test_1b_reads_the_number_of_a_sentence(answer: str, status: Status) -> None:
    assert grade("1.b", answer).status is status
