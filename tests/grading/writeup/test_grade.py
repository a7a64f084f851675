"""Grading a whole write-up part by part, the extraction shown (grading/writeup/grade.py)."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from grading.key.registry import Status
from grading.submission import AnswersError, grade_file

WRITEUP = r"""\documentclass{article}
\newcommand{\E}{\mathbb{E}}
\begin{document}
\section*{Question 1}
\begin{enumerate}[label=(\alph*)]
\item[(g)] $\mathrm{KL}(q\|q) = 0$
\item[(h)] \[ \frac{(\mu_\phi-\mu_p)^2}{\sigma^2} \]
\item[(j)] (3) $p_\theta(z|x)$
\item[(f)] skipped
\item[(b)] $$ \boxed{2} $$ or maybe $$ \boxed{4} $$
\end{enumerate}
\section*{Question 2}
(e) (i) see Figure 1.
\end{document}
"""


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    path = tmp_path_factory.mktemp("writeup") / "hw5.tex"
    path.write_text(WRITEUP)
    return grade_file(path)


def _result(report, part):
    return next(r for r in report.results if r.part == part)


def test_each_part_is_graded_on_what_was_read_from_its_lines(report):
    assert _result(report, "1.g").status is Status.CORRECT
    assert report.extractions["1.g"].lines == (6, 6)
    assert _result(report, "1.j").status is Status.CORRECT


def test_a_wrong_answer_in_a_write_up_is_wrong_with_the_named_mistake(report):
    result = _result(report, "1.h")
    assert result.status in (Status.PARTIAL, Status.INCORRECT)
    assert result.points < result.max_points and result.mistake


def test_a_blank_part_scores_zero_as_missing(report):
    assert _result(report, "1.f").status is Status.MISSING
    assert report.extractions["1.f"].status == "empty"


def test_two_candidate_answers_and_parts_not_found_need_a_person(report):
    two = _result(report, "1.b")
    assert two.status is Status.UNDECIDED and two.points == 0
    assert "two different boxed answers" in two.feedback
    absent = _result(report, "1.a")
    assert absent.status is Status.UNDECIDED and "no marker for part 1.a" in absent.feedback


def test_figures_stay_pending_for_a_person(report):
    assert _result(report, "2.e.i").status is Status.MANUAL


def test_the_table_shows_the_extraction_before_the_verdict(report):
    lines = report.table().splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("1.g "))
    previous = max(i for i, line in enumerate(lines[:row]) if not line.startswith(" "))
    shown = " ".join(lines[previous + 1:row])
    assert shown.strip().startswith("read from line 6") and "KL" in shown
    assert "(reading: macros expanded: \\E)" in report.table()


def test_the_json_report_carries_each_parts_extraction(report):
    data = json.loads(json.dumps(report.to_dict()))
    by_part = {entry["part"]: entry for entry in data["parts"]}
    assert by_part["1.g"]["extraction"]["lines"] == [6, 6]
    assert by_part["1.b"]["extraction"]["status"] == "unsure"
    assert by_part["1.b"]["extraction"]["candidates"] == ["2", "4"]


# --- hostile files ----------------------------------------------------------------------------


def test_a_link_a_directory_and_an_oversized_write_up_are_refused(tmp_path):
    target = tmp_path / "real.tex"
    target.write_text("(a) x")
    (tmp_path / "link.tex").symlink_to(target)
    (tmp_path / "dir.md").mkdir()
    (tmp_path / "big.txt").write_text("x" * ((1 << 20) + 1))
    for name, phrase in (("link.tex", "symbolic link"), ("dir.md", "directory"),
                         ("big.txt", "larger than")):
        with pytest.raises(AnswersError, match=phrase):
            grade_file(tmp_path / name)


def test_a_write_up_that_is_not_utf8_is_refused_with_the_place(tmp_path):
    path = tmp_path / "latin.md"
    path.write_bytes(b"## Question 1\n(g) caf\xe9\n")
    with pytest.raises(AnswersError, match="line 2"):
        grade_file(path)


@pytest.mark.parametrize("payload", [
    "$" * 500_000,
    "{" * 300_000 + "}" * 300_000,
    "(a) x\n" * 100_000,
    "\\begin{enumerate}\n" * 50_000,
    "".join(f"\\newcommand{{\\m{chr(97 + i % 26)}{i}}}{{x}}\n" for i in range(20_000)),
    "$$ " + "\\\\ " * 200_000 + "$$",
])
def test_pathological_write_ups_end_in_a_verdict_or_a_message_quickly(tmp_path, payload):
    path = tmp_path / "attack.tex"
    path.write_text("\\section*{Question 1}\n" + payload[: (1 << 20) - 40])
    start = time.perf_counter()
    try:
        report = grade_file(path)
    except AnswersError as error:
        assert "could not be read" in str(error)
    else:
        assert len(report.results) == 19
    assert time.perf_counter() - start < 60


def test_a_write_up_is_read_in_the_isolated_worker(monkeypatch, tmp_path):
    import grading.writeup.grade as grade_module

    calls = []
    real = grade_module.run_isolated

    def spy(function, args, **options):
        calls.append((function.__name__, options.get("timeout")))
        return real(function, args, **options)

    monkeypatch.setattr(grade_module, "run_isolated", spy)
    path = tmp_path / "a.md"
    path.write_text("## Question 1\n(g) $0$\n")
    grade_file(path)
    assert calls == [("_read", grade_module.READ_SECONDS)]


def test_a_reader_that_overruns_its_deadline_is_a_clear_message(monkeypatch, tmp_path):
    import grading.writeup.grade as grade_module

    monkeypatch.setattr(grade_module, "run_isolated", lambda *a, **k: ("timeout", None))
    path = tmp_path / "a.md"
    path.write_text("## Question 1\n(g) $0$\n")
    with pytest.raises(AnswersError, match="could not be read within"):
        grade_file(path)
    assert os.path.exists(path)


def test_gradescope_results_show_each_parts_extraction_before_its_verdict(report):
    from grading.gradescope import results_json

    tests = {test["name"]: test for test in results_json(report)["tests"]}
    assert tests["1.g"]["output"].startswith("read from line 6")
    assert "correct: " in tests["1.g"]["output"].splitlines()[1]
    assert tests["1.a"]["output"].startswith("not found")
