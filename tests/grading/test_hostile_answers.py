"""Hostile answers and answers files (issue 12, items 4, 5, 7 and 9): each test performs the
attack and asserts it is contained; each has a twin showing the honest case still works.

* Item 4: answers the checkers read themselves (choice 1.j, structured 3.a/3.b, an expression
  read through a model) are read in a forked process under a deadline and a memory cap.
* Item 5: an answers file is read only when it is a regular file (no link, FIFO, device or
  directory) of at most 1 MiB, and the line of every part is found in one pass.
* Item 7: an answers file nested too deeply is a clear error, not an internal one.
* Item 9: ``1e308*10`` is scientific notation; ``x²`` is x^{2} wherever it is written, and no
  Python error text reaches a message.
"""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import pytest
import sympy as sp

from genverify.cli import main
from grading.answers.limits import ParseError
from grading.answers.parse import parse_answer, parse_latex
from grading.autograder import grade_directory
from grading.key.registry import Status, grade
from grading.submission import MAX_BYTES, AnswersError, grade_file, parse_answers

SCRIPT = Path(sys.executable).parent / "genverify"
# (√2^999999)^999999 passes the parser's numeric caps (the base is not a plain number) and
# makes SymPy compute a power with billions of digits: 40 s and 3 GB in the grader's process.
TOWER = r"(\sqrt{2}^{999999})^{999999}"
KL = r"\frac{(\mu_\phi - \mu_p)^2}{2\sigma^2}"
PYTHON_WORDS = ("Error", "Traceback", "codec", "invalid literal", "\\udc", "internal error")


def _write(path: Path, answers: dict[str, str]) -> Path:
    path.write_text("".join(f'"{part}" = \'{text}\'\n' for part, text in answers.items()),
                    encoding="utf-8")
    return path


def _cli(*argv: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _one_clear_line(err: str, *words: str) -> None:
    assert err.count("\n") == 1 and err.startswith("genverify: ")
    assert all(word in err for word in words), err
    assert not any(word in err for word in PYTHON_WORDS), err


def _peak_rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


# -- item 4: every answer a checker reads is read in a forked process ---------------------------


def test_a_power_tower_in_choice_and_structured_parts_stops_those_parts_within_the_deadline(
        tmp_path: Path) -> None:
    answers = _write(tmp_path / "answers.toml", {
        "1.g": "0", "1.j": TOWER, "3.a": rf"\max_\theta \min_w {TOWER}",
        "3.b": rf"\max_{{p_G}} \min_D {TOWER}"})
    peak = _peak_rss_mib()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    report = grade_file(answers)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    parts = {r.part: r for r in report.results}
    # three reads stopped after 4 s of CPU time each (the deadline is CPU time, so this holds
    # under any load), the rest quick
    assert cpu < 15, f"{cpu:.1f} s of CPU time"
    assert _peak_rss_mib() - peak < 512  # the grader's own memory did not grow with the tower
    for part in ("1.j", "3.a", "3.b"):
        assert parts[part].status is Status.UNDECIDED and parts[part].points == 0
        assert "the answer could not be read within 4 s" in parts[part].feedback
    assert parts["1.g"].status is Status.CORRECT and parts["1.g"].points == 3.5  # the twin
    assert report.exit_code == 2


def test_the_same_parts_answered_honestly_still_earn_full_marks(tmp_path: Path) -> None:
    answers = _write(tmp_path / "answers.toml", {
        "1.j": r"(3) p_\theta(z|x)",
        "3.a": r"\max_\theta \min_w -\sum_x \log D_w(x) - \sum_z \log(1 - D_w(G_\theta(z)))",
        "3.b": r"\max_{p_G} \min_D -\mathbb{E}_{x\sim p_{data}}[\log D(x)]"
               r" - \mathbb{E}_{x\sim p_G}[\log(1 - D(x))]"})
    parts = {r.part: r for r in grade_file(answers).results}
    assert all(parts[p].status is Status.CORRECT for p in ("1.j", "3.a", "3.b"))


def test_an_expression_read_through_a_model_is_read_in_the_forked_process_too() -> None:
    started = time.monotonic()
    result = grade("1.h", TOWER)  # 1.h reads a bare answer with its model's meaning
    assert time.monotonic() - started < 8
    assert result.status is Status.UNDECIDED and "could not be read within 4 s" in \
        result.feedback
    assert grade("1.h", r"\frac{(\mu_\phi-\mu_p)^2}{2\sigma^2} ").status is Status.CORRECT


@pytest.mark.parametrize("tower", ["2^{2^{2^{2^{2^{2^{2}}}}}}", "10^10^10^10"])
def test_the_towers_of_the_report_end_quickly_without_points(tower: str) -> None:
    started = time.monotonic()
    results = [grade("1.j", tower), grade("3.a", rf"\max_\theta \min_w {tower}")]
    assert time.monotonic() - started < 10
    assert all(r.points == 0 and r.status is not Status.CORRECT for r in results)
    assert not any(word in r.feedback + r.detail for r in results for word in PYTHON_WORDS)


# -- item 5: only a regular file of at most 1 MiB is read ----------------------------------------


def test_an_answers_file_linked_to_dev_zero_is_refused_without_reading_it(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    link = tmp_path / "answers.toml"
    link.symlink_to("/dev/zero")
    with pytest.raises(AnswersError, match="symbolic link"):
        grade_file(link)
    code, _, err = _cli("grade", str(link), capsys=capsys)
    assert code == 2
    _one_clear_line(err, "symbolic link", "regular file")


def test_an_answers_file_linked_to_a_readable_file_is_refused_as_well(tmp_path: Path) -> None:
    honest = _write(tmp_path / "elsewhere.toml", {"1.g": "0"})
    link = tmp_path / "answers.toml"
    link.symlink_to(honest)
    with pytest.raises(AnswersError, match="symbolic link"):
        grade_file(link)
    assert grade_file(honest).score == 3.5  # the twin: the file itself is read


def test_a_fifo_named_answers_toml_is_refused_without_waiting_for_a_writer(
        tmp_path: Path) -> None:
    fifo = tmp_path / "answers.toml"
    os.mkfifo(fifo)
    completed = subprocess.run([str(SCRIPT), "grade", str(fifo)], capture_output=True,
                               text=True, timeout=60, check=False)
    assert completed.returncode == 2
    _one_clear_line(completed.stderr, "named pipe", "regular file")
    graded = grade_directory(tmp_path)
    assert graded["answers"] is None and "named pipe" in graded["answers_error"]


def test_a_file_over_one_mebibyte_is_refused(tmp_path: Path,
                                             capsys: pytest.CaptureFixture[str]) -> None:
    big = tmp_path / "answers.toml"
    big.write_text('"1.g" = "0"\n' + "# padding\n" * (2 * MAX_BYTES // 10))
    code, _, err = _cli("grade", str(big), capsys=capsys)
    assert code == 2
    _one_clear_line(err, "larger than 1024 KiB")
    small = _write(tmp_path / "small.toml", {"1.g": "0"})  # the twin, just under the limit
    small.write_text(small.read_text() + "#" * (MAX_BYTES - 20))
    assert grade_file(small).score == 3.5


def test_a_directory_named_answers_toml_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    (tmp_path / "answers.toml").mkdir()
    with pytest.raises(AnswersError, match="is a directory"):
        grade_file(tmp_path / "answers.toml")
    graded = grade_directory(tmp_path)
    assert graded["answers"] is None
    assert "answers.toml could not be read" in graded["answers_error"]
    assert "is a directory" in graded["answers_error"]


def test_a_submission_folder_with_a_regular_answers_file_still_grades(tmp_path: Path) -> None:
    _write(tmp_path / "answers.toml", {"1.g": "0", "1.h": KL})
    graded = grade_directory(tmp_path)
    assert graded["answers_error"] is None and graded["answers"].score == 7


def test_twenty_thousand_keys_are_read_and_located_in_linear_time(tmp_path: Path) -> None:
    many = tmp_path / "answers.toml"
    many.write_text('"1.g" = "0"\n' + "".join(f'"k{i}" = "x"\n' for i in range(20_000)))
    started = time.monotonic()
    report = grade_file(many)
    seconds = time.monotonic() - started
    assert seconds < 2, f"{seconds:.2f} s"
    assert len(report.unknown) == 20_000 and report.lines["1.g"] == 1  # the twin: 1.g graded
    assert report.score == 3.5
    table = report.table()
    assert table.count("is not a part of the key") == 20
    assert "19980 more ids that are not parts of the key" in table


def test_the_line_of_a_part_under_a_table_header_is_located(tmp_path: Path) -> None:
    path = tmp_path / "answers.toml"
    path.write_text('"1.g" = "0"\n[3]\nd = "x"\n')
    assert grade_file(path).lines == {"1.g": 1, "3.d": 3}


# -- item 7: nesting ---------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "a = " + "[" * 100_000,                      # arrays inside arrays
    "a = " + "{b = " * 100_000,                  # inline tables inside inline tables
    "a = " + "[" * 5_000 + "]" * 5_000,          # closed, but deeper than the reader recurses
])
def test_an_answers_file_nested_too_deeply_is_a_clear_error(
        text: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.toml"
    path.write_text(text)
    with pytest.raises(AnswersError, match="nested too deeply"):
        parse_answers(text)
    code, _, err = _cli("grade", str(path), capsys=capsys)
    assert code == 2
    _one_clear_line(err, "nested too deeply")


def test_tables_deeper_than_a_part_id_and_keys_with_thousands_of_dots_are_refused() -> None:
    with pytest.raises(AnswersError, match="nested too deeply"):
        parse_answers("a.b.c.d.e.f.g.h.i.j = 'x'")
    started = time.monotonic()
    with pytest.raises(AnswersError):
        parse_answers("a." * 50_000 + "b = 'x'")  # tomllib's time grows with dots squared
    assert time.monotonic() - started < 15


def test_honest_nesting_still_reads_as_part_ids() -> None:
    text = '"1.g" = "0"\n[2.e]\ni = "x"\n[3]\nd = ["a", "b"]\n'
    assert parse_answers(text) == {"1.g": "0", "2.e.i": "x", "3.d": ["a", "b"]}


# -- item 9: scientific notation and superscripts ---------------------------------------------


@pytest.mark.parametrize("text, value", [
    ("1e308*10", sp.Integer(10) ** 309),
    ("{1e308*10}", sp.Integer(10) ** 309),       # the LaTeX reader: one number, not 3080·e
    (r"\frac{1e3}{2}", sp.Integer(500)),
    ("2.5e-3", sp.Rational(1, 400)),
    ("{2.5e-3}", sp.Rational(1, 400)),
    ("1E5", sp.Integer(10) ** 5),
    ("{1E5}", sp.Integer(10) ** 5),
    ("3e+2", sp.Integer(300)),
    ("{3e+2}", sp.Integer(300)),
    ("1e3", sp.Integer(1000)),
])
def test_a_number_with_an_exponent_is_one_number(text: str, value: sp.Basic) -> None:
    assert parse_answer(text) == value


@pytest.mark.parametrize("text", ["2e", "2 e", "{2e}", "{2 e}", "2e^2 / e"])
def test_an_e_not_followed_by_digits_stays_eulers_number(text: str) -> None:
    assert parse_answer(text).has(sp.E)


def test_an_exponent_of_ten_is_bounded_like_any_power() -> None:
    with pytest.raises(ParseError, match="digits|too large"):
        parse_answer("{1e999999999}")
    assert parse_answer("{1e300}") == sp.Integer(10) ** 300  # the twin


@pytest.mark.parametrize("text", ["x²", "x^²", "x^{²}", "x ²", "(x)²"])
def test_a_superscript_two_is_a_square_wherever_it_is_written(text: str) -> None:
    assert parse_answer(text) == parse_answer("x^2")
    assert parse_latex(text.replace("(x)", "{x}")) == parse_latex("x^2")


def test_superscripts_inside_other_constructs_read_as_powers() -> None:
    assert parse_answer("e^{x²}") == parse_answer("e^{x^2}")
    assert parse_answer("σ² + μ³") == parse_answer(r"\sigma^2 + \mu^3")
    assert parse_answer(r"\frac{x²}{2}") == parse_answer(r"\frac{x^2}{2}")
    assert parse_answer("x³") != parse_answer("x^2")  # the twin: the digit is kept
    result = grade("1.h", r"(\mu_\phi-\mu_p)²/(2σ²)")
    assert result.status is Status.CORRECT


def test_a_latin_1_answers_file_is_a_clear_error_naming_the_byte(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "answers.toml"
    path.write_bytes('"1.g" = "0"\n"1.h" = "x²"\n'.encode("latin-1"))
    code, _, err = _cli("grade", str(path), capsys=capsys)
    assert code == 2
    _one_clear_line(err, "line 2, column 11", "0xB2", "not UTF-8")
    path.write_bytes('"1.g" = "0"\n"1.h" = "x²"\n'.encode("utf-8"))  # the twin
    assert grade_file(path).score == 3.5


def test_an_answer_decoded_with_surrogate_escapes_is_read_again_as_utf8() -> None:
    escaped = "x²".encode().decode("ascii", "surrogateescape")  # argv under a C locale
    assert parse_answer(escaped) == parse_answer("x^2")
    latin = "x²".encode("latin-1").decode("utf-8", "surrogateescape")
    with pytest.raises(ParseError) as caught:
        parse_answer(latin)
    assert "not UTF-8" in caught.value.message and caught.value.position == 1
    assert not any(word in str(caught.value) for word in PYTHON_WORDS)
