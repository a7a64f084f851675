"""Gradescope's results.json (grading/gradescope.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grading.gradescope import results_json, write_results
from grading.submission import grade_file

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def partial():
    return grade_file(DATA / "answers_partial.toml")


def test_every_part_is_a_test_with_its_score_and_max_score(partial):
    data = results_json(partial)
    assert [t["number"] for t in data["tests"]] == [r.part for r in partial.results]
    scores = {t["number"]: (t["score"], t["max_score"]) for t in data["tests"]}
    assert scores["1.h"] == (1.75, 3.5) and scores["1.g"] == (3.5, 3.5)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"])) == 20.125


def test_a_part_with_full_points_passes_and_any_other_fails(partial):
    status = {t["number"]: t["status"] for t in results_json(partial)["tests"]}
    assert status["1.g"] == "passed" and status["1.h"] == "failed" and status["1.b"] == "failed"


def test_the_output_carries_the_feedback_and_the_reading(partial):
    test = next(t for t in results_json(partial)["tests"] if t["number"] == "1.h")
    assert "factor of 2" in test["output"] and "read as:" in test["output"]


def test_manual_parts_add_nothing_to_the_autograders_total(partial):
    manual = [t for t in results_json(partial)["tests"] if "manual" in t.get("tags", [])]
    assert [t["number"] for t in manual] == ["2.e.i", "2.e.ii", "2.e.iii", "4.b", "4.c"]
    assert all(t["score"] == 0 and t["max_score"] == 0 for t in manual)
    assert "12 points pending" in manual[-1]["output"]


def test_visibility_is_set_and_checked(partial):
    data = results_json(partial, visibility="after_published", test_visibility="visible")
    assert data["visibility"] == "after_published"
    assert {t["visibility"] for t in data["tests"]} == {"visible"}
    with pytest.raises(ValueError, match="visibility"):
        results_json(partial, visibility="public")


def test_the_file_written_is_json_gradescope_can_read(partial, tmp_path):
    path = write_results(partial, tmp_path / "results.json")
    data = json.loads(path.read_text(encoding="utf-8"))
    assert set(data) >= {"score", "output", "visibility", "tests"}
    assert all(set(t) >= {"name", "score", "max_score", "output", "visibility"}
               for t in data["tests"])
    assert "5.a" in data["output"]  # the unknown id is mentioned


def test_a_report_for_students_reaches_gradescope_without_the_key(partial):
    from grading.audience import for_audience

    student = {t["number"]: t["output"] for t in
               results_json(for_audience(partial, "student"))["tests"]}
    staff = {t["number"]: t["output"] for t in results_json(partial)["tests"]}
    assert "the answer is no" not in student["1.e"] and "not the expected answer" in student["1.e"]
    assert "the answer is no" in staff["1.e"]  # the twin: staff see the key
    assert "factor of 2" in student["1.h"] and "the reference is" in student["1.h"]
