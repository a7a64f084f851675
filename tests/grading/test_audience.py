"""Student-facing feedback never shows the key's answer; staff feedback does (grading/audience.py).

Every part of the key is graded with a wrong answer, and a partial one where the key gives
partial credit, through ``genverify check`` in both modes. What would reveal the key is worked
out here from the key itself (its accepted forms rendered as ``read as`` renders an answer,
their labels, the correct options, the expected yes/no and its explanation, the players of a
min–max problem), not taken from :func:`grading.audience.secrets`.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
import sympy as sp

from genverify.cli import main
from grading.audience import HIDDEN, for_audience, for_student, reference_text, secrets
from grading.answers.parse import render_latex
from grading.key.registry import Result, Status, question, questions
from grading.submission import grade_file

DATA = Path(__file__).parent / "data"

# part → (answer, extra texts the student output must not show); an answer is a string or
# the lines of a derivation
WRONG: dict[str, list[tuple[str | list[str], tuple[str, ...]]]] = {
    "1.a": [(r"\prod_{j=1}^{G} y_j", ())],
    "1.b": [("3", ()), ("4", ())],
    "1.c": [([r"\log p_\theta(x) = \log \sum_z p_\theta(x|z)\,p(z)",
              r"= \log \sum_z q_\phi(z|x)\,\frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}",
              r"\geq \sum_z q_\phi(z|x)\,\log\frac{p_\theta(x|z)}{q_\phi(z|x)}"], ())],
    "1.d": [("5, 6", ())],
    "1.e": [("Yes, the two losses are equal.", ()),
            ("Yes, because of the variance", ("a reason for no",))],
    "1.f": [("yes", ())],
    "1.g": [("1", ("the exact numbers 0",))],
    "1.h": [(r"\frac{\mu_\phi - \mu_p}{\sigma}", ())],
    "1.i": [("p(z)", ())],
    "1.j": [("(1)", ()), (r"(2) p_\theta(x|z)", ()), (r"(2) p(z)", ())],
    "3.a": [(r"\max_\theta \min_w \sum_x \log D_w(x)", ()),
            (r"\min_w \max_\theta -\sum_x \log D_w(x) - \sum_z \log(1 - D_w(G_\theta(z)))", ())],
    "3.b": [(r"-\mathbb{E}_{x\sim p_{data}}[\log D(x)] - \mathbb{E}_{x\sim p_G}[\log(1 - D(x))]",
             ()),
            (r"\max_{p_G} \max_D -\mathbb{E}_{x\sim p_{data}}[\log D(x)] - "
             r"\mathbb{E}_{x\sim p_G}[\log(1 - D(x))]", ())],
    "3.c": [(r"\frac{p_G(x)}{p_{data}(x) + p_G(x)}", ("p_data(x) belongs on top",))],
    "3.d": [(r"\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_G)", ()),
            (r"\log 2 - 2\,\mathrm{JSD}(p_{data}\|p_G)", ("log 4", "log(4)")),
            (r"-\log 4 - 2\,\mathrm{JSD}(p_{data}\|p_G)", ("log(4) has", "term log(4)"))],
}
PARTIAL: dict[str, list[tuple[str | list[str], tuple[str, ...]]]] = {
    "1.a": [(r"y_j^{x_j}(1 - y_j)^{1 - x_j}", ()),
            (r"\prod_{j=1}^{G} y_j^{1-x_j}(1-y_j)^{x_j}", ())],
    "1.c": [([r"\log p_\theta(x) = \log \sum_z p_\theta(x|z)\,p(z)",
              r"= \log \sum_z q_\phi(z|x)\,\frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}",
              r"= \sum_z q_\phi(z|x)\,\log\frac{p_\theta(x|z)\,p(z)}{q_\phi(z|x)}",
              r"= \mathbb{E}_{z\sim q_\phi(z|x)}[\log p_\theta(x|z)] - KL(q_\phi(z|x)\|p(z))"],
             ())],
    "1.d": [("1", ())],
    "1.e": [("Yes, they are the same in expectation", ())],
    "1.h": [(r"\frac{(\mu_\phi - \mu_p)^2}{\sigma^2}", ())],
    "1.i": [(r"p_\theta(z|x)", ())],
    "3.c": [(r"\frac{2 p_{data}(x)}{p_{data}(x) + p_G(x)}", ())],
    "3.d": [(r"2\log 4 - 4\,\mathrm{JSD}(p_{data}\|p_G)", ())],
}
FIGURES = ("2.e.i", "2.e.ii", "2.e.iii", "4.b", "4.c")
CASES = [pytest.param(part, answer, extra, id=f"{part}-{kind}{n}")
         for kind, table in (("wrong", WRONG), ("partial", PARTIAL))
         for part, answers in table.items() for n, (answer, extra) in enumerate(answers)]


def test_every_part_of_the_key_is_covered_by_a_case() -> None:
    assert set(WRONG) | set(FIGURES) == {q.id for q in questions()}
    assert set(PARTIAL) <= set(WRONG)


def _shown(part: str, answer: str | list[str], audience: str, capsys: pytest.CaptureFixture
           ) -> tuple[dict, str]:
    """``genverify check`` in both output forms: the JSON result and the text."""
    lines = [answer] if isinstance(answer, str) else answer
    main(["check", part, "--audience", audience, "--json", "--", *lines])
    data = json.loads(capsys.readouterr().out)
    main(["check", part, "--audience", audience, "--", *lines])
    return data, capsys.readouterr().out


def _players(q) -> str:  # noqa: ANN001
    from grading.key.structured import canonical

    players, _ = canonical(q.reference_expr, q.namespace)
    return " ".join(f"{op} over {p}" for op, p in players)


def _revealing(part: str, chosen: str) -> tuple[list[str], list[re.Pattern[str]]]:
    """Texts and patterns that reveal the key's answer to ``part`` (not what the student
    chose: ``chosen`` is how the answer was read)."""
    q = question(part)
    texts: list[str] = []
    patterns: list[re.Pattern[str]] = []
    if q.kind == "choice":
        for option in q.options:
            if option.correct and f"({option.label})" not in chosen:
                texts.append(option.text)
                patterns.append(re.compile(rf"\({option.label}\)"))
    elif q.kind == "yes/no":
        texts.append(q.explanation)
        patterns.append(re.compile(rf"(?<![/\w]){q.expected}\b", re.IGNORECASE))  # not yes/no
    elif q.reference is not None:
        if q.reference.label:
            texts.append(q.reference.label)
        for _, form in q.accepted():
            if isinstance(form, sp.Basic) and not form.free_symbols:  # a number: a token
                patterns.append(re.compile(rf"(?<![\w./\\^{{]){re.escape(str(form))}"
                                           rf"(?![\w./}}])"))
            elif isinstance(form, sp.Basic):
                texts += [render_latex(form), sp.sstr(form)]
            else:
                texts.append(form.latex())
        if q.kind == "structured":
            texts.append(_players(q))
    return [t for t in texts if t and t not in chosen], patterns


def _finds(text: str, texts: list[str], patterns: list[re.Pattern[str]]) -> list[str]:
    return [t for t in texts if t in text] + [p.pattern for p in patterns if p.search(text)]


@pytest.mark.parametrize(("part", "answer", "extra"), CASES)
def test_student_feedback_never_shows_the_key_and_staff_feedback_does(part, answer, extra,
                                                                     capsys):
    student, student_text = _shown(part, answer, "student", capsys)
    staff, staff_text = _shown(part, answer, "staff", capsys)
    assert student["status"] == staff["status"] != "correct"
    assert student["points"] == staff["points"]  # the audience changes words, not grades
    chosen = student["read_as"] or ""
    texts, patterns = _revealing(part, chosen)
    texts += list(extra)
    shown = student_text.replace(chosen, "") + json.dumps(
        {k: v for k, v in student.items() if k != "read_as"}, ensure_ascii=False)
    assert not _finds(shown, texts, patterns), student_text
    assert "reference" not in student and "key:" not in student_text
    # the twin: staff see the key's answer (so the search above can find it)
    assert _finds(staff_text.replace(chosen, ""), texts, patterns), staff_text
    assert staff["reference"] == reference_text(question(part))


@pytest.mark.parametrize(("part", "answer", "extra"), CASES)
def test_student_feedback_keeps_the_mistake_and_the_counterexample(part, answer, extra):
    from grading.key.registry import grade

    staff = grade(part, answer)
    student = for_student(staff)
    assert student.mistake == staff.mistake and student.status is staff.status
    assert student.feedback.strip()
    if "the reference is" in staff.detail and staff.detail.count("at ") and \
            question(part).reference_expr.free_symbols:
        assert student.detail == staff.detail  # the point and both values


@pytest.mark.parametrize("part", FIGURES)
def test_a_figure_shows_the_same_rubric_to_students_and_staff(part, capsys):
    student, _ = _shown(part, "figure.png", "student", capsys)
    staff, _ = _shown(part, "figure.png", "staff", capsys)
    assert student["status"] == staff["status"] == "manual"
    assert student["feedback"] == staff["feedback"] and "Rubric" in staff["feedback"]
    assert staff["reference"] is None  # a person grades it: no key's answer to show


# -- the rewrites, one message at a time ---------------------------------------------------------


@pytest.mark.parametrize(("part", "feedback", "hidden", "kept"), [
    ("3.d", "One term has the wrong sign: log(4) should be -log(4) (the other terms are right).",
     "log(4)", "One term has the wrong sign"),
    ("3.d", "One term has the wrong factor: the factor 2 of JSD(p_data, p_G) is dropped.",
     "JSD(p_data, p_G)", "wrong factor"),
    ("3.d", "One term has the wrong factor: JSD(p_data, p_G) is multiplied by 4 instead of 2.",
     "instead of 2", "wrong factor"),
    ("3.d", "The constant term log(4) has the wrong sign (the rest is right).", "log(4)",
     "constant term has the wrong sign"),
    ("3.d", "The part that depends on the variables is halved (a factor 2 dropped; the "
            "constant log(4) is right).", "log(4)", "is halved"),
    ("3.d", "A constant is wrong: log 2 where log 4 belongs.", "log 4", "A constant is wrong"),
    ("3.c", "The numerator is swapped: p_G(x) over p_G(x) + p_data(x) where p_data(x) belongs "
            "on top.", "p_data(x) belongs", "numerator is swapped"),
    ("3.a", "only the objective is given: the problem is max over G min over D of it",
     "max over G", "only the objective is given"),
    ("3.a", "the directions of min and max do not match: it should be max over G min over D "
            "(or all flipped with the objective negated)", "max over G", "directions"),
    ("1.j", "choose one option; the answer is (3) p_θ(z|x)", "(3)", "choose one option"),
    ("1.f", "the answer is no, not yes. q then ignores x.", "the answer is no", "yes is not"),
])
def test_each_message_that_quotes_the_key_is_rewritten_for_students(part, feedback, hidden,
                                                                   kept):
    staff = Result(part, Status.INCORRECT, 0.0, 3.5, feedback, "yes", "", "some_mistake")
    student = for_audience(staff, "student")
    assert hidden not in student.feedback and kept in student.feedback
    assert for_audience(staff, "staff") is staff and hidden in staff.feedback  # the twin


def test_the_value_of_a_constant_key_is_not_shown_as_a_counterexample() -> None:
    staff = Result("1.g", Status.INCORRECT, 0.0, 3.5, "not equivalent to the reference", "x",
                   "not equivalent: at x = 0.5 the reference is 0 but the answer is 0.5")
    student = for_student(staff)
    assert "the reference is 0" not in student.detail and "x = 0.5" in student.detail
    other = Result("1.h", Status.INCORRECT, 0.0, 3.5, "not equivalent to the reference", "x",
                   "not equivalent: at sigma = 1 the reference is 0.5 but the answer is 1")
    assert for_student(other).detail == other.detail  # the twin: a point of a function is kept


def test_the_key_written_into_any_message_is_hidden_unless_the_student_wrote_it() -> None:
    rendered = render_latex(question("1.h").reference_expr)
    staff = Result("1.h", Status.INCORRECT, 0.0, 3.5, f"compare with {rendered}", "x")
    assert for_student(staff).feedback == f"compare with {HIDDEN}"
    own = Result("1.h", Status.PARTIAL, 1.75, 3.5, f"{rendered}: steps missing", rendered)
    assert for_student(own).feedback == own.feedback  # the twin: the student's own text
    assert rendered in secrets(question("1.h"))


def test_a_report_is_rewritten_part_by_part_with_the_same_points() -> None:
    staff = grade_file(DATA / "answers_partial.toml")
    student = for_audience(staff, "student")
    assert [r.points for r in student.results] == [r.points for r in staff.results]
    assert student.score == staff.score and student.source == staff.source
    feedback = {r.part: r.feedback for r in student.results}
    assert "p_θ(z|x)" not in feedback["1.j"] and "not the expected answer" in feedback["1.e"]
    assert "the answer is no" in {r.part: r.feedback for r in staff.results}["1.e"]  # twin
    assert for_audience(staff, "staff") is staff


def test_an_unknown_audience_is_refused() -> None:
    result = Result("1.g", Status.CORRECT, 3.5, 3.5, "correct")
    with pytest.raises(ValueError, match="staff, student"):
        for_audience(result, "teacher")
    with pytest.raises(TypeError):
        for_audience({"results": []}, "student")


def test_the_key_answer_is_one_line_per_kind() -> None:
    assert reference_text(question("1.j")) == "(3) p_θ(z|x)"
    assert reference_text(question("1.b")) == "2"
    assert reference_text(question("1.f")).startswith("no: ")
    assert reference_text(question("1.d")).startswith("any 2 of (1)")
    assert reference_text(question("3.d")) == "log 4 − 2 JSD(p_data ‖ p_G)"
    assert reference_text(question("4.b")) == ""


def test_a_yes_no_part_the_key_cannot_decide_says_a_person_will_read_it() -> None:
    from grading.key.registry import grade

    staff = grade("1.e", "No, they are different.")  # the right word, no reason the key knows
    student = for_student(staff)
    assert staff.status is Status.UNDECIDED and "is the expected answer" in staff.feedback
    assert "expected answer" not in student.feedback and "no is" not in student.feedback
    assert student.feedback.startswith("a person will read the answer and its explanation.")
    other = Result("1.e", Status.UNDECIDED, 0.0, 3.5, "needs a person: two candidate answers")
    assert for_student(other) == other  # the twin: the reader's own reason is kept
