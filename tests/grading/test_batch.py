"""Batch regrading: parallel processes, one CSV row per submission, failures as rows."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest

from grading.batch import _grade_one, grade_batch, submissions
from grading.code.checks import CheckSettings
from grading.code.spec import spec

SUBMISSIONS = Path(__file__).parent / "code" / "submissions"
COURSE = Path(__file__).parent / "code" / "cs446_vae"


@pytest.mark.slow
def test_grade_batch_writes_one_row_per_submission_in_parallel(tmp_path: Path) -> None:
    batch = tmp_path / "batch"
    for name in ("alice", "bob", "carol"):
        (batch / name).mkdir(parents=True)
    shutil.copy(SUBMISSIONS / "reference.py", batch / "alice" / "hw5.py")
    shutil.copy(SUBMISSIONS / "bug_lb_bce_sign.py", batch / "bob" / "hw5.py")
    (batch / ".hidden").mkdir()
    out = tmp_path / "scores.csv"
    rows = grade_batch(batch, 2, out, progress=False, specs=(spec("log_bernoulli"),),
                       settings=CheckSettings(examples=10, shrink_seconds=1.0))
    with out.open() as f:
        table = list(csv.DictReader(f))
    assert [r["submission"] for r in table] == ["alice", "bob", "carol"] == \
        [r["submission"] for r in rows]
    by_name = {r["submission"]: r for r in table}
    assert float(by_name["alice"]["code:log_bernoulli"]) == 2.0 == float(by_name["alice"]["score"])
    assert float(by_name["bob"]["code:log_bernoulli"]) == 0.0  # the twin: a bug loses points
    assert float(by_name["carol"]["score"]) == 0.0 and by_name["carol"]["error"] == ""
    assert "code:sample_normal" not in by_name["alice"]  # not graded in this batch
    assert by_name["alice"]["profile"] == "custom"


@pytest.mark.slow
def test_a_course_starter_submission_is_graded_with_its_detected_profile(tmp_path: Path) -> None:
    shutil.copy(COURSE / "correct_train_at_import.py", tmp_path / "hw3_vae.py")
    row = _grade_one(str(tmp_path), {"settings": CheckSettings(examples=10,
                                                               shrink_seconds=1.0)})
    assert row["profile"] == "cs446-vae" and row["error"] == ""
    assert {k for k in row if k.startswith("code:")} == {
        "code:logpdf_diagonal_gaussian", "code:logpdf_bernoulli", "code:sample_diagonal_gaussian",
        "code:sample_Bernoulli", "code:elbo_loss"}
    assert row["score"] == row["max_score"] == 9.0
    shutil.copy(COURSE / "bug_elbo_negated.py", tmp_path / "hw3_vae.py")  # the twin
    row = _grade_one(str(tmp_path), {"settings": CheckSettings(examples=10,
                                                               shrink_seconds=1.0)})
    assert row["code:elbo_loss"] == 0.5 and row["score"] == 7.5


def test_a_grader_failure_becomes_an_error_row(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("def log_bernoulli(x, y):\n    return x\n")
    row = _grade_one(str(tmp_path), {"settings": "not settings"})
    assert row["score"] == "" and "AttributeError" in row["error"]


def test_only_visible_subdirectories_are_submissions(tmp_path: Path) -> None:
    for name in ("b", "a", ".git"):
        (tmp_path / name).mkdir()
    (tmp_path / "notes.txt").write_text("")
    assert [p.name for p in submissions(tmp_path)] == ["a", "b"]
