"""The LaTeX tokenizer: positions, words, dropped spacing and delimiters."""

from __future__ import annotations

import pytest

from grading.answers.tokens import tokenize
from grading.answers.limits import ParseError


def kinds_and_texts(text: str) -> list[tuple[str, str]]:
    return [(t.kind, t.text) for t in tokenize(text)[:-1]]


def test_tokens_carry_their_positions() -> None:
    tokens = tokenize(r"\frac{a}{b}")
    assert [(t.kind, t.text, t.pos) for t in tokens[:3]] == [("cmd", "frac", 0), ("op", "{", 5),
                                                            ("letter", "a", 6)]
    assert tokens[-1].kind == "end" and tokens[-1].pos == len(r"\frac{a}{b}")


def test_letters_are_single_symbols_except_function_words() -> None:
    assert kinds_and_texts("xy") == [("letter", "x"), ("letter", "y")]
    assert kinds_and_texts("KL") == [("word", "KL")]
    assert kinds_and_texts("log") == [("word", "log")]


def test_spacing_and_sizing_commands_are_dropped() -> None:
    assert kinds_and_texts(r"\left( a \,\; b \right)") == \
        [("op", "("), ("letter", "a"), ("letter", "b"), ("op", ")")]


def test_sized_bars_open_and_close_an_absolute_value() -> None:
    assert kinds_and_texts(r"\left| a \right|") == [("op", "|<"), ("letter", "a"), ("op", "|>")]


def test_double_bars_separate_divergence_arguments() -> None:
    assert kinds_and_texts(r"p\|q") == kinds_and_texts("p||q") == \
        [("letter", "p"), ("op", "||"), ("letter", "q")]


def test_decimals_are_one_number_token() -> None:
    assert kinds_and_texts("0.25") == [("num", "0.25")]


def test_unicode_greek_reads_as_the_command() -> None:
    assert kinds_and_texts("σ") == kinds_and_texts(r"\sigma") == [("cmd", "sigma")]


def test_an_unknown_character_is_a_parse_error_at_its_position() -> None:
    with pytest.raises(ParseError) as error:
        tokenize("x + @")
    assert error.value.position == 4


def test_a_trailing_backslash_is_a_parse_error() -> None:
    with pytest.raises(ParseError, match="backslash"):
        tokenize("x \\")
