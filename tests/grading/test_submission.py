"""Grading a whole TOML submission: per-part results, totals, manual parts pending
(grading/submission.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from grading.key.registry import Status
from grading.submission import AnswersError, grade_answers, grade_file, locate, parse_answers

DATA = Path(__file__).parent / "data"

#: what each part of answers_partial.toml must score, and why (see the comments in the file)
PARTIAL = {"1.a": 0.875, "1.b": 0, "1.c": 1.75, "1.d": 0, "1.e": 0, "1.f": 3.5, "1.g": 3.5,
           "1.h": 1.75, "1.i": 1.75, "1.j": 0, "3.a": 3.5, "3.b": 0, "3.c": 0, "3.d": 3.5}


@pytest.fixture(scope="module")
def correct():
    return grade_file(DATA / "answers_correct.toml")


@pytest.fixture(scope="module")
def partial():
    return grade_file(DATA / "answers_partial.toml")


def test_the_correct_submission_scores_every_automatic_point(correct):
    assert (correct.score, correct.max_score) == (49, 49)
    assert correct.exit_code == 0


def test_manual_parts_are_pending_and_reported_apart_from_the_total(correct):
    assert [r.part for r in correct.manual] == ["2.e.i", "2.e.ii", "2.e.iii", "4.b", "4.c"]
    assert all(r.status is Status.MANUAL and r.points == 0 for r in correct.manual)
    assert correct.pending_points == 33 and correct.total_points == 82
    table = correct.table()
    assert "manual: 0 of 5 parts graded, 33 points pending" in table
    assert "total: 49 / 49" in table
    assert "–/12" in table  # a pending part shows no points


def test_each_part_of_the_partial_submission_scores_what_its_mistake_earns(partial):
    assert {r.part: r.points for r in partial.automatic} == PARTIAL
    assert partial.score == sum(PARTIAL.values()) == 20.125
    assert partial.exit_code == 1


def test_an_id_the_key_does_not_have_is_reported_not_graded(partial):
    assert partial.unknown == ("5.a",)
    assert "'5.a' is not a part of the key" in partial.table()


def test_the_table_has_one_row_per_part_with_points_and_feedback(partial):
    rows = partial.table(width=200).splitlines()
    row = next(line for line in rows if line.startswith("1.h "))
    assert "partial" in row and "1.75/3.5" in row and "factor of 2" in row


def test_the_line_of_each_answer_is_located(partial):
    assert partial.lines["1.h"] == 15 and partial.lines["1.c"] == 5


def test_a_part_without_an_answer_scores_zero():
    report = grade_answers({"1.g": "0"})
    statuses = {r.part: r.status for r in report.results}
    assert statuses["1.g"] is Status.CORRECT and statuses["1.h"] is Status.MISSING
    assert report.score == 3.5


def test_unquoted_dotted_keys_are_flattened_back_to_part_ids():
    answers = parse_answers('1.g = "0"\n[3]\nd = "x"\n')
    assert answers == {"1.g": "0", "3.d": "x"}


@pytest.mark.parametrize("text, message", [
    ('"1.g" = 0', "a string or a list of strings"),
    ('"1.c" = ["a", 2]', "a string or a list of strings"),
    ('"1.g" = ', "not valid TOML"),
])
def test_a_malformed_answers_file_is_a_clear_error(text, message):
    with pytest.raises(AnswersError, match=message):
        parse_answers(text)


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(AnswersError, match="cannot read"):
        grade_file(tmp_path / "nope.toml")


def test_locate_finds_quoted_and_bare_keys_only_at_the_start_of_a_line():
    text = "# 1.h = x\n'1.h' = 'y'\n\"1.a\" = 'z'\n"
    assert locate(text, "1.h") == 2 and locate(text, "1.a") == 3 and locate(text, "1.b") is None


def test_long_feedback_wraps_in_the_table_and_is_never_cut(partial):
    table = partial.table(width=80)
    assert "…" not in table
    for result in partial.results:
        for word in result.feedback.split():
            assert word in table, (result.part, word)
    rows = [line for line in table.splitlines()[:-1] if not line.startswith("(ignored")]
    assert all(len(line) <= 80 or " " not in line.strip() for line in rows)
