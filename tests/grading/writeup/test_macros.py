"""Students' macros expanded by substitution, the rest refused (grading/writeup/macros.py)."""

from __future__ import annotations

import time

import pytest

from grading.writeup.macros import read_definitions


def _expand(preamble: list[str], text: str):
    macros = read_definitions(list(enumerate(preamble, 1)))
    return macros.expand(text), macros


@pytest.mark.parametrize(("definition", "used", "expanded"), [
    (r"\newcommand{\E}{\mathbb{E}}", r"\E_q[x]", r"\mathbb{E}_q[x]"),
    (r"\newcommand\E{\mathbb{E}}", r"\E_q[x]", r"\mathbb{E}_q[x]"),
    (r"\renewcommand{\E}{\mathbb{E}}", r"\E_q[x]", r"\mathbb{E}_q[x]"),
    (r"\providecommand{\E}{\mathbb{E}}", r"\E_q[x]", r"\mathbb{E}_q[x]"),
    (r"\newcommand*{\E}{\mathbb{E}}", r"\E_q[x]", r"\mathbb{E}_q[x]"),
    (r"\def\E{\mathbb{E}}", r"\E_q[x]", r"\mathbb{E}_q[x]"),
    (r"\DeclareMathOperator{\KL}{KL}", r"\KL(q\|p)", r"\operatorname{KL}(q\|p)"),
    (r"\DeclareMathOperator*{\argmax}{arg\,max}", r"\argmax_x f", r"\operatorname*{arg\,max}_x f"),
    (r"\newcommand{\norm}[1]{\left\|#1\right\|}", r"\norm{x - y}^2", r"\left\|x - y\right\|^2"),
    (r"\newcommand{\kl}[2]{\mathrm{KL}(#1 \| #2)}", r"\kl{q}{p}", r"\mathrm{KL}(q \| p)"),
    (r"\newcommand{\kl}[2]{\mathrm{KL}(#1 \| #2)}", r"\kl q p", r"\mathrm{KL}(q \| p)"),
    (r"\newcommand{\kl}[2]{\mathrm{KL}(#1 \| #2)}", r"\kl{q}\mu", r"\mathrm{KL}(q \| \mu)"),
])
def test_argument_free_fixed_argument_and_operator_macros_are_expanded(definition, used,
                                                                        expanded):
    text, macros = _expand([definition], used)
    assert text == expanded and not macros.refused


def test_a_macro_is_not_expanded_inside_a_longer_command_name():
    text, _ = _expand([r"\newcommand{\E}{\mathbb{E}}"], r"\Exp + \E")
    assert text == r"\Exp + \mathbb{E}"


def test_a_body_ending_in_a_command_stays_apart_from_the_letters_after_it():
    text, _ = _expand([r"\newcommand{\s}{\sigma}"], r"\s{}x + \s^2")
    assert r"\sigmax" not in text and r"\sigma {}x" in text and r"\sigma ^2" in text


def test_macros_used_inside_macros_are_expanded_to_the_end():
    text, _ = _expand([r"\newcommand{\E}{\mathbb{E}}", r"\newcommand{\Eq}{\E_{q}}"], r"\Eq[f]")
    assert text == r"\mathbb{E}_{q}[f]"


@pytest.mark.parametrize(("definition", "phrase"), [
    (r"\newcommand{\x}[1][0]{x_{#1}}", "optional argument"),
    (r"\def\pair#1#2{(#1,#2)}", "has parameters"),
    (r"\let\oldE\E", "\\let"),
    (r"\newcommand{\long}{\frac{a}", "does not end on its line"),
])
def test_macros_the_reader_cannot_expand_are_refused_with_a_message(definition, phrase):
    _, macros = _expand([definition], "")
    assert macros.refused and phrase in macros.refused[0]
    assert not macros.defined


def test_a_macro_that_expands_to_itself_is_refused_and_left_as_written():
    text, macros = _expand([r"\newcommand{\a}{\b x}", r"\newcommand{\b}{\a y}"], r"\a + 1")
    assert text == r"\a + 1"
    assert any("expands to itself" in message for message in macros.refused)


def test_a_doubling_macro_bomb_stops_at_the_growth_limit_quickly():
    preamble = [rf"\newcommand{{\m{chr(97 + i)}}}{{\m{chr(98 + i)}\m{chr(98 + i)}}}"
                for i in range(24)] + [r"\newcommand{\my}{x}"]
    start = time.perf_counter()
    text, macros = _expand(preamble, r"\ma")
    assert time.perf_counter() - start < 5
    assert len(text) < 1_000_000
    assert any("limits" in message for message in macros.refused)


def test_a_small_nesting_of_the_same_shape_is_expanded_in_full():  # the bomb's twin
    preamble = [r"\newcommand{\ma}{\mb\mb}", r"\newcommand{\mb}{x}"]
    text, macros = _expand(preamble, r"\ma")
    assert text.replace(" ", "") == "xx" and not macros.refused
