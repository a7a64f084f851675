"""The command line: equiv, check and grade with their exit codes (genverify/cli.py), in-process
through ``main(argv)`` and once through the installed ``genverify`` script."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from genverify.cli import main

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
    code, out, _ = _run(capsys, "equiv", "\\log\\sigma^2", "2\\log\\sigma")
    assert code == 1 and "not equivalent" in out and "sigma =" in out


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


# -- the installed script ----------------------------------------------------------------------


def test_the_installed_console_script_reports_through_its_exit_status():
    completed = subprocess.run(
        [str(SCRIPT), "equiv", "log(sigma**2)", "2*log(sigma)", "--assume", "sigma=positive"],
        capture_output=True, text=True, timeout=60, check=False)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.startswith("equivalent")
