"""The answer key's registry, references, checkers and staff questions (grading/key/registry.py)."""

from __future__ import annotations

import os
import textwrap

import pytest
import sympy as sp

from grading.key.registry import (AnswerKeyError, KnownMistake, Option, Question, Reference, Result, Status,
                         checker, grade, load_questions, question, questions, register_checker,
                         register_question, unregister_question)

STANDARD_NORMAL_KL = '\\frac{1}{2}\\left(\\mu^2 + \\sigma^2 - 1 - \\log\\sigma^2\\right)'


@pytest.fixture
def staff_part():
    """A question id for a test to register; removed afterwards."""
    part = "9.staff"
    yield part
    unregister_question(part)


# -- statuses and results ----------------------------------------------------------------------


def test_exit_codes_are_zero_for_correct_one_for_wrong_and_two_for_undecided():
    assert Status.CORRECT.exit_code == 0
    assert {Status.PARTIAL.exit_code, Status.INCORRECT.exit_code, Status.MISSING.exit_code} == {1}
    assert {Status.UNDECIDED.exit_code, Status.UNPARSABLE.exit_code,
            Status.MANUAL.exit_code} == {2}


def test_a_manual_result_is_not_automatic_and_serialises_its_status():
    result = Result("4.b", Status.MANUAL, 0.0, 12, "pending")
    assert not result.automatic
    assert result.to_dict()["status"] == "manual"


# -- references come from derivations ----------------------------------------------------------


def test_a_reference_applies_a_derived_closed_form_to_the_questions_symbols():
    q = question("1.h")
    mu_phi, mu_p = sp.symbols("mu_phi mu_p", real=True)
    sigma = sp.Symbol("sigma", positive=True)
    textbook = (mu_phi - mu_p) ** 2 / (2 * sigma**2)  # typed here only, as a second route
    assert sp.simplify(q.reference_expr - textbook) == 0
    assert sp.simplify(q.reference_expr - (mu_phi - mu_p) ** 2 / (2 * sigma)) != 0  # σ for σ²


def test_a_reference_source_outside_derivations_is_refused_before_any_import():
    for source in ("os:system", "derivations.kl:KL_GAUSSIAN; import os", "subprocess:run",
                   "derivations.kl.__builtins__:eval"):
        with pytest.raises(AnswerKeyError):
            Reference(source)


def test_a_reference_to_a_module_the_package_does_not_list_is_refused():
    reference = Reference("derivations.nonexistent:THING")
    with pytest.raises(AnswerKeyError, match="not a module of the package"):
        reference.build(question("1.h").namespace)


def test_a_reference_with_the_wrong_number_of_arguments_is_refused():
    reference = Reference("derivations.kl:KL_EQUAL_VARIANCE", ("mu_phi", "sigma"))
    with pytest.raises(AnswerKeyError, match="takes 3 arguments"):
        reference.build(question("1.h").namespace)


def test_a_reference_names_exactly_one_origin():
    with pytest.raises(AnswerKeyError):
        Reference()
    with pytest.raises(AnswerKeyError):
        Reference("derivations.kl:KL_GAUSSIAN", latex="x")


# -- the registry ------------------------------------------------------------------------------


def test_a_registered_question_is_found_by_its_id(staff_part):
    q = Question(staff_part, 1, "KL to N(0, 1)", "expression",
                 reference=Reference("derivations.kl:KL_STANDARD_NORMAL", ("mu", "sigma")),
                 assumptions={"sigma": "positive"})
    assert register_question(q) is q
    assert question(staff_part) is q
    assert q in questions("9.")


def test_registering_an_id_twice_is_refused_unless_replacing(staff_part):
    first = Question(staff_part, 1, "zero", "expression",
                     reference=Reference("derivations.kl:self_divergence"))
    register_question(first)
    second = Question(staff_part, 2, "zero", "expression",
                      reference=Reference("derivations.kl:self_divergence"))
    with pytest.raises(AnswerKeyError, match="already registered"):
        register_question(second)
    register_question(second, replace_existing=True)
    assert question(staff_part).points == 2


def test_a_decorated_builder_runs_only_on_first_lookup(staff_part):
    calls = []

    def q_9_staff() -> Question:
        calls.append(1)
        return Question(staff_part, 1, "zero", "expression",
                        reference=Reference("derivations.kl:self_divergence"))

    register_question(q_9_staff)
    assert calls == []
    assert question(staff_part).id == staff_part
    question(staff_part)
    assert calls == [1]


def test_an_unknown_part_is_an_error_that_lists_the_known_ones():
    with pytest.raises(AnswerKeyError, match="1.h"):
        question("9.z")


def test_a_staff_checker_kind_is_dispatched_by_the_registry(staff_part):
    @register_checker("word count")
    def count_words(q: Question, answer: str) -> Result:
        ok = len(answer.split()) >= 3
        return Result(q.id, Status.CORRECT if ok else Status.INCORRECT, q.points * ok,
                      q.points, "three words or more")

    register_question(Question(staff_part, 1, "Explain in three words.", "word count"))
    assert checker("word count") is count_words
    assert grade(staff_part, "one two three").status is Status.CORRECT
    assert grade(staff_part, "one two").status is Status.INCORRECT


def test_a_question_of_an_unknown_kind_is_refused():
    with pytest.raises(AnswerKeyError, match="unknown kind"):
        Question("9.x", 1, "?", "essay")


# -- expression answers ------------------------------------------------------------------------


def test_an_equivalent_rewrite_earns_full_points():
    result = grade("1.h", "(mu_phi - mu_p)**2 / (2*sigma**2)")
    assert result.status is Status.CORRECT and result.points == 3.5


def test_a_lost_factor_two_earns_the_keys_partial_credit_with_named_feedback():
    result = grade("1.h", "\\frac{(\\mu_\\phi-\\mu_p)^2}{\\sigma^2}")
    assert result.status is Status.PARTIAL and result.points == 1.75
    assert result.mistake == "factor_two" and "factor of 2" in result.feedback
    assert "not equivalent" in result.detail  # with the counterexample


def test_sigma_for_sigma_squared_is_named():
    result = grade("1.h", "\\frac{(\\mu_\\phi-\\mu_p)^2}{2\\sigma}")
    assert result.mistake == "sigma_vs_sigma_squared" and result.points == 1.75


def test_an_unrelated_wrong_answer_earns_nothing():
    result = grade("1.h", "\\frac{\\mu_\\phi-\\mu_p}{2\\sigma^2}")
    assert result.status is Status.INCORRECT and result.points == 0


def test_a_keys_own_mistake_is_recognised_from_its_rewrite_of_the_reference():
    result = grade("1.a", "\\prod_{j=1}^{G} y_j^{1-x_j}(1-y_j)^{x_j}")
    assert result.mistake == "exponents_swapped" and result.points == pytest.approx(0.875)


def test_an_unreadable_answer_is_its_own_verdict_with_the_position():
    result = grade("1.h", "\\frac{(\\mu_\\phi-\\mu_p}{2}")
    assert result.status is Status.UNPARSABLE and result.exit_code == 2
    assert "position" in result.detail


def test_an_answer_that_would_run_code_is_rejected_and_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    for attack in (f"__import__('os').system('touch {marker}')",
                   "(lambda: 1)()", "().__class__.__bases__[0].__subclasses__()"):
        result = grade("1.h", attack)
        assert result.status is Status.UNPARSABLE, attack
    assert not marker.exists()


def test_a_missing_answer_scores_zero():
    assert grade("1.h", "   ").status is Status.MISSING
    assert grade("1.h", None).points == 0


def test_an_answer_that_is_not_text_is_refused():
    assert grade("1.h", [1, 2]).status is Status.UNPARSABLE


# -- numbers, yes/no, choices ------------------------------------------------------------------


def test_a_number_answer_is_read_first_and_the_explanation_kept_for_a_person():
    result = grade("1.b", "2 — only the mean is produced")
    assert result.status is Status.CORRECT and "only the mean" in result.feedback
    assert grade("1.b", "2.0").status is Status.CORRECT


def test_a_wrong_number_is_rejected_with_the_keys_feedback():
    result = grade("1.b", "4")
    assert result.status is Status.INCORRECT and "covariance" in result.feedback
    assert grade("1.b", "two").status is Status.UNPARSABLE


def test_yes_or_no_is_the_first_word():
    assert grade("1.f", "No. q ignores x.").status is Status.CORRECT
    assert grade("1.f", "yes").status is Status.INCORRECT
    assert grade("1.e", "maybe").status is Status.UNPARSABLE


@pytest.mark.parametrize("answer", [
    "No: Eq. 1 computes the KL analytically, so the estimate has lower variance.",
    "No, they are different estimators of the ELBO.",
    "no - eq 2 needs to sample the KL term, eq 1 uses its closed form",
    "No. Eq. 2 works for any q and p, but it is noisier (Monte Carlo).",
])
def test_1e_is_no_with_an_estimator_variance_or_cost_reason(answer):
    """HOMEWORK.md 1.e: the course gave full marks to "not the same" with a reason about the
    estimators (variance, sampling the KL, closed form, cost)."""
    assert grade("1.e", answer).status is Status.CORRECT


def test_1e_in_expectation_only_is_partial_and_a_bare_or_unusual_reason_goes_to_a_person():
    same = grade("1.e", "Yes: both have the ELBO as their expectation")
    assert same.status is Status.PARTIAL and same.points == 1.75
    assert "same in expectation" in same.feedback
    assert grade("1.e", "Yes").status is Status.INCORRECT
    assert grade("1.e", "No.").status is Status.UNDECIDED  # no reason: a person reads it
    mixed = grade("1.e", "Yes, but Eq. 1 has the lower variance")
    assert mixed.status is Status.UNDECIDED and "variance" in mixed.feedback


@pytest.mark.parametrize("answer", ["3", "(3)", "option 3", "p_\\theta(z|x)", "(3) p(z|x)",
                                    "3: p_\\theta(z|x)"])
def test_the_right_option_is_accepted_by_number_or_expression(answer):
    assert grade("1.j", answer).status is Status.CORRECT


def test_an_option_number_paired_with_another_options_expression_is_incorrect():
    result = grade("1.j", "(2) p_\\theta(z|x)")
    assert result.status is Status.INCORRECT
    assert "(2)" in result.feedback and "(3)" in result.feedback


@pytest.mark.parametrize("answer, status", [("1", Status.INCORRECT), ("p(z)", Status.INCORRECT),
                                            ("(9)", Status.UNPARSABLE)])
def test_a_wrong_option_is_rejected(answer, status):
    assert grade("1.j", answer).status is status


def test_two_true_properties_earn_full_points_and_a_false_one_cancels_a_true_one():
    assert grade("1.d", "non-negative; not symmetric").points == 3.5
    assert grade("1.d", ["(1)", "(4)"]).points == 3.5
    assert grade("1.d", "non-negative").points == 1.75
    assert grade("1.d", "1, 5").points == 0  # (5): KL is symmetric
    assert grade("1.d", "(2), (6)").points == 0  # (6): KL can be negative


@pytest.mark.parametrize("answer", [
    "(1) and (2): KL is non-negative, and it is not symmetric.",
    "(1) $KL(p\\|q) \\geq 0$, with equality iff $p = q$; (2) KL is not symmetric.",
    "(1) KL is non-negative (Gibbs' inequality), (2) it is not symmetric in general",
    "(2) and (1)", "(1) & (2)", "Option (1) and option (2).",
])
def test_option_numbers_followed_by_words_that_describe_them_are_read_as_those_options(answer):
    result = grade("1.d", answer)
    assert result.status is Status.CORRECT and result.points == 3.5, result.feedback


@pytest.mark.parametrize("answer", [
    "(1) and (2): KL is non-negative, and it is convex.",
    "(1) KL is not symmetric; (2) KL is non-negative",
])
def test_words_after_option_numbers_that_name_another_option_are_a_mismatch(answer):
    result = grade("1.d", answer)  # the twin: the words must still agree with the numbers
    assert result.status is Status.INCORRECT and "do not match" in result.feedback


@pytest.mark.parametrize(("answer", "status"), [
    ("(3) $p_\\theta(z|x)$, not (1) $p(z)$", Status.CORRECT),
    ("$\\boxed{(3)}$, the true posterior.", Status.CORRECT),
    ("(1) $p(z)$, not (3)", Status.INCORRECT),
    ("(3) and (4)", Status.INCORRECT),
])
def test_a_negated_option_is_named_but_not_chosen(answer, status):
    assert grade("1.j", answer).status is status


def test_a_choice_question_needs_a_correct_option():
    with pytest.raises(AnswerKeyError):
        Question("9.c", 1, "?", "choice", options=(Option("1", "a"),))


# -- staff questions from TOML -----------------------------------------------------------------


def _staff_toml(tmp_path, body: str):
    path = tmp_path / "key.toml"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


def test_staff_questions_load_from_toml_and_are_graded_with_their_credit(tmp_path, staff_part):
    path = _staff_toml(tmp_path, f"""
        [[question]]
        id = "{staff_part}"
        points = 2
        prompt = "KL(N(mu, sigma^2) || N(0, 1))"
        kind = "expression"
        reference = "derivations.kl:KL_STANDARD_NORMAL"
        arguments = ["mu", "sigma"]
        assumptions = {{ sigma = "positive" }}
        credit = {{ sign_flipped = 0.25 }}
        feedback = {{ sign_flipped = "A KL is never negative." }}
        """)
    (q,) = load_questions(path)
    assert question(staff_part) is q
    assert grade(staff_part, STANDARD_NORMAL_KL).points == 2
    flipped = grade(staff_part, "-" + STANDARD_NORMAL_KL)
    assert flipped.points == 0.5 and flipped.feedback == "A KL is never negative."
    assert grade(staff_part, "\\frac{1}{2}(\\mu^2 + \\sigma^2 - 1)").points == 0


def test_a_staff_reference_in_latex_is_read_by_the_safe_parser(tmp_path, staff_part):
    path = _staff_toml(tmp_path, f"""
        [[question]]
        id = "{staff_part}"
        points = 1
        prompt = "2 log sigma"
        kind = "expression"
        reference_latex = '\\log\\sigma^2'
        assumptions = {{ sigma = "positive" }}
        """)
    load_questions(path)
    assert grade(staff_part, "2\\log\\sigma").status is Status.CORRECT
    half = grade(staff_part, "\\log\\sigma")
    assert half.status is Status.INCORRECT and half.mistake == "factor_half"


def test_a_staff_choice_question_loads_its_options(tmp_path, staff_part):
    path = _staff_toml(tmp_path, f"""
        [[question]]
        id = "{staff_part}"
        points = 1
        prompt = "Which is the prior?"
        kind = "choice"
        [[question.option]]
        label = "1"
        text = "p(z)"
        latex = "p(z)"
        correct = true
        [[question.option]]
        label = "2"
        text = "q(z|x)"
        latex = "q(z|x)"
        """)
    load_questions(path)
    assert grade(staff_part, "(1)").status is Status.CORRECT
    assert grade(staff_part, "q(z|x)").status is Status.INCORRECT


@pytest.mark.parametrize("body, message", [
    ("[[question]]\nid = 'x'\n", "missing"),
    ("[[question]]\nid='9.staff'\npoints=1\nprompt='?'\nkind='expression'\n"
     "reference='os:system'\n", "derivations.MODULE:NAME"),
    ("[[question]]\nid='9.staff'\npoints=1\nprompt='?'\nkind='expression'\nexec='x'\n",
     "unknown fields"),
    ("question = 1", "expected"),
    ("[[question", "not valid TOML"),
])
def test_a_malformed_staff_file_is_a_clear_error(tmp_path, staff_part, body, message):
    with pytest.raises(AnswerKeyError, match=message):
        load_questions(_staff_toml(tmp_path, body))


def test_a_staff_latex_reference_that_would_run_code_is_a_parse_error(tmp_path, staff_part):
    marker = tmp_path / "ran"
    path = _staff_toml(tmp_path, f"""
        [[question]]
        id = "{staff_part}"
        points = 1
        prompt = "?"
        kind = "expression"
        reference_latex = "__import__('os').system('touch {marker}')"
        """)
    (q,) = load_questions(path)
    from grading.answers.parse import ParseError

    with pytest.raises(ParseError):
        q.reference_expr  # noqa: B018 - building it is the test
    assert not marker.exists()
    assert not os.path.exists(marker)


def test_a_known_mistakes_credit_is_a_fraction():
    with pytest.raises(AnswerKeyError):
        KnownMistake("sign_flipped", 1.5)


@pytest.mark.parametrize("part", ["1.b", "1.d", "1.e", "1.j", "3.a", "1.c"])
def test_adversarial_whitespace_ends_with_a_verdict_within_seconds(part):
    """Runs of whitespace cannot make the patterns that read answers backtrack."""
    import time

    answer = " \t" * 2000 + "\\max " + " \t" * 2000 + "(1" + " " * 900 + "x"
    start = time.perf_counter()
    result = grade(part, answer)
    assert time.perf_counter() - start < 5
    assert result.status is not Status.CORRECT
    too_long = grade(part, "1" + " " * 20_000)
    assert too_long.status is Status.UNPARSABLE


def test_tidy_leaves_no_run_of_whitespace_and_keeps_line_breaks():
    from grading.key.registry import tidy

    assert tidy(" \t a  \n\n  b\t") == " a\nb "
    text = tidy(" \t" * 3000 + "x\n \n" + " " * 100)
    assert "  " not in text and " \n" not in text and "\n " not in text


@pytest.mark.parametrize("answer, named", [
    (r"-\log 4 - 2\,\mathrm{JSD}(p_{data}\|p_G)", "constant term log(4) has the wrong sign"),
    (r"\log 2 - 2\,\mathrm{JSD}(p_{data}\|p_G)", "log 2 where log 4 belongs"),
    (r"\log 4 - \mathrm{JSD}(p_{data}\|p_G)", "halved (a factor 2 dropped"),
    (r"\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_G)", "depends on the variables has the wrong sign"),
    (r"\log 4 - 4\,\mathrm{JSD}(p_{data}\|p_G)", "is doubled"),
])
def test_a_mistake_inside_one_term_of_3d_is_named(answer, named):
    result = grade("3.d", answer)
    assert named in result.feedback, result.feedback
    # a factor on one term is a slip with partial credit; a sign moves the optimum: wrong
    factor = "halved" in named or "doubled" in named
    assert result.status is (Status.PARTIAL if factor else Status.INCORRECT), result
    assert grade("3.d", r"\log 4 - 2\,\mathrm{JSD}(p_{data}\|p_G)").status is Status.CORRECT
