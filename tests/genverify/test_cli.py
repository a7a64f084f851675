"""The command line: equiv, check and grade with their exit codes (genverify/cli.py), in-process
through ``main(argv)`` and once through the installed ``genverify`` script."""

from __future__ import annotations

import io
import os
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genverify.cli import _answers_last, build_parser, main

DATA = Path(__file__).parents[1] / "grading" / "data"
SCRIPT = Path(sys.executable).parent / "genverify"


def _run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_line_error(err: str) -> None:
    assert err.count("\n") == 1 and err.startswith("genverify") and "Traceback" not in err


# -- equiv -------------------------------------------------------------------------------------


def test_equiv_exits_zero_for_equivalent_answers_under_the_assumption(capsys):
    code, out, _ = _run(capsys, "equiv", "\\log\\sigma^2", "2\\log\\sigma",
                        "--assume", "sigma=positive")
    assert code == 0 and out.startswith("equivalent")


def test_equiv_exits_one_with_a_counterexample_without_the_assumption(capsys):
    code, out, _ = _run(capsys, "equiv", "\\sqrt{x^2}", "x")
    assert code == 1 and "not equivalent" in out and "x = -" in out


def test_equiv_exits_two_for_an_unreadable_answer(capsys):
    code, out, _ = _run(capsys, "equiv", "x", "\\frac{1}{")
    assert code == 2 and "could not read the answer" in out


def test_equiv_prints_the_verdict_as_json(capsys):
    code, out, _ = _run(capsys, "equiv", "sigma**2/2", "\\frac{\\sigma^2}{2}", "--json")
    data = json.loads(out)
    assert code == 0 and data["kind"] == "equivalent" and data["exit_code"] == 0


@pytest.mark.parametrize("argv", [["equiv", "a", "b", "--assume", "sigma=pos"],
                                  ["equiv", "a", "b", "--assume", "sigma"],
                                  ["equiv", "a", "b", "--assume", "y=0:one"],
                                  ["equiv", "a"], ["bogus"]])
def test_bad_input_is_one_line_and_exit_two(capsys, argv):
    code, _, err = _run(capsys, *argv)
    assert code == 2
    _one_line_error(err)


# -- answers that start with a minus -----------------------------------------------------------


@pytest.mark.parametrize("argv", [
    ["equiv", "-\\frac{x-\\mu}{\\sigma^2}", "\\frac{\\mu-x}{\\sigma^2}"],
    ["equiv", "\\frac{\\mu-x}{\\sigma^2}", "-\\frac{x-\\mu}{\\sigma^2}"],
    ["equiv", "-1", "-1"], ["equiv", "-x", "-x"], ["equiv", "-\\log 2", "\\log\\frac12"],
    ["equiv", "x", "--x"], ["equiv", "--x", "x"], ["equiv", "-x", "-(x)"],
])
def test_equiv_reads_answers_that_start_with_a_minus(capsys, argv):
    code, out, err = _run(capsys, *argv)
    assert (code, err) == (0, "") and out.startswith("equivalent")


def test_an_answer_that_starts_with_a_minus_is_still_compared(capsys):
    code, out, _ = _run(capsys, "equiv", "-x", "x")  # near miss: the minus is not dropped
    assert code == 1 and "not equivalent" in out


REF, ANS = "\\sqrt{\\sigma^2}", "-\\sigma"


@pytest.mark.parametrize("argv", [
    [REF, ANS, "--json", "--assume", "sigma=real"],
    ["--json", "--assume", "sigma=real", REF, ANS],
    ["--assume", "sigma=real", REF, "--json", ANS],
    [REF, "--assume=sigma=real", ANS, "--json"],
    ["--json", REF, ANS, "--assume", "sigma=real"],
    ["--json", "--assume", "sigma=real", "--", REF, ANS],
])
def test_options_may_stand_before_between_or_after_the_answers(capsys, argv):
    code, out, err = _run(capsys, "equiv", *argv)
    data = json.loads(out)
    assert err == "" and code == 1 and data["kind"] == "not_equivalent"
    assert data["assumptions"] == {"sigma": "sigma real"}  # the user's kind, though real
    assert data["answer_latex"] == "- \\sigma"  # read whole, minus included


@pytest.mark.parametrize(("argv", "message"), [
    (["equiv", "a", "b", "--jsn"], "did you mean --json?"),
    (["equiv", "--jason", "a", "b"], "did you mean --json?"),
    (["equiv", "a", "b", "--asume", "sigma=real"], "did you mean --assume?"),
    (["equiv", "a", "b", "--js"], "did you mean --json?"),
    (["check", "1.h", "-x", "--jsn"], "did you mean --json?"),
    (["equiv", "a", "b", "--assume"], "--assume needs a value"),
    (["equiv", "a", "b", "--json=yes"], "--json takes no value"),
    (["equiv", "-x"], "required: ANSWER"),
    (["equiv", "-x", "-y", "-z"], "unrecognized arguments: -z"),
])
def test_a_misspelt_option_or_a_missing_answer_is_one_line_and_exit_two(capsys, argv, message):
    code, out, err = _run(capsys, *argv)
    assert code == 2 and out == "" and message in err
    _one_line_error(err)


def test_help_is_an_option_anywhere_and_an_answer_after_a_double_dash(capsys):
    code, out, _ = _run(capsys, "equiv", "-x", "-h")
    assert code == 0 and out.startswith("usage: genverify equiv")
    code, out, _ = _run(capsys, "equiv", "--", "-h", "-h")
    assert code == 0 and out.startswith("equivalent")


def test_check_reads_answers_and_derivation_lines_that_start_with_a_minus(capsys):
    code, out, _ = _run(capsys, "check", "1.h", "-\\frac{(\\mu_\\phi-\\mu_p)^2}{2\\sigma^2}")
    assert code == 1 and "sign" in out  # read, and graded as a sign mistake
    code, out, _ = _run(capsys, "check", "--json", "1.h",
                        "-\\frac{(\\mu_p-\\mu_\\phi)^2}{-2\\sigma^2}")
    assert code == 0 and json.loads(out)["status"] == "correct"


def test_derivation_lines_that_start_with_a_minus_stay_lines_in_their_order():
    parser = build_parser()
    argv = ["check", "3.c", "-L = -x", "--json", "--x = y", "-", "-h2"]
    assert _answers_last(parser, argv) == ["check", "--json", "--", "3.c", "-L = -x", "--x = y",
                                           "-", "-h2"]
    args = parser.parse_args(_answers_last(parser, argv))
    assert (args.part, args.answer, args.json) == ("3.c", ["-L = -x", "--x = y", "-", "-h2"],
                                                   True)


def test_the_other_commands_keep_their_ordinary_options():
    parser = build_parser()
    assert _answers_last(parser, ["grade", "-x.toml"]) == ["grade", "-x.toml"]


# -- conventional domains and --assume ---------------------------------------------------------


KL = "\\frac12(\\sigma^2+\\mu^2-1-\\log\\sigma^2)"
KL_ANSWER = "\\frac12(\\sigma^2+\\mu^2-1)-\\log\\sigma"


def test_sigma_is_a_standard_deviation_unless_the_user_says_otherwise(capsys):
    code, out, _ = _run(capsys, "equiv", KL, KL_ANSWER)
    assert code == 0 and out.startswith("equivalent") and "assumed: σ > 0" in out


def test_assume_real_takes_the_convention_back(capsys):
    code, out, _ = _run(capsys, "equiv", KL, KL_ANSWER, "--assume", "sigma=real")
    assert code in (1, 2) and "assumed: σ real" in out  # not equivalent, or undecided
    code, out, _ = _run(capsys, "equiv", "\\sqrt{\\sigma^2}", "\\sigma")
    assert code == 0
    code, out, _ = _run(capsys, "equiv", "\\sqrt{\\sigma^2}", "\\sigma", "--assume", "σ=real")
    assert code == 1 and "not equivalent" in out


def test_the_noise_epsilon_stays_real(capsys):
    code, out, _ = _run(capsys, "equiv", "\\sqrt{\\epsilon^2}", "\\epsilon")
    assert code == 1 and "assumed" not in out
    code, _, _ = _run(capsys, "equiv", "\\sqrt{\\epsilon^2}", "\\epsilon",
                      "--assume", "epsilon=positive")
    assert code == 0


def test_the_assumptions_used_are_in_the_json_too(capsys):
    code, out, _ = _run(capsys, "equiv", "\\log\\sigma_j + x", "x + \\log\\sigma_j", "--json")
    assumed = json.loads(out)["assumptions"]
    assert code == 0 and list(assumed) == ["sigma_j"] and assumed["sigma_j"].endswith("> 0")
    code, out, _ = _run(capsys, "equiv", "\\log s + x", "x + \\log s", "--json")
    assert code == 0 and json.loads(out)["assumptions"] == {}  # s is a score, not a scale


@pytest.mark.parametrize("pair", ["sigma=pos", "sigma", "=real", "y=0:one", "y=1:0", "y=0:inf",
                                  "y=nan:1"])
def test_a_bad_assumption_is_one_line_exit_two_and_no_traceback(capsys, pair):
    code, out, err = _run(capsys, "equiv", "-x", "x", "--assume", pair)
    assert code == 2 and out == ""
    _one_line_error(err)


# -- check -------------------------------------------------------------------------------------


def test_check_exits_zero_for_a_correct_answer(capsys):
    code, out, _ = _run(capsys, "check", "1.h", "\\frac{(\\mu_\\phi-\\mu_p)^2}{2\\sigma^2}")
    assert code == 0 and out.startswith("1.h: correct, 3.5/3.5 points")


def test_check_exits_one_with_named_feedback_and_partial_points(capsys):
    code, out, _ = _run(capsys, "check", "1.h", "\\frac{(\\mu_\\phi-\\mu_p)^2}{\\sigma^2}")
    assert code == 1 and "1.75/3.5" in out and "factor of 2" in out and "read as" in out


def test_check_exits_two_for_an_unreadable_answer(capsys):
    code, out, _ = _run(capsys, "check", "1.h", "\\frac{(\\mu_\\phi-\\mu_p}{2}")
    assert code == 2 and "unparsable" in out


def test_check_takes_a_derivation_as_one_argument_per_line(capsys):
    lines = ["L = p_{data}\\log D + p_G\\log(1 - D)",
             "\\partial_D: \\frac{p_{data}}{D} - \\frac{p_G}{1 - D} = 0",
             "\\Rightarrow D = \\frac{p_{data}}{p_{data} + p_G}"]
    code, out, _ = _run(capsys, "check", "3.c", *lines, "--json")
    assert code == 0 and json.loads(out)["status"] == "correct"


def test_check_reads_the_lines_from_stdin(capsys, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO("\\frac{p_G}{p_{data} + p_G}\n"))
    code, out, _ = _run(capsys, "check", "3.c", "-")
    assert code == 1 and "incorrect" in out


def test_check_of_a_figure_is_pending_with_exit_two(capsys):
    code, out, _ = _run(capsys, "check", "4.b", "figure.png")
    assert code == 2 and "pending" in out


def test_check_of_an_unknown_part_is_one_line_and_exit_two(capsys):
    code, _, err = _run(capsys, "check", "9.z", "0")
    assert code == 2 and "no question '9.z'" in err
    _one_line_error(err)


# -- grade -------------------------------------------------------------------------------------


def test_grade_prints_the_table_and_exits_zero_for_a_correct_submission(capsys):
    code, out, _ = _run(capsys, "grade", str(DATA / "answers_correct.toml"))
    assert code == 0 and "total: 49 / 49" in out and "33 points pending" in out


def test_grade_writes_results_json_and_exits_one_when_points_are_lost(capsys, tmp_path):
    results = tmp_path / "results.json"
    code, out, _ = _run(capsys, "grade", str(DATA / "answers_partial.toml"),
                        "--gradescope", str(results), "--json")
    assert code == 1 and json.loads(out)["score"] == 20.125
    assert json.loads(results.read_text(encoding="utf-8"))["score"] == 20.125


@pytest.mark.parametrize("content", [None, '"1.g" = \n', '"1.g" = 3\n'])
def test_grade_of_a_missing_or_malformed_file_is_one_line_and_exit_two(capsys, tmp_path,
                                                                       content):
    path = tmp_path / "answers.toml"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    code, _, err = _run(capsys, "grade", str(path))
    assert code == 2
    _one_line_error(err)


def test_grade_to_an_unwritable_results_path_is_one_line_and_exit_two(capsys, tmp_path):
    code, _, err = _run(capsys, "grade", str(DATA / "answers_correct.toml"), "--gradescope",
                        str(tmp_path / "missing" / "results.json"))
    assert code == 2
    _one_line_error(err)


def test_grade_with_an_unknown_profile_is_one_line_and_exit_two(capsys, tmp_path):
    (tmp_path / "hw5_vae.py").write_text("def f():\n    return 1\n")
    code, _, err = _run(capsys, "grade", str(tmp_path), "--profile", "cs999")
    assert code == 2 and "no built-in profile 'cs999'" in err
    _one_line_error(err)
    bad = tmp_path / "bad.toml"
    bad.write_text('name = "bad"\n[[function]]\nname = "f"\nrole = "nothing"\n')
    code, _, err = _run(capsys, "grade", str(tmp_path), "--profile", str(bad))
    assert code == 2 and "'role' must be one of" in err
    _one_line_error(err)


@pytest.mark.slow
def test_grade_of_a_course_starter_file_says_which_profile_it_used(capsys, tmp_path):
    course = Path(__file__).parents[1] / "grading" / "code" / "cs446_diffusion"
    (tmp_path / "hw5_diffusion.py").write_text(
        (course / "correct_trains_at_import.py").read_text(), encoding="utf-8")
    code, out, _ = _run(capsys, "grade", str(tmp_path))
    assert code == 0 and "code: 8 / 8 points" in out
    assert "note: profile cs446-diffusion" in out and "not run: lines" in out
    code, out, _ = _run(capsys, "grade", str(tmp_path), "--profile", "genverify")  # the twin
    assert code == 1 and "code: 0 / 21 points" in out


# -- the installed script ----------------------------------------------------------------------


def test_the_installed_script_reads_an_answer_that_starts_with_a_minus():
    completed = subprocess.run(
        [str(SCRIPT), "equiv", "-\\frac{x-\\mu}{\\sigma^2}", "\\frac{\\mu-x}{\\sigma^2}"],
        capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert "assumed: σ > 0" in completed.stdout


def test_the_installed_console_script_reports_through_its_exit_status():
    completed = subprocess.run(
        [str(SCRIPT), "equiv", "log(sigma**2)", "2*log(sigma)", "--assume", "sigma=positive"],
        capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("equivalent")


def test_the_assumed_line_writes_names_as_a_reader_does(capsys):
    code, out, _ = _run(capsys, "equiv", "\\log\\sigma_j + x", "x + \\log\\sigma_j")
    assert code == 0 and "assumed: σ_j > 0" in out


# The engine draws a symbol from its conventional domain (ᾱ_t in (0, 1)), not only from its
# SymPy flags ("positive"): the twin below, with ᾱ_t declared real, is not equivalent.
@pytest.mark.parametrize(("reference", "answer"), [
    ("\\sqrt{(1-\\bar\\alpha_t)^2}", "1-\\bar\\alpha_t"), ("\\sqrt{(1-p)^2}", "1-p")])
def test_a_quantity_in_the_unit_interval_is_compared_only_there(capsys, reference, answer):
    code, out, _ = _run(capsys, "equiv", reference, answer)
    assert code == 0 and ("∈ (0, 1)" in out or "in (0, 1)" in out)


def test_the_same_quantity_declared_real_is_not_equivalent(capsys):
    code, _, _ = _run(capsys, "equiv", "\\sqrt{(1-\\bar\\alpha_t)^2}", "1-\\bar\\alpha_t",
                      "--assume", "alphabar_t=real")
    assert code == 1


def _descendants(root: int) -> set[int]:
    """Every process below ``root`` (through /proc's PPid lines), with ``root`` itself out."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                status = (entry / "status").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = next((int(line.split()[1]) for line in
                                             status.splitlines() if line.startswith("PPid:")), 0)
    found, frontier = set(), {root}
    while frontier:
        frontier = {pid for pid, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _student_uid(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return next(int(line.split()[1]) for line in status.splitlines()
                if line.startswith("Uid:")) >= 1_500_000


@pytest.mark.slow
@pytest.mark.skipif(os.geteuid() != 0, reason="the sandbox's own uids need root (CI is root)")
def test_sigterm_to_the_grade_command_leaves_no_process_of_the_students_code(tmp_path):
    import signal
    import time

    (tmp_path / "hw5.py").write_text("def log_bernoulli(x, y):\n    while True:\n        pass\n")
    grader = subprocess.Popen([sys.executable, "-m", "genverify", "grade", str(tmp_path)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline, below = time.monotonic() + 60, set()
    while not any(_student_uid(p) for p in below) and time.monotonic() < deadline:
        time.sleep(0.2)
        below = _descendants(grader.pid)
    assert any(_student_uid(p) for p in below), "the student's code never started"
    time.sleep(1.0)  # the student's loop is running
    below |= _descendants(grader.pid)
    grader.send_signal(signal.SIGTERM)
    assert grader.wait(timeout=30) == 128 + signal.SIGTERM
    deadline = time.monotonic() + 10
    while any(Path(f"/proc/{p}").exists() for p in below) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [p for p in below if Path(f"/proc/{p}").exists()]


def test_grade_of_a_folder_whose_answers_file_cannot_be_read_exits_two(capsys, tmp_path):
    (tmp_path / "answers.toml").symlink_to("/dev/zero")
    code, _, err = _run(capsys, "grade", str(tmp_path))
    assert code == 2 and "symbolic link" in err
    (tmp_path / "answers.toml").unlink()  # the twin: a readable file grades
    (tmp_path / "answers.toml").write_text('"1.g" = "0"\n', encoding="utf-8")
    code, out, _ = _run(capsys, "grade", str(tmp_path))
    assert code == 1 and "1.g" in out  # graded: the parts not answered lose points


# -- parts -------------------------------------------------------------------------------------


def test_parts_lists_every_part_with_its_points_kind_and_prompt(capsys, monkeypatch):
    from grading.key.registry import questions

    monkeypatch.setenv("COLUMNS", "1000")
    code, out, _ = _run(capsys, "parts")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["part", "points", "kind", "prompt"]
    for q in questions():
        row = next(line for line in lines if line.startswith(q.id + " "))
        assert f" {q.points:g} " in row and q.kind in row and row.endswith(q.prompt)
    assert lines[-1] == ("total: 82 points in 19 parts: 49 checked automatically (14 parts), "
                         "33 graded by a person (5 parts)")


def test_parts_wraps_prompts_to_the_terminal_and_never_cuts_them(capsys, monkeypatch):
    from grading.key.registry import questions

    monkeypatch.setenv("COLUMNS", "70")
    _, out, _ = _run(capsys, "parts")
    body = out.splitlines()[2:-1]
    assert all(len(line) <= 70 for line in body)
    flowing = " ".join(" ".join(line.split()) for line in body)
    for q in questions():
        assert " ".join(q.prompt.split()) in flowing  # every word, in order
    long = next(q for q in questions() if q.id == "1.e")
    assert not any(line.endswith(long.prompt) for line in body)  # the twin: it was wrapped


def test_parts_as_json_keeps_automatic_and_manual_points_apart(capsys):
    code, out, _ = _run(capsys, "parts", "--json")
    data = json.loads(out)
    assert code == 0 and data["format"] == "genverify-parts" and len(data["parts"]) == 19
    assert (data["total_points"], data["automatic_points"], data["manual_points"]) == (82, 49, 33)
    by_part = {p["part"]: p for p in data["parts"]}
    assert by_part["4.b"]["automatic"] is False and by_part["1.h"]["automatic"] is True
    assert set(by_part["1.h"]) == {"part", "points", "kind", "automatic", "prompt"}


# -- grade: genverify's own JSON, and the audience ---------------------------------------------


PART_KEYS = {"part", "status", "points", "max_points", "feedback", "read_as", "detail", "mistake"}


def test_grade_json_is_genverifys_own_result(capsys):
    code, out, _ = _run(capsys, "grade", str(DATA / "answers_partial.toml"), "--json")
    data = json.loads(out)
    assert code == 1 == data["exit_code"]
    assert (data["format"], data["version"], data["audience"]) == ("genverify-grade", 1, "staff")
    assert (data["score"], data["max_score"], data["pending_points"]) == (20.125, 49, 33)
    assert data["source"].endswith("answers_partial.toml") and data["unknown"] == ["5.a"]
    assert [p["part"] for p in data["parts"]][:3] == ["1.a", "1.b", "1.c"]
    assert all(PART_KEYS <= set(p) for p in data["parts"])
    assert "tests" not in data  # Gradescope's format only behind --gradescope
    parts = {p["part"]: p for p in data["parts"]}
    assert parts["1.h"]["mistake"] == "factor_two" and parts["1.j"]["reference"] == "(3) p_θ(z|x)"


def test_grade_for_students_never_shows_the_key(capsys):
    code, out, _ = _run(capsys, "grade", str(DATA / "answers_partial.toml"), "--json",
                        "--audience", "student")
    data = json.loads(out)
    assert code == 1 and data["audience"] == "student" and data["score"] == 20.125
    assert "(3) p_θ(z|x)" not in out and not any("reference" in p for p in data["parts"])
    code, out, _ = _run(capsys, "grade", str(DATA / "answers_partial.toml"),
                        "--audience", "student")
    assert "which is option" not in out and "the answer is no" not in out
    code, out, _ = _run(capsys, "grade", str(DATA / "answers_partial.toml"))  # the twin: staff
    assert "which is option" in out and "the answer is no" in out


def test_grade_json_passes_a_parts_extraction_through():
    from genverify.cli import grade_data

    class Written:  # a report of a write-up: each part says where its answer was found
        def to_dict(self):
            return {"source": "hw5.tex", "score": 3.5, "max_score": 49, "pending_points": 33,
                    "total_points": 82, "unknown": [],
                    "parts": [{"part": "1.g", "status": "correct", "points": 3.5,
                               "max_points": 3.5, "feedback": "correct", "read_as": "0",
                               "detail": "", "mistake": None, "line": 4,
                               "extraction": {"text": "$0$", "line": 4}}]}

    data = grade_data(Written(), audience="student", exit_code=1)
    assert data["parts"][0]["extraction"] == {"text": "$0$", "line": 4}
    assert "reference" not in data["parts"][0]
    assert grade_data(Written(), audience="staff", exit_code=1)["parts"][0]["reference"] == "0"


def test_grade_of_a_folder_prints_the_same_json_with_its_code(capsys, tmp_path):
    (tmp_path / "answers.toml").write_text('"1.g" = "0"\n', encoding="utf-8")
    code, out, _ = _run(capsys, "grade", str(tmp_path), "--json")
    data = json.loads(out)
    assert code == 1 and data["format"] == "genverify-grade" and data["exit_code"] == 1
    assert data["score"] == 3.5 and data["code"] == [] and data["answers_error"] is None
    assert {p["part"] for p in data["parts"]} >= {"1.g", "4.c"}
    (tmp_path / "answers.toml").write_text('"1.g" = \n', encoding="utf-8")  # the twin
    code, out, err = _run(capsys, "grade", str(tmp_path), "--json")
    data = json.loads(out)
    assert code == 2 == data["exit_code"] and "not valid TOML" in data["answers_error"]
    _one_line_error(err)


def test_grade_of_a_folder_with_several_write_ups_exits_two_and_says_why(capsys, tmp_path):
    (tmp_path / "a.tex").write_text("", encoding="utf-8")
    (tmp_path / "b.md").write_text("", encoding="utf-8")
    code, _, err = _run(capsys, "grade", str(tmp_path))
    assert code == 2 and "several write-ups: a.tex, b.md; keep one" in err
    _one_line_error(err)


# -- help: exit statuses and defaults -----------------------------------------------------------


@pytest.mark.parametrize("command", [[], ["equiv"], ["check"], ["grade"], ["parts"],
                                     ["grade-batch"], ["autograder", "build"]])
def test_every_help_states_the_exit_status(capsys, command):
    code, out, _ = _run(capsys, *command, "--help")
    assert code == 0 and "exit status" in out


def test_the_workers_default_is_in_the_help(capsys):
    _, out, _ = _run(capsys, "grade-batch", "--help")
    assert "(default: 2)" in " ".join(out.split())
    assert build_parser().parse_args(["grade-batch", "d"]).workers == 2


def test_the_audience_option_is_checked(capsys):
    code, _, err = _run(capsys, "check", "1.g", "0", "--audience", "teacher")
    assert code == 2 and "invalid choice" in err
    _one_line_error(err)
    code, _, err = _run(capsys, "check", "1.g", "0", "--audiense", "student")
    assert code == 2 and "did you mean --audience?" in err


# -- grade-batch -------------------------------------------------------------------------------


def test_grade_batch_says_how_many_rows_have_an_error_and_draws_no_bar_into_a_pipe(capsys,
                                                                                   tmp_path):
    batch = tmp_path / "batch"
    batch.mkdir()
    (batch / "alice.toml").write_text('"1.g" = "0"\n', encoding="utf-8")
    (batch / "bob.toml").write_text('"1.g" = \n', encoding="utf-8")
    out_csv = tmp_path / "scores.csv"
    code, out, err = _run(capsys, "grade-batch", str(batch), "--workers", "1", "--csv",
                          str(out_csv))
    assert code == 0 and err == ""
    assert out == f"wrote {out_csv}: 2 submissions; 1 with an error (see the error column)\n"


def test_grade_batch_refuses_zero_workers(capsys, tmp_path):
    code, _, err = _run(capsys, "grade-batch", str(tmp_path), "--workers", "0")
    assert code == 2 and "--workers must be at least 1" in err
    _one_line_error(err)


def test_the_readmes_answers_file_is_complete_and_correct(capsys, tmp_path):
    readme = (Path(__file__).parents[2] / "README.md").read_text(encoding="utf-8")
    example = readme.split("**An answers file**", 1)[1].split("```toml\n", 1)[1].split("```")[0]
    assert "'''" in example and "= [" in example  # both kinds of string, and a derivation
    (tmp_path / "answers.toml").write_text(example, encoding="utf-8")
    code, out, _ = _run(capsys, "grade", str(tmp_path / "answers.toml"), "--json")
    data = json.loads(out)
    assert code == 0 and data["score"] == data["max_score"] == 49
    (tmp_path / "answers.toml").write_text(example.replace("'''", '"""'), encoding="utf-8")
    code, _, _ = _run(capsys, "grade", str(tmp_path / "answers.toml"))  # the twin: \ escapes
    assert code != 0


_READER_GONE = """
import os, sys
read, write = os.pipe()
os.close(read)  # the reader is gone before anything is written
os.dup2(write, 1)
sys.argv = ["genverify", "parts"]
from genverify.cli import console_main
console_main()
"""


def test_output_into_a_pipe_whose_reader_left_ends_quietly_with_status_141():
    import subprocess
    import sys as _sys

    done = subprocess.run([_sys.executable, "-c", _READER_GONE], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 141 and "Traceback" not in done.stderr, done.stderr
