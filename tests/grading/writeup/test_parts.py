"""Finding each part of the homework in a write-up by its markers (grading/writeup/parts.py)."""

from __future__ import annotations

import pytest

from grading.key.registry import questions
from grading.writeup.parts import find_parts, key_layout
from grading.writeup.source import read_source

LAYOUT = key_layout(q.id for q in questions())


def _parts(text: str, kind: str = "latex"):
    segments, notes = find_parts(read_source(text, kind).lines, LAYOUT)
    return segments


def _text(segment) -> str:
    return " ".join(line.text for line in segment.lines).strip()


QUESTION_HEADINGS = [r"\section*{Question 1}", r"\section{Problem 1: VAE}", "## Question 1",
                     "# Problem 1", "**Question 1**", "Question 1.", "Q1.", "Q 1:",
                     r"\section*{1. Variational autoencoders}", "## 1 VAE", r"\textbf{Problem 1}",
                     "### Exercise 1", r"\subsection*{Question 1 (35 points)}"]


@pytest.mark.parametrize("heading", QUESTION_HEADINGS)
def test_every_spelling_of_a_question_heading_starts_the_question(heading):
    found = _parts(f"{heading}\n(g) $0$\n(h) $1$\n")
    assert _text(found["1.g"]) == "$0$" and _text(found["1.h"]) == "$1$"


PART_MARKERS = ["(g)", "g)", "(g).", "(g):", "**(g)**", "**g)**", r"\textbf{(g)}", "### (g)",
                r"\subsection*{(g)}", r"\subsection*{Part (g)}", r"\subsubsection*{(g)}",
                "Part (g)", "Part g:", "part (g)", "- (g)", r"\item[(g)]", r"\item (g)",
                r"\item \textbf{(g)}", r"\paragraph{(g)}", "1.g", "1.g)", "1.(g)", "1(g)",
                "1 (g)", "1g)", "Problem 1(g)", "Q1 (g)", "Q1(g)", "Question 1(g)", "**1.g**",
                "## 1(g)", r"\subsection*{1.g}"]


@pytest.mark.parametrize("marker", PART_MARKERS)
def test_every_spelling_of_a_part_marker_finds_the_part(marker):
    text = f"\\section*{{Question 1}}\n(f) No.\n{marker} $0$\n(h) $1$\n"
    found = _parts(text)
    assert _text(found["1.g"]) == "$0$", marker
    assert _text(found["1.f"]) == "No."


@pytest.mark.parametrize("marker", ["1.g", "1(g)", "Problem 1(g)", "Q1 (g)"])
def test_qualified_markers_need_no_question_heading(marker):
    found = _parts(f"{marker} $0$\n1.h $1$\n", "text")
    assert _text(found["1.g"]) == "$0$"


def test_a_missing_part_never_takes_its_neighbours_answer():
    found = _parts("## Question 1\n(a) $A$\n(b) two\n(d) properties\n(e) No\n", "markdown")
    assert "1.c" not in found
    assert _text(found["1.b"]) == "two" and _text(found["1.d"]) == "properties"


def test_a_heading_with_no_answer_gives_an_empty_part_not_the_next_one():
    found = _parts("## Question 1\n(f)\n\n(g) $0$\n", "markdown")
    assert _text(found["1.f"]) == "" and _text(found["1.g"]) == "$0$"


def test_parts_answered_out_of_order_are_each_found():
    text = ("## Question 3\n(c) $D^*$\n(a) cost\n## Question 1\n(h) $H$\n(d) props\n(g) $0$\n"
            "(e) No\n")
    found = _parts(text, "markdown")
    assert {part: _text(found[part]) for part in ("3.c", "3.a", "1.h", "1.d", "1.g", "1.e")} == \
        {"3.c": "$D^*$", "3.a": "cost", "1.h": "$H$", "1.d": "props", "1.g": "$0$", "1.e": "No"}


def test_a_list_inside_an_answer_is_not_read_as_the_parts_again():
    text = "## Question 1\n(a) $A$\n(b) two\n(d) Two properties:\n(a) non-negative\n(b) asymmetric\n"
    found = _parts(text, "markdown")
    assert _text(found["1.a"]) == "$A$" and _text(found["1.b"]) == "two"
    assert "non-negative" in _text(found["1.d"]) and "asymmetric" in _text(found["1.d"])
    assert found["1.d"].unsure is None


def test_a_part_marked_twice_with_labels_is_unsure():
    found = _parts(r"\section*{Question 1}" "\n" r"\subsection*{(g)} $0$" "\n"
                   r"\subsection*{(g)} $1$" "\n")
    assert found["1.g"].unsure and "marked twice" in found["1.g"].unsure


def test_a_part_continued_after_a_page_break_is_one_part():
    text = ("## Question 1\n(c) first half\n\nName - NetID 123\nPage 2 of 3\n"
            "Questions assigned to the following page: 1.c\n(c) (continued) second half\n"
            "(d) props\nName - NetID 123\nName - NetID 123\n")
    found = _parts(text, "markdown")
    assert found["1.c"].unsure is None
    assert "first half" in _text(found["1.c"]) and "second half" in _text(found["1.c"])
    assert "Page" not in _text(found["1.c"]) and "NetID" not in _text(found["1.c"])


def test_unlabelled_items_are_parts_in_order_when_there_are_as_many_as_parts():
    items = "\n".join(rf"\item answer {letter}" for letter in "abcd")
    found = _parts(rf"\section*{{Question 3}}" "\n" r"\begin{enumerate}" f"\n{items}\n"
                   r"\end{enumerate}" "\n")
    assert [_text(found[f"3.{letter}"]) for letter in "abcd"] == \
        [f"answer {letter}" for letter in "abcd"]
    assert all(found[f"3.{letter}"].unsure is None for letter in "abcd")


def test_unlabelled_items_with_one_missing_are_unsure_rather_than_shifted():
    items = "\n".join(rf"\item answer {letter}" for letter in "abd")
    found = _parts(rf"\section*{{Question 3}}" "\n" r"\begin{enumerate}" f"\n{items}\n"
                   r"\end{enumerate}" "\n")
    assert all(found[f"3.{letter}"].unsure for letter in "abc")
    assert "3 of them where the question has 4 parts" in found["3.c"].unsure


def test_a_list_inside_an_item_is_part_of_that_items_answer():
    text = "\n".join([r"\section*{Question 3}", r"\begin{enumerate}[label=(\alph*)]",
                      r"\item cost", r"\item game", r"\item", r"\begin{enumerate}",
                      r"\item first step", r"\item second step", r"\end{enumerate}",
                      r"\item value", r"\end{enumerate}"])
    found = _parts(text)
    assert "first step" in _text(found["3.c"]) and "second step" in _text(found["3.c"])
    assert _text(found["3.d"]) == "value" and found["3.d"].unsure is None


def test_an_enumerate_starting_later_numbers_its_items_from_there():
    text = "\n".join([r"\section*{Question 3}", r"\begin{enumerate}[start=3]",
                      r"\item $D^*$", r"\item value", r"\end{enumerate}"])
    found = _parts(text)
    assert _text(found["3.c"]) == "$D^*$" and _text(found["3.d"]) == "value"


def test_roman_numerals_are_sub_parts_in_question_2_and_letters_in_question_1():
    text = ("## Question 2\n(e)\n(i) samples\n(ii) latent plot\n(iii) interpolation\n"
            "## Question 1\n(h) $H$\n(i) $q^*$\n(j) (3)\n")
    found = _parts(text, "markdown")
    assert _text(found["2.e.ii"]) == "latent plot"
    assert _text(found["1.i"]) == "$q^*$" and _text(found["1.j"]) == "(3)"


def test_a_marker_for_a_part_the_key_does_not_grade_ends_the_part_before_it():
    found = _parts("## Question 3\n(d) value\n(e) not in the key\n", "markdown")
    assert _text(found["3.d"]) == "value"


def test_an_unrecognised_section_ends_the_question():
    text = "\\section*{Question 3}\n(d) value\n\\section*{Appendix: code}\nprint(1)\n"
    assert _text(_parts(text)["3.d"]) == "value"


def test_prose_that_starts_like_a_marker_is_not_a_part():
    text = "## Question 1\n(a) $A$\n(b) two\na lot of words. b. more words\n2. a point\n"
    found = _parts(text, "markdown")
    assert "a lot of words" in _text(found["1.b"]) and "2. a point" in _text(found["1.b"])
    assert "2.a" not in found


def test_line_numbers_are_those_of_the_file():
    text = "\\documentclass{article}\n\\newcommand{\\E}{e}\n\\begin{document}\n" \
           "\\section*{Question 1}\n\n(g) $\\E$\n\\end{document}\n"
    segment = _parts(text)["1.g"]
    assert segment.marker_line == 6 and _text(segment) == "$e$"


def _exam(questions: list[list[str]]) -> str:
    lines = [r"\begin{questions}"]
    for parts in questions:
        lines += [r"\question[10] A question", r"\begin{parts}"]
        lines += [rf"\part[2] {answer}" for answer in parts]
        lines += [r"\end{parts}"]
    return "\n".join(lines + [r"\end{questions}"])


def test_the_exam_classs_questions_and_parts_are_numbered_in_order():
    text = _exam([list("abcdefghij"), ["code", "code", "code", "code", "figures"],
                  ["cost", "game", "$D^*$", "value"], ["code", "field", "samples"]])
    found = _parts(text)
    assert _text(found["1.g"]) == "g" and _text(found["3.c"]) == "$D^*$"
    assert found["3.c"].unsure is None and found["1.g"].unsure is None


def test_exam_parts_with_one_missing_are_unsure_rather_than_shifted():
    text = _exam([list("abcdefghij"), ["code"] * 5, ["cost", "$D^*$", "value"],
                  ["code", "field", "samples"]])
    found = _parts(text)
    assert all(found[f"3.{letter}"].unsure for letter in "abc")
    assert found["1.g"].unsure is None  # the other questions keep their reading


def test_exam_questions_that_do_not_number_the_homework_are_not_read_as_its_questions():
    found = _parts(_exam([list("abcdefghij"), ["cost", "game", "$D^*$", "value"]]))
    assert not found  # two question items for a four-question homework: numbers unknown


def test_unstarred_sections_are_the_questions_when_there_are_as_many_as_questions():
    sections = ["VAE", "VAE coding", "GAN", "Diffusion"]
    text = "\n".join(rf"\section{{{title}}}" + "\n(c) answer " + title for title in sections)
    found = _parts(text)
    assert _text(found["3.c"]) == "answer GAN" and _text(found["1.c"]) == "answer VAE"


def test_an_extra_unstarred_section_leaves_the_numbering_unknown():  # the twin
    sections = ["Introduction", "VAE", "VAE coding", "GAN", "Diffusion"]
    text = "\n".join(rf"\section{{{title}}}" + "\n(c) answer " + title for title in sections)
    assert not _parts(text)
