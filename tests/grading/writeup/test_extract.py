"""What the key needs from one part's text (grading/writeup/extract.py)."""

from __future__ import annotations

import pytest

from grading.writeup.extract import Extraction, extract
from grading.writeup.parts import Segment
from grading.writeup.source import Line


def _segment(text: str, part: str = "1.h", unsure: str | None = None) -> Segment:
    lines = [Line(number, line) for number, line in enumerate(text.split("\n"), 11)]
    return Segment(part, lines, 10, "'(h)'", unsure)


def _extract(text: str, kind: str = "expression", file_format: str = "latex",
             part: str = "1.h") -> Extraction:
    return extract(_segment(text, part), part, kind, file_format)


ALIGN = r"""\begin{align*}
\mathrm{KL}(q\|p) &= \mathbb{E}_q[\log q - \log p] \label{eq:kl} \\
&= \frac{(\mu_\phi-\mu_p)^2}{2\sigma^2} \tag{1} \nonumber
\end{align*}"""


def test_align_rows_lose_tags_labels_and_alignment_and_keep_their_lines():
    extraction = _extract(ALIGN, "derivation")
    assert extraction.answer == [r"\mathrm{KL}(q\|p) = \mathbb{E}_q[\log q - \log p]",
                                 r"= \frac{(\mu_\phi-\mu_p)^2}{2\sigma^2}"]
    assert extraction.lines == (12, 13)


def test_the_final_expression_is_the_last_displayed_line_without_its_leading_relation():
    extraction = _extract(ALIGN, "expression")
    assert extraction.answer == r"\frac{(\mu_\phi-\mu_p)^2}{2\sigma^2}"
    assert extraction.lines == (13, 13)


@pytest.mark.parametrize("display", [
    "$$ X = 1 $$", "$$\nX = 1\n$$", r"\[ X = 1 \]", "\\[\nX = 1\n\\]",
    "\\begin{equation*}\nX = 1\n\\end{equation*}", "\\begin{equation}\nX = 1 \\label{a}\n\\end{equation}",
    "\\begin{eqnarray*}\nX &=& 1\n\\end{eqnarray*}", "\\begin{gather*}\nX = 1\n\\end{gather*}",
    "$$\\begin{aligned}\nX &= 1\n\\end{aligned}$$", "\\begin{multline*}\nX = 1\n\\end{multline*}",
])
def test_every_display_environment_gives_its_rows(display):
    assert _extract(f"so\n{display}\nhence.", "derivation").answer == "X = 1"


def test_a_boxed_answer_is_the_final_answer_even_before_other_lines():
    text = "$$ D^*(x) = \\boxed{\\frac{p}{p+q}} $$\nCheck: $$ D^* \\in (0, 1) $$"
    extraction = _extract(text)
    assert extraction.answer == r"D^*(x) = \frac{p}{p+q}" and extraction.status == "read"


def test_two_different_boxed_answers_are_unsure():
    text = "$$ \\boxed{a} $$\n and \n$$ \\boxed{b} $$"
    extraction = _extract(text)
    assert extraction.status == "unsure" and extraction.candidates == ["a", "b"]


def test_the_same_boxed_answer_twice_is_read():  # the twin of the test above
    assert _extract("$$ \\boxed{a} $$\n and \n$$ \\boxed{a} $$").answer == "a"


@pytest.mark.parametrize("hedge", ["Actually, I think it is", "Alternatively,", "or maybe",
                                   "Correction:", "Wait, instead"])
def test_two_final_answers_with_a_change_of_mind_between_them_are_unsure(hedge):
    text = f"$$ K = \\frac{{a}}{{2}} $$\n{hedge}\n$$ K = \\frac{{a}}{{4}} $$"
    for kind in ("expression", "derivation"):
        extraction = _extract(text, kind)
        assert extraction.status == "unsure", (hedge, kind)
        assert "change of mind" in extraction.reason


@pytest.mark.parametrize("words", ["then expanding the square", "the second term is the KL, or "
                                   "relative entropy", "or equivalently", "instead of "
                                   "sampling we integrate", "I think of it as a mean"])
def test_steps_with_plain_words_between_them_are_one_derivation(words):  # the twin
    text = f"$$ K = \\int q \\log\\frac{{q}}{{p}} $$\n{words}\n$$ K = \\frac{{a}}{{2}} $$"
    extraction = _extract(text, "derivation")
    assert extraction.status == "read" and len(extraction.answer) == 2


def test_a_trailing_reason_in_parentheses_becomes_a_reason_the_checker_reads():
    text = "\\begin{align*}\na &\\geq b \\quad (\\text{Jensen's inequality}) \\\\\n&= c\n\\end{align*}"
    assert _extract(text, "derivation").answer == [r"a \geq b \quad \text{Jensen's inequality}",
                                                   "= c"]


def test_choice_and_yes_no_parts_give_their_prose_from_an_answer_line_on():
    text = "Is it the same? Restating: (1) a (2) b\n**Answer:** No, because of the variance."
    extraction = _extract(text, "yes/no", part="1.e")
    assert extraction.answer == "No, because of the variance." and extraction.lines == (12, 12)


def test_prose_keeps_inline_math_and_drops_formatting():
    extraction = _extract(r"\textbf{(3)} $p_\theta(z|x)$ since \emph{Bayes}", "choice",
                          part="1.j")
    assert extraction.answer == r"(3) $p_\theta(z|x)$ since Bayes"


def test_a_formula_line_in_plain_text_is_a_displayed_line():
    text = "The KL is\nKL = (mu_phi - mu_p)^2 / (2 sigma^2)\nbecause the variances cancel."
    assert _extract(text, file_format="text").answer == "KL = (mu_phi - mu_p)^2 / (2 sigma^2)"


def test_a_sentence_with_an_equals_sign_is_not_a_formula_line():  # the twin
    text = "Because the variances are equal the answer = what we had\n$0$"
    assert _extract(text, file_format="text").answer == "0"


def test_several_inline_formulas_and_no_display_are_unsure_for_an_expression():
    extraction = _extract(r"With $q$ and $p$ Gaussian we get $\frac{a}{2}$ and $\frac{b}{3}$.")
    assert extraction.status == "unsure" and "formulas in the text" in extraction.reason


def test_one_equation_among_inline_symbols_is_the_answer():  # the twin
    extraction = _extract(r"With $q$ and $p$ Gaussian, $KL = \frac{a}{2}$.")
    assert extraction.answer == r"KL = \frac{a}{2}"


CONDITIONS = [r"p_G = p_{data}", r"p_g = p_r", r"p_{\text{data}} = p_G", r"p_G=\pdata",
              r"D^*(x) = \frac{1}{2}", r"D^*(x)=1/2", r"D_G^*(x) = 0.5", r"\mu_\phi \to \mu_p",
              r"\sigma^2 = 1", r"q_\phi(z|x) = p(z)", r"\mathrm{JSD}(p_{data}\|p_G) = 0"]


@pytest.mark.parametrize("condition", CONDITIONS)
@pytest.mark.parametrize("sentence", [
    "${answer}$, minimised when ${condition}$.",
    "${answer}$ (attained at ${condition}$)",
    "At the optimum ${condition}$, and in general ${answer}$.",
], ids=["after", "in parentheses", "before"])
def test_the_formula_that_is_not_a_condition_is_the_answer(condition, sentence):
    answer = r"V(G, D^*) = -\log 4 + 2\,\mathrm{JSD}(p_{data}\|p_G)"
    text = sentence.replace("{answer}", answer).replace("{condition}", condition)
    extraction = _extract(text, part="3.d")
    assert extraction.status == "read", extraction.reason
    assert extraction.answer == answer  # the key reads a named left side
    assert "conditions" in extraction.how


@pytest.mark.parametrize("text", [
    r"$\log 4 - 2\,\mathrm{JSD}$, i.e. $\frac{1}{2}$ when $p_G = p_{data}$.",  # two answers
    r"$\log 4 - 2\,\mathrm{JSD}$ or $-\log 4 + 2\,\mathrm{JSD}$ at $p_G = p_{data}$.",
    r"It is optimal when $p_G = p_{data}$, so $D^* = \frac{1}{2}$.",  # only conditions
], ids=["a number and an expression", "two expressions", "two conditions"])
def test_two_candidate_answers_beside_a_condition_are_still_unsure(text):  # the twins
    extraction = _extract(text, part="3.d")
    assert extraction.status == "unsure" and "formulas in the text" in extraction.reason


@pytest.mark.parametrize("blank", ["", "skipped", "(skipped)", "N/A", "--", "Did not attempt."])
def test_a_marked_part_without_an_answer_is_empty(blank):
    assert _extract(blank).status == "empty"


def test_an_unsure_segment_stays_unsure_whatever_is_read():
    extraction = extract(_segment("$$ 0 $$", unsure="marked twice"), "1.g", "expression", "latex")
    assert extraction.status == "unsure" and extraction.reason == "marked twice"


def test_a_part_without_a_segment_is_not_found_and_says_so():
    extraction = extract(None, "1.g", "expression", "latex")
    assert extraction.status == "not found" and "no marker" in extraction.reason


def test_an_unclosed_display_runs_to_the_end_of_the_part_without_error():
    assert _extract("$$ a = b \\\\ = c", "derivation").answer == ["a = b", "= c"]


def test_extractions_round_trip_through_plain_data_and_refuse_other_answers():
    extraction = _extract(ALIGN, "derivation")
    assert Extraction.from_dict(extraction.to_dict()) == extraction
    bad = {**extraction.to_dict(), "answer": {"not": "an answer"}}
    with pytest.raises(ValueError):
        Extraction.from_dict(bad)
