"""A write-up's numbered lines without the noise between parts (grading/writeup/source.py)."""

from __future__ import annotations

import pytest

from grading.writeup.source import format_of, read_source


def _texts(text: str, kind: str) -> list[str]:
    return [line.text for line in read_source(text, kind).lines if line.text.strip()]


@pytest.mark.parametrize(("name", "kind"), [("hw5.tex", "latex"), ("HW5.TEX", "latex"),
                                            ("a.md", "markdown"), ("a.markdown", "markdown"),
                                            ("a.txt", "text"), ("answers.toml", None),
                                            ("a.pdf", None)])
def test_the_format_follows_the_suffix(name, kind):
    assert format_of(name) == kind


def test_latex_comments_go_and_an_escaped_percent_stays():
    assert _texts("50\\% of it % a comment\n% whole line\n", "latex") == ["50\\% of it "]


def test_only_the_document_body_is_read_when_it_is_marked():
    text = "\\documentclass{article}\n\\usepackage{amsmath}\n\\title{(a) not a part}\n" \
           "\\begin{document}\n(a) here\n\\end{document}\n(b) after the end\n"
    assert _texts(text, "latex") == ["(a) here"]


@pytest.mark.parametrize("noise", [
    "Questions assigned to the following page: 1.c, 1.d",
    "Question assigned to the following page: 2.e.i",
    "Page 3 of 9", "page 3", "3 of 9", "- 12 -", "12", "Figure 2: samples from the prior",
    "**Figure 3.** The latent space", "![samples](fig2.png)", "\\includegraphics[width=5cm]{a.png}",
    "\\caption{Samples}", "\\newpage", "\\vspace{1em}",
])
def test_noise_between_parts_is_left_out(noise):
    assert _texts(f"(a) one\n{noise}\n(b) two\n", "markdown") == ["(a) one", "(b) two"]


def test_a_running_header_repeated_on_every_page_is_left_out_but_repeated_math_stays():
    page = "Jane Doe — NetID jdoe2\n$$ x = 1 $$\n"
    texts = _texts(page * 3, "markdown")
    assert texts == ["$$ x = 1 $$"] * 3


@pytest.mark.parametrize("answer", ["2", "(2)", "0", "(3)", "$0$", "$2$", "- 2", "\\(0\\)", "1/2", "1 / 2"])
def test_a_short_answer_alone_on_its_line_is_not_taken_for_a_page_number(answer):
    assert answer in _texts(f"(b)\n{answer}\n", "markdown")


def test_the_source_says_what_it_left_out_and_which_macros_it_expanded():
    source = read_source("\\newcommand{\\E}{e}\nPage 1 of 2\n$\\E$\n", "latex")
    assert [line.text for line in source.lines if line.text] == ["$e$"]
    assert "macros expanded: \\E" in source.notes
    assert any("page-number" in note for note in source.notes)


@pytest.mark.parametrize("line", ["\\noindent No. The analytic KL has lower variance.",
                                  "\\vspace{1em} (b) two", "\\centering $x = 1$"])
def test_a_layout_command_in_front_of_an_answer_keeps_the_answer(line):
    assert _texts(f"{line}\n", "latex") == [line]
