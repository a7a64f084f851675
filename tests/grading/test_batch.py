"""Batch regrading: parallel processes, one CSV row per submission, failures as rows."""

from __future__ import annotations

import csv
import io
import shutil
import sys
from pathlib import Path

import pytest

from grading.batch import (_asked_profile, _batch_profile, _grade_one, _same_maximum,
                           grade_batch, submissions)
from grading.code.checks import CheckSettings
from grading.code.spec import spec

SUBMISSIONS = Path(__file__).parent / "code" / "submissions"
COURSE = Path(__file__).parent / "code" / "cs446_vae"
DATA = Path(__file__).parent / "data"


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
    assert row.get("profile") == "cs446-vae" and row["error"] == "", row
    assert {k for k in row if k.startswith("code:")} == {
        "code:logpdf_diagonal_gaussian", "code:logpdf_bernoulli", "code:sample_diagonal_gaussian",
        "code:sample_Bernoulli", "code:elbo_loss"}
    assert row["code_score"] == row["code_max"] == 9.0
    assert row["max_score"] == AUTOMATIC + 9.0  # no answers file: the key's points still count
    shutil.copy(COURSE / "bug_elbo_negated.py", tmp_path / "hw3_vae.py")  # the twin
    row = _grade_one(str(tmp_path), {"settings": CheckSettings(examples=10,
                                                               shrink_seconds=1.0)})
    assert row["code:elbo_loss"] == 0.5 and row["score"] == 7.5


def test_a_grader_failure_becomes_an_error_row_on_one_line(tmp_path: Path) -> None:
    (tmp_path / "x.py").write_text("def log_bernoulli(x, y):\n    return x\n")
    row = _grade_one(str(tmp_path), {"settings": "not settings"})
    assert row["score"] == "" and "AttributeError" in row["error"]
    assert row["error"].startswith("the grader failed on this submission") and \
        "\n" not in row["error"]


# -- what a submission is ------------------------------------------------------------------------


def test_submissions_are_visible_folders_and_answer_files_or_write_ups(tmp_path: Path) -> None:
    for name in ("b", "a", ".git"):
        (tmp_path / name).mkdir()
    for name in ("notes.txt", "carol.toml", "dan.tex", "eve.md", "fay.markdown", ".hidden.md",
                 "scores.csv", "helper.py"):
        (tmp_path / name).write_text("")
    (tmp_path / "link.tex").symlink_to(tmp_path / "dan.tex")  # a link is not a submission
    assert [p.name for p in submissions(tmp_path)] == [
        "a", "b", "carol.toml", "dan.tex", "eve.md", "fay.markdown", "notes.txt"]


# -- one row -------------------------------------------------------------------------------------


AUTOMATIC, PENDING = 49.0, 33.0  # the built-in key (HOMEWORK.md)


def test_a_folder_whose_answers_file_cannot_be_read_fills_the_error_column(tmp_path: Path) -> None:
    (tmp_path / "answers.toml").write_text("this is = = not toml\n")
    row = _grade_one(str(tmp_path), {})
    assert "answers.toml could not be read" in row["error"] and "not valid TOML" in row["error"]
    assert row["score"] == 0.0 and row["max_score"] == row["answers_max"] == AUTOMATIC
    assert row["pending_points"] == PENDING
    (tmp_path / "answers.toml").write_text('"1.g" = "0"\n')  # the twin: readable
    row = _grade_one(str(tmp_path), {})
    assert row["error"] == "" and row["answers_score"] == row["score"] == 3.5


def test_an_answers_file_is_a_submission_of_its_own(tmp_path: Path) -> None:
    shutil.copy(DATA / "answers_partial.toml", tmp_path / "bob.toml")
    row = _grade_one(str(tmp_path / "bob.toml"), {})
    assert row["submission"] == "bob.toml" and row["error"] == ""
    assert row["score"] == 20.125 and row["max_score"] == AUTOMATIC
    (tmp_path / "broken.toml").write_text('"1.g" = \n')  # the twin: unreadable
    row = _grade_one(str(tmp_path / "broken.toml"), {})
    assert "broken.toml could not be read" in row["error"] and row["score"] == 0.0


def test_a_write_up_is_graded_with_grade_file(tmp_path: Path, monkeypatch) -> None:
    import grading.submission as submission

    writeup = tmp_path / "carol.tex"
    writeup.write_text("\\section*{1.g} $0$\n")
    seen = []

    def fake(path):  # noqa: ANN001, ANN202 - the write-up reader, until it lands
        seen.append(Path(path))
        return submission.grade_answers({"1.g": "0"}, source=str(path))

    monkeypatch.setattr(submission, "grade_file", fake)
    row = _grade_one(str(writeup), {})
    assert seen == [writeup] and row["score"] == 3.5 and row["error"] == ""
    monkeypatch.setattr(submission, "grade_file", lambda path: (_ for _ in ()).throw(
        submission.AnswersError(f"{path}: no part markers found")))
    row = _grade_one(str(writeup), {})  # the twin: a write-up that cannot be read
    assert "no part markers found" in row["error"] and row["score"] == 0.0


# -- the batch ---------------------------------------------------------------------------------


def test_every_row_has_the_same_maximum_whatever_the_student_handed_in(tmp_path: Path,
                                                                       capsys) -> None:
    batch = tmp_path / "batch"
    (batch / "bob").mkdir(parents=True)
    (batch / "bob" / "answers.toml").write_text("not = = toml\n")
    (batch / "carol").mkdir()  # nothing handed in: the code is graded, 0 of 21
    shutil.copy(DATA / "answers_correct.toml", batch / "alice.toml")
    rows = grade_batch(batch, 2, tmp_path / "scores.csv")
    assert capsys.readouterr().err == ""  # stderr is not a terminal here: no progress bar
    with (tmp_path / "scores.csv").open() as f:
        table = {r["submission"]: r for r in csv.DictReader(f)}
    assert [r["submission"] for r in rows] == ["alice.toml", "bob", "carol"]
    assert {float(r["max_score"]) for r in table.values()} == {AUTOMATIC + 21.0}
    assert {float(r["code_max"]) for r in table.values()} == {21.0}
    assert {float(r["pending_points"]) for r in table.values()} == {PENDING}
    assert float(table["alice.toml"]["score"]) == AUTOMATIC and table["alice.toml"]["error"] == ""
    assert "could not be read" in table["bob"]["error"] and float(table["bob"]["score"]) == 0
    assert table["carol"]["profile"] == "genverify" and table["carol"]["error"] == ""


def test_a_row_graded_with_another_profile_says_so() -> None:
    rows = [{"submission": "a", "score": 1.0, "answers_max": 49.0, "code_max": 21.0,
             "profile": "genverify"},
            {"submission": "b", "score": 2.0, "answers_max": 49.0, "code_max": 9.0,
             "profile": "cs446-vae"},
            {"submission": "c", "score": "", "max_score": "", "error": "the grader failed"}]
    _same_maximum(rows, _batch_profile(rows[:1] + rows, None))
    assert rows[0]["max_score"] == rows[1]["max_score"] == 70.0
    assert "graded with profile cs446-vae (9 points)" in rows[1]["note"]
    assert "note" not in rows[0] and rows[2]["max_score"] == ""  # the twin; no score, no max


def test_the_profile_asked_for_sets_the_maximum() -> None:
    assert _asked_profile({"profile": "cs446-vae"}) == ("cs446-vae", 9.0)
    assert _asked_profile({"specs": (spec("log_bernoulli"),)}) == ("custom", 2.0)
    assert _asked_profile({}) is None


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_progress_bar_is_drawn_only_on_a_terminal(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stderr", _Terminal())
    grade_batch(tmp_path, 1, tmp_path / "scores.csv")
    assert "grading" in sys.stderr.getvalue()
    monkeypatch.setattr(sys, "stderr", io.StringIO())  # the twin: a pipe or a log file
    grade_batch(tmp_path, 1, tmp_path / "scores.csv")
    assert sys.stderr.getvalue() == ""


def test_a_folder_of_write_ups_is_graded_with_the_parts_for_a_person_listed(
        tmp_path: Path) -> None:
    (tmp_path / "dana.md").write_text("## Question 1\n(g) $0$\n(h) $$\\boxed{a}$$ or $$\\boxed{b}$$\n")
    (tmp_path / "erin.tex").write_text("\\section*{Question 1}\n\\subsection*{(g)} $1$\n")
    rows = {row["submission"]: row for row in grade_batch(tmp_path, 1, tmp_path / "s.csv",
                                                           progress=False)}
    assert rows["dana.md"]["answers_score"] == 3.5 and rows["erin.tex"]["answers_score"] == 0
    assert "1.h" in rows["dana.md"]["review"].split()  # two boxed answers: a person decides
    assert "1.g" not in rows["erin.tex"]["review"].split()  # a wrong answer is decided
    assert {row["max_score"] for row in rows.values()} == {AUTOMATIC}
