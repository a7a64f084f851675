"""The Gradescope bundle: its files, its scripts, and a run of run_autograder end to end."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grading.autograder import (SeveralWriteups, _answers_file, build_autograder,
                                grade_directory, main, results_json, text_report)
from grading.code.checks import CodeResult

SUBMISSIONS = Path(__file__).parent / "code" / "submissions"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_autograder(tmp_path_factory.mktemp("bundle") / "autograder.zip")


def _mode(archive: zipfile.ZipFile, name: str) -> int:
    return (archive.getinfo(name).external_attr >> 16) & 0o777


def test_the_bundle_holds_the_two_scripts_and_the_package(bundle: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        names = set(archive.namelist())
        assert {"setup.sh", "run_autograder", "constraints.txt", "genverify/pyproject.toml",
                "genverify/constraints.txt", "genverify/grading/code/sandbox.py",
                "genverify/grading/code/runner.py", "genverify/grading/code/checks.py",
                "genverify/grading/answers/parse.py", "genverify/grading/key/registry.py",
                "genverify/report/run.py", "genverify/genverify/cli.py",
                "genverify/derivations/gaussian.py", "genverify/numerics/bridge.py"} <= names
        assert not any("__pycache__" in n or n.endswith(".pyc") for n in names)
        assert not any(n.startswith("genverify/tests/") for n in names)  # no reference solutions
        assert _mode(archive, "setup.sh") == _mode(archive, "run_autograder") == 0o755
        setup = archive.read("setup.sh").decode()
        run = archive.read("run_autograder").decode()
    assert "pip install -c constraints.txt ./genverify" in setup
    assert "download.pytorch.org/whl/cpu" in setup  # the CPU build of torch
    assert "-m grading.autograder grade" in run and "results/results.json" in run


def test_the_scripts_are_valid_bash(bundle: Path, tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        archive.extractall(tmp_path, members=["setup.sh", "run_autograder"])
    for script in ("setup.sh", "run_autograder"):
        subprocess.run(["bash", "-n", str(tmp_path / script)], check=True)
    broken = tmp_path / "broken.sh"
    broken.write_text("if then fi (\n")  # the twin: bash -n does reject a broken script
    assert subprocess.run(["bash", "-n", str(broken)], capture_output=True).returncode != 0


def test_results_json_merges_the_answers_and_the_code() -> None:
    from grading.submission import grade_answers

    report = grade_answers({"1.g": "0"})
    code = [CodeResult("f: p", 1.0, 2.0, "✗ half", "f", "2"),
            CodeResult("f: q", 0.5, 0.5, "✓", "f", "2")]
    data = results_json({"answers": report, "code": code})
    names = [t["name"] for t in data["tests"]]
    assert "1.g" in names and names[-2:] == ["f: p", "f: q"]
    assert data["score"] == pytest.approx(report.score + 1.5)
    assert data["tests"][-2]["status"] == "failed" and data["tests"][-1]["status"] == "passed"
    assert "code: 1.5 of 2.5 points" in data["output"]
    text = text_report({"answers": report, "code": code})
    assert "f: p     1/2    ✗ half" in text and text.endswith("code: 1.5 / 2.5 points")


def test_an_unreadable_answers_file_is_reported_and_the_rest_is_graded(tmp_path: Path) -> None:
    (tmp_path / "answers.toml").write_text("this is = = not toml\n")
    graded = grade_directory(tmp_path)
    assert graded["answers"] is None and "could not be read" in graded["answers_error"]
    data = results_json(graded)
    assert data["tests"][0]["name"] == "answers file" and data["score"] == 0
    assert "answers.toml could not be read" in data["tests"][0]["output"]


@pytest.mark.slow
def test_run_autograder_grades_a_submission_into_results_json(bundle: Path,
                                                              tmp_path: Path) -> None:
    with zipfile.ZipFile(bundle) as archive:
        archive.extract("run_autograder", tmp_path)
    root = tmp_path / "autograder"
    submission = root / "submission"
    submission.mkdir(parents=True)
    (root / "source").mkdir()
    reference = (SUBMISSIONS / "reference.py").read_text()
    keep = reference.split("def sample_normal")[0]  # log_normal_diag and log_bernoulli only
    (submission / "vae.py").write_text(keep)
    (submission / "answers.toml").write_text('"1.g" = "0"\n"1.h" = "0"\n')
    env = {**os.environ, "AUTOGRADER_ROOT": str(root), "AUTOGRADER_PYTHON": sys.executable}
    subprocess.run(["bash", str(tmp_path / "run_autograder")], env=env, check=True,
                   capture_output=True, timeout=300)
    data = json.loads((root / "results" / "results.json").read_text())
    tests = {t["name"]: t for t in data["tests"]}
    assert tests["1.g"]["score"] == tests["1.g"]["max_score"] > 0
    assert tests["1.h"]["score"] == 0  # a wrong answer loses its points
    code = [t for t in data["tests"] if ":" in t["name"]]
    full = [t for t in code if t["name"].startswith(("log_normal_diag", "log_bernoulli"))]
    assert full and all(t["score"] == t["max_score"] for t in full)
    missing = [t for t in code if t not in full]
    assert missing and all(t["score"] == 0 and "no function" in t["output"] for t in missing)
    assert data["score"] == pytest.approx(sum(t["score"] for t in data["tests"]))
    assert stat.S_IMODE((root / "results").stat().st_mode) == 0o700


def test_the_bundle_carries_the_profile_it_is_built_for(tmp_path: Path) -> None:
    named = build_autograder(tmp_path / "named.zip", profile="cs446-diffusion")
    with zipfile.ZipFile(named) as archive:
        script = archive.read("run_autograder").decode()
        assert "--profile cs446-diffusion" in script and "profile.toml" not in archive.namelist()
    mine = tmp_path / "mine.toml"
    mine.write_text((Path(__file__).parents[2] / "grading/code/profiles/cs446-vae.toml")
                    .read_text().replace('"cs446-vae"', '"mine"'))
    carried = build_autograder(tmp_path / "file.zip", profile=mine)
    with zipfile.ZipFile(carried) as archive:
        assert archive.read("profile.toml") == mine.read_bytes()
        assert '--profile "$ROOT/source/profile.toml"' in archive.read("run_autograder").decode()
    with zipfile.ZipFile(build_autograder(tmp_path / "plain.zip")) as archive:
        assert "--profile" not in archive.read("run_autograder").decode()  # detected per student
    from grading.code.profiles import ProfileError

    with pytest.raises(ProfileError):  # refused when building, not on Gradescope
        build_autograder(tmp_path / "bad.zip", profile="cs999")


# -- the answers file: TOML, or the one write-up ---------------------------------------------------


def test_answers_toml_comes_before_any_write_up(tmp_path: Path) -> None:
    (tmp_path / "hw5.tex").write_text("")
    (tmp_path / "answers_v2.toml").write_text("")
    assert _answers_file(tmp_path).name == "answers_v2.toml"
    (tmp_path / "answers.toml").write_text("")
    assert _answers_file(tmp_path).name == "answers.toml"


@pytest.mark.parametrize("name", ["hw5.tex", "writeup.md", "notes.markdown", "answers.txt"])
def test_the_one_write_up_of_a_folder_is_its_answers(tmp_path: Path, name: str) -> None:
    (tmp_path / name).write_text("")
    (tmp_path / "README.md").write_text("")  # never a write-up
    (tmp_path / "requirements.txt").write_text("")
    (tmp_path / "figures.md").mkdir()  # a folder is not a write-up
    (tmp_path / "vae.py").write_text("")
    assert _answers_file(tmp_path) == tmp_path / name


def test_several_write_ups_are_an_error_not_a_guess(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("")
    (tmp_path / "a.tex").write_text("")
    with pytest.raises(SeveralWriteups, match=r"^several write-ups: a.tex, b.md; keep one$"):
        _answers_file(tmp_path)
    graded = grade_directory(tmp_path)
    assert graded["answers_error"] == "several write-ups: a.tex, b.md; keep one"
    assert graded["answers"] is None and graded["code"] == []  # no Python file: no code run
    (tmp_path / "b.md").unlink()  # the twin: one write-up is read
    assert _answers_file(tmp_path) == tmp_path / "a.tex"


def test_a_folder_with_no_answers_file_and_no_write_up_has_none(tmp_path: Path) -> None:
    (tmp_path / "README.md").write_text("")
    (tmp_path / "vae.py").write_text("")
    assert _answers_file(tmp_path) is None


def test_a_write_up_is_graded_with_grade_file(tmp_path: Path, monkeypatch) -> None:
    import grading.submission as submission

    (tmp_path / "hw5.md").write_text("## 1.g\n$0$\n")
    monkeypatch.setattr(submission, "grade_file", lambda path: submission.grade_answers(
        {"1.g": "0"}, source=str(path)))
    graded = grade_directory(tmp_path)
    assert graded["answers_error"] is None and graded["answers"].score == 3.5
    monkeypatch.setattr(submission, "grade_file", lambda path: (_ for _ in ()).throw(
        submission.AnswersError(f"{path}: no part markers")))
    graded = grade_directory(tmp_path)  # the twin: an unreadable write-up is reported
    assert graded["answers"] is None and "hw5.md could not be read" in graded["answers_error"]


# -- who reads the feedback ---------------------------------------------------------------------


def test_the_bundle_grades_for_students_unless_told_otherwise(tmp_path: Path, capsys) -> None:
    submission = tmp_path / "submission"
    submission.mkdir()
    (submission / "answers.toml").write_text('"1.j" = "(1)"\n"1.f" = "yes"\n')
    out = tmp_path / "results.json"
    assert main(["grade", str(submission), "--gradescope", str(out)]) == 0
    tests = {t["name"]: t["output"] for t in json.loads(out.read_text())["tests"]}
    assert "(3)" not in tests["1.j"] and "not the right option" in tests["1.j"]
    assert "ignores x" not in tests["1.f"]
    assert main(["grade", str(submission), "--gradescope", str(out), "--audience", "staff"]) == 0
    tests = {t["name"]: t["output"] for t in json.loads(out.read_text())["tests"]}
    assert "the answer is (3) p_θ(z|x)" in tests["1.j"] and "ignores x" in tests["1.f"]  # twin
    capsys.readouterr()


def test_the_code_lines_of_the_text_report_wrap_instead_of_being_cut() -> None:
    long = "the submission holds no Python file (*.py with a module name) " * 2
    name = "log_normal_diag: agrees with the derived closed form on ordinary inputs"
    text = text_report({"answers": None, "code": [CodeResult(name, 0.0, 1.0, long, "f", "2")]},
                       width=80)
    lines = text.splitlines()
    assert all(len(line) <= 80 for line in lines) and len(lines) > 2  # wrapped
    words = text.split()
    assert all(word in words for word in (long + name).split())  # every word is there
    assert text.count("0/1") == 1  # the points once, on the first line
